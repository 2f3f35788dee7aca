"""Welch's t interval for a difference between two models over a handful of training seeds.

The book's other intervals are percentile bootstraps (:mod:`tgnlib.bootstrap`) over many instances,
sequences or subjects. Over three seeds a percentile bootstrap can only return the range of ten
resampled means and covers far less than its nominal 95%; with so few samples the t interval, which
widens with the t quantile of few degrees of freedom, is the standard choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Difference:
    """A difference of means with its confidence interval."""

    difference: float  # mean(a) - mean(b)
    low: float
    high: float
    n_a: int
    n_b: int

    def __str__(self) -> str:
        return f"{self.difference:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def welch_interval(a, b, confidence: float = 0.95) -> Difference:
    """Welch's t interval for ``mean(a) - mean(b)`` from independent samples (e.g. two models' seeds).

    Parameters
    ----------
    a, b : 1-d array-like
        At least 2 values each (a model trained at several seeds; the seeds of the two need not pair).
    confidence : float, default 0.95
        Coverage of the interval, in (0, 1).

    Returns
    -------
    Difference
        The difference of means and its interval; when both samples have zero spread the interval is
        the point itself.
    """
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least 2 values in each sample; got {len(a)} and {len(b)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} must lie in (0, 1)")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("welch_interval needs finite values")
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se == 0:
        return Difference(diff, diff, diff, len(a), len(b))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))  # Welch-Satterthwaite
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    return Difference(diff, diff - half, diff + half, len(a), len(b))
