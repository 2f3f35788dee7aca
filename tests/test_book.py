from pathlib import Path

import nbformat
import pytest

from tgnlib import book

ROOT = Path(__file__).resolve().parents[1]


def tiny_notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells]
    nbformat.write(nb, path)
    return path


def test_root_and_toc():
    assert book.find_root(ROOT / "src" / "tgnlib") == ROOT
    assert book.toc_notebooks(ROOT)[0] == "notebooks/theory"
    with pytest.raises(FileNotFoundError, match="_toc.yml"):
        book.find_root("/")


def test_stage_mirrors_the_repository(tmp_path):
    stage = book.stage_book(ROOT, tmp_path / "stage")
    assert (stage / "_config.yml").read_text() == (ROOT / "_config.yml").read_text()
    assert (stage / "book" / "ledger.md").is_file() and (stage / "_toc.yml").is_file()


def test_execute_injects_parameters_and_hides_them(tmp_path):
    src = tiny_notebook(tmp_path / "ok.ipynb", [("x = 1", ["parameters"]), ("y = x * 2\nprint(y)", [])])
    out = book.execute_notebook(src, tmp_path / "out" / "ok.ipynb", {"x": 21}, cwd=tmp_path)
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "remove-cell" in injected[0].metadata.tags
    assert nb.cells[-1].outputs[0]["text"] == "42\n"


def test_failing_cell_is_named(tmp_path):
    src = tiny_notebook(tmp_path / "bad.ipynb", [("a = 1", ["parameters"]), ("1 / 0", [])])
    with pytest.raises(book.NotebookExecutionError, match=r"bad.ipynb: cell \d+ .*ZeroDivisionError"):
        book.execute_notebook(src, tmp_path / "out" / "bad.ipynb", {})


def test_hide_is_idempotent(tmp_path):
    path = tiny_notebook(tmp_path / "n.ipynb", [("a = 1", ["injected-parameters"])])
    assert book.hide_injected_parameters(path) == 1
    assert book.hide_injected_parameters(path) == 0


def test_progress_writes_collapse_to_what_a_terminal_shows(tmp_path):
    path = tiny_notebook(tmp_path / "p.ipynb", [("a = 1", [])])
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stderr", text=t)
                           for t in ("\rbar  0%", "\rbar 50%", "\rbar 100%", "\n")] + [
        nbformat.v4.new_output("stream", name="stdout", text="done\nkept\r\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1),
        nbformat.v4.new_output("stream", name="stderr", text="late\n")]
    nbformat.write(nb, path)
    assert book.collapse_progress(path) == 3
    outs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [o.get("text") for o in outs] == ["bar 100%\n", "done\nkept\n", None, "late\n"]
    assert book.collapse_progress(path) == 0


def test_bad_build_arguments_are_named():
    with pytest.raises(ValueError, match="scale='big'"):
        book.build(scale="big", root=ROOT)
    with pytest.raises(ValueError, match="only='physics'"):
        book.build(only=["physics"], root=ROOT, build_dir="_build/test-bad-args")
    assert book.main(["--scale", "big"]) == 1
