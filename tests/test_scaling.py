import numpy as np
import pytest

from tgnlib.scaling import compare_growth


def test_a_power_law_fits_as_a_power_law():
    n = np.array([64, 128, 256, 512, 1024])
    fit = compare_growth(n, 3 * n**2.0)
    assert fit["exponent"] == pytest.approx(2.0) and fit["rss_power"] < 1e-20 < fit["rss_exp"]


def test_an_exponential_fits_as_an_exponential():
    n = np.array([4, 6, 8, 10, 12])
    fit = compare_growth(n, np.exp(0.7 * n))
    assert fit["rate"] == pytest.approx(0.7) and fit["rss_exp"] < 1e-20 < fit["rss_power"]


@pytest.mark.parametrize("sizes, times, match", [
    ([1, 2], [1, 2], "at least 3"),
    ([1, 2, 3], [1, np.inf, 3], "positive and finite"),
    ([1, 2, 3], [1, 0, 3], "positive and finite"),
])
def test_bad_input_is_named(sizes, times, match):
    with pytest.raises(ValueError, match=match):
        compare_growth(sizes, times)
