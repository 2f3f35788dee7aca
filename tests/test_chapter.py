import json
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from tgnlib.chapter import check_choice, resolve_device, seed_everything, start_chapter  # noqa: E402


def test_start_chapter_validates_and_prepares(tmp_path):
    ch = start_chapter("theory", scale="ci", seed=3, device="cpu", output_dir=tmp_path)
    assert ch.device == torch.device("cpu") and (tmp_path / "figures" / "theory").is_dir()
    for bad, match in ((dict(scale="medium"), "scale='medium'.*'ci', 'full'"), (dict(device="tpu"), "device='tpu'"),
                       (dict(seed=-1), "seed=-1"), (dict(seed=1.5), "seed=1.5")):
        with pytest.raises(ValueError, match=match):
            start_chapter("theory", **{**dict(output_dir=tmp_path), **bad})


def test_cuda_request_without_cuda_is_explained():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="no CUDA"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


def test_seed_everything_makes_draws_repeat():
    seed_everything(11)
    a = (np.random.rand(), torch.rand(1).item())
    seed_everything(11)
    assert a == (np.random.rand(), torch.rand(1).item())


def test_preset_picks_scale_and_applies_knobs(tmp_path):
    ch = start_chapter("theory", scale="full", output_dir=tmp_path)
    p = ch.preset(ci=dict(n=1, d=2), full=dict(n=10, d=20), n=None, d=5)
    assert (p.n, p.d) == (10, 5)
    with pytest.raises(ValueError, match="unknown knob"):
        ch.preset(ci=dict(n=1), full=dict(n=2), m=3)
    with pytest.raises(ValueError, match="same keys"):
        ch.preset(ci=dict(n=1), full=dict(m=2))


def test_dict_knob_from_papermill_gets_its_integer_keys_back(tmp_path):
    ch = start_chapter("theory", scale="ci", output_dir=tmp_path)
    sweeps = {4: 100, 6: 200}
    p = ch.preset(ci=dict(sweeps=sweeps, names={"a": 1}), full=dict(sweeps=sweeps, names={"a": 1}),
                  sweeps=json.loads(json.dumps({4: 7, 12: 9})), names={"b": 2})
    assert p.sweeps == {4: 7, 12: 9} and p.names == {"b": 2}
    with pytest.raises(ValueError, match="sweeps=.*integers"):
        ch.preset(ci=dict(sweeps=sweeps), full=dict(sweeps=sweeps), sweeps={"L4": 7})


def test_savefig_record_and_caption(tmp_path):
    ch = start_chapter("theory", seed=2, device="cpu", output_dir=tmp_path)
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    rel = ch.savefig(fig, "demo")
    assert rel == "figures/theory/demo.png" and (tmp_path / rel).read_bytes()[:4] == b"\x89PNG"
    path = ch.record("T2", verdict="reproduced", summary="gap {g:.2f}", measured={"g": 0.5}, data="points", figure=rel)
    text = path.read_text()
    assert '"label": "claim-t2"' in text and '"seed": 2' in text and '"wall_time_s"' in text
    assert "Scale `ci`, seed 2" in ch.caption("Figure 1", "text", "points").data
    with pytest.raises(ValueError, match="figure name"):
        ch.savefig(fig, "../escape")


def test_check_choice_message():
    with pytest.raises(ValueError, match=r"mode='x' is not allowed; choose one of \('a', 'b'\)"):
        check_choice("mode", "x", ("a", "b"))
