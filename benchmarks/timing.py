"""Shared timing helper for the benchmark scripts (run them from the repository root)."""

import time

import torch


def best_of(fn, device="cpu", repeats=3):
    """Best wall time of ``repeats`` calls of ``fn``, synchronising CUDA around each call."""
    best = float("inf")
    for _ in range(repeats):
        if str(device).startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if str(device).startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best
