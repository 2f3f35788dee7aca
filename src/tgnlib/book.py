"""Build the book: execute every chapter notebook with papermill, write the ledger, render HTML.

Usage (what ``make book`` runs)::

    python -m tgnlib.book --scale ci            # every chapter, then the HTML
    python -m tgnlib.book --only theory         # one chapter again; the others' outputs are kept
    python -m tgnlib.book --scale full --no-html

Layout. The repository root holds ``_config.yml``, ``_toc.yml``, ``book/`` (prose pages) and
``notebooks/`` (clean, jupytext-paired notebooks). The build copies the first three into a staging
folder (``_build/book``) that mirrors the repository, executes each notebook into
``_build/book/notebooks/`` (never into ``notebooks/``), and points each notebook's ``output_dir`` at
the staging folder, so figures land in ``_build/book/figures`` and ledger results in
``_build/book/results``. Because the staging folder mirrors the repository, the Colab button of
``notebooks/theory`` opens ``notebooks/theory.ipynb`` of the repository: the clean notebook.

Records. Every chapter is executed at the build's scale (``ci`` in ``make book``: what CI checks, so a
record can never hide a broken chapter). Where ``records/`` holds a committed run of a chapter at a
larger scale (:mod:`tgnlib.records`), the chapter's page shows the largest one instead, under a
banner naming its scale, commit, date, wall time and machine, and whether it is stale; the ledger
shows the build's verdicts and every record's side by side.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml

from .chapter import check_choice
from .ledger import SCALES, RecordedResult, write_front_page, write_ledger_page
from .records import Record, find_records, largest, stale_files

STAGED = ("_config.yml", "_toc.yml", "book")
HIDDEN_TAG = "remove-cell"


class NotebookExecutionError(RuntimeError):
    """A chapter notebook failed; the message names the notebook, the cell and the error."""


def find_root(start=None) -> Path:
    """The repository root: the nearest folder at or above ``start`` holding ``_toc.yml``.

    Parameters
    ----------
    start : path or None, default None (the current directory)

    Returns
    -------
    pathlib.Path
    """
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "notebooks").is_dir():
            return folder
    raise FileNotFoundError(f"no _toc.yml with a notebooks/ folder at or above {here}: run from the repository")


def toc_notebooks(root) -> list[str]:
    """Chapter notebooks named in ``_toc.yml``, as paths without suffix (``notebooks/theory``).

    Parameters
    ----------
    root : path
        Repository root.

    Returns
    -------
    list of str, in book order
    """
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith("notebooks/"):
                found.append(f.removesuffix(".ipynb").removesuffix(".py"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return found


REPO_LINE = re.compile(r'REPO = "[^"]*"')  # in each notebook's Colab set-up cell


def repository(root) -> str:
    """The book's GitHub repository, ``owner/name``, from ``repository.url`` in ``_config.yml``: its one home."""
    url = yaml.safe_load((Path(root) / "_config.yml").read_text())["repository"]["url"]
    if not url.startswith("https://github.com/") or url.rstrip("/").count("/") != 4:
        raise ValueError(f"_config.yml repository.url={url!r} is not a https://github.com/<owner>/<name> address")
    return url.rstrip("/").removeprefix("https://github.com/")


def sync_repository(root) -> list[str]:
    """Write ``_config.yml``'s repository into every notebook's Colab set-up cell (``REPO = "..."``).

    Colab opens a chapter's clean notebook straight from GitHub, before anything of the book is
    installed, so the cell must hold the address itself; it is derived from ``_config.yml`` here, at
    every build, so publishing under another address is one line in ``_config.yml`` (then commit
    the notebooks the next build rewrites).

    Parameters
    ----------
    root : path
        Repository root.

    Returns
    -------
    list of str
        The notebook files (``.py`` and ``.ipynb``, relative to ``root``) that were rewritten.
    """
    root = Path(root)
    line = f'REPO = "{repository(root)}"'
    changed = []
    for chapter in toc_notebooks(root):
        script, notebook = root / f"{chapter}.py", root / f"{chapter}.ipynb"
        if script.is_file():
            text = script.read_text(encoding="utf-8")
            synced = REPO_LINE.sub(lambda _: line, text)
            if synced != text:
                script.write_text(synced, encoding="utf-8")
                changed.append(str(script.relative_to(root)))
        if notebook.is_file():
            nb = nbformat.read(notebook, as_version=4)
            before = [c.source for c in nb.cells]
            for cell in nb.cells:
                cell.source = REPO_LINE.sub(lambda _: line, cell.source)
            if [c.source for c in nb.cells] != before:
                nbformat.write(nb, notebook)
                changed.append(str(notebook.relative_to(root)))
    return changed


def stage_book(root, stage) -> Path:
    """Copy the book's configuration and prose pages into the staging folder.

    Executed notebooks, figures and results already there are kept, so one chapter can be rerun.

    Parameters
    ----------
    root, stage : path

    Returns
    -------
    pathlib.Path
        The staging folder.
    """
    root, stage = Path(root), Path(stage)
    stage.mkdir(parents=True, exist_ok=True)
    for name in STAGED:
        src, dst = root / name, stage / name
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    return stage


def hide_injected_parameters(path) -> int:
    """Tag papermill's injected-parameters cell so the book does not show it.

    Parameters
    ----------
    path : path
        An executed notebook.

    Returns
    -------
    int
        Number of cells tagged.
    """
    nb = nbformat.read(path, as_version=4)
    count = 0
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and HIDDEN_TAG not in tags:
            tags.append(HIDDEN_TAG)
            count += 1
    nbformat.write(nb, path)
    return count


def collapse_progress(path) -> int:
    """Merge each cell's runs of stream outputs and keep only what a terminal would show of them.

    papermill saves every write of a progress bar (tqdm redraws its line after a carriage return) as
    its own output, so a notebook that trains for an hour carries tens of thousands of them (18 MB for
    chapter 2.5's ``laptop`` run). Consecutive outputs of the same stream are joined, and in each line
    only the text after its last carriage return is kept (the bar's final state), as a terminal shows it.

    Parameters
    ----------
    path : path
        An executed notebook; rewritten in place.

    Returns
    -------
    int
        Number of stream outputs removed by merging.
    """
    nb = nbformat.read(path, as_version=4)
    removed = 0
    for cell in nb.cells:
        merged = []
        for out in cell.get("outputs", []):
            if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == out.name):
                merged[-1].text += out.text
                removed += 1
            else:
                merged.append(out)
        for out in merged:
            if out.output_type == "stream":
                # the last non-empty piece of each line: "abc\r" still shows "abc" on a terminal
                out.text = "\n".join(next((p for p in reversed(line.split("\r")) if p), "")
                                     for line in out.text.split("\n"))
        if "outputs" in cell:
            cell.outputs = merged
    nbformat.write(nb, path)
    return removed


def execute_notebook(source, destination, parameters: dict, cwd=None) -> Path:
    """Execute one notebook with papermill, failing with the notebook and cell named.

    Parameters
    ----------
    source : path
        Clean notebook (``.ipynb``).
    destination : path
        Executed copy to write.
    parameters : dict
        Values injected after the ``parameters`` cell.
    cwd : path or None
        Working directory of the kernel.

    Returns
    -------
    pathlib.Path
        ``destination``.

    Raises
    ------
    NotebookExecutionError
        If a cell raises.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(source), str(destination), parameters=parameters, cwd=str(cwd) if cwd else None,
            kernel_name="python3", progress_bar=True, request_save_on_cell_execute=True,
        )
    except PapermillExecutionError as err:
        raise NotebookExecutionError(
            f"{source}: cell {err.cell_index} (execution count {err.exec_count}) raised {err.ename}: {err.evalue}\n"
            f"The partly executed notebook is {destination}."
        ) from None
    hide_injected_parameters(destination)
    collapse_progress(destination)
    return destination


def build_html(stage, output) -> Path:
    """Render the staged book with Jupyter Book 1, treating every warning as an error.

    Parameters
    ----------
    stage : path
        Staging folder (with ``_config.yml``).
    output : path
        Passed as ``--path-output``; the site lands in ``<output>/_build/html``.

    Returns
    -------
    pathlib.Path
        The HTML folder.
    """
    exe = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(stage), "--path-output", str(output),
           "--builder", "html", "-W", "-n", "--keep-going"]
    subprocess.run(cmd, check=True)
    return Path(output) / "_build" / "html"


def record_banner(record: Record, stale: list[str]) -> str:
    """The MyST admonition put at the top of a chapter page rendered from a record.

    Parameters
    ----------
    record : Record
    stale : list of str
        Files changed since the record's commit (:func:`tgnlib.records.stale_files`).

    Returns
    -------
    str
    """
    p = record.provenance
    m = p["machine"]
    machine = f"{m['cpu']}, {m['cores']} cores" + (f", GPU {m['gpu']}" if m.get("gpu", "none") != "none" else ", no GPU")
    kind = "warning" if stale else "note"
    text = (f":::{{{kind}}}\nThis page shows the **`{record.scale}` record** of this chapter, executed at commit "
            f"`{p['commit'][:12]}` and finished {p['finished']}, in {p['wall_time_s'] / 60:.0f} min on {machine} "
            f"(Python {p['python']}; command `{p['command']}`). The build's own `ci` run of this chapter is in the claims ledger, "
            "beside this record's verdicts.")
    if stale:
        text += (f"\n\n**Stale**: {', '.join(f'`{f}`' for f in stale)} changed since that commit; the numbers below may not "
                 "be what the current code gives. Rerun `make record` to refresh it.")
    return text + "\n:::"


def render_records(root, stage) -> tuple[dict, dict]:
    """Stage every committed record and show each chapter's largest one on its page.

    Copies ``records/`` into the staging folder (for the ledger's figure links) and replaces each
    recorded chapter's executed notebook by the record's, with :func:`record_banner` after its title.

    Parameters
    ----------
    root, stage : path

    Returns
    -------
    (recorded, chapter_records)
        scale -> claim ID -> :class:`tgnlib.ledger.RecordedResult`, for :func:`tgnlib.ledger.write_ledger_page`;
        chapter -> scale -> whether that record is stale, for :func:`tgnlib.ledger.write_front_page`.
    """
    root, stage = Path(root), Path(stage)
    recorded: dict = {}
    chapter_records: dict = {}
    for chapter, by_scale in find_records(root).items():
        for scale, rec in by_scale.items():
            stale = stale_files(root, rec)
            chapter_records.setdefault(chapter, {})[scale] = bool(stale)
            shutil.copytree(rec.folder, stage / "records" / scale / chapter, dirs_exist_ok=True)
            for cid, result in rec.results.items():
                recorded.setdefault(scale, {})[cid] = RecordedResult(
                    result, f"../records/{scale}/{chapter}/{result.figure}", rec.provenance["commit"], stale)
            if rec is largest(by_scale):
                page = stage / "notebooks" / f"{chapter}.ipynb"
                nb = nbformat.read(rec.notebook, as_version=4)
                nb.cells.insert(1, nbformat.v4.new_markdown_cell(record_banner(rec, stale)))
                nbformat.write(nb, page)
                print(f"{chapter}: page rendered from the {scale} record ({'stale' if stale else 'current'})", flush=True)
    return recorded, chapter_records


def build(scale: str = "ci", only=None, build_dir="_build", html: bool = True, root=None) -> Path:
    """Execute the chapter notebooks, write the ledger page and (optionally) the HTML.

    Parameters
    ----------
    scale : {"ci", "laptop", "full"}, default "ci"
    only : list of str or None, default None
        Chapter names (``"theory"``) to execute; ``None`` executes all of ``_toc.yml``.
    build_dir : path, default "_build"
        Everything goes below it: ``book/`` (staging) and ``site/_build/html``.
    html : bool, default True
        Render the HTML after executing.
    root : path or None
        Repository root (found from the current directory by default).

    Returns
    -------
    pathlib.Path
        The HTML folder, or the staging folder when ``html=False``.
    """
    check_choice("scale", scale, SCALES)
    root = find_root(root)
    for path in sync_repository(root):
        print(f"{path}: Colab set-up cell now installs from {repository(root)} (_config.yml); commit it", flush=True)
    build_dir = (root / build_dir).resolve()
    stage = stage_book(root, build_dir / "book")
    chapters = toc_notebooks(root)
    names = [c.split("/")[-1] for c in chapters]
    for name in only or []:
        check_choice("only", name, names)
    todo = [c for c in chapters if not only or c.split("/")[-1] in only]
    failed = {}
    for i, chapter in enumerate(todo, 1):
        source = root / f"{chapter}.ipynb"
        if not source.is_file():
            raise FileNotFoundError(f"{source} is named in _toc.yml but missing; run `jupytext --sync {chapter}.py`")
        print(f"[{i}/{len(todo)}] executing {chapter}.ipynb at scale={scale!r}", flush=True)
        t0 = time.perf_counter()
        try:
            execute_notebook(source, stage / f"{chapter}.ipynb", {"scale": scale, "output_dir": str(stage)},
                             cwd=stage / "notebooks")
        except NotebookExecutionError as err:  # run what can run; say at the end what could not
            failed[chapter] = str(err)
            print(f"[{i}/{len(todo)}] {chapter} FAILED after {time.perf_counter() - t0:.0f} s: {err}", flush=True)
            continue
        print(f"[{i}/{len(todo)}] {chapter} done in {time.perf_counter() - t0:.0f} s", flush=True)
    if failed:
        write_ledger_page(stage, stage / "book" / "ledger.md", stage / "book" / "ledger.md")
        raise NotebookExecutionError(f"{len(failed)} of {len(todo)} chapters could not run at scale={scale!r} (the ledger "
                                     "holds what did):\n" + "\n".join(f"- {c}: {e}" for c, e in failed.items()))
    missing = [c for c in chapters if not (stage / f"{c}.ipynb").is_file()]
    if missing:
        raise FileNotFoundError(f"not executed yet: {missing}; run without --only first")
    recorded, chapter_records = render_records(root, stage)
    write_ledger_page(stage, stage / "book" / "ledger.md", stage / "book" / "ledger.md", recorded=recorded)
    write_front_page(stage, stage / "book" / "intro.md", recorded=recorded, chapter_records=chapter_records)
    if not html:
        return stage
    site = build_html(stage, build_dir / "site")
    print(f"book written to {site / 'index.html'}", flush=True)
    return site


def main(argv=None) -> int:
    """Command-line entry point (``python -m tgnlib.book --help``)."""
    parser = argparse.ArgumentParser(prog="python -m tgnlib.book", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="ci", help=f"one of {SCALES} (default ci)")
    parser.add_argument("--only", nargs="+", metavar="CHAPTER", help="execute only these chapters (e.g. theory)")
    parser.add_argument("--build-dir", default="_build", help="build folder (default _build)")
    parser.add_argument("--no-html", action="store_true", help="execute and write the ledger, skip the HTML")
    args = parser.parse_args(argv)
    try:
        build(args.scale, args.only, args.build_dir, html=not args.no_html)
    except (NotebookExecutionError, ValueError, FileNotFoundError) as err:  # RecordError is a ValueError
        print(f"error: {err}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as err:
        print(f"error: jupyter-book failed (exit {err.returncode}); see the warnings above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
