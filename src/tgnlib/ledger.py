"""The claims ledger: every claim of the paper, what we measured, and a verdict.

Notebooks call :func:`record_claim` (usually through :meth:`tgnlib.chapter.Chapter.record`) once
per claim they test. Each call writes ``results/<ID>.json`` under the chapter's output folder: the
measured numbers, a one-line summary *template* filled from those numbers (so no number is typed
twice), the scale, the data, the verdict, the figure file and provenance (commit, device, seed,
wall time). :func:`write_ledger_page` turns the claims list plus whatever results exist into the
book's ledger page; claims without a result are listed as not yet measured.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from .verdicts import OUTCOMES as VERDICTS

SCALES = ("ci", "laptop", "full")
LEGEND = (
    "*reproduced*: the claim holds under the stated test. *partly*: a named, non-trivial part holds (beating a "
    "method's own base dynamics, an effect any regulariser gives, or one statistic out of several that disagree is "
    "not a part). *not reproduced*: the test ran with its preconditions met and the claim failed it. *not decided at "
    "this scale*: the run is too small or too noisy, or a precondition failed; the reason says what would decide. "
    "*not testable here*: the data or hardware the test needs is out of reach. Every rule is a tested function of "
    "`tgnlib.verdicts`."
)
TABLE_MARKER = "<!-- ledger-table -->"


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, as listed in ``tgnlib/claims.toml``."""

    id: str
    section: str
    chapter: str
    claim: str
    test: str


def load_claims() -> list[Claim]:
    """The project's list of the paper's claims, in paper order.

    Returns
    -------
    list of Claim
    """
    text = resources.files("tgnlib").joinpath("claims.toml").read_text(encoding="utf-8")
    return [Claim(**entry) for entry in tomllib.loads(text)["claim"]]


@dataclass
class ClaimResult:
    """What a notebook measured for one claim (the content of ``results/<ID>.json``)."""

    claim_id: str
    verdict: str
    summary: str
    measured: dict
    scale: str
    data: str
    figure: str
    label: str
    provenance: dict = field(default_factory=dict)
    notes: str = ""
    reason: str = ""

    def rendered_summary(self) -> str:
        """The summary template filled with the measured numbers."""
        return self.summary.format(**self.measured)


def _check_measured(measured: dict) -> dict:
    if not isinstance(measured, dict) or not measured:
        raise ValueError("measured must be a non-empty dict of name -> number or text")
    clean = {}
    for key, value in measured.items():
        if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
            value = value.item()  # numpy / torch scalars
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"measured[{key!r}] must be a number or text; got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value) and not math.isinf(value):
            raise ValueError(f"measured[{key!r}] is NaN")
        clean[key] = value
    return clean


def validate_result(result: ClaimResult, output_dir) -> None:
    """Check one result against the ledger's schema, as :func:`record_claim` writes it.

    Parameters
    ----------
    result : ClaimResult
    output_dir : path
        The folder its figure path is relative to.

    Raises
    ------
    ValueError
        Unknown claim ID, verdict or scale, a missing reason, a summary field missing from
        ``measured``, a non-number in ``measured``, or a figure file that does not exist.
    """
    ids = [c.id for c in load_claims()]
    if result.claim_id not in ids:
        raise ValueError(f"claim_id={result.claim_id!r} is not a claim of the paper; known IDs: {ids}")
    if result.verdict not in VERDICTS:
        raise ValueError(f"verdict={result.verdict!r} is not one of {VERDICTS}")
    if result.verdict != "reproduced" and not result.reason.strip():
        raise ValueError(f"verdict={result.verdict!r} needs a reason: say what failed (and, if not decided, what would decide)")
    if result.scale not in SCALES:
        raise ValueError(f"scale={result.scale!r} is not one of {SCALES}")
    _check_measured(result.measured)
    try:
        result.rendered_summary()
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(f"summary {result.summary!r} does not fit the measured values {sorted(result.measured)}: {err}") from err
    if not (Path(output_dir) / result.figure).is_file():
        raise ValueError(f"figure={result.figure!r} does not exist under {output_dir}")


def record_claim(
    output_dir,
    claim_id: str,
    *,
    verdict: str,
    summary: str,
    measured: dict,
    scale: str,
    data: str,
    figure: str,
    label: str,
    provenance: dict | None = None,
    notes: str = "",
    reason: str = "",
) -> Path:
    """Write one claim's result to ``<output_dir>/results/<claim_id>.json``.

    Parameters
    ----------
    output_dir : path
        The book's staging folder (or a notebook's own output folder).
    claim_id : str
        An ID of :func:`load_claims` (e.g. ``"T1"``).
    verdict : str
        One of :data:`tgnlib.verdicts.OUTCOMES`.
    summary : str
        One line with ``{name}`` fields taken from ``measured``, e.g.
        ``"median TV {tv:.3f} over {heads} heads"``.
    measured : dict
        Name -> number (or short text) as computed by the notebook.
    scale : {"ci", "full"}
    data : str
        Which data and model, in words (shown in the ledger).
    figure : str
        Path of the figure file, relative to ``output_dir``; it must exist.
    label : str
        The MyST target in the chapter next to the figure (e.g. ``"claim-t1"``).
    provenance : dict or None
        Commit, device, seed, wall time and the like.
    notes : str, default ""
        Anything the reader should know next to the verdict.
    reason : str, default ""
        The verdict rule's one-line reason (:class:`tgnlib.verdicts.Verdict`).

    Returns
    -------
    pathlib.Path
        The JSON file written.

    Raises
    ------
    ValueError
        Unknown claim ID, verdict or scale, a summary field missing from ``measured``, or a
        figure file that does not exist. Each message names the bad value.
    """
    output_dir = Path(output_dir)
    result = ClaimResult(claim_id, verdict, summary, _check_measured(measured), scale, data, figure, label, provenance or {},
                         notes, reason)
    validate_result(result, output_dir)
    path = output_dir / "results" / f"{claim_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=2, default=str), encoding="utf-8")
    return path


def load_results(output_dir) -> dict[str, ClaimResult]:
    """All results under ``<output_dir>/results``, by claim ID.

    Parameters
    ----------
    output_dir : path

    Returns
    -------
    dict of str -> ClaimResult
    """
    folder = Path(output_dir) / "results"
    results = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        result = ClaimResult(**json.loads(path.read_text(encoding="utf-8")))
        results[result.claim_id] = result
    return results


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


@dataclass
class RecordedResult:
    """A claim's result in a committed record, as the ledger shows it beside the build's own.

    Attributes
    ----------
    result : ClaimResult
    figure : str
        The figure's path from the ledger page (e.g. ``"../records/laptop/theory/figures/theory/t1.png"``).
    commit : str
        The record's commit.
    stale : list of str
        Files of the chapter changed since that commit; empty when the record is current.
    """

    result: ClaimResult
    figure: str
    commit: str
    stale: list = field(default_factory=list)


CHAPTER_TITLES = {"theory": "Theory", "spinglass": "Spin glass", "llm_rank": "Language models", "brain": "Brain",
                  "tgn": "The TGN"}
NOT_MEASURED = "not yet measured"
# sphinx-design badge colour of each verdict; the badge always carries the verdict's words too
BADGE_KIND = {"reproduced": "success", "partly": "warning", "not reproduced": "danger", "not decided at this scale": "info",
              "not testable here": "dark", NOT_MEASURED: "light"}


def badge(verdict: str, text: str | None = None, ref: str | None = None) -> str:
    """A coloured verdict badge (sphinx-design role), optionally a link to a MyST label.

    Parameters
    ----------
    verdict : str
        One of the outcomes, or ``"not yet measured"``; picks the colour.
    text : str or None, default None
        What the badge says (default: the verdict).
    ref : str or None, default None
        MyST label the badge links to.

    Returns
    -------
    str
    """
    if verdict not in BADGE_KIND:
        raise ValueError(f"verdict={verdict!r} is not one of {sorted(BADGE_KIND)}")
    text = " ".join(str(text or verdict).replace("`", "'").replace("<", "(").replace(">", ")").split())
    kind = BADGE_KIND[verdict]
    return f"{{bdg-ref-{kind}}}`{text} <{ref}>`" if ref else f"{{bdg-{kind}}}`{text}`"


def _counts(results) -> dict[str, int]:
    results = list(results)  # counted once per outcome: a generator would be spent after the first
    return {v: sum(r.verdict == v for r in results) for v in VERDICTS}


def _columns(results: dict, recorded: dict) -> list[tuple[str, str, dict]]:
    # (scale, kind, claim ID -> ClaimResult): this build first, then each recorded scale
    build_scale = next(iter({r.scale for r in results.values()}), "ci")
    cols = [(build_scale, "this build", results)]
    return cols + [(scale, "record", {cid: rec.result for cid, rec in col.items()}) for scale, col in recorded.items()]


def render_counts(claims: list[Claim], results: dict, recorded: dict | None = None) -> str:
    """Verdict counts per scale as a Markdown table: a row per verdict, a column per scale (this build, then records).

    Parameters
    ----------
    claims : list of Claim
    results : dict of str -> ClaimResult
    recorded : dict of str -> dict of str -> RecordedResult, or None

    Returns
    -------
    str
    """
    cols = _columns(results, _recorded(recorded))
    counts = [_counts(col.values()) for _, _, col in cols]
    lines = ["| verdict | " + " | ".join(f"`{scale}` ({kind})" for scale, kind, _ in cols) + " |", "|---|" + "---:|" * len(cols)]
    for v in VERDICTS:
        lines.append(f"| {badge(v)} | " + " | ".join(str(c[v]) for c in counts) + " |")
    lines.append(f"| {badge(NOT_MEASURED)} | " + " | ".join(str(len(claims) - len(col)) for _, _, col in cols) + " |")
    return "\n".join(lines)


def _recorded(recorded: dict | None) -> dict:
    return {scale: recorded[scale] for scale in SCALES if recorded and recorded.get(scale)}


def largest_verdicts(claims: list[Claim], results: dict, recorded: dict | None = None) -> dict[str, tuple[str, str]]:
    """Each claim's verdict at the largest scale it was measured at (records outrank the ``ci`` build).

    Parameters
    ----------
    claims, results, recorded
        As :func:`render_ledger` takes them.

    Returns
    -------
    dict of str -> (verdict, scale)
        ``("not yet measured", "")`` for a claim no run measured.
    """
    out = {}
    cols = _columns(results, _recorded(recorded))
    for c in claims:
        found = [(col[c.id].verdict, scale) for scale, _, col in cols if c.id in col]
        out[c.id] = max(found, key=lambda f: SCALES.index(f[1])) if found else (NOT_MEASURED, "")
    return out


def render_glance(claims: list[Claim], results: dict, recorded: dict | None = None) -> str:
    """The claims at a glance: one line per chapter, one badge per claim linking to its ledger entry.

    Parameters
    ----------
    claims, results, recorded
        As :func:`render_ledger` takes them.

    Returns
    -------
    str
        Markdown, each badge reading "ID verdict (scale)" and linking to the label ``ledger-<id>``.
    """
    verdicts = largest_verdicts(claims, results, recorded)
    lines = []
    for chapter in dict.fromkeys(c.chapter for c in claims):
        mine = [c for c in claims if c.chapter == chapter]
        cells = [badge(verdicts[c.id][0], f"{c.id} {verdicts[c.id][0]}" + (f" ({verdicts[c.id][1]})" if verdicts[c.id][1] else ""),
                       ref=f"ledger-{c.id.lower()}") for c in mine]
        lines.append(f"**{mine[0].section} {CHAPTER_TITLES.get(chapter, chapter)}** " + " ".join(cells) + "\n")
    return "\n".join(lines)


def _entry(r: ClaimResult, figure: str, label: str | None, stale: list | None = None) -> str:
    links = ([f"{{ref}}`in the chapter <{label}>`"] if label else []) + [f"{{download}}`figure (png) <{figure}>`"]
    text = (f"Why: {_cell(r.reason)}\n\n" if r.reason else "") + f"Measured: {_cell(r.rendered_summary())}"
    text += (f" *{_cell(r.notes)}*" if r.notes else "") + f"\n\nData: {_cell(r.data)}"
    if stale:
        text += f"\n\n**Stale**: changed since the record: {_cell(', '.join(stale))}"
    return text + "\n\n" + " · ".join(links)


def render_ledger(claims: list[Claim], results: dict[str, ClaimResult], figure_prefix: str = "../",
                  recorded: dict | None = None) -> str:
    """The ledger as MyST Markdown: counts per scale, the claims at a glance, then one entry per claim by chapter.

    Each entry is one line (the claim's badges per scale, its ID and paraphrase) that opens to the
    reason, what was measured, the data and links, per scale.

    Parameters
    ----------
    claims : list of Claim
    results : dict of str -> ClaimResult
        This build's results (the ``ci`` scale in ``make book``).
    figure_prefix : str, default "../"
        Prefix from the ledger page to the output folder (the page lives in ``book/``).
    recorded : dict of str -> dict of str -> RecordedResult, or None
        Committed records: scale -> claim ID -> result. Each recorded scale gets a badge and a section.

    Returns
    -------
    str
    """
    recorded = _recorded(recorded)
    unknown = sorted((set(results) | {i for col in recorded.values() for i in col}) - {c.id for c in claims})
    if unknown:
        raise ValueError(f"results for claims that are not in the claims list: {unknown}")
    cols = _columns(results, recorded)
    lines = [f"**{len(results)} of {len(claims)} claims measured** in this build (`{cols[0][0]}`).", "",
             render_counts(claims, results, recorded), "", LEGEND, "", "## At a glance", "",
             "Each claim's verdict at the largest scale it was run at; a badge opens its entry.", "",
             render_glance(claims, results, recorded), ""]
    for chapter in dict.fromkeys(c.chapter for c in claims):
        mine = [c for c in claims if c.chapter == chapter]
        lines += [f"## {mine[0].section} {CHAPTER_TITLES.get(chapter, chapter)}", ""]
        for c in mine:
            mine_cols = [(scale, kind, col) for scale, kind, col in cols if kind == "this build" or c.id in col]  # records it has
            badges = " ".join(badge(col[c.id].verdict if c.id in col else NOT_MEASURED,
                                    f"{scale}: {col[c.id].verdict if c.id in col else NOT_MEASURED}") for scale, _, col in mine_cols)
            lines += [f"(ledger-{c.id.lower()})=", f":::{{dropdown}} **{c.id}** {badges} {_cell(c.claim)}", ""]
            for scale, kind, col in mine_cols:
                r = col.get(c.id)
                if r is None:
                    lines += [f"**`{scale}` ({kind})**: {NOT_MEASURED} (chapter `{c.chapter}`, section {c.section}).", ""]
                elif kind == "this build":
                    lines += [f"**`{scale}` ({kind})**: {_entry(r, f'{figure_prefix}{r.figure}', r.label)}", ""]
                else:
                    rec = recorded[scale][c.id]
                    lines += [f"**`{scale}` ({kind}, commit `{rec.commit[:7]}`)**: {_entry(r, rec.figure, None, rec.stale)}", ""]
            lines += [":::", ""]
    lines += ["## Provenance", "", "| ID | scale | commit | device | seed | wall time (s) | recorded |", "|---|---|---|---|---|---|---|"]
    for c in claims:
        rows = [(results.get(c.id), "")] + [(col[c.id].result, " (record)") for col in recorded.values() if c.id in col]
        for r, kind in rows:
            if r is not None:
                p = r.provenance
                lines.append(f"| {c.id} | `{r.scale}`{kind} | `{_cell(p.get('commit', '?'))}` | {_cell(p.get('device', '?'))} "
                             f"| {p.get('seed', '?')} | {p.get('wall_time_s', '?')} | {_cell(p.get('recorded_at', '?'))} |")
    return "\n".join(lines) + "\n"


STATUS_MARKER = "<!-- verdicts-at-a-glance -->"


def render_status(claims: list[Claim], results: dict, recorded: dict | None = None, chapter_records: dict | None = None) -> str:
    """The front page's generated status: what ran at which scale, the verdict counts, the claims at a glance.

    Parameters
    ----------
    claims, results, recorded
        As :func:`render_ledger` takes them.
    chapter_records : dict of str -> dict of str -> bool, or None
        Chapter -> scale -> whether that committed record is stale.

    Returns
    -------
    str
        MyST Markdown.
    """
    build_scale = _columns(results, {})[0][0]
    lines = []
    for chapter in dict.fromkeys(c.chapter for c in claims):
        mine = [c for c in claims if c.chapter == chapter]
        measured = sum(c.id in results for c in mine)
        recs = (chapter_records or {}).get(chapter, {})
        shown = max(recs, key=SCALES.index) if recs else build_scale
        rec_text = "; ".join(f"`{scale}` record ({'stale' if stale else 'current'})" for scale, stale in recs.items())
        lines.append(f"- **{mine[0].section} {CHAPTER_TITLES.get(chapter, chapter)}** ({{doc}}`page </notebooks/{chapter}>`): "
                     f"{measured} of {len(mine)} claims measured at `{build_scale}` in this build"
                     + (f"; {rec_text}" if rec_text else "; no larger record yet") + f"; the page shows `{shown}`.")
    return "\n".join(lines + ["", render_counts(claims, results, recorded), "", render_glance(claims, results, recorded)])


def write_front_page(output_dir, page, recorded: dict | None = None, chapter_records: dict | None = None) -> Path:
    """Replace the front page's ``<!-- verdicts-at-a-glance -->`` line by :func:`render_status`, in place.

    Parameters
    ----------
    output_dir : path
        Folder holding ``results/``.
    page : path
        The (staged) front page.
    recorded, chapter_records
        As :func:`render_status` takes them.

    Returns
    -------
    pathlib.Path
    """
    page = Path(page)
    text = page.read_text(encoding="utf-8")
    if STATUS_MARKER not in text:
        raise ValueError(f"{page} has no {STATUS_MARKER} line to replace")
    status = render_status(load_claims(), load_results(output_dir), recorded=recorded, chapter_records=chapter_records)
    page.write_text(text.replace(STATUS_MARKER, status), encoding="utf-8")
    return page


def write_ledger_page(output_dir, template, destination, recorded: dict | None = None) -> Path:
    """Fill the ledger page template with the table from the recorded results.

    Parameters
    ----------
    output_dir : path
        Folder holding ``results/`` (and the figures the results point to).
    template : path
        Markdown page with the line ``<!-- ledger-table -->`` where the table goes.
    destination : path
        Page to write.
    recorded : dict or None
        Committed records' results, as :func:`render_ledger` takes them.

    Returns
    -------
    pathlib.Path
    """
    text = Path(template).read_text(encoding="utf-8")
    if TABLE_MARKER not in text:
        raise ValueError(f"{template} has no {TABLE_MARKER} line to replace")
    table = render_ledger(load_claims(), load_results(output_dir), recorded=recorded)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text(text.replace(TABLE_MARKER, table), encoding="utf-8")
    return destination


def chapter_summary(output_dir, chapter: str) -> str:
    """Markdown table of one chapter's recorded verdicts, for the chapter's closing section.

    Parameters
    ----------
    output_dir : path
        Folder holding ``results/``.
    chapter : str
        Chapter name as in the claims list (``"theory"``).

    Returns
    -------
    str
        One row per claim of that chapter; claims without a result say so.
    """
    claims = [c for c in load_claims() if c.chapter == chapter]
    if not claims:
        raise ValueError(f"chapter={chapter!r} has no claims; chapters: {sorted({c.chapter for c in load_claims()})}")
    results = load_results(output_dir)
    rows = ["| ID | verdict | why | what we measured |", "|---|---|---|---|"]
    for c in claims:
        r = results.get(c.id)
        rows.append(f"| {c.id} | **{r.verdict}** | {_cell(r.reason)} | {_cell(r.rendered_summary())} |" if r
                    else f"| {c.id} | not yet measured | | |")
    return "\n".join(rows)
