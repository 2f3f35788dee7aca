"""Knobs: declared once per chapter, validated before any work starts, with one clear message each."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tgnlib.chapter import open_chapter
from tgnlib.knobs import UNSET, ChapterKnobs, Knob, KnobError, knobs_of

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ("theory", "spinglass", "llm_rank", "brain", "tgn")


def namespace(tmp_path, **knobs):
    """What a notebook's globals hold when the chapter opens: kernel names, the Colab cell's module, parameters."""
    import importlib
    return {"In": [], "Out": {}, "get_ipython": print, "importlib": importlib, "REPO": "x/y", "_": None,
            "scale": "ci", "seed": 0, "device": "cpu", "output_dir": str(tmp_path), **knobs}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_resolves_its_ci_values(chapter):
    knobs = knobs_of(chapter)
    assert "ci" in knobs.scales() and "full" in knobs.scales()
    p = knobs.resolve("ci", {})
    assert set(vars(p)) == {k.name for k in knobs.knobs}
    assert "| knob | meaning |" in knobs.table()


@pytest.mark.parametrize("chapter, knob, value, match", [
    ("llm_rank", "models", '["no-such-model"]', r"models=\['no-such-model'\].*not available offline"),
    ("theory", "n_values", "[0]", r"n_values='\[0\]'.*out of range.*in \[8, 32768\]"),
    ("llm_rank", "seq_len", "abc", r"seq_len='abc'.*an integer in \[8, 8192\]"),
    ("spinglass", "instances", 0, r"instances=0.*out of range"),
    ("brain", "inductions", ["sideways"], r"inductions=\['sideways'\].*'sideways' is not a choice.*'long-range'"),
    ("spinglass", "sizes", "[4, 5]", r"L=\[5\] is odd"),
    ("spinglass", "reference_sweeps", '{"4": 100}', r"no entry for L=\[6, 8\]"),
    ("tgn", "learning_rates", "3e-3", r"learning_rates=.*non-empty list"),
    ("tgn", "eval_windows", 2.5, r"eval_windows=2.5.*not an integer"),
    ("theory", "net_depth", True, r"net_depth=True"),
    ("brain", "quantiles", [0.0, 0.5], r"quantiles=\[0.0, 0.5\]"),
])
def test_bad_knobs_fail_fast_naming_knob_value_and_what_is_allowed(tmp_path, chapter, knob, value, match):
    start = time.perf_counter()
    with pytest.raises(KnobError, match=match):
        open_chapter(chapter, namespace(tmp_path, **{knob: value}))
    assert time.perf_counter() - start < 5
    assert not (tmp_path / "figures").exists()  # nothing was started


def test_papermill_strings_become_lists_and_dicts_with_integer_keys(tmp_path):
    ch, p = open_chapter("spinglass", namespace(tmp_path, sizes="[4, 6]", reference_sweeps=json.dumps({4: 7, 6: 9})))
    assert p.sizes == [4, 6] and p.reference_sweeps == {4: 7, 6: 9} and ch.scale == "ci"
    _, p = open_chapter("tgn", namespace(tmp_path, steps="120", eval_windows=None))
    assert p.steps == 120 and p.eval_windows == 256


def test_unknown_names_scales_seeds_and_folders_are_refused(tmp_path):
    with pytest.raises(KnobError, match=r"unknown parameter\(s\) \['no_such_knob'\]"):
        open_chapter("theory", namespace(tmp_path, no_such_knob=3))
    with pytest.raises(KnobError, match=r"scale='laptop' is not available for chapter 'x'; choose one of \['ci', 'full'\]"):
        ChapterKnobs("x", (Knob("n", "int", "a", ci=1, full=2),)).resolve("laptop", {})
    with pytest.raises(KnobError, match=r"scale='huge' is not available for chapter 'tgn'"):
        open_chapter("tgn", namespace(tmp_path, scale="huge"))
    with pytest.raises(KnobError, match="seed=-1"):
        open_chapter("theory", namespace(tmp_path, seed=-1))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(KnobError, match="output_dir=.*a-file/out.*is not writable"):
        open_chapter("theory", {**namespace(tmp_path), "output_dir": str(blocker / "out")})
    with pytest.raises(KnobError, match="chapter='nope'"):
        knobs_of("nope")


def test_a_declaration_that_breaks_its_own_rules_is_refused():
    with pytest.raises(KnobError, match="n=0"):
        Knob("n", "int", "a count", low=1, ci=0)
    with pytest.raises(ValueError, match="kind='complex'"):
        Knob("n", "complex", "x")
    with pytest.raises(ValueError, match="twice"):
        ChapterKnobs("x", (Knob("n", "int", "a", ci=1), Knob("n", "int", "b", ci=2)))
    assert Knob("n", "int", "a", ci=1).laptop is UNSET


def test_an_unknown_knob_stops_a_real_papermill_run_within_seconds(tmp_path):
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "theory.ipynb"), str(tmp_path / "o.ipynb"),
                          "-p", "output_dir", str(tmp_path / "out"), "-p", "no_such_knob", "3", "--no-progress-bar"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert "unknown parameter(s) ['no_such_knob']" in out.stdout + out.stderr
    assert time.perf_counter() - start < 120
    assert not (tmp_path / "out" / "results").exists()


def test_models_available_offline(tmp_path):
    from tgnlib.llm.causal import available_offline
    assert available_offline("SmolLM2-135M-Instruct") and available_offline(str(tmp_path))
    assert not available_offline("no-such-model") and not available_offline("no-such-org/no-such-model")
