"""Paired statistics across subjects: tests, effect sizes with bootstrap intervals, corrections.

Every comparison is within subject (state B minus state A for the same person), because the
between-subject spread of any rank measure is larger than the effects in question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..bootstrap import bootstrap_interval

CORRECTIONS = ("holm", "bh")


@dataclass
class PairedComparison:
    """The result of :func:`compare_paired` (differences are ``after - before``)."""

    n: int
    mean_difference: float
    cohens_dz: float
    dz_ci: tuple[float, float]
    wilcoxon_p: float
    t_p: float


def _dz(d, axis=-1):
    sd = np.std(d, axis=axis, ddof=1)
    return np.mean(d, axis=axis) / np.where(sd > 0, sd, np.nan)


def compare_paired(before, after, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0) -> PairedComparison:
    """Wilcoxon signed-rank and paired t tests, and Cohen's d_z with a bootstrap interval.

    Parameters
    ----------
    before, after : array, shape (n,)
        One value per subject in each condition, subjects in the same order.
    n_boot : int, default 2000
        Bootstrap resamples of subjects for the interval of d_z.
    confidence : float, default 0.95
    seed : int, default 0
        Seeds the bootstrap.

    Returns
    -------
    PairedComparison
        ``cohens_dz`` is the mean difference over its standard deviation; negative when
        ``after`` is lower. p-values are two-sided.
    """
    a = np.asarray(before, dtype=float)
    b = np.asarray(after, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"before and after must be 1-D and paired; got shapes {a.shape} and {b.shape}")
    if len(a) < 3:
        raise ValueError(f"need at least 3 paired subjects; got {len(a)}")
    d = b - a
    if np.ptp(d) == 0:  # no spread: no test and no interval can say anything
        p = 1.0 if d[0] == 0 else 0.0
        return PairedComparison(n=len(d), mean_difference=float(d[0]), cohens_dz=float("nan"), dz_ci=(float("nan"), float("nan")),
                                wilcoxon_p=p, t_p=p)
    wilcoxon_p = float(stats.wilcoxon(d).pvalue)
    # Percentile bootstrap over subjects; resamples that draw one subject n times have no spread
    # and no d_z, and are left out (with 5 subjects about 1 in 600).
    low, high = bootstrap_interval(d, _dz, n_boot=n_boot, confidence=confidence, seed=seed)
    return PairedComparison(n=len(d), mean_difference=float(d.mean()), cohens_dz=float(_dz(d)),
                            dz_ci=(float(low), float(high)), wilcoxon_p=wilcoxon_p,
                            t_p=float(stats.ttest_rel(b, a).pvalue))


def correct_pvalues(pvalues, method: str = "holm") -> np.ndarray:
    """Adjust p-values for the number of comparisons.

    Parameters
    ----------
    pvalues : array, shape (m,)
    method : {"holm", "bh"}, default "holm"
        ``"holm"``: Holm-Bonferroni, controls the family-wise error rate; ``"bh"``:
        Benjamini-Hochberg (``scipy.stats.false_discovery_control``), the false discovery rate.

    Returns
    -------
    numpy.ndarray, shape (m,)
        Adjusted p-values, in the input order, at most 1.
    """
    if method not in CORRECTIONS:
        raise ValueError(f"method={method!r} is not one of {CORRECTIONS}")
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or ((p < 0) | (p > 1)).any():
        raise ValueError("pvalues must be a 1-D array of values in [0, 1]")
    if method == "bh":
        return stats.false_discovery_control(p, method="bh")
    order = np.argsort(p)
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def motion_adjusted_difference(rank_difference, motion_difference) -> dict[str, float]:
    """The rank change that remains when the head-motion change is regressed out.

    Fits ``rank_difference = intercept + slope * motion_difference`` across subjects; the
    intercept is the rank change expected for a subject whose motion did not change.

    Parameters
    ----------
    rank_difference, motion_difference : array, shape (n,)
        Per-subject changes between two states (same order).

    Returns
    -------
    dict
        ``intercept``, its two-sided ``intercept_p`` (t test, n - 2 degrees of freedom),
        ``slope`` and ``slope_p``.
    """
    y = np.asarray(rank_difference, dtype=float)
    x = np.asarray(motion_difference, dtype=float)
    if y.shape != x.shape or y.ndim != 1 or len(y) < 4:
        raise ValueError(f"need two paired 1-D arrays of at least 4 subjects; got shapes {y.shape} and {x.shape}")
    if np.ptp(x) == 0:
        raise ValueError("motion_difference is constant: the regression has no slope to fit")
    fit = stats.linregress(x, y)
    t = fit.intercept / fit.intercept_stderr if fit.intercept_stderr > 0 else np.inf
    return {"intercept": float(fit.intercept), "intercept_p": float(2 * stats.t.sf(abs(t), len(y) - 2)),
            "slope": float(fit.slope), "slope_p": float(fit.pvalue)}


def sign_flip_test(differences, n_perm: int | None = None, seed: int = 0) -> float:
    """Two-sided permutation p-value of a paired mean difference: flip the sign of each subject's difference.

    Exact (every one of the 2^n sign patterns) up to n = 16 subjects, Monte Carlo beyond. Under the null
    of a symmetric difference distribution this p-value is exact; its smallest attainable value is
    :func:`min_attainable_p`.

    Parameters
    ----------
    differences : array, shape (n,)
        One paired difference per subject (or per independent unit).
    n_perm : int or None, default None
        Monte Carlo permutations when n > 16 (default 20,000).
    seed : int, default 0

    Returns
    -------
    float
        Fraction of sign patterns whose |mean| is at least the observed |mean| (the observed pattern
        included, so never 0).
    """
    d = np.asarray(differences, dtype=float)
    if d.ndim != 1 or len(d) < 1:
        raise ValueError(f"need a 1-d array of differences; got shape {d.shape}")
    observed = abs(d.mean())
    n = len(d)
    if n <= 16:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    else:
        rng = np.random.default_rng(seed)
        signs = np.vstack([np.ones(n), rng.choice([-1.0, 1.0], size=(n_perm or 20000, n))])
    stats_ = np.abs((signs * d).mean(1))
    return float(np.mean(stats_ >= observed - 1e-12 * max(observed, 1.0)))


def min_attainable_p(n: int) -> float:
    """Smallest two-sided p-value :func:`sign_flip_test` (and the exact Wilcoxon test) can give with n subjects: 2 / 2^n.

    With 5 subjects it is 0.0625: no test at alpha = 0.05 can reject, whatever the data. Holm's
    correction over m comparisons multiplies the smallest p by m.
    """
    if n < 1:
        raise ValueError(f"n={n!r} must be >= 1")
    return 2.0 / 2**n


def minimum_detectable_effect(n: int, alpha: float = 0.05, power: float = 0.8, n_sim: int = 400, seed: int = 0) -> float:
    """Smallest standardised paired effect d_z the sign-flip test detects with ``power`` at ``alpha``, by simulation.

    Parameters
    ----------
    n : int
        Subjects.
    alpha, power : float, default 0.05 and 0.8
    n_sim : int, default 400
        Simulated studies (Gaussian differences of unit SD; the same draws for every effect size, so
        power rises monotonically with it and a bisection finds the threshold).
    seed : int, default 0

    Returns
    -------
    float
        The d_z, to within 0.02; ``inf`` when the test cannot reach ``alpha`` with n subjects or even
        d_z = 5 is not detected.
    """
    if min_attainable_p(n) > alpha:
        return float("inf")
    noise = np.random.default_rng(seed).standard_normal((n_sim, n))

    def detected(dz):
        return np.mean([sign_flip_test(dz + row, n_perm=500, seed=seed) <= alpha for row in noise]) >= power

    lo, hi = 0.0, 5.0
    if not detected(hi):
        return float("inf")
    while hi - lo > 0.02:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if detected(mid) else (mid, hi)
    return float(round(hi, 2))
