"""Checkerboard Metropolis vs dwave-samplers' C++ simulated annealing: spin-flip attempts per second.

L = 12, R = 64 replicas, Gaussian couplings, the same instance for both. Target (issue 4): the
torch sweep at least 1.0x the C++ single-thread rate on a 2-core CPU, and at least 50x on CUDA.
Beside it, in the same ratio format, the two strongest thermal solvers of chapter 2.2 at the same
size and population: population annealing (resampling included) and parallel tempering with
Houdayer cluster moves (two ladders of R / 2 temperatures; swaps and cluster moves included).

    python benchmarks/bench_metropolis.py [--device cuda] [--threads 2]
"""

import argparse
import time

import torch
from timing import best_of

from tgnlib.spinglass.lattice import Checkerboard, make_couplings, random_spins
from tgnlib.spinglass.metropolis import metropolis_sweeps
from tgnlib.spinglass.population import population_annealing
from tgnlib.spinglass.reference import couplings_to_ising
from tgnlib.spinglass.tempering import parallel_tempering


def torch_rate(L, R, sweeps, device):
    J = make_couplings(L, 1, seed=0).to(device)
    cb = Checkerboard.from_couplings(J)
    g = torch.Generator(device=device).manual_seed(0)
    spins = list(cb.split(random_spins(1, R, L, g, device=device)))
    beta = torch.full((1, R, 1, 1, 1), 1.0, device=device)
    metropolis_sweeps(cb, spins, beta, 32, g)  # warm-up
    best = float("inf")
    for _ in range(3):
        if device != "cpu":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        metropolis_sweeps(cb, spins, beta, sweeps, g)
        if device != "cpu":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return sweeps * R * L**3 / best


def solver_rate(fn, L, R, sweeps, device):
    """Spin-flip attempts per second of a whole solver run (``sweeps`` per replica, R replicas)."""
    J = make_couplings(L, 1, seed=0)
    fn(J, 4 * R, device)  # warm-up
    best = best_of(lambda: fn(J, sweeps * R, device), device, repeats=2)
    return sweeps * R * L**3 / best


SOLVERS = {
    "population annealing": lambda R: lambda J, budget, device: population_annealing(J, budget, replicas=R, sweeps_per_step=4,
                                                                                      device=device, n_records=2),
    "PT + Houdayer": lambda R: lambda J, budget, device: parallel_tempering(J, budget, n_temps=R // 2, chains=2, houdayer=True,
                                                                            device=device, n_records=2),
}


def dwave_rate(L, R, sweeps):
    from dwave.samplers import SimulatedAnnealingSampler

    J = make_couplings(L, 1, seed=0)[0].double().numpy()
    ising = couplings_to_ising(J)
    h = {i: 0.0 for i in range(L**3)}
    sampler = SimulatedAnnealingSampler()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        sampler.sample_ising(h, ising, num_reads=R, num_sweeps=sweeps, beta_range=(0.5, 5.0), beta_schedule_type="geometric", seed=1)
        best = min(best, time.perf_counter() - t0)
    return sweeps * R * L**3 / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--sweeps", type=int, default=320)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    L, R = 12, 64
    ref = dwave_rate(L, R, args.sweeps)
    ours = torch_rate(L, R, args.sweeps if args.device == "cpu" else 10 * args.sweeps, args.device)
    target = 1.0 if args.device == "cpu" else 50.0
    print(f"L={L}, R={R}: dwave-samplers C++ {ref:.3g} flips/s; torch checkerboard ({args.device}, "
          f"{torch.get_num_threads()} threads) {ours:.3g} flips/s; ratio {ours / ref:.2f}x (target >= {target:g}x)")
    for name, make in SOLVERS.items():
        rate = solver_rate(make(R), L, R, args.sweeps, args.device)
        print(f"  {name}: {rate:.3g} flips/s; ratio to dwave-samplers {rate / ref:.2f}x, to the plain sweep {rate / ours:.2f}x")


if __name__ == "__main__":
    main()
