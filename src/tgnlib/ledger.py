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

VERDICTS = ("reproduced", "partly", "not reproduced", "not testable here")
SCALES = ("ci", "full")
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
) -> Path:
    """Write one claim's result to ``<output_dir>/results/<claim_id>.json``.

    Parameters
    ----------
    output_dir : path
        The book's staging folder (or a notebook's own output folder).
    claim_id : str
        An ID of :func:`load_claims` (e.g. ``"T1"``).
    verdict : {"reproduced", "partly", "not reproduced", "not testable here"}
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
    ids = [c.id for c in load_claims()]
    if claim_id not in ids:
        raise ValueError(f"claim_id={claim_id!r} is not a claim of the paper; known IDs: {ids}")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict={verdict!r} is not one of {VERDICTS}")
    if scale not in SCALES:
        raise ValueError(f"scale={scale!r} is not one of {SCALES}")
    measured = _check_measured(measured)
    try:
        summary.format(**measured)
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(f"summary {summary!r} does not fit the measured values {sorted(measured)}: {err}") from err
    if not (output_dir / figure).is_file():
        raise ValueError(f"figure={figure!r} does not exist under {output_dir}")
    result = ClaimResult(claim_id, verdict, summary, measured, scale, data, figure, label, provenance or {}, notes)
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


def render_ledger(claims: list[Claim], results: dict[str, ClaimResult], figure_prefix: str = "../") -> str:
    """The ledger as MyST Markdown: a verdict count, then one table row per claim.

    Parameters
    ----------
    claims : list of Claim
    results : dict of str -> ClaimResult
    figure_prefix : str, default "../"
        Prefix from the ledger page to the output folder (the page lives in ``book/``).

    Returns
    -------
    str
    """
    unknown = sorted(set(results) - {c.id for c in claims})
    if unknown:
        raise ValueError(f"results for claims that are not in the claims list: {unknown}")
    counts = {v: sum(r.verdict == v for r in results.values()) for v in VERDICTS}
    lines = [
        f"**{len(results)} of {len(claims)} claims measured**: "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + f"; {len(claims) - len(results)} not yet measured.",
        "",
        "| ID | claim (paraphrase) | what we measured | scale, data | verdict | figure |",
        "|---|---|---|---|---|---|",
    ]
    for c in claims:
        r = results.get(c.id)
        if r is None:
            lines.append(f"| {c.id} | {_cell(c.claim)} | not yet measured (chapter `{c.chapter}`, section {c.section}) | | | |")
            continue
        fig = f"{{ref}}`in the chapter <{r.label}>` · {{download}}`png <{figure_prefix}{r.figure}>`"
        measured = _cell(r.rendered_summary()) + (f" *{_cell(r.notes)}*" if r.notes else "")
        lines.append(f"| {c.id} | {_cell(c.claim)} | {measured} | `{r.scale}`; {_cell(r.data)} | **{r.verdict}** | {fig} |")
    lines += ["", "## Provenance", "", "| ID | commit | device | seed | wall time (s) | recorded |", "|---|---|---|---|---|---|"]
    for c in claims:
        r = results.get(c.id)
        if r is not None:
            p = r.provenance
            lines.append(
                f"| {c.id} | `{_cell(p.get('commit', '?'))}` | {_cell(p.get('device', '?'))} | {p.get('seed', '?')} "
                f"| {p.get('wall_time_s', '?')} | {_cell(p.get('recorded_at', '?'))} |"
            )
    return "\n".join(lines) + "\n"


def write_ledger_page(output_dir, template, destination) -> Path:
    """Fill the ledger page template with the table from the recorded results.

    Parameters
    ----------
    output_dir : path
        Folder holding ``results/`` (and the figures the results point to).
    template : path
        Markdown page with the line ``<!-- ledger-table -->`` where the table goes.
    destination : path
        Page to write.

    Returns
    -------
    pathlib.Path
    """
    text = Path(template).read_text(encoding="utf-8")
    if TABLE_MARKER not in text:
        raise ValueError(f"{template} has no {TABLE_MARKER} line to replace")
    table = render_ledger(load_claims(), load_results(output_dir))
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
    rows = ["| ID | verdict | what we measured |", "|---|---|---|"]
    for c in claims:
        r = results.get(c.id)
        rows.append(f"| {c.id} | **{r.verdict}** | {_cell(r.rendered_summary())} |" if r else f"| {c.id} | not yet measured | |")
    return "\n".join(rows)
