import numpy as np
import pytest

from tgnlib.bootstrap import bootstrap_interval


def test_interval_covers_the_mean_and_narrows_with_n():
    rng = np.random.default_rng(0)
    small, large = rng.normal(1.0, 1.0, 20), rng.normal(1.0, 1.0, 2000)
    lo_s, hi_s = bootstrap_interval(small)
    lo_l, hi_l = bootstrap_interval(large)
    assert lo_s < small.mean() < hi_s and lo_l < 1.0 < hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 5


def test_coverage_is_about_nominal():
    rng = np.random.default_rng(1)
    hits = 0
    for i in range(200):
        lo, hi = bootstrap_interval(rng.normal(0.0, 1.0, 40), n_boot=500, seed=i)
        hits += lo < 0.0 < hi
    assert 0.88 <= hits / 200 <= 0.99


def test_leading_axes_and_non_finite_resamples():
    x = np.vstack([np.arange(10.0), np.arange(10.0) + 100])
    lo, hi = bootstrap_interval(x, seed=3)
    assert lo.shape == (2,) and (hi - lo)[1] == pytest.approx((hi - lo)[0])
    const_some = np.array([0.0, 0.0, 0.0, 1.0])
    lo, hi = bootstrap_interval(const_some, lambda a, axis: a.mean(axis) / a.std(axis, ddof=1), n_boot=400)
    assert np.isfinite(lo) and np.isfinite(hi)
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_interval([1.0])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval([1.0, 2.0], confidence=1.5)
