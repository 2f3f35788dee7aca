"""The Colab path, offline: each notebook's set-up cell installs tgnlib into a fresh virtual environment
from a clone of this repository, with the pins, and the chapter's first cells then run at `ci`.

What Colab does with the clean notebook is replayed here, with two substitutions: the repository URL
(`REPO`, the book's GitHub address) points at a local `git clone` of this checkout, and the heavy
dependencies already installed in the project's environment are made visible to the fresh one (a
`.pth` file), so pip resolves every pin against them instead of downloading gigabytes. pip still
resolves the set-up cell's requirement with `constraints.txt`: a pin the installed versions do not
meet fails the test.
"""

import json
import re
import shlex
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tgnlib import book

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = [c.split("/")[-1] for c in book.toc_notebooks(ROOT)]


def _cells(chapter: str) -> list[dict]:
    return [c for c in json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text())["cells"] if c["cell_type"] == "code"]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A fresh virtual environment that sees the project's installed dependencies, and a clone of HEAD."""
    tmp = tmp_path_factory.mktemp("colab")
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    target = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    (target / "project_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # venv's own old setuptools would shadow the project's (torch needs a newer one): leave only the project's visible
    subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "setuptools"], check=True, capture_output=True)
    return python, clone


def _setup_commands(chapter: str, clone: Path) -> list[list[str]]:
    setup = _cells(chapter)[0]["source"]
    setup = "".join(setup) if isinstance(setup, list) else setup
    repo = re.search(r'REPO = "([^"]+)"', setup).group(1)
    commands = []
    for line in setup.splitlines():
        line = line.strip()
        if not line.startswith("!pip install"):
            continue
        line = line.replace("{REPO}", repo)  # IPython expands {REPO} in shell lines
        line = line.replace(f"https://raw.githubusercontent.com/{repo}/main/", f"{clone}/")
        line = line.replace(f"git+https://github.com/{repo}", f"git+file://localhost{clone}")  # pip wants a host
        # offline: every requirement must be met by what is installed (--no-index), the build by its setuptools
        commands.append(["-m", "pip", "install", "--no-build-isolation", "--no-index", *shlex.split(line)[2:]])
    return commands


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_setup_cell_installs_tgnlib_with_the_pins_and_the_first_cells_run(fresh, chapter, tmp_path):
    python, clone = fresh
    commands = _setup_commands(chapter, clone)
    assert commands and any("constraints.txt" in " ".join(c) for c in commands), f"{chapter}: no pinned install in the set-up cell"
    for cmd in commands:
        done = subprocess.run([str(python), *cmd], capture_output=True, text=True)
        assert done.returncode == 0, f"{chapter}: {' '.join(cmd)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    # the parameters, the imports and open_chapter: every code cell up to the one that opens the chapter
    script = ["import tgnlib, pathlib", "print('TGNLIB', pathlib.Path(tgnlib.__file__).resolve())"]
    for cell in _cells(chapter)[1:]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        script += [line for line in src.splitlines() if not line.lstrip().startswith(("%", "!"))]
        if "open_chapter(" in src:
            break
    else:
        pytest.fail(f"{chapter}: no cell calls open_chapter")
    path = tmp_path / "first_cells.py"
    path.write_text("\n".join(script) + "\n")
    done = subprocess.run([str(python), str(path)], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1",
                               "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    assert done.returncode == 0, f"{chapter}: first cells failed\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    installed = next(line for line in done.stdout.splitlines() if line.startswith("TGNLIB")).split(" ", 1)[1]
    assert str(python.parent.parent) in installed, f"{chapter}: tgnlib came from {installed}, not the fresh environment"
    assert f"Chapter '{chapter}': scale='ci'" in done.stdout
    assert sys.version_info >= (3, 11)
