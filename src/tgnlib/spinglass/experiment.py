"""Run every method on the same instances at the same budget, with an on-disk cache so that a
killed run resumes where it stopped (each finished (method, L) is skipped on the next call)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..cache import code_fingerprint
from .annealing import simulated_annealing
from .attention import attention_smoothing, replica_attention
from .langevin import langevin
from .reference import dwave_annealing, reference_energies, summarise_reference
from .tempering import parallel_tempering
from .trace import Trace

METHODS = {
    "langevin": (langevin, {}),
    "gradient descent": (langevin, {"t_start": 0.0, "method": "gradient descent (Langevin at T = 0)"}),
    "simulated annealing": (simulated_annealing, {}),
    "parallel tempering": (parallel_tempering, {}),
    "attention (a)": (attention_smoothing, {}),
    "attention (b)": (replica_attention, {}),
    "dwave-samplers": (dwave_annealing, {}),
}


def _cache_path(cache_dir, stem: str) -> Path | None:
    # The stem names the method, size, instance seed and settings; the code version is the package's source.
    return Path(cache_dir) / f"{stem}_{code_fingerprint(Path(__file__).parent)}" if cache_dir else None


def save_trace(trace: Trace, path) -> None:
    """Write a :class:`Trace` as ``.npz`` (arrays) plus JSON (the rest)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path.with_suffix(".npz"), sweeps=trace.sweeps, wall_time=trace.wall_time, best_energy=trace.best_energy)
    meta = {"method": trace.method, "L": trace.L, "extra_flops": trace.extra_flops, "info": trace.info}
    path.with_suffix(".json").write_text(json.dumps(meta, default=lambda o: np.asarray(o).tolist()))


def load_trace(path) -> Trace:
    """Read a trace written by :func:`save_trace`."""
    path = Path(path)
    arrays = np.load(path.with_suffix(".npz"))
    meta = json.loads(path.with_suffix(".json").read_text())
    return Trace(meta["method"], meta["L"], arrays["sweeps"], arrays["wall_time"], arrays["best_energy"], meta["extra_flops"], meta["info"])


def run_method(name: str, J, sweeps: int, replicas: int, seed: int, device, cache_dir=None, **kwargs) -> Trace:
    """Run one method of ``METHODS`` (or load its cached result).

    Parameters
    ----------
    name : str
        A key of ``METHODS``.
    J : tensor, shape (I, 3, L, L, L)
    sweeps : int
        Budget per instance, all replicas together.
    replicas : int
        Population size (PT: temperatures of one ladder, so its budget is the same).
    seed : int
    device : str or torch.device
    cache_dir : path or None
        Folder of finished runs; ``None`` disables caching.
    **kwargs
        Passed to the method.

    Returns
    -------
    Trace
    """
    if name not in METHODS:
        raise ValueError(f"method={name!r} is not one of {sorted(METHODS)}")
    fn, defaults = METHODS[name]
    L = int(np.shape(J)[-1])
    slug = name.replace(" ", "_").replace("(", "").replace(")", "")
    path = _cache_path(cache_dir, f"{slug}_L{L}_I{np.shape(J)[0]}_b{sweeps}_r{replicas}_s{seed}")
    if path is not None and path.with_suffix(".json").is_file():
        return load_trace(path)
    args = {**defaults, **kwargs}
    if name == "parallel tempering":
        ckpt = path.with_suffix(".ckpt") if path is not None else None
        trace = fn(J, sweeps, n_temps=replicas, seed=seed, device=device, checkpoint=ckpt, **args)
    elif name == "dwave-samplers":
        trace = fn(J, sweeps, replicas=replicas, seed=seed, **args)
    else:
        trace = fn(J, sweeps, replicas=replicas, seed=seed, device=device, **args)
    if path is not None:
        save_trace(trace, path)
    return trace


def run_reference(J, sweeps: int, chains: int = 2, seed: int = 12345, device="cpu", cache_dir=None) -> dict:
    """:func:`~tgnlib.spinglass.reference.reference_energies`, cached and checkpointed like :func:`run_method`.

    Parameters
    ----------
    J : tensor, shape (I, 3, L, L, L)
    sweeps : int
        Budget per chain (sweeps of its whole ladder).
    chains, seed, device : as in :func:`~tgnlib.spinglass.reference.reference_energies`
    cache_dir : path or None

    Returns
    -------
    dict
    """
    L = int(np.shape(J)[-1])
    path = _cache_path(cache_dir, f"reference_L{L}_I{np.shape(J)[0]}_b{sweeps}_c{chains}_s{seed}")
    if path is not None and path.with_suffix(".json").is_file():
        return summarise_reference(load_trace(path), sweeps)
    result = reference_energies(J, sweeps, chains, seed, device, checkpoint=path.with_suffix(".ckpt") if path else None)
    if path is not None:
        save_trace(result["trace"], path)
    return result
