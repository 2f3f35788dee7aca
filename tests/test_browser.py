"""The rendered book, checked as a reader sees it, in headless Chromium (Debian's `chromium`).

Runs with `make test-browser` (after `make book`); builds the book first if it is missing.
"""

import shutil
from pathlib import Path

import pytest

from tgnlib import book

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "site" / "_build" / "html"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: `make test-browser` installs it")
    if not (SITE / "notebooks" / "theory.html").is_file():
        book.build(scale="ci", root=ROOT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        yield browser.new_page()
        browser.close()


@pytest.mark.parametrize("chapter", [c.split("/")[-1] for c in book.toc_notebooks(ROOT)])
def test_chapter_shows_its_figures_and_a_colab_link(page, chapter):
    page.goto((SITE / "notebooks" / f"{chapter}.html").as_uri())
    page.wait_for_load_state("load")
    sizes = page.eval_on_selector_all("article img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    drawn = [s for s in sizes if s[0] and s[1] > 200 and s[2] > 100]
    written = list((ROOT / "_build" / "book" / "figures" / chapter).glob("*.png"))
    assert written and len(drawn) >= len(written), f"{chapter}: {len(written)} figures written, drawn on the page: {sizes}"
    colab = page.eval_on_selector_all("a[href*='colab.research.google.com']", "as => as.map(a => a.href)")
    assert f"https://colab.research.google.com/github/{book.repository(ROOT)}/blob/main/notebooks/{chapter}.ipynb" in colab
    text = page.inner_text("article")
    assert f'output_dir = "{ROOT / "_build"}' not in text, "papermill's injected parameters cell is visible"


def test_ledger_lists_every_claim_with_badges_and_links(page):
    from tgnlib.ledger import load_claims

    page.goto((SITE / "book" / "ledger.html").as_uri())
    titles = page.eval_on_selector_all("details.sd-dropdown > summary", "ss => ss.map(s => s.innerText.trim())")
    ids = [c.id for c in load_claims()]
    assert [t.split()[0] for t in titles] == ids
    assert all("ci: " in t for t in titles)  # every entry carries this build's verdict badge, in words
    t1 = page.eval_on_selector("details.sd-dropdown", "d => Array.from(d.querySelectorAll('a')).map(a => a.href)")
    assert any("notebooks/theory.html#claim-t1" in href for href in t1)
    png = next(href for href in t1 if href.endswith(".png"))
    assert Path(png.removeprefix("file://")).is_file()
    glance = page.eval_on_selector_all("#at-a-glance a .sd-badge, #at-a-glance a.sd-badge", "bs => bs.map(b => b.innerText.trim())")
    assert [g.split()[0] for g in glance] == ids


def _counts_table(page) -> list[list[str]]:
    return page.eval_on_selector("table", "t => Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.innerText.trim()))")


def test_front_page_status_equals_the_ledger(page):
    from tgnlib.ledger import load_claims

    page.goto((SITE / "book" / "ledger.html").as_uri())
    ledger_counts = _counts_table(page)
    page.goto((SITE / "book" / "intro.html").as_uri())
    text = page.inner_text("article")
    assert "is being written" not in text
    assert _counts_table(page) == ledger_counts and ledger_counts[0][0] == "verdict" and len(ledger_counts) == 7
    badges = page.eval_on_selector_all("article a .sd-badge, article a.sd-badge", "bs => bs.map(b => b.innerText.trim())")
    assert [b.split()[0] for b in badges] == [c.id for c in load_claims()]
    links = page.eval_on_selector_all("article a:has(.sd-badge), article a.sd-badge", "as => as.map(a => a.href)")
    assert all("ledger.html#ledger-" in href for href in links)


# Chapters whose page still shows pandas' raw tables, and why; each entry must go when its page is clean.
RAW_TABLES_PENDING: dict[str, str] = {}


@pytest.mark.parametrize("chapter", [c.split("/")[-1] for c in book.toc_notebooks(ROOT)])
def test_no_chapter_page_shows_a_raw_dataframe(chapter):
    if not (SITE / "notebooks" / f"{chapter}.html").is_file():
        book.build(scale="ci", root=ROOT)
    raw = (SITE / "notebooks" / f"{chapter}.html").read_text(encoding="utf-8").count('class="dataframe')
    if chapter in RAW_TABLES_PENDING:
        assert raw, f"{chapter}'s page has no raw table any more: remove it from RAW_TABLES_PENDING"
        pytest.xfail(RAW_TABLES_PENDING[chapter])
    assert raw == 0, (f"{chapter}'s page shows {raw} raw pandas table(s): display tables through tgnlib.display.format_table "
                      "(units in the column names, formatted numbers, no 0..n index, a caption)")


# Chapters whose page still shows figures drawn wider than the page, and why; each entry must go when its page is clean.
SMALL_TEXT_PENDING: dict[str, str] = {}
LEGIBLE_PX = 11.0  # smallest legible text as displayed, CSS px (about 8 pt)


def _style_value(key: str) -> float:
    from tgnlib.display import STYLE

    return next(float(line.split(":", 1)[1]) for line in STYLE.read_text().splitlines() if line.startswith(f"{key}:"))


@pytest.mark.parametrize("chapter", [c.split("/")[-1] for c in book.toc_notebooks(ROOT)])
def test_figure_text_is_legible_as_displayed(page, chapter):
    # A notebook shows a figure as a PNG at the figure's dpi (IPython's inline backend); shown clientWidth
    # px wide, a font of s pt reads s/72 * clientWidth * dpi / naturalWidth CSS px, whatever the figure's inches.
    dpi, smallest_pt = _style_value("figure.dpi"), min(_style_value(k) for k in ("xtick.labelsize", "ytick.labelsize", "legend.fontsize"))
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto((SITE / "notebooks" / f"{chapter}.html").as_uri())
    page.wait_for_load_state("load")
    sizes = page.eval_on_selector_all("article img", "imgs => imgs.map(i => [i.naturalWidth, i.clientWidth, i.src.slice(-40)])")
    shown = [(natural, client, src) for natural, client, src in sizes if natural > 200]
    assert shown, f"{chapter}: no figure on the page"
    small = [(src, round(smallest_pt / 72 * client * dpi / natural, 1)) for natural, client, src in shown
             if smallest_pt / 72 * client * dpi / natural < LEGIBLE_PX]
    if chapter in SMALL_TEXT_PENDING:
        assert small, f"{chapter}'s figures are all legible now: remove it from SMALL_TEXT_PENDING"
        pytest.xfail(SMALL_TEXT_PENDING[chapter])
    assert not small, (f"{chapter}: {len(small)} of {len(shown)} figures show their {smallest_pt:g}-pt labels below {LEGIBLE_PX} px "
                       f"(figure, displayed px): {small}; draw them at tgnlib.display.PAGE_WIDTH_IN")
