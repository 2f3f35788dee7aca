"""Run every method on the same instances at the same budget, with an on-disk cache so that a
killed run resumes where it stopped (each finished (method, L) is skipped on the next call)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from ..bootstrap import bootstrap_interval
from ..cache import code_fingerprint, run_key
from .annealing import simulated_annealing
from .attention import attention_smoothing, replica_attention
from .langevin import langevin
from .population import population_annealing
from .reference import dwave_annealing, reference_energies, summarise_reference
from .tempering import parallel_tempering
from .trace import Trace
from .tts import energy_tolerance, optimal_tts, reached

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


# ---- time to solution ------------------------------------------------------------------------------

FLOPS_PER_SPIN_UPDATE = 20.0  # local field (6 multiply-adds), acceptance or force, noise: our estimate, the same for all


def independent_path(solver, J, length: int, runs: int, settings: dict, seed: int, cache_dir) -> Path:
    """Where :func:`run_independent` keeps the result of these arguments (it exists once the batch finished).

    Parameters
    ----------
    solver, J, length, runs, settings, seed, cache_dir :
        As for :func:`run_independent` (``cache_dir`` not None).

    Returns
    -------
    pathlib.Path
    """
    key = run_key({"solver": solver.name, "length": int(length), "runs": int(runs), "settings": settings, "seed": seed},
                  data=J, code=code_fingerprint(Path(__file__).parent))
    return Path(cache_dir) / f"tts_{key}.npz"


def run_independent(solver, J, length: int, runs: int, settings: dict, seed: int = 0, device="cpu", cache_dir=None) -> dict:
    """``runs`` independent runs of one solver on every instance, each of ``length`` sweeps in all.

    The instances are repeated ``runs`` times along the batch axis, so the runs are independent
    (separate random streams of one generator) and execute as one vectorised batch.

    Parameters
    ----------
    solver : tgnlib.spinglass.solvers.Solver
    J : tensor, shape (I, 3, L, L, L)
    length : int
        Sweeps per run, summed over the run's replicas.
    runs : int
        Independent runs per instance.
    settings : dict
        The solver's keyword arguments (:meth:`Solver.settings`).
    seed : int, default 0
    device : str or torch.device, default "cpu"
    cache_dir : path or None
        Folder of finished batches; ``None`` disables caching.

    Returns
    -------
    dict
        ``final`` (runs, I): best energy per spin of each run; ``seconds`` (wall time of the whole
        batch); ``extra_flops`` (non-local FLOPs per run).
    """
    n_inst = int(np.shape(J)[0])
    path = independent_path(solver, J, length, runs, settings, seed, cache_dir) if cache_dir else None
    if path is not None and path.is_file():
        saved = np.load(path)
        return {"final": saved["final"], "seconds": float(saved["seconds"]), "extra_flops": float(saved["extra_flops"])}
    batch = torch.as_tensor(J).repeat(runs, 1, 1, 1, 1)  # run r of instance i at index r * I + i
    trace = solver.fn(batch, int(length), seed=seed, device=device, n_records=2, **settings)
    out = {"final": trace.final.reshape(runs, n_inst), "seconds": float(trace.wall_time[-1]), "extra_flops": float(trace.extra_flops)}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **out)
        tmp.replace(path)
    return out


def measure_tts(solver, J, reference, lengths, runs: int, settings: dict, seed: int = 0, device="cpu", cache_dir=None,
                atol: float | None = None) -> dict:
    """Time to solution of one solver on every instance, over schedule lengths.

    Lengths are tried in increasing order; once every instance succeeds in every run, longer
    schedules cannot lower the TTS and are skipped.

    Parameters
    ----------
    solver : tgnlib.spinglass.solvers.Solver
    J : tensor, shape (I, 3, L, L, L)
    reference : array, shape (I,)
        Reference ground-state energy per spin of each instance.
    lengths : sequence of int
        Schedule lengths t (sweeps per run, all its replicas).
    runs : int
        Independent runs per instance and length.
    settings : dict
        The solver's frozen settings.
    seed : int, default 0
    device : str or torch.device, default "cpu"
    cache_dir : path or None
    atol : float or None, default None
        Total-energy tolerance of a success (:func:`tgnlib.spinglass.tts.reached`); None takes
        :func:`~tgnlib.spinglass.tts.energy_tolerance` of N, so float rounding never splits a tie.

    Returns
    -------
    dict
        ``lengths`` (tried), ``successes`` (n_lengths, I), ``runs``; per instance ``tts`` (sweeps; a
        lower bound where no run of any length succeeded), ``measured`` (bool), ``t_opt``, ``best``
        (lowest energy per spin of any run) and ``residual`` (median over runs of the energy per spin
        above the reference at the last length tried: the longest, or the first at which every run
        succeeded, where it is 0 and would stay 0 at longer lengths); the cost
        conversions ``seconds_per_sweep`` (wall time per sweep of one run, amortised over the batch)
        and ``flops_per_sweep`` (local updates at :data:`FLOPS_PER_SPIN_UPDATE` plus the non-local
        term), and ``tts_seconds``, ``tts_flops`` per instance.
    """
    L = int(np.shape(J)[-1])
    n = L**3
    atol = energy_tolerance(n) if atol is None else atol
    ref = np.asarray(reference, dtype=float)
    tried, successes, seconds, sweeps_done, extra = [], [], 0.0, 0.0, []
    best = np.full(len(ref), np.inf)
    for t in sorted(int(x) for x in lengths):
        res = run_independent(solver, J, t, runs, settings, seed=seed + len(tried), device=device, cache_dir=cache_dir)
        ok = reached(res["final"] * n, ref[None, :] * n, atol=atol)  # (runs, I)
        best = np.minimum(best, res["final"].min(0))
        # residual at this length: median over runs of the final energy above the reference (0 where reached)
        residual = np.median(np.where(ok, 0.0, res["final"] - ref[None, :]), axis=0)
        tried.append(t)
        successes.append(ok.sum(0))
        seconds += res["seconds"]
        sweeps_done += t * ok.size
        extra.append(res["extra_flops"] / t)
        if ok.all():
            break
    successes = np.array(successes)  # (n_lengths, I)
    per = [optimal_tts(tried, successes[:, i], [runs] * len(tried)) for i in range(successes.shape[1])]
    seconds_per_sweep = seconds / sweeps_done
    flops_per_sweep = FLOPS_PER_SPIN_UPDATE * n + float(np.mean(extra))
    value = np.array([p["tts"] for p in per])
    return {"solver": solver.name, "L": L, "lengths": tried, "successes": successes, "runs": runs, "tts": value, "best": best,
            "residual": residual,
            "measured": np.array([p["measured"] for p in per]), "t_opt": np.array([p["t"] for p in per]),
            "seconds_per_sweep": seconds_per_sweep, "flops_per_sweep": flops_per_sweep,
            "tts_seconds": value * seconds_per_sweep, "tts_flops": value * flops_per_sweep}


def median_tts(values, measured, seed: int = 0) -> dict:
    """Median over instances of a TTS where some instances only have lower bounds, with a 95% interval.

    Parameters
    ----------
    values : array, shape (I,)
        TTS per instance (a lower bound where ``measured`` is False).
    measured : array of bool, shape (I,)
    seed : int, default 0

    Returns
    -------
    dict
        ``median``, ``low``, ``high`` (bootstrap over instances), ``bound`` (True when the median is
        only a lower bound: half the instances or more are bounds, or a bound lies at or below it,
        so the true median may be larger).
    """
    values, measured = np.asarray(values, dtype=float), np.asarray(measured, dtype=bool)
    if values.shape != measured.shape or values.ndim != 1 or len(values) < 1:
        raise ValueError(f"values and measured must be 1-d of one length; got {values.shape} and {measured.shape}")
    med = float(np.median(values))
    bound = bool((~measured).sum() * 2 >= len(values) or (values[~measured] <= med).any())
    if len(values) >= 2:
        low, high = bootstrap_interval(values, np.median, seed=seed)
    else:
        low = high = med
    return {"median": med, "low": float(low), "high": float(high) if not bound else math.inf, "bound": bound}


def reference_path(J, sweeps: int, seed: int, population: int, cache_dir) -> Path:
    """Where :func:`reference_ground_states` keeps the references of these arguments (once finished).

    Parameters
    ----------
    J, sweeps, seed, population, cache_dir :
        As for :func:`reference_ground_states` (``cache_dir`` not None).

    Returns
    -------
    pathlib.Path
    """
    key = run_key({"sweeps": int(sweeps), "seed": seed, "population": population}, data=J, code=code_fingerprint(Path(__file__).parent))
    return Path(cache_dir) / f"reference_{key}.npz"


def reference_ground_states(J, sweeps: int, seed: int = 12345, device="cpu", cache_dir=None, population: int = 256) -> dict:
    """Reference energies from two independent algorithms: parallel tempering (two chains) and population annealing.

    Parameters
    ----------
    J : tensor, shape (I, 3, L, L, L)
    sweeps : int
        Budget per instance of each algorithm (all its replicas together).
    seed : int, default 12345
        Different from the compared runs' seeds.
    device : str or torch.device, default "cpu"
    cache_dir : path or None
        Finished references are cached; parallel tempering checkpoints so a killed run resumes.
    population : int, default 256
        Population annealing's population.

    Returns
    -------
    dict of str -> numpy.ndarray, shape (I,)
        Lowest energy per spin each algorithm found, for
        :func:`~tgnlib.spinglass.reference.confirm_references` (with the compared solvers' own bests).
    """
    path = reference_path(J, sweeps, seed, population, cache_dir) if cache_dir else None
    if path is not None and path.is_file():
        saved = np.load(path)
        return {"parallel tempering": saved["pt"], "population annealing": saved["pa"]}
    ckpt = path.with_suffix(".ckpt") if path is not None else None
    pt = parallel_tempering(J, int(sweeps), chains=2, seed=seed, device=device, checkpoint=ckpt, n_records=2)
    pa = population_annealing(J, int(sweeps), replicas=population, seed=seed + 1, device=device, n_records=2)
    out = {"parallel tempering": pt.final, "population annealing": pa.final}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, pt=out["parallel tempering"], pa=out["population annealing"])
        tmp.replace(path)
    return out


def tts_growth(sizes, summaries) -> dict | None:
    """Exponential against power-law fit of a method's median TTS in N, over the sizes where it was measured.

    Parameters
    ----------
    sizes : sequence of int
        Linear sizes L.
    summaries : sequence of dict
        :func:`median_tts` per size.

    Returns
    -------
    dict or None
        :func:`tgnlib.scaling.compare_growth` of the measured medians against N = L^3 (``rss_exp``,
        ``rss_power``, ``rate``, ``exponent``) plus ``sizes`` (those used); None with fewer than three
        measured sizes.
    """
    from ..scaling import compare_growth

    used = [(L, s["median"]) for L, s in zip(sizes, summaries) if not s["bound"] and s["median"] > 0]
    if len(used) < 3:
        return None
    fit = compare_growth([L**3 for L, _ in used], [m for _, m in used])
    return {**fit, "sizes": [L for L, _ in used]}
