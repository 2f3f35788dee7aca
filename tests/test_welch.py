import numpy as np
import pytest

from tgnlib.welch import welch_interval


def test_welch_interval_matches_scipy_and_covers_at_its_level():
    from scipy import stats

    a, b = [4.1, 4.3, 4.2], [4.0, 4.35, 3.9, 4.05]
    d = welch_interval(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert d.difference == pytest.approx(np.mean(a) - np.mean(b))
    assert (d.low, d.high) == pytest.approx((ref.low, ref.high))
    # coverage over many draws of 3 seeds each: near 95%, where the percentile bootstrap of 3 falls far short
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(2000, 2, 3))
    covered = [(lambda d: d.low <= 0 <= d.high)(welch_interval(x, y)) for x, y in draws]
    assert 0.93 < np.mean(covered) < 0.97
    assert welch_interval([1, 1], [0, 0]).low == 1.0  # no spread: the point itself
    with pytest.raises(ValueError, match="at least 2"):
        welch_interval([1.0], [1.0, 2.0])
