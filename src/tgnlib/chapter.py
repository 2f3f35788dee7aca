"""What every chapter notebook does first: check its parameters, seed, pick a device, and know
where its figures and results go.

A notebook's papermill ``parameters`` cell sets ``scale``, ``seed``, ``device``, ``output_dir`` and
its own knobs; it then calls :func:`start_chapter` and uses the returned :class:`Chapter` for sizes
(:meth:`Chapter.preset`), figures (:meth:`Chapter.savefig`) and ledger rows (:meth:`Chapter.record`).
"""

from __future__ import annotations

import datetime as _dt
import platform
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from . import __version__
from .ledger import SCALES, record_claim

DEVICES = ("auto", "cpu", "cuda")


def check_choice(name: str, value, allowed) -> None:
    """Raise ``ValueError`` naming the parameter, its bad value and the allowed values.

    Parameters
    ----------
    name : str
        Parameter name as the user wrote it.
    value : object
    allowed : sequence
    """
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose one of {tuple(allowed)}")


def resolve_device(device: str = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"`` or ``"cuda"`` into a ``torch.device``.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}, default "auto"
        ``"auto"`` takes CUDA when present, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        For another value, or ``"cuda"`` on a machine without CUDA.
    """
    check_choice("device", device, DEVICES)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but no CUDA device is available here; use device='auto' or 'cpu'")
    return torch.device(device)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators.

    Parameters
    ----------
    seed : int
        Non-negative.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative integer")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _git_commit() -> str:
    for where in (Path.cwd(), Path(__file__).resolve().parent):
        try:
            out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=where,
                                 capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return f"tgnlib {__version__} (no git checkout)"


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


@dataclass
class Chapter:
    """A running chapter: its validated parameters and where its outputs go.

    Attributes
    ----------
    name : str
        Chapter name (``"theory"``, ``"spinglass"``...); figures go to ``figures/<name>/``.
    scale : {"ci", "full"}
    seed : int
    device : torch.device
    output_dir : pathlib.Path
        Holds ``figures/`` and ``results/``; the book build points it at its staging folder.
    """

    name: str
    scale: str
    seed: int
    device: torch.device
    output_dir: Path
    started: float = field(default_factory=time.perf_counter)

    def preset(self, ci: dict, full: dict, **overrides) -> SimpleNamespace:
        """Sizes for this scale, with the notebook's knobs applied on top.

        A dict knob keyed by integers in the preset (say sweeps per lattice size) may arrive with
        string keys, because papermill passes parameters through JSON; its keys are turned back into
        integers.

        Parameters
        ----------
        ci, full : dict
            The settings of each scale; both must have the same keys.
        **overrides
            Knobs from the parameters cell; ``None`` keeps the scale's value.

        Returns
        -------
        types.SimpleNamespace

        Raises
        ------
        ValueError
            If the two scales disagree on keys, a knob is not one of them, or a dict knob has a key
            that is not an integer where the preset's are.
        """
        if set(ci) != set(full):
            raise ValueError(f"the ci and full presets must have the same keys; they differ in {sorted(set(ci) ^ set(full))}")
        unknown = sorted(set(overrides) - set(ci))
        if unknown:
            raise ValueError(f"unknown knob(s) {unknown}; this chapter's knobs are {sorted(ci)}")
        chosen = dict(ci if self.scale == "ci" else full)
        for name, value in overrides.items():
            if value is not None:
                chosen[name] = _keys_like(chosen[name], value, name)
        return SimpleNamespace(**chosen)

    def rng(self, offset: int = 0) -> np.random.Generator:
        """A NumPy generator seeded from the chapter's seed (plus ``offset`` for independent streams)."""
        return np.random.default_rng(self.seed + offset)

    def savefig(self, fig, name: str, dpi: int = 120) -> str:
        """Save a matplotlib figure as ``figures/<chapter>/<name>.png``.

        Parameters
        ----------
        fig : matplotlib.figure.Figure
        name : str
            File stem, letters, digits, ``-`` and ``_`` only.
        dpi : int, default 120

        Returns
        -------
        str
            The path relative to ``output_dir``, as :meth:`record` expects.
        """
        if not name or not all(ch.isalnum() or ch in "-_" for ch in name):
            raise ValueError(f"figure name {name!r} must be letters, digits, '-' or '_'")
        rel = Path("figures") / self.name / f"{name}.png"
        (self.output_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(self.output_dir / rel, dpi=dpi, bbox_inches="tight")
        return rel.as_posix()

    def provenance(self) -> dict:
        """Commit, device, seed, wall time so far, versions and time stamp."""
        return {
            "commit": _git_commit(),
            "device": _device_name(self.device),
            "seed": self.seed,
            "wall_time_s": round(time.perf_counter() - self.started, 1),
            "torch": torch.__version__,
            "tgnlib": __version__,
            "recorded_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }

    def record(self, claim_id: str, *, verdict: str, summary: str, measured: dict, data: str, figure: str, notes: str = "") -> Path:
        """Record one claim's result for the ledger (see :func:`tgnlib.ledger.record_claim`).

        The ledger links to the MyST target ``claim-<id>`` (lower case), which the notebook puts
        above the claim's section.
        """
        return record_claim(
            self.output_dir, claim_id, verdict=verdict, summary=summary, measured=measured, scale=self.scale,
            data=data, figure=figure, label=f"claim-{claim_id.lower()}", provenance=self.provenance(), notes=notes,
        )

    def caption(self, figure: str, text: str, data: str):
        """A figure caption that always says which data, scale, seed and device made the figure.

        Parameters
        ----------
        figure : str
            Figure name, e.g. ``"Figure T1"``.
        text : str
            What the figure shows.
        data : str
            Which data and model were used.

        Returns
        -------
        IPython.display.Markdown
        """
        from IPython.display import Markdown

        return Markdown(f"**{figure}.** {text} *Data: {data}. Scale `{self.scale}`, seed {self.seed}, "
                        f"{_device_name(self.device)}.*")

    def __repr__(self) -> str:
        return (f"Chapter {self.name!r}: scale={self.scale!r}, seed={self.seed}, device={_device_name(self.device)}, "
                f"outputs in {self.output_dir}")


def start_chapter(name: str, scale: str = "ci", seed: int = 0, device: str = "auto", output_dir="tgn-output") -> Chapter:
    """Validate a notebook's parameters, seed every generator and prepare its output folders.

    Parameters
    ----------
    name : str
        Chapter name, used for the figure folder.
    scale : {"ci", "full"}, default "ci"
        ``"ci"``: small sizes that run on 2 CPU cores in minutes; ``"full"``: the paper's sizes.
    seed : int, default 0
        Seeds Python, NumPy and torch.
    device : {"auto", "cpu", "cuda"}, default "auto"
    output_dir : path, default "tgn-output"
        Where ``figures/`` and ``results/`` are written.

    Returns
    -------
    Chapter
    """
    check_choice("scale", scale, SCALES)
    dev = resolve_device(device)
    seed_everything(seed)
    out = Path(output_dir).resolve()
    (out / "figures" / name).mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(parents=True, exist_ok=True)
    return Chapter(name, scale, int(seed), dev, out)


def _keys_like(preset_value, value, name: str):
    if not (isinstance(preset_value, dict) and isinstance(value, dict) and preset_value
            and all(isinstance(k, int) for k in preset_value)):
        return value
    try:
        return {int(k): v for k, v in value.items()}
    except ValueError:
        raise ValueError(f"{name}={value!r}: its keys must be integers, like the preset's {sorted(preset_value)}") from None
