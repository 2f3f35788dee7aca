"""Is a time growing exponentially or as a power of the system size? (claims T3 and A1)

Both fits are straight lines in log time: ``ln t = c + r * N`` (exponential, Arrhenius-like) and
``ln t = c + k * ln N`` (power law). The form with the smaller residual fits better; with few sizes
over a narrow range the two residuals are close, and the comparison says little.
"""

from __future__ import annotations

import numpy as np


def compare_growth(sizes, times) -> dict[str, float]:
    """Least-squares exponential and power-law fits of ``times`` against ``sizes``.

    Parameters
    ----------
    sizes : array of positive numbers, at least 3
        System sizes (N, L...).
    times : array of positive finite numbers, same length
        Times (steps, sweeps, seconds) to compare.

    Returns
    -------
    dict
        ``rss_exp`` and ``rss_power``: residual sums of squares in ln t; ``rate``: r of the exponential
        fit (per unit size); ``exponent``: k of the power-law fit.
    """
    n = np.asarray(sizes, dtype=float)
    t = np.asarray(times, dtype=float)
    if n.shape != t.shape or n.ndim != 1 or len(n) < 3:
        raise ValueError(f"need at least 3 sizes and as many times; got shapes {n.shape} and {t.shape}")
    if (n <= 0).any() or (t <= 0).any() or not np.isfinite(t).all():
        raise ValueError("sizes and times must be positive and finite")
    lt = np.log(t)
    out = {}
    for name, x, slope in (("exp", n, "rate"), ("power", np.log(n), "exponent")):
        coef = np.polyfit(x, lt, 1)
        out[f"rss_{name}"] = float(np.sum((lt - np.polyval(coef, x)) ** 2))
        out[slope] = float(coef[0])
    return out
