import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from tgnlib.chapter import check_choice, resolve_device, seed_everything, start_chapter  # noqa: E402
from tgnlib.verdicts import reproduced  # noqa: E402


def test_start_chapter_validates_and_prepares(tmp_path):
    ch = start_chapter("theory", scale="ci", seed=3, device="cpu", output_dir=tmp_path)
    assert ch.device == torch.device("cpu") and (tmp_path / "figures" / "theory").is_dir()
    for bad, match in ((dict(scale="medium"), "scale='medium'.*'ci', 'laptop', 'full'"), (dict(device="tpu"), "device='tpu'"),
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


def test_savefig_record_and_caption(tmp_path):
    ch = start_chapter("theory", seed=2, device="cpu", output_dir=tmp_path)
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    rel = ch.savefig(fig, "demo")
    assert rel == "figures/theory/demo.png" and (tmp_path / rel).read_bytes()[:4] == b"\x89PNG"
    path = ch.record("T2", verdict=reproduced("gap 0.5"), summary="gap {g:.2f}", measured={"g": 0.5}, data="points", figure=rel)
    text = path.read_text()
    assert '"label": "claim-t2"' in text and '"seed": 2' in text and '"wall_time_s"' in text and '"reason": "gap 0.5"' in text
    with pytest.raises(TypeError, match="Verdict"):
        ch.record("T2", verdict="reproduced", summary="gap", measured={"g": 0.5}, data="points", figure=rel)
    assert "Scale `ci`, seed 2" in ch.caption("Figure 1", "text", "points").data
    with pytest.raises(ValueError, match="figure name"):
        ch.savefig(fig, "../escape")


def test_check_choice_message():
    with pytest.raises(ValueError, match=r"mode='x' is not allowed; choose one of \('a', 'b'\)"):
        check_choice("mode", "x", ("a", "b"))


def test_figure_saves_shows_and_captions(tmp_path, monkeypatch):
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    ch = start_chapter("theory", seed=4, device="cpu", output_dir=tmp_path)
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    rel = ch.figure(fig, "demo2", "Figure X", "A line.", "made-up data")
    assert rel == "figures/theory/demo2.png" and (tmp_path / rel).is_file()
    assert len(shown) == 1 and shown[0].data.startswith("**Figure X.** A line. *Data: made-up data. Scale `ci`, seed 4")
