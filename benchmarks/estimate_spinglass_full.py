"""How long chapter 2.2 at ``full`` would take on this machine: every solver timed at the preset's batch, extrapolated.

Each solver of the ``full`` preset runs ``runs x instances`` independent runs at L = 12 (its largest
size) for a short schedule; the time per sweep is scaled to the preset's schedule lengths (summed,
the upper bound: strong solvers stop early once every run succeeds). The references (PT with two
chains and population annealing) are timed the same way and scaled to ``reference_sweeps[12]``.
Smaller sizes cost less than L = 12 in proportion to N at most, so the last line, five sizes at the
L = 12 rate, bounds the whole chapter from above. This is an estimate for sizing a run, not a speed
target.

    python benchmarks/estimate_spinglass_full.py [--device cuda] [--sweeps 256]
"""

import argparse

from timing import best_of

from tgnlib.knobs import knobs_of
from tgnlib.spinglass import make_couplings
from tgnlib.spinglass.experiment import run_independent
from tgnlib.spinglass.population import population_annealing
from tgnlib.spinglass.solvers import SOLVERS
from tgnlib.spinglass.tempering import parallel_tempering


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sweeps", type=int, default=256, help="schedule length timed per solver (sweeps per run)")
    parser.add_argument("--L", type=int, default=12)
    args = parser.parse_args()
    full = {k.name: k.full for k in knobs_of("spinglass").knobs}
    L, runs, n_inst = args.L, full["runs"], full["instances"]
    J = make_couplings(L, n_inst, seed=0)
    total_sweeps = sum(full["lengths"])
    print(f"L = {L}, {runs} runs x {n_inst} instances per batch, lengths {full['lengths']} (sum {total_sweeps:,} sweeps), "
          f"device {args.device}")
    print(f"{'solver':34s} {'ms per sweep':>13s} {'all lengths (min)':>18s}")
    chapter = 0.0
    for name in full["solvers"]:
        s = SOLVERS[name]
        run_independent(s, J, 16, runs, s.settings(L), seed=1, device=args.device)  # warm-up (kernels, caches)
        dt = best_of(lambda: run_independent(s, J, args.sweeps, runs, s.settings(L), seed=0, device=args.device), args.device, repeats=1)
        minutes = dt / args.sweeps * total_sweeps / 60
        chapter += minutes
        print(f"{s.name:34s} {dt / args.sweeps * 1e3:13.2f} {minutes:18.1f}", flush=True)
    ref = full["reference_sweeps"][L]
    for label, fn in (("reference: parallel tempering", lambda n: parallel_tempering(J, n, chains=2, seed=1, device=args.device,
                                                                                       n_records=2)),
                      ("reference: population annealing", lambda n: population_annealing(J, n, replicas=256, seed=1,
                                                                                         device=args.device, n_records=2))):
        n = 64 * args.sweeps
        dt = best_of(lambda: fn(n), args.device, repeats=1)
        minutes = dt / n * ref / 60
        chapter += minutes
        print(f"{label:34s} {dt / n * 1e3:13.4f} {minutes:18.1f}  ({ref:,} sweeps)", flush=True)
    print(f"upper bound for the chapter, {len(full['sizes'])} sizes at the L = {L} rate: {chapter * len(full['sizes']) / 60:.1f} h")


if __name__ == "__main__":
    main()
