"""Wall-clock timing that a GPU cannot fool: the one helper the benchmarks and :mod:`tgnlib.tgn.evaluate` use."""

from __future__ import annotations

import time

import torch


def best_of(fn, device="cpu", repeats: int = 3, warmup: int = 0) -> float:
    """Best wall time of ``repeats`` calls of ``fn``, synchronising CUDA around each call.

    Parameters
    ----------
    fn : callable
        Called with no arguments.
    device : str or torch.device, default "cpu"
        Where ``fn`` runs; on CUDA the clock waits for the queued kernels.
    repeats : int, default 3
        Timed calls; the fastest counts.
    warmup : int, default 0
        Untimed calls first (allocations, kernel selection).

    Returns
    -------
    float
        Seconds.
    """
    cuda = str(device).startswith("cuda")
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best
