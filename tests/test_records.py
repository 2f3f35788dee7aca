"""Records: provenance required, commits checked, staleness from git, the largest scale rendered, ci still executed."""

import ast
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from tgnlib import book, records
from tgnlib.ledger import record_claim

ROOT = Path(__file__).resolve().parents[1]


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    """A small git checkout with the real notebooks and library, committed."""
    r = tmp_path / "repo"
    shutil.copytree(ROOT / "notebooks", r / "notebooks")
    shutil.copytree(ROOT / "src", r / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy2(ROOT / "_toc.yml", r / "_toc.yml")
    git(r, "init", "-q")
    git(r, "-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git(r, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    return r


def make_record(repo, scale="laptop", chapter="theory", commit=None, claim="T1", result_scale=None):
    folder = repo / "records" / scale / chapter
    (folder / "figures" / chapter).mkdir(parents=True)
    (folder / "figures" / chapter / "f.png").write_bytes(b"\x89PNG fake")
    record_claim(folder, claim, verdict="partly", reason="a named part holds", summary="x {a}", measured={"a": 1},
                 scale=result_scale or scale, data="d", figure=f"figures/{chapter}/f.png", label=f"claim-{claim.lower()}")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, folder / f"{chapter}.ipynb")
    prov = {"chapter": chapter, "scale": scale, "commit": commit or git(repo, "rev-parse", "HEAD"), "command": "make record",
            "parameters": {"scale": scale}, "started": "2026-11-30 08:00 UTC", "finished": "2026-11-30 09:00 UTC",
            "wall_time_s": 3600.0, "machine": {"cpu": "test CPU", "cores": 2, "gpu": "none", "system": "Linux"},
            "python": "3.11.7", "packages": {}, "seed": 0, "library_files": records.library_files(repo, chapter)}
    (folder / "provenance.json").write_text(json.dumps(prov))
    return folder


def test_library_files_follow_imports_into_the_library(repo):
    files = records.library_files(repo, "theory")
    assert files[0] == "notebooks/theory.py"
    for f in ("src/tgnlib/kernels.py", "src/tgnlib/verdicts/theory.py", "src/tgnlib/knobs/theory.py", "src/tgnlib/rank.py"):
        assert f in files
    assert "src/tgnlib/spinglass/lattice.py" not in files and "src/tgnlib/tgn/model.py" not in files


def test_a_good_record_loads_and_is_current(repo):
    rec = records.load_record(make_record(repo), repo)
    assert rec.results["T1"].verdict == "partly" and records.stale_files(repo, rec) == []


def test_editing_a_library_file_the_chapter_imports_makes_it_stale(repo):
    rec = records.load_record(make_record(repo), repo)
    (repo / "src" / "tgnlib" / "spinglass" / "lattice.py").write_text("# not used by theory\n", encoding="utf-8")
    assert records.stale_files(repo, rec) == []
    with open(repo / "src" / "tgnlib" / "kernels.py", "a", encoding="utf-8") as f:
        f.write("\n# changed\n")
    assert records.stale_files(repo, rec) == ["src/tgnlib/kernels.py"]
    with open(repo / "src" / "tgnlib" / "ledger.py", "a", encoding="utf-8") as f:  # renders results, changes no number
        f.write("\n# a rendering change\n")
    assert records.stale_files(repo, rec) == ["src/tgnlib/kernels.py"]
    git(repo, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "change")
    assert "src/tgnlib/kernels.py" in records.stale_files(repo, rec)  # committed later: still stale


def test_a_knob_file_is_stale_only_where_the_records_scale_changed(repo):
    rec = records.load_record(make_record(repo), repo)  # a laptop record of theory
    knobs = repo / "src" / "tgnlib" / "knobs" / "theory.py"
    source = knobs.read_text(encoding="utf-8")
    tree = ast.parse(source)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Knob"
                and any(k.arg == "ci" for k in n.keywords))
    ci = next(k for k in call.keywords if k.arg == "ci")
    segment = ast.get_source_segment(source, ci)
    knobs.write_text(source.replace(segment, "ci=UNSET", 1) + "\n# a comment\n", encoding="utf-8")
    assert records.stale_files(repo, rec) == []  # only the ci preset (and a comment) changed
    laptop = next(k for k in call.keywords if k.arg == "laptop")
    knobs.write_text(source.replace(ast.get_source_segment(source, laptop), "laptop=UNSET", 1), encoding="utf-8")
    assert records.stale_files(repo, rec) == ["src/tgnlib/knobs/theory.py"]
    knobs.write_text(source.replace("KNOBS = ", "EXTRA = 1\nKNOBS = ", 1), encoding="utf-8")
    assert records.stale_files(repo, rec) == ["src/tgnlib/knobs/theory.py"]  # anything but another scale's preset counts


def test_knob_view_drops_only_other_scales():
    src = 'Knob("n", "int", "m", low=1, ci=2, laptop=3, full=4)'
    assert records.knob_view(src, "laptop") == records.knob_view(src.replace("ci=2", "ci=9").replace("full=4", "full=5"), "laptop")
    assert records.knob_view(src, "laptop") != records.knob_view(src.replace("laptop=3", "laptop=8"), "laptop")
    assert records.knob_view(src, "laptop") != records.knob_view(src.replace("low=1", "low=0"), "laptop")
    with pytest.raises(records.RecordError, match="scale='tiny'"):
        records.knob_view(src, "tiny")


def test_bad_records_are_refused(repo):
    folder = make_record(repo)
    (folder / "provenance.json").unlink()
    with pytest.raises(records.RecordError, match="no provenance.json"):
        records.load_record(folder, repo)
    shutil.rmtree(folder)
    folder = make_record(repo, commit="0" * 40)
    with pytest.raises(records.RecordError, match="not in the history"):
        records.load_record(folder, repo)
    shutil.rmtree(folder)
    folder = make_record(repo)
    bad = json.loads((folder / "results" / "T1.json").read_text())
    bad["verdict"] = "sort of"
    (folder / "results" / "T1.json").write_text(json.dumps(bad))
    with pytest.raises(records.RecordError, match="T1: verdict='sort of'"):
        records.load_record(folder, repo)
    shutil.rmtree(folder)
    folder = make_record(repo, result_scale="ci")
    with pytest.raises(records.RecordError, match="made at scale 'ci'"):
        records.load_record(folder, repo)


def test_record_chapter_refuses_a_dirty_tree_and_ci(repo):
    (repo / "notebooks" / "theory.py").write_text("changed\n")
    with pytest.raises(records.RecordError, match="uncommitted changes"):
        records.head_commit(repo)
    with pytest.raises(records.RecordError, match="scale='ci'"):
        records.record_chapter("theory", "ci", root=ROOT)


def test_the_largest_scale_wins(repo):
    make_record(repo, "laptop")
    make_record(repo, "full")
    found = records.find_records(repo)
    assert set(found["theory"]) == {"laptop", "full"} and records.largest(found["theory"]).scale == "full"
    assert records.largest({}) is None


def test_book_still_executes_ci_and_renders_the_record_with_its_banner(repo, tmp_path, monkeypatch):
    make_record(repo, "laptop")
    rec = records.load_record(repo / "records" / "laptop" / "theory", repo)
    executed = []

    def fake_execute(source, destination, parameters, cwd=None):
        executed.append((Path(source).stem, parameters["scale"]))
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# ci page")]
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, destination)
        return destination

    monkeypatch.setattr(book, "execute_notebook", fake_execute)
    monkeypatch.setattr(book, "find_records", lambda root: {"theory": {"laptop": rec}})
    monkeypatch.setattr(book, "stale_files", lambda root, r: ["src/tgnlib/kernels.py"])
    stage = book.build(scale="ci", root=ROOT, build_dir=tmp_path / "build", html=False)
    assert executed == [(c.split("/")[-1], "ci") for c in book.toc_notebooks(ROOT)]
    page = nbformat.read(stage / "notebooks" / "theory.ipynb", as_version=4)
    assert page.cells[0].source == "# Title" and "This page shows the **`laptop` record** of this chapter" in page.cells[1].source
    assert "**Stale**" in page.cells[1].source and "`src/tgnlib/kernels.py`" in page.cells[1].source
    assert nbformat.read(stage / "notebooks" / "spinglass.ipynb", as_version=4).cells[0].source == "# ci page"
    ledger = (stage / "book" / "ledger.md").read_text()
    assert "`laptop` (record, commit" in ledger and "**Stale**: changed since the record: src/tgnlib/kernels.py" in ledger
    assert "| verdict | `ci` (this build) | `laptop` (record) |" in ledger and "| {bdg-warning}`partly` | 0 | 1 |" in ledger
    front = (stage / "book" / "intro.md").read_text()
    assert "`laptop` record (stale); the page shows `laptop`" in front and "| {bdg-warning}`partly` | 0 | 1 |" in front
    assert (stage / "records" / "laptop" / "theory" / "figures" / "theory" / "f.png").is_file()


def test_a_build_runs_every_chapter_it_can_and_fails_at_the_end(tmp_path, monkeypatch):
    executed = []

    def fake_execute(source, destination, parameters, cwd=None):
        executed.append(Path(source).stem)
        if Path(source).stem == "llm_rank":
            raise book.NotebookExecutionError("llm_rank.ipynb: cell 3 raised FileNotFoundError: no hub")
        Path(destination).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbformat.v4.new_notebook(), destination)
        return destination

    monkeypatch.setattr(book, "execute_notebook", fake_execute)
    with pytest.raises(book.NotebookExecutionError, match=r"(?s)1 of 5 chapters could not run at scale='full'.*llm_rank.*no hub"):
        book.build(scale="full", root=ROOT, build_dir=tmp_path / "build", html=False)
    assert executed == [c.split("/")[-1] for c in book.toc_notebooks(ROOT)]
    assert (tmp_path / "build" / "book" / "book" / "ledger.md").is_file()


def test_device_check_script_plans_tests_benchmarks_and_full_paths():
    out = subprocess.run(["bash", str(ROOT / "benchmarks" / "device_check.sh"), "--dry-run"], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    for step in ("tests-cuda", "bench-rank", "bench-metropolis", "bench-tgn", "spinglass-full", "tgn-full"):
        assert step in out
    assert "-p scale full -p device cuda" in out and "--device cuda" in out
