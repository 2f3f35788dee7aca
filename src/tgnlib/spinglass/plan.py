"""Everything chapter 2.2 runs, listed before anything runs, so the runs can fan out.

The chapter's heavy work is three kinds of independent, cached batches
(:mod:`tgnlib.spinglass.experiment`): the **references** of each instance set (long parallel
tempering and population annealing), the **tuning** batches (every solver, its defaults and each
random draw of its settings, on the tuning instances) and the **measurement** batches (every solver
at every size and schedule length, with the settings its tuning chose). :class:`Measurement`
enumerates them from the chapter's knobs in the order the notebook asks for them, under the cache
paths the notebook's calls look for, so a batch a worker ran is one the notebook reads back.

Stages: ``"search"`` (the references and the tuning batches) and ``"main"`` (the measurement
batches, which need the tuned settings). The notebook skips the longer schedules of a solver once
every run of a shorter one succeeds; a run list cannot know that in advance, so fanned-out runs
include every length (the extra batches are cached and never change a result).

Instances and solvers are named in a run's arguments, not shipped: each worker rebuilds the
couplings from their size, count and seed (deterministic) and takes the solver from
:data:`tgnlib.spinglass.solvers.SOLVERS` by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from ..runs import RunSpec
from .experiment import independent_path, reference_ground_states, reference_path, run_independent
from .lattice import make_couplings
from .reference import confirm_references
from .solvers import SOLVERS, draw_settings, tune
from .tts import energy_tolerance

COST_UNIT = "spin updates"  # what RunSpec.cost counts (tgnlib.runs.cost_unit)

STAGES = ("search", "main")
TUNE_INSTANCES = 4  # tuning instances, at L = tune_size
TUNE_SEED_OFFSET = 1000  # the tuning instances' seed is the chapter's seed plus this: never the measured ones
REFERENCE_SEED, REFERENCE_POPULATION = 12345, 256  # reference_ground_states' defaults, as the notebook calls it


@lru_cache(maxsize=16)
def _couplings(L: int, n: int, seed: int):
    return make_couplings(L, n, seed=seed)


def reference_batch(L: int, n: int, instance_seed: int, sweeps: int, cache_dir: str, device: str = "cpu") -> str:
    """Compute one instance set's references into the cache (what a worker executes); return the file.

    Parameters
    ----------
    L, n, instance_seed : int
        The instances: ``make_couplings(L, n, seed=instance_seed)``.
    sweeps : int
        Budget per instance of each reference algorithm.
    cache_dir : str
        The chapter's cache folder.
    device : str, default "cpu"

    Returns
    -------
    str
    """
    J = _couplings(L, n, instance_seed)
    reference_ground_states(J, sweeps, device=device, cache_dir=cache_dir)
    return str(reference_path(J, sweeps, REFERENCE_SEED, REFERENCE_POPULATION, cache_dir))


def solver_batch(solver: str, L: int, n: int, instance_seed: int, length: int, runs: int, settings: dict, seed: int, cache_dir: str,
                 device: str = "cpu") -> str:
    """Run one solver's batch of independent runs into the cache (what a worker executes); return the file.

    Parameters
    ----------
    solver : str
        A key of :data:`tgnlib.spinglass.solvers.SOLVERS`.
    L, n, instance_seed : int
        The instances.
    length, runs, settings, seed :
        As for :func:`tgnlib.spinglass.experiment.run_independent` (``settings`` resolved by
        :meth:`Solver.settings`).
    cache_dir : str
    device : str, default "cpu"

    Returns
    -------
    str
    """
    J = _couplings(L, n, instance_seed)
    run_independent(SOLVERS[solver], J, length, runs, settings, seed=seed, device=device, cache_dir=cache_dir)
    return str(independent_path(SOLVERS[solver], J, length, runs, settings, seed, cache_dir))


@dataclass
class Measurement:
    """The chapter's instances, references, tuning and measurement batches, listed and read back.

    Built by :func:`prepare`. ``P`` holds the chapter's resolved knobs, ``seed`` its seed, ``cache``
    the cache folder the notebook uses (``<output_dir>/cache/spinglass``).
    """

    P: SimpleNamespace
    seed: int
    device: object
    cache: Path

    def instances(self, L: int):
        """The measured instances at size ``L``: tensor (instances, 3, L, L, L)."""
        return _couplings(L, self.P.instances, self.seed)

    def tuning_instances(self):
        """The tuning instances (another seed, at ``tune_size``): tensor (4, 3, L, L, L)."""
        return _couplings(self.P.tune_size, TUNE_INSTANCES, self.seed + TUNE_SEED_OFFSET)

    def solvers_at(self, L: int) -> list[str]:
        """The solvers measured at size ``L`` (reading (c) stops at ``dense_attention_max_L``)."""
        return [m for m in self.P.solvers if m != "attention (c)" or L <= self.P.dense_attention_max_L]

    def tuning_references(self) -> dict:
        """The tuning instances' references, confirmed as the notebook confirms them (energies in total, not per spin)."""
        P, J = self.P, self.tuning_instances()
        refs = reference_ground_states(J, P.reference_sweeps.get(P.tune_size, 10**6), device=self.device, cache_dir=self.cache)
        return confirm_references({k: v * P.tune_size**3 for k, v in refs.items()}, atol=energy_tolerance(P.tune_size**3))

    def tune(self, name: str) -> tuple[dict, list[dict]]:
        """One solver's tuning (:func:`tgnlib.spinglass.solvers.tune`, as the notebook calls it)."""
        P = self.P
        return tune(SOLVERS[name], self.tuning_instances(), self.tuning_references()["energy"] / P.tune_size**3, P.tune_length, P.runs,
                    L=P.tune_size, seed=self.seed, device=self.device, trials=P.tune_trials, cache_dir=self.cache)

    def tuned(self) -> dict:
        """Solver name -> the settings overrides its tuning chose."""
        return {name: self.tune(name)[0] for name in self.P.solvers}

    # ---- listing -------------------------------------------------------------------------------------

    def _reference_spec(self, stage: str, L: int, n: int, instance_seed: int, sweeps: int) -> RunSpec:
        J = _couplings(L, n, instance_seed)
        done = reference_path(J, sweeps, REFERENCE_SEED, REFERENCE_POPULATION, self.cache)
        return RunSpec(done.stem, stage, reference_batch, dict(L=L, n=n, instance_seed=instance_seed, sweeps=int(sweeps),
                                                                cache_dir=str(self.cache), device=str(self.device)),
                       done, cost=float(2 * sweeps * n * L**3))

    def _solver_spec(self, stage: str, name: str, L: int, n: int, instance_seed: int, length: int, settings: dict, seed: int) -> RunSpec:
        J, runs = _couplings(L, n, instance_seed), self.P.runs
        done = independent_path(SOLVERS[name], J, length, runs, settings, seed, self.cache)
        return RunSpec(done.stem, stage, solver_batch, dict(solver=name, L=L, n=n, instance_seed=instance_seed, length=int(length),
                                                             runs=runs, settings=settings, seed=seed, cache_dir=str(self.cache),
                                                             device=str(self.device)),
                       done, cost=float(length * runs * n * L**3))

    def specs(self, stage: str | None = None) -> list[RunSpec]:
        """The batches of ``stage`` as :class:`tgnlib.runs.RunSpec`, each costed in spin updates.

        Parameters
        ----------
        stage : {"search", "main"} or None, default None
            ``"search"``: the references and the tuning batches; ``"main"``: the measurement batches
            (refused until the tuning is finished); None: both, the main stage only once it can be listed.

        Returns
        -------
        list of RunSpec
            In the order the notebook reads them, one per cache file.
        """
        if stage not in (None, *STAGES):
            raise ValueError(f"stage={stage!r} is not one of {STAGES}")
        P, out = self.P, []
        if stage in (None, "search"):
            tune_seed = self.seed + TUNE_SEED_OFFSET
            out.append(self._reference_spec("search", P.tune_size, TUNE_INSTANCES, tune_seed,
                                            P.reference_sweeps.get(P.tune_size, 10**6)))
            out += [self._reference_spec("search", L, P.instances, self.seed, P.reference_sweeps[L]) for L in P.sizes]
            for name in P.solvers:
                solver = SOLVERS[name]
                for overrides in [{}] + draw_settings(solver.space, P.tune_trials, self.seed):
                    out.append(self._solver_spec("search", name, P.tune_size, TUNE_INSTANCES, tune_seed, P.tune_length,
                                                 solver.settings(P.tune_size, **overrides), self.seed))
        if stage in (None, "main"):
            if any(not s.finished for s in self.specs("search")):
                if stage is None:
                    return _unique(out)  # listed once the tuning has chosen every solver's settings
                raise ValueError("the main stage needs the tuning (the search stage) finished first")
            tuned = self.tuned()
            for L in P.sizes:
                for name in self.solvers_at(L):
                    settings = SOLVERS[name].settings(L, **tuned[name])
                    out += [self._solver_spec("main", name, L, P.instances, self.seed, t, settings, self.seed + i)
                            for i, t in enumerate(sorted(int(x) for x in P.lengths))]  # measure_tts's seed for its i-th length
        return _unique(out)


def _unique(specs: list[RunSpec]) -> list[RunSpec]:
    seen, out = set(), []
    for s in specs:
        if s.key not in seen:
            seen.add(s.key)
            out.append(s)
    return out


def prepare(P: SimpleNamespace, seed: int = 0, output_dir="tgn-output", device="cpu") -> Measurement:
    """The chapter's run list from its resolved knobs, before anything runs.

    Parameters
    ----------
    P : types.SimpleNamespace
        The chapter's resolved knobs (:func:`tgnlib.chapter.open_chapter`).
    seed : int, default 0
        The chapter's seed.
    output_dir : path, default "tgn-output"
        The cache is ``<output_dir>/cache/spinglass``, as in the notebook.
    device : str or torch.device, default "cpu"

    Returns
    -------
    Measurement
    """
    return Measurement(P, seed, device, Path(output_dir) / "cache" / "spinglass")

