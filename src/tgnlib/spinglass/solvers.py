"""The compared solvers as one registry, each with what one *run* is and the space its settings are tuned in.

Time to solution needs many independent runs per instance. What a run is depends on the method: one
annealing of one replica (simulated annealing, Langevin, attention reading (a)); one population that
acts together (replica attention, population annealing); one temperature ladder (parallel tempering)
or two (parallel tempering with Houdayer moves, which pairs two replicas per temperature). A run of
length ``t`` spends ``t`` sweeps in all, summed over its replicas (the budget convention of
:mod:`~tgnlib.spinglass.trace`).

**Tuning with the same effort.** Every solver's settings are chosen by the same random search:
:data:`TRIALS` draws from its declared space (:attr:`Solver.space`), each scored on tuning instances
that are never measured (another seed), at the same schedule length and number of runs; the best
draw is frozen for the measured instances. The baselines get exactly the search the attention
readings get.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .annealing import simulated_annealing
from .attention import attention_smoothing, replica_attention, site_attention
from .langevin import langevin
from .population import population_annealing
from .tempering import parallel_tempering
from .tts import energy_tolerance, reached

TRIALS = 8  # random-search draws per solver: the same for every method


@dataclass(frozen=True)
class Solver:
    """One compared method: how to call it for a batch of independent runs, and what to tune.

    Attributes
    ----------
    name : str
        Label in tables and figures.
    fn : callable
        ``fn(J, sweeps, seed=..., device=..., n_records=..., **settings) -> Trace``.
    population : int
        Replicas that make up one run (see the module docstring).
    population_arg : str or None
        Keyword that sets the population (``"replicas"``, ``"chains"``), or None when fixed.
    defaults : dict
        Settings used before tuning.
    space : dict of str -> tuple
        Search space per setting: ``("log", low, high)``, ``("lin", low, high)`` or
        ``("int", low, high)`` (inclusive); ``"sigma"`` of reading (a) is in units of L.
    local : bool
        Whether every update is local (no N^2 or N log N term beyond the sweep).
    """

    name: str
    fn: object
    population: int
    population_arg: str | None
    defaults: dict = field(default_factory=dict)
    space: dict = field(default_factory=dict)
    local: bool = True

    def settings(self, L: int, **overrides) -> dict:
        """Keyword arguments for ``fn`` at linear size ``L``: defaults, then overrides (sigma in units of L resolved)."""
        out = {**self.defaults, **overrides}
        if "sigma_over_L" in out:
            out["sigma"] = max(1.0, out.pop("sigma_over_L") * L)
        if self.population_arg:
            out[self.population_arg] = self.population
        return out


SOLVERS = {
    "simulated annealing": Solver("simulated annealing", simulated_annealing, 1, "replicas", {"t_hot": 2.0, "t_cold": 0.2},
                                  {"t_hot": ("log", 0.8, 4.0), "t_cold": ("log", 0.05, 0.5)}),
    "parallel tempering": Solver("parallel tempering", parallel_tempering, 1, "chains", {"t_min": 0.2, "t_max": 2.0, "n_temps": 16},
                                 {"t_min": ("log", 0.1, 0.5), "t_max": ("log", 1.0, 3.0), "n_temps": ("int", 8, 32)}),
    "PT + Houdayer": Solver("PT + Houdayer", parallel_tempering, 2, "chains", {"t_min": 0.2, "t_max": 2.0, "n_temps": 16,
                                                                               "houdayer": True},
                            {"t_min": ("log", 0.1, 0.5), "t_max": ("log", 1.0, 3.0), "n_temps": ("int", 8, 32)}),
    "population annealing": Solver("population annealing", population_annealing, 32, "replicas",
                                   {"t_cold": 0.2, "sweeps_per_step": 4},
                                   {"t_cold": ("log", 0.05, 0.5), "sweeps_per_step": ("int", 1, 16)}),
    "langevin": Solver("Langevin", langevin, 1, "replicas", {"step": 0.05, "t_start": 1.0},
                       {"step": ("log", 0.01, 0.2), "t_start": ("log", 0.1, 2.0)}),
    "attention (a)": Solver("attention (a): smoothed force", attention_smoothing, 1, "replicas",
                            {"sigma_over_L": 0.125, "mix": 0.5, "step": 0.05, "t_start": 1.0},
                            {"sigma_over_L": ("lin", 0.0, 0.5), "mix": ("lin", 0.1, 0.9), "step": ("log", 0.01, 0.2),
                             "t_start": ("log", 0.1, 2.0)}, local=False),
    "attention (b)": Solver("attention (b): replica consensus", replica_attention, 16, "replicas",
                            {"pull": 0.5, "temperature": 0.02, "step": 0.05, "t_start": 1.0},
                            {"pull": ("log", 0.05, 1.0), "temperature": ("log", 0.002, 0.2), "step": ("log", 0.01, 0.2),
                             "t_start": ("log", 0.1, 2.0)}, local=False),
    "attention (c)": Solver("attention (c): site attention", site_attention, 1, "replicas",
                            {"beta": 1.0, "mix": 0.5, "step": 0.05, "t_start": 1.0},
                            {"beta": ("log", 0.1, 10.0), "mix": ("lin", 0.1, 0.9), "step": ("log", 0.01, 0.2),
                             "t_start": ("log", 0.1, 2.0)}, local=False),
}


def draw_settings(space: dict, trials: int = TRIALS, seed: int = 0) -> list[dict]:
    """Random-search draws from a solver's space (log-uniform, uniform or integer-uniform).

    Parameters
    ----------
    space : dict of str -> tuple
        As :attr:`Solver.space`.
    trials : int, default :data:`TRIALS`
    seed : int, default 0

    Returns
    -------
    list of dict
        ``trials`` settings, one value per key of ``space``.
    """
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(trials):
        d = {}
        for key, (kind, low, high) in space.items():
            if kind == "log":
                d[key] = float(math.exp(rng.uniform(math.log(low), math.log(high))))
            elif kind == "lin":
                d[key] = float(rng.uniform(low, high))
            elif kind == "int":
                d[key] = int(rng.integers(low, high + 1))
            else:
                raise ValueError(f"space[{key!r}] kind={kind!r} is not one of 'log', 'lin', 'int'")
        draws.append(d)
    return draws


def tune(solver: Solver, J, reference, length: int, runs: int, L: int, seed: int = 0, device="cpu", trials: int = TRIALS,
         cache_dir=None) -> tuple[dict, list[dict]]:
    """Choose a solver's settings by random search on tuning instances, at one schedule length.

    The defaults and ``trials`` random draws are each run ``runs`` times on every tuning instance;
    the score is the number of runs that reach the instance's reference energy, ties broken by the
    mean residual energy per spin. The same call, with the same ``trials``, ``length`` and ``runs``,
    tunes every solver.

    Parameters
    ----------
    solver : Solver
    J : tensor, shape (I, 3, L, L, L)
        Tuning instances (never the measured ones).
    reference : array, shape (I,)
        Their reference energies per spin.
    length : int
        Sweeps per run.
    runs : int
        Runs per instance and draw.
    L : int
        Linear size (resolves ``sigma_over_L``).
    seed : int, default 0
        Seeds the draws and the runs.
    device : str or torch.device, default "cpu"
    trials : int, default :data:`TRIALS`
    cache_dir : path or None

    Returns
    -------
    (best, table)
        ``best``: the winning overrides (pass to :meth:`Solver.settings`); ``table``: one row per
        candidate (the defaults first) with its overrides, ``successes``, ``mean_residual`` and
        ``chosen`` (True for the winner only).
    """
    from .experiment import run_independent

    ref = np.asarray(reference, dtype=float)
    candidates = [{}] + draw_settings(solver.space, trials, seed)
    table = []
    for overrides in candidates:
        res = run_independent(solver, J, length, runs, solver.settings(L, **overrides), seed=seed, device=device, cache_dir=cache_dir)
        residual = res["final"] - ref[None, :]
        ok = reached(res["final"] * L**3, ref[None, :] * L**3, atol=energy_tolerance(L**3))  # measure_tts's criterion
        table.append({**overrides, "successes": int(ok.sum()), "mean_residual": float(residual.mean())})
    best = max(range(len(candidates)), key=lambda i: (table[i]["successes"], -table[i]["mean_residual"]))
    for i, row in enumerate(table):
        row["chosen"] = i == best
    return candidates[best], table
