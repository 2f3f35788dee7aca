"""Committed records: a chapter run at ``laptop`` or ``full`` scale, kept with its provenance.

A record lives in ``records/<scale>/<chapter>/``: the executed notebook (``<chapter>.ipynb``, outputs
kept), ``results/<ID>.json`` (the ledger's schema), ``figures/<chapter>/*.png`` and
``provenance.json``. :func:`record_chapter` makes one from a clean checkout (it refuses a dirty tree,
so the commit says exactly what ran); :func:`load_record` refuses a record without provenance, with a
commit that is not in the history, or whose results fail the ledger's checks. A record is **stale**
when the chapter's notebook, or a library file it imports, changed after the record's commit
(:func:`stale_files`, asked of git; a knob declaration only where it changed at the record's scale).
The book renders each chapter's largest record and the ledger shows every scale's verdicts (:mod:`tgnlib.book`, :mod:`tgnlib.ledger`).

Command line (what ``make record CHAPTER=theory SCALE=laptop`` runs)::

    python -m tgnlib.records theory --scale laptop
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .ledger import SCALES, load_claims, load_results, validate_result

RECORD_SCALES = ("laptop", "full")  # ci is what every build executes; it is never recorded
PROVENANCE_KEYS = ("chapter", "scale", "commit", "command", "parameters", "started", "finished", "wall_time_s", "machine",
                   "python", "packages", "seed", "library_files")
PACKAGES = ("torch", "numpy", "scipy", "transformers", "nilearn", "neurolib", "dwave-samplers", "papermill", "tgnlib")


class RecordError(ValueError):
    """A record cannot be made or read; the message says which and why."""


@dataclass
class Record:
    """A chapter's committed run at one scale.

    Attributes
    ----------
    chapter, scale : str
    folder : pathlib.Path
        ``records/<scale>/<chapter>``.
    provenance : dict
        The content of ``provenance.json`` (see :data:`PROVENANCE_KEYS`).
    results : dict of str -> ClaimResult
    """

    chapter: str
    scale: str
    folder: Path
    provenance: dict
    results: dict

    @property
    def notebook(self) -> Path:
        """The executed notebook of the record."""
        return self.folder / f"{self.chapter}.ipynb"


def _git(root, *args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)


def head_commit(root) -> str:
    """The full commit hash of ``HEAD``, refusing a tree with uncommitted changes to tracked files.

    Parameters
    ----------
    root : path
        Repository root.

    Returns
    -------
    str

    Raises
    ------
    RecordError
        Outside a git checkout, or when tracked files have uncommitted changes (they would not be in
        the commit the record names).
    """
    out = _git(root, "rev-parse", "HEAD")
    if out.returncode != 0:
        raise RecordError(f"{root} is not a git checkout: a record must name the commit it ran")
    dirty = _git(root, "status", "--porcelain", "--untracked-files=no").stdout.strip()
    if dirty:
        raise RecordError("the working tree has uncommitted changes; commit them first, so the record names what ran:\n" + dirty)
    return out.stdout.strip()


def library_files(root, chapter: str) -> list[str]:
    """The chapter's notebook and every ``tgnlib`` source file it imports, directly or not.

    Found statically: the notebook's ``import`` statements, then each imported module's, within
    ``src/tgnlib`` (a package counts with its ``__init__.py``), plus the chapter's knob declaration
    ``tgnlib/knobs/<chapter>.py``, which :func:`tgnlib.chapter.open_chapter` imports by name.

    Parameters
    ----------
    root : path
        Repository root.
    chapter : str

    Returns
    -------
    list of str
        Paths relative to ``root``, sorted, the notebook's ``.py`` first.
    """
    root = Path(root)
    src = root / "src"
    notebook = root / "notebooks" / f"{chapter}.py"
    if not notebook.is_file():
        raise RecordError(f"no notebook notebooks/{chapter}.py")

    def module_file(name: str) -> Path | None:
        parts = name.split(".")
        if parts[0] != "tgnlib":
            return None
        base = src.joinpath(*parts)
        return base / "__init__.py" if base.is_dir() else base.with_suffix(".py") if base.with_suffix(".py").is_file() else None

    def imports(path: Path, package: str) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                names.add(mod)
                names.update(f"{mod}.{a.name}" for a in node.names)
        # importing a.b.c runs a/__init__ and a/b/__init__ too
        return {".".join(n.split(".")[:i]) for n in names for i in range(1, len(n.split(".")) + 1)}

    seen: set[Path] = set()
    todo = [(notebook, "")]
    knobs = src / "tgnlib" / "knobs" / f"{chapter}.py"
    if knobs.is_file():
        seen.add(knobs)
        todo.append((knobs, "tgnlib.knobs"))
    while todo:
        path, package = todo.pop()
        for name in imports(path, package):
            f = module_file(name)
            if f is not None and f not in seen:
                seen.add(f)
                pkg = name if f.name == "__init__.py" else name.rpartition(".")[0]
                todo.append((f, pkg))
    return [notebook.relative_to(root).as_posix()] + sorted(p.relative_to(root).as_posix() for p in seen)


# Files a chapter imports that cannot change a recorded number: the ledger module only checks and renders
# results, and every build checks a record's results again with the current ledger (load_record), so a
# ledger change that matters is refused there rather than marked stale.
NOT_NUMBERS = ("src/tgnlib/ledger.py",)


def stale_files(root, record: Record) -> list[str]:
    """Files among the chapter's notebook and library files that changed since the record's commit.

    Every file the chapter imports counts, except :data:`NOT_NUMBERS`; the chapter's knob
    declaration counts only where it changed at the record's scale (:func:`knob_view`), so a new
    ci preset leaves a laptop record current.

    Parameters
    ----------
    root : path
        Repository root (the checkout the book is built from).
    record : Record

    Returns
    -------
    list of str
        Empty when the record is current.
    """
    files = sorted((set(library_files(root, record.chapter)) | set(record.provenance.get("library_files", [])))
                   - set(NOT_NUMBERS))
    commit = record.provenance["commit"]
    out = _git(root, "diff", "--name-only", commit, "--", *files)
    if out.returncode != 0:
        raise RecordError(f"git cannot compare with the record's commit {commit}: {out.stderr.strip()}")
    changed = sorted(line for line in out.stdout.splitlines() if line)
    return [f for f in changed if not (f.startswith(KNOB_FILES) and _same_knobs_at(root, f, commit, record.scale))]


# A chapter's knob declaration holds every scale's preset; changing the ci preset (to keep CI fast) cannot
# change a laptop record's numbers, so a knob file counts as changed only where it differs at the record's scale.
KNOB_FILES = "src/tgnlib/knobs/"


def knob_view(source: str, scale: str) -> str:
    """A knob declaration as seen from one scale: the module with every other scale's preset removed.

    Each ``Knob(...)`` call loses its keyword arguments that name another scale (``ci=``,
    ``laptop=``, ``full=``); everything else (kinds, bounds, choices, the cross-knob check, this
    scale's values) stays. Two sources with equal views run a chapter identically at ``scale``.

    Parameters
    ----------
    source : str
        Python source of a ``tgnlib.knobs.<chapter>`` module.
    scale : str
        One of ``ci``, ``laptop``, ``full``.

    Returns
    -------
    str
        A canonical dump of the pruned syntax tree (comments and layout do not count).
    """
    from .knobs import SCALE_NAMES

    if scale not in SCALE_NAMES:
        raise RecordError(f"scale={scale!r} is not one of {SCALE_NAMES}")
    tree = ast.parse(source)
    others = set(SCALE_NAMES) - {scale}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Knob":
            node.keywords = [k for k in node.keywords if k.arg not in others]
    return ast.dump(tree)


def _same_knobs_at(root, path: str, commit: str, scale: str) -> bool:
    before = _git(root, "show", f"{commit}:{path}")
    now = Path(root) / path
    if before.returncode != 0 or not now.is_file():
        return False  # added or removed since the record: a change
    try:
        return knob_view(before.stdout, scale) == knob_view(now.read_text(encoding="utf-8"), scale)
    except SyntaxError:
        return False


def _machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = "none"
    try:
        import torch
        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu, "system": f"{platform.system()} {platform.release()}"}


def _packages() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def load_record(folder, root=None) -> Record:
    """Read and check one record folder.

    Parameters
    ----------
    folder : path
        ``records/<scale>/<chapter>``.
    root : path or None
        Repository root, for the commit check (default: three levels above ``folder``).

    Returns
    -------
    Record

    Raises
    ------
    RecordError
        No or incomplete ``provenance.json``; a scale or chapter that does not match the folder; a
        commit that is not in the repository's history; no executed notebook; a result that fails
        the ledger's checks (:func:`tgnlib.ledger.validate_result`) or was made at another scale.
    """
    folder = Path(folder)
    root = Path(root) if root else folder.resolve().parents[2]
    prov_path = folder / "provenance.json"
    if not prov_path.is_file():
        raise RecordError(f"{folder}: no provenance.json; a record without provenance is not a record")
    prov = json.loads(prov_path.read_text(encoding="utf-8"))
    missing = [k for k in PROVENANCE_KEYS if k not in prov]
    if missing:
        raise RecordError(f"{folder}: provenance.json lacks {missing}")
    chapter, scale = folder.name, folder.parent.name
    if (prov["chapter"], prov["scale"]) != (chapter, scale):
        raise RecordError(f"{folder}: provenance says {prov['chapter']!r} at {prov['scale']!r}, the folder {chapter!r} at {scale!r}")
    if scale not in RECORD_SCALES:
        raise RecordError(f"{folder}: scale {scale!r} is not one of {RECORD_SCALES}")
    if _git(root, "cat-file", "-e", f"{prov['commit']}^{{commit}}").returncode != 0:
        raise RecordError(f"{folder}: commit {prov['commit']!r} is not in the history of {root}")
    if not (folder / f"{chapter}.ipynb").is_file():
        raise RecordError(f"{folder}: no executed notebook {chapter}.ipynb")
    results = load_results(folder)
    if not results:
        raise RecordError(f"{folder}: no results/*.json")
    for result in results.values():
        try:
            validate_result(result, folder)
        except ValueError as err:
            raise RecordError(f"{folder}: result {result.claim_id}: {err}") from None
        if result.scale != scale:
            raise RecordError(f"{folder}: result {result.claim_id} was made at scale {result.scale!r}, not {scale!r}")
    return Record(chapter, scale, folder, prov, results)


def find_records(root) -> dict[str, dict[str, Record]]:
    """Every record under ``<root>/records``, checked, by chapter then scale.

    Parameters
    ----------
    root : path
        Repository root.

    Returns
    -------
    dict of str -> dict of str -> Record
    """
    found: dict[str, dict[str, Record]] = {}
    for scale in RECORD_SCALES:
        for folder in sorted((Path(root) / "records" / scale).glob("*")) if (Path(root) / "records" / scale).is_dir() else []:
            if folder.is_dir():
                rec = load_record(folder, root)
                found.setdefault(rec.chapter, {})[scale] = rec
    return found


def largest(records: dict[str, Record]) -> Record | None:
    """The record of the largest scale (``full`` over ``laptop``), or ``None``."""
    for scale in reversed(SCALES):
        if scale in records:
            return records[scale]
    return None


def record_chapter(chapter: str, scale: str, root=None, seed: int = 0, parameters: dict | None = None,
                   work_dir=None) -> Record:
    """Execute a chapter at a scale and write its record under ``records/<scale>/<chapter>``.

    The notebook runs with ``output_dir`` in a work folder (``_build/records-work/<scale>/<chapter>``
    by default, never committed), so caches and checkpoints stay there and a killed run resumes;
    only the executed notebook, the results, the figures and the provenance are copied into the
    record.

    Parameters
    ----------
    chapter : str
        A chapter of ``_toc.yml`` (``"theory"``...).
    scale : {"laptop", "full"}
    root : path or None
        Repository root (found from the current directory by default).
    seed : int, default 0
    parameters : dict or None
        Extra knobs passed to the notebook (recorded in the provenance).
    work_dir : path or None

    Returns
    -------
    Record

    Raises
    ------
    RecordError
        A dirty tree, an unknown chapter or scale, or a run whose record fails :func:`load_record`.
    """
    from .book import execute_notebook, find_root, toc_notebooks

    root = find_root(root)
    if scale not in RECORD_SCALES:
        raise RecordError(f"scale={scale!r} is not one of {RECORD_SCALES} (ci is what every build executes)")
    chapters = [c.split("/")[-1] for c in toc_notebooks(root)]
    if chapter not in chapters:
        raise RecordError(f"chapter={chapter!r} is not one of {chapters}")
    commit = head_commit(root)
    work = Path(work_dir) if work_dir else root / "_build" / "records-work" / scale / chapter
    params = {"scale": scale, "seed": seed, **(parameters or {}), "output_dir": str(work)}
    started, t0 = _dt.datetime.now(_dt.timezone.utc), time.perf_counter()
    executed = execute_notebook(root / "notebooks" / f"{chapter}.ipynb", work / f"{chapter}.ipynb", params,
                                cwd=root / "notebooks")
    wall = time.perf_counter() - t0
    dest = root / "records" / scale / chapter
    tmp = dest.with_name(f".{chapter}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "results").mkdir(parents=True)
    shutil.copy2(executed, tmp / f"{chapter}.ipynb")
    claims = {c.id for c in load_claims() if c.chapter == chapter}
    for path in (work / "results").glob("*.json"):
        if path.stem in claims:
            shutil.copy2(path, tmp / "results" / path.name)
    shutil.copytree(work / "figures" / chapter, tmp / "figures" / chapter)
    provenance = {
        "chapter": chapter, "scale": scale, "commit": commit,
        "command": " ".join([Path(sys.executable).name, "-m", "tgnlib.records", chapter, "--scale", scale]),
        "parameters": {k: v for k, v in params.items() if k != "output_dir"},
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_time_s": round(wall, 1), "machine": _machine(), "python": platform.python_version(), "packages": _packages(),
        "seed": seed, "library_files": library_files(root, chapter),
    }
    (tmp / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    # Swap the new record in, check it, and put the old one back if the check fails.
    old = dest.with_name(f".{chapter}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    tmp.rename(dest)
    try:
        rec = load_record(dest, root)
    except RecordError:
        shutil.rmtree(dest)
        if old.exists():
            old.rename(dest)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return rec


def main(argv=None) -> int:
    """Command-line entry point (``python -m tgnlib.records --help``)."""
    parser = argparse.ArgumentParser(prog="python -m tgnlib.records", description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help="chapter to record (e.g. theory)")
    parser.add_argument("--scale", default="laptop", help=f"one of {RECORD_SCALES} (default laptop)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from .book import NotebookExecutionError

    try:
        rec = record_chapter(args.chapter, args.scale, seed=args.seed)
    except (RecordError, ValueError, FileNotFoundError, NotebookExecutionError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"record written to {rec.folder} ({rec.provenance['wall_time_s']:.0f} s); commit it with its results")
    return 0


if __name__ == "__main__":
    sys.exit(main())
