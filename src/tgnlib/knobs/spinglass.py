"""Knobs of chapter 2.2 (3D Edwards-Anderson spin glass, claims S1-S4 and A1).

``ci`` is a smoke run of every code path (L <= 8, 4 instances, 4 runs, short schedules, 4 tuning
draws). ``laptop`` runs L = 4..12 with 16 instances per size and 8 independent runs per instance and
schedule length, schedules up to 16,384 sweeps per run, the dense site attention (reading (c), N^2 per
step) up to L = 6, and references from parallel tempering and population annealing (6e5 sweeps each
at L = 12: population annealing's float64 sweeps of 4,096 replicas take about 5 s per temperature step
at L = 10 here); about 2 hours on two CPU cores (reading (c) alone would take 80 minutes at L = 8, so
it stops at 6). ``full`` is the paper's range with 32 instances, 64 runs, schedules to 65,536 sweeps
and reading (c) at every size, for a GPU: on one H200 (``benchmarks/estimate_spinglass_full.py``,
2026-11-30) L = 12 alone takes about 14 minutes for the seven local solvers, 90 for reading (c) and
55 for the references.
"""

from . import ChapterKnobs, Knob, KnobError
from ..runs import check_executor_form
from ..spinglass.solvers import SOLVERS, TRIALS

_LENGTHS_CI = [64, 256, 1024]
_LENGTHS_LAPTOP = [64, 256, 1024, 4096, 16384]
_LENGTHS_FULL = [64, 256, 1024, 4096, 16384, 65536]


def _check(p) -> None:
    odd = [L for L in p.sizes if L % 2]
    if odd:
        raise KnobError(f"knob sizes={p.sizes!r} is not allowed: L={odd} is odd (the checkerboard update needs even L)")
    if p.sizes != sorted(set(p.sizes)):
        raise KnobError(f"knob sizes={p.sizes!r} is not allowed: list each L once, increasing")
    missing = [L for L in p.sizes if L not in p.reference_sweeps]
    if missing:
        raise KnobError(f"knob reference_sweeps={p.reference_sweeps!r} has no entry for L={missing}; give one per size in sizes")
    if p.lengths != sorted(set(p.lengths)):
        raise KnobError(f"knob lengths={p.lengths!r} is not allowed: list each schedule length once, increasing")
    unknown = sorted(set(p.solvers) - set(SOLVERS))
    if unknown:
        raise KnobError(f"knob solvers={p.solvers!r}: {unknown} unknown; choose from {sorted(SOLVERS)}")
    if p.tune_size % 2:
        raise KnobError(f"knob tune_size={p.tune_size!r} is not allowed: it must be even")
    try:
        check_executor_form(p.executor)
    except ValueError as err:
        raise KnobError(f"knob {err}") from None


KNOBS = ChapterKnobs("spinglass", (
    Knob("sizes", "list[int]", "linear sizes L (even, increasing)", low=2, high=64, ci=[4, 6, 8], laptop=[4, 6, 8, 10, 12],
         full=[4, 6, 8, 10, 12]),
    Knob("instances", "int", "disorder instances per L", unit="instances", low=1, high=10000, ci=4, laptop=16, full=32),
    Knob("runs", "int", "independent runs per instance and schedule length", unit="runs", low=1, high=4096, ci=4, laptop=8, full=64),
    Knob("lengths", "list[int]", "schedule lengths t of one run, in sweeps summed over the run's replicas", unit="sweeps", low=8,
         high=2**30, ci=_LENGTHS_CI, laptop=_LENGTHS_LAPTOP, full=_LENGTHS_FULL),
    Knob("solvers", "list[str]", "compared solvers (keys of tgnlib.spinglass.solvers.SOLVERS)", ci=list(SOLVERS), laptop=list(SOLVERS),
         full=list(SOLVERS)),
    Knob("dense_attention_max_L", "int", "largest L at which reading (c), N^2 per step, is run", low=2, high=64, ci=6, laptop=6,
         full=12),
    Knob("tune_size", "int", "linear size of the tuning instances (never measured)", low=2, high=64, ci=4, laptop=6, full=8),
    Knob("tune_length", "int", "schedule length at which every solver's settings are tuned", unit="sweeps", low=8, high=2**24,
         ci=256, laptop=1024, full=16384),
    Knob("tune_trials", "int", "random-search draws per solver besides its defaults (the same for every solver)", low=0, high=256,
         ci=4, laptop=TRIALS, full=TRIALS),
    Knob("reference_sweeps", "dict[int,int]", "references: sweeps per instance of each reference algorithm (PT, PA), per L",
         unit="sweeps", low=1, ci={4: 5 * 10**4, 6: 10**5, 8: 2 * 10**5},
         laptop={4: 10**5, 6: 3 * 10**5, 8: 6 * 10**5, 10: 10**6, 12: 6 * 10**5},
         full={4: 10**6, 6: 3 * 10**6, 8: 10**7, 10: 3 * 10**7, 12: 10**8}),
    Knob("executor", "str", "where the reference, tuning and measurement batches run (tgnlib.runs.make_executor): 'local' (this "
         "process, each batch when a cell asks for it), 'processes:N', 'dask-local:N', 'dask:ADDRESS' or 'submitit:FOLDER' (every "
         "batch submitted up front, every schedule length included)", ci="local", laptop="local", full="local"),
), check=_check)
