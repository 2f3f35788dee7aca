"""Every chapter notebook: paired, clean, parametrised, in the book, and free of library code."""

import ast
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from tgnlib.book import toc_notebooks
from tgnlib.chapter import BASE_PARAMETERS
from tgnlib.knobs import knobs_of

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks").glob("*.py"))


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_notebooks_and_all_are_in_the_toc():
    assert SOURCES
    assert sorted(f"notebooks/{p.stem}" for p in SOURCES) == sorted(toc_notebooks(ROOT))


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_is_in_sync_and_clean(source):
    paired = source.with_suffix(".ipynb")
    assert paired.is_file(), f"{paired} missing: run `make sync`"
    ipynb = nbformat.read(paired, as_version=4)
    py = jupytext.read(source)
    assert [c.source for c in py.cells] == [c.source for c in ipynb.cells], "out of sync: run `make sync`"
    for cell in code_cells(ipynb):
        assert not cell.outputs and cell.execution_count is None, "commit notebooks without outputs"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_parameters_cell(source):
    nb = jupytext.read(source)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    values = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds plain assignments only"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values["scale"] == "ci" and values["device"] == "auto" and isinstance(values["seed"], int)
    assert "output_dir" in values
    # the knobs are declared once, in tgnlib.knobs; the cell lists the same names, each None (the scale's value)
    knobs = knobs_of(source.stem)
    assert sorted(set(values) - set(BASE_PARAMETERS)) == sorted(knobs.names)
    assert all(values[name] is None for name in knobs.names)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_no_verdict_is_written_in_a_notebook(source):
    text = source.read_text()
    for pattern in ('"reproduced" if', '"partly" if', '"not reproduced" if', 'verdict="', "verdict='"):
        assert pattern not in text, f"{source.name}: verdicts come from tgnlib.verdicts, not from {pattern!r}"
    assert "open_chapter(" in text and "rule_text(" in text


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_no_functions_or_classes_in_notebooks(source):
    for cell in code_cells(jupytext.read(source)):
        if cell.source.lstrip().startswith(("!", "%")):
            continue
        lines = [line for line in cell.source.splitlines() if not line.lstrip().startswith(("!", "%"))]
        for node in ast.walk(ast.parse("\n".join(lines))):
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef)), f"{source.name}: move {node.name} into tgnlib"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_colab_cell_installs_from_the_books_repository(source):
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].removeprefix("https://github.com/")
    first_code = code_cells(nbformat.read(source.with_suffix(".ipynb"), as_version=4))[0]
    assert "remove-cell" in first_code.metadata.tags
    assert f'REPO = "{repo}"' in first_code.source and "constraints.txt" in first_code.source
    assert "!pip install" in first_code.source


def test_the_repository_lives_in_config_and_a_build_writes_it_into_every_colab_cell(tmp_path):
    from tgnlib import book

    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
    assert book.sync_repository(tmp_path) == []  # the checkout already agrees with its _config.yml
    config = (tmp_path / "_config.yml").read_text()
    (tmp_path / "_config.yml").write_text(config.replace(f"https://github.com/{book.repository(ROOT)}", "https://github.com/someone/fork"))
    changed = book.sync_repository(tmp_path)
    assert len(changed) == 2 * len(SOURCES)
    for source in SOURCES:
        first_code = code_cells(nbformat.read(tmp_path / "notebooks" / f"{source.stem}.ipynb", as_version=4))[0]
        assert 'REPO = "someone/fork"' in first_code.source
        assert 'REPO = "someone/fork"' in (tmp_path / "notebooks" / source.name).read_text()
    assert book.sync_repository(tmp_path) == []
    (tmp_path / "_config.yml").write_text(config.replace(f"https://github.com/{book.repository(ROOT)}", "https://gitlab.com/x/y"))
    with pytest.raises(ValueError, match="not a https://github.com"):
        book.repository(tmp_path)
