"""What every chapter notebook does first: check its parameters, seed, pick a device, and know
where its figures and results go.

A notebook's papermill ``parameters`` cell sets ``scale``, ``seed``, ``device``, ``output_dir`` and
its own knobs (declared once in :mod:`tgnlib.knobs`); it then calls :func:`open_chapter`, which
validates all of them before any work starts, and uses the returned :class:`Chapter` for figures
(:meth:`Chapter.figure`) and ledger rows (:meth:`Chapter.record`, which takes a verdict rule's
:class:`~tgnlib.verdicts.Verdict`).
"""

from __future__ import annotations

import datetime as _dt
import platform
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import torch

from . import __version__
from .knobs import KnobError, knobs_of
from .ledger import SCALES, record_claim
from .verdicts import Verdict

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
    scale : {"ci", "laptop", "full"}
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

    def record(self, claim_id: str, *, verdict: Verdict, summary: str, measured: dict, data: str, figure: str,
               notes: str = "") -> Path:
        """Record one claim's result for the ledger (see :func:`tgnlib.ledger.record_claim`).

        Parameters
        ----------
        claim_id : str
        verdict : tgnlib.verdicts.Verdict
            What the claim's rule in :mod:`tgnlib.verdicts` returned: never a hand-written string.
        summary, measured, data, figure, notes
            As :func:`tgnlib.ledger.record_claim` takes them.

        The ledger links to the MyST target ``claim-<id>`` (lower case), which the notebook puts
        above the claim's section.
        """
        if not isinstance(verdict, Verdict):
            raise TypeError(f"verdict must be a tgnlib.verdicts.Verdict from the claim's rule, not {verdict!r}")
        return record_claim(
            self.output_dir, claim_id, verdict=verdict.outcome, reason=verdict.reason, summary=summary, measured=measured,
            scale=self.scale, data=data, figure=figure, label=f"claim-{claim_id.lower()}", provenance=self.provenance(),
            notes=notes,
        )

    def figure(self, fig, name: str, title: str, text: str, data: str) -> str:
        """Save a figure, show it, and show its caption under it: the ending of every figure cell.

        Parameters
        ----------
        fig : matplotlib.figure.Figure
        name : str
            File stem (see :meth:`savefig`).
        title : str
            Figure name in the caption, e.g. ``"Figure T1"``.
        text : str
            What the figure shows.
        data : str
            Which data and model were used.

        Returns
        -------
        str
            The saved figure's path relative to ``output_dir``, as :meth:`record` expects.
        """
        import matplotlib.pyplot as plt
        from IPython.display import display

        path = self.savefig(fig, name)
        plt.show()
        display(self.caption(title, text, data))
        return path

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
    scale : {"ci", "laptop", "full"}, default "ci"
        ``"ci"``: small sizes that run on 2 CPU cores in minutes; ``"laptop"``: the largest run this
        2-core CPU finishes in about 2 hours; ``"full"``: the paper's sizes.
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


# Names a Jupyter kernel defines by itself; anything else set before the chapter opens is a knob.
_KERNEL_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "open"}
BASE_PARAMETERS = ("scale", "seed", "device", "output_dir")


def _user_names(namespace: dict) -> list[str]:
    """Names the parameters cell (or papermill's injected cell) set: not kernel names, modules, functions or constants."""
    return sorted(n for n, v in namespace.items()
                  if not n.startswith("_") and n not in _KERNEL_NAMES and not n.isupper()
                  and not isinstance(v, (ModuleType, type)) and not callable(v))


def _check_writable(output_dir) -> Path:
    out = Path(output_dir).expanduser().resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok", encoding="utf-8")
        probe.unlink()
    except OSError as err:
        raise KnobError(f"output_dir={str(output_dir)!r} is not writable ({err.strerror or err}); choose a folder you can "
                        "write to") from None
    return out


def open_chapter(name: str, namespace: dict) -> tuple[Chapter, SimpleNamespace]:
    """Validate every parameter of a chapter notebook, then start the chapter.

    Called right after the parameters cell as ``ch, P = open_chapter("theory", globals())``. It reads
    ``scale``, ``seed``, ``device``, ``output_dir`` and the chapter's knobs (:mod:`tgnlib.knobs`)
    from ``namespace``, refuses any other name set there (a misspelt ``-p`` knob would otherwise
    be ignored), validates every value, and checks that ``output_dir`` is writable, all before any
    work starts.

    Parameters
    ----------
    name : str
        Chapter name (``"theory"``, ``"spinglass"``, ``"llm_rank"``, ``"brain"``, ``"tgn"``).
    namespace : dict
        The notebook's ``globals()``.

    Returns
    -------
    (Chapter, types.SimpleNamespace)
        The started chapter and the resolved knob values.

    Raises
    ------
    tgnlib.knobs.KnobError
        One message naming the knob, its value and what is allowed.
    """
    knobs = knobs_of(name)
    unknown = [n for n in _user_names(namespace) if n not in BASE_PARAMETERS and n not in knobs.names]
    if unknown:
        raise KnobError(f"unknown parameter(s) {unknown} for chapter {name!r}; its knobs are {knobs.names} "
                        f"(and {list(BASE_PARAMETERS)})")
    scale = namespace.get("scale", "ci")
    if scale not in knobs.scales():
        raise KnobError(f"scale={scale!r} is not available for chapter {name!r}; choose one of {knobs.scales()}")
    values = knobs.resolve(scale, {n: namespace.get(n) for n in knobs.names})
    seed, device = namespace.get("seed", 0), namespace.get("device", "auto")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise KnobError(f"seed={seed!r} must be a non-negative integer")
    check_choice("device", device, DEVICES)
    out = _check_writable(namespace.get("output_dir", "tgn-output"))
    return start_chapter(name, scale=scale, seed=int(seed), device=device, output_dir=out), values
