"""Batched effective rank in torch vs one numpy SVD per matrix in a Python loop.

Two workloads the chapters run: many small matrices (every head of every layer: 768 attention
matrices of 64 x 64) and a few tall ones (one residual stream per layer: 32 matrices of 512 x 384).
Prints absolute times and the speed-up; the batched path should be faster (ratio > 1).

    python benchmarks/bench_rank.py [--device cuda]
"""

import argparse

import numpy as np
import torch
from timing import best_of

from tgnlib.rank import effective_rank, effective_rank_numpy_loop


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"effective rank, batched torch ({args.device}, {torch.get_num_threads()} threads) vs numpy loop")
    for count, n, d in [(768, 64, 64), (32, 512, 384)]:
        x = torch.randn(count, n, d, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
        x_np = x.double().numpy()
        xd = x.to(args.device)
        np.testing.assert_allclose(effective_rank(xd).cpu().numpy(), effective_rank_numpy_loop(x_np), rtol=1e-3)
        t_torch = best_of(lambda: effective_rank(xd), args.device)
        t_loop = best_of(lambda: effective_rank_numpy_loop(x_np))
        print(f"  {count:4d} matrices {n}x{d}: torch {t_torch * 1e3:8.1f} ms, numpy loop {t_loop * 1e3:8.1f} ms, "
              f"speed-up {t_loop / t_torch:5.1f}x")


if __name__ == "__main__":
    main()
