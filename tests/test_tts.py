import math

import numpy as np
import pytest

from tgnlib.spinglass import tts as T


def test_tts_formula_cases():
    assert T.tts(100, 1.0) == 100 and T.tts(100, 0.995) == 100  # one run suffices
    assert T.tts(100, 0.5) == pytest.approx(100 * math.log(0.01) / math.log(0.5))  # about 664
    assert T.tts(100, 0.01) == pytest.approx(100 * math.log(0.01) / math.log(0.99))  # about 45,820
    with pytest.raises(ValueError, match="p_s=0"):
        T.tts(100, 0.0)


def test_no_success_gives_a_finite_lower_bound_that_grows_with_runs():
    b10, b1000 = T.tts_lower_bound(100, 10), T.tts_lower_bound(100, 1000)
    assert math.isfinite(b10) and b1000 > b10 > 100
    est = T.tts_estimate(100, 0, 10)
    assert not est["measured"] and est["tts"] == b10 and est["high"] == math.inf


def test_clopper_pearson_and_estimates():
    lo, hi = T.success_interval(5, 10)
    assert lo == pytest.approx(0.187, abs=1e-3) and hi == pytest.approx(0.813, abs=1e-3)
    assert T.success_interval(0, 10)[0] == 0 and T.success_interval(10, 10)[1] == 1
    est = T.tts_estimate(100, 5, 10)
    assert est["measured"] and est["low"] < est["tts"] < est["high"]


def test_optimal_tts_prefers_measured_and_minimises():
    best = T.optimal_tts([100, 1000, 10000], [0, 5, 10], [10, 10, 10])
    assert best["t"] == 1000 and best["measured"]  # 1000 ln(0.01)/ln(0.5) = 6,644 beats 10,000 (one run at t = 10,000)
    assert best["tts"] == pytest.approx(1000 * math.log(0.01) / math.log(0.5))
    assert T.optimal_tts([100, 1000, 10000], [0, 3, 10], [10, 10, 10])["t"] == 10000  # 12,911 at t = 1000 loses
    only_bounds = T.optimal_tts([100, 1000], [0, 0], [10, 10])
    assert not only_bounds["measured"] and only_bounds["t"] == 1000


def test_reached_uses_a_float_tolerance_not_a_residual():
    assert T.reached([-10.0, -10.0 + 1e-9, -9.99], -10.0).tolist() == [True, True, False]
    assert np.all(T.reached(np.array([-5.0]), np.array([-5.0])))


def test_energy_tolerance_merges_float_rounding_but_not_excitations():
    from tgnlib.spinglass.reference import confirm_references

    assert T.energy_tolerance(64) == 1e-4 and T.energy_tolerance(512) == pytest.approx(5.12e-4)
    assert T.energy_tolerance(1728) == pytest.approx(1.728e-3)
    # the case met at L = 8: one state, PT in float32 and population annealing in float64, 9.3e-5 apart,
    # and a compared solver's float32 copy of it 1.5e-4 lower still: a tie, so the reference is confirmed
    energies = {"parallel tempering": [-850.0 + 9.3e-5], "population annealing": [-850.0], "simulated annealing": [-850.0 - 1.5e-4]}
    assert confirm_references(energies, atol=T.energy_tolerance(512))["confirmed"].all()
    assert not confirm_references(energies, atol=1e-4)["found_by"][0] == list(energies)  # the old fixed tolerance split it
    # a real excitation (a single flip costs about 2|h|, 1e-2 here) is not merged
    assert not confirm_references({"a": [-850.0], "b": [-850.0 + 1e-2]}, atol=T.energy_tolerance(512))["confirmed"].any()
    with pytest.raises(ValueError, match="n_spins=0"):
        T.energy_tolerance(0)
