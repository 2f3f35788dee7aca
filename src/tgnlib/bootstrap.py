"""One percentile bootstrap for every confidence interval of the book (over seeds, instances, sequences or subjects)."""

from __future__ import annotations

import numpy as np


def bootstrap_interval(values, statistic=np.mean, n_boot: int = 2000, confidence: float = 0.95,
                       seed: int = 0) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Percentile-bootstrap interval of a statistic, resampling the last axis with replacement.

    Parameters
    ----------
    values : array, shape (..., n)
        Samples along the last axis (n >= 2); leading axes are independent curves (say, depths)
        resampled with the same draws.
    statistic : callable, default numpy.mean
        Called as ``statistic(x, axis=-1)``; resamples where it is not finite (e.g. an effect size of a
        resample that drew one subject n times) are left out.
    n_boot : int, default 2000
        Resamples.
    confidence : float, default 0.95
        Coverage of the interval, in (0, 1).
    seed : int, default 0

    Returns
    -------
    (low, high)
        Floats for 1-D input, else arrays of the leading shape.
    """
    x = np.asarray(values, dtype=float)
    if x.ndim == 0 or x.shape[-1] < 2:
        raise ValueError(f"need at least 2 samples along the last axis; got shape {x.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} must lie in (0, 1)")
    idx = np.random.default_rng(seed).integers(0, x.shape[-1], size=(n_boot, x.shape[-1]))
    boots = np.asarray(statistic(x[..., idx], axis=-1), dtype=float)  # (..., n_boot)
    boots = np.where(np.isfinite(boots), boots, np.nan)
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(boots, [alpha, 1 - alpha], axis=-1)
    return (float(low), float(high)) if x.ndim == 1 else (low, high)
