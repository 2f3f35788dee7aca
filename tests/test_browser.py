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
    assert f"https://colab.research.google.com/github/tgn-book/tgn-book/blob/main/notebooks/{chapter}.ipynb" in colab
    text = page.inner_text("article")
    assert f'output_dir = "{ROOT / "_build"}' not in text, "papermill's injected parameters cell is visible"


def test_ledger_lists_every_claim_with_links(page):
    from tgnlib.ledger import load_claims

    page.goto((SITE / "book" / "ledger.html").as_uri())
    rows = page.eval_on_selector_all("table tbody tr", "rs => rs.map(r => r.cells[0].innerText.trim())")
    ids = [c.id for c in load_claims()]
    assert rows[: len(ids)] == ids
    t1 = page.eval_on_selector("table tbody tr", "r => Array.from(r.querySelectorAll('a')).map(a => a.href)")
    assert any("notebooks/theory.html#claim-t1" in href for href in t1)
    png = next(href for href in t1 if href.endswith(".png"))
    assert Path(png.removeprefix("file://")).is_file()
