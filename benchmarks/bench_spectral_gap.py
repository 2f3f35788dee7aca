"""Spectral gap at N = 4096: Lanczos (scipy eigsh, shift-invert for sparse kernels) vs a dense solve.

The reference is numpy.linalg.eigvalsh on the symmetrised N x N operator, run in the same process.
Prints absolute times, the speed-up and the agreement of the two gaps.

    python benchmarks/bench_spectral_gap.py [--n 4096]
"""

import argparse
import time

import numpy as np

from tgnlib import kernels


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4096)
    args = parser.parse_args()
    x = kernels.layer_normalised_points(args.n, 64, np.random.default_rng(0))
    print(f"spectral gap at N = {args.n}: sparse/Lanczos vs dense eigvalsh")
    for chain in (kernels.local_chain(args.n, width=1), kernels.attention_chain(x, 8.0)):
        gap_sparse, t_sparse = timed(lambda: kernels.spectral_gap(chain, method="sparse"))
        gap_dense, t_dense = timed(lambda: kernels.spectral_gap(chain, method="dense"))
        print(f"  {chain.name:18s}: sparse {t_sparse:7.3f} s, dense {t_dense:7.3f} s, speed-up {t_dense / t_sparse:7.1f}x, "
              f"relative difference of the gaps {abs(gap_sparse - gap_dense) / gap_dense:.1e}")


if __name__ == "__main__":
    main()
