"""Time-to-solution runs: independent runs per instance, censored medians, tuning with the same effort."""

import math

import numpy as np
import pytest
import torch

from tgnlib.spinglass import make_couplings
from tgnlib.spinglass.experiment import median_tts, measure_tts, run_independent
from tgnlib.spinglass.solvers import SOLVERS, TRIALS, draw_settings, tune


def test_runs_are_independent_and_cached(tmp_path):
    J = make_couplings(4, 2, seed=0)
    sa = SOLVERS["simulated annealing"]
    out = run_independent(sa, J, 32, 6, sa.settings(4), seed=1, cache_dir=tmp_path)
    assert out["final"].shape == (6, 2)
    assert len(np.unique(out["final"][:, 0])) > 1  # independent runs end in different states
    again = run_independent(sa, J, 32, 6, sa.settings(4), seed=1, cache_dir=tmp_path)
    np.testing.assert_array_equal(out["final"], again["final"])
    assert len(list(tmp_path.glob("tts_*.npz"))) == 1


def test_measure_tts_on_a_trivial_reference_and_an_unreachable_one():
    J = make_couplings(4, 2, seed=0)
    sa = SOLVERS["simulated annealing"]
    easy = np.full(2, 10.0)  # any state is below it: every run succeeds at the first length
    got = measure_tts(sa, J, easy, [16, 64, 256], 4, sa.settings(4))
    assert got["lengths"] == [16] and got["measured"].all() and np.all(got["tts"] == 16)  # p_s = 1: TTS is t itself
    impossible = np.full(2, -10.0)  # below any state's energy: no run succeeds, only bounds
    got = measure_tts(sa, J, impossible, [16, 64], 4, sa.settings(4))
    assert got["lengths"] == [16, 64] and not got["measured"].any()
    bound = 64 * math.log(0.01) / math.log(1 - (1 - 0.05 ** (1 / 4)))  # the tightest bound, at the longest length
    np.testing.assert_allclose(got["tts"], bound)
    assert got["seconds_per_sweep"] > 0 and got["flops_per_sweep"] == pytest.approx(20 * 64)


def test_median_tts_is_a_bound_when_bounds_could_move_it():
    measured = median_tts([10.0, 20.0, 30.0, 400.0, 500.0], [True, True, True, False, False])
    assert measured["median"] == 30.0 and not measured["bound"] and measured["low"] <= 30 <= measured["high"]
    low_bound = median_tts([10.0, 20.0, 30.0, 15.0, 500.0], [True, True, True, False, True])  # a bound below the median
    assert low_bound["bound"] and low_bound["high"] == math.inf
    assert median_tts([1.0, 2.0, 3.0, 4.0], [True, False, False, True])["bound"]  # half are bounds
    with pytest.raises(ValueError, match="one length"):
        median_tts([1.0, 2.0], [True])


def test_every_solver_gets_the_same_search_and_draws_stay_in_their_space():
    for solver in SOLVERS.values():
        draws = draw_settings(solver.space, seed=3)
        assert len(draws) == TRIALS
        for d in draws:
            for key, (kind, low, high) in solver.space.items():
                assert low <= d[key] <= high and (isinstance(d[key], int) if kind == "int" else True)
    with pytest.raises(ValueError, match="kind='cubic'"):
        draw_settings({"x": ("cubic", 0, 1)})
    a = SOLVERS["attention (a)"].settings(12, sigma_over_L=0.5)
    assert a["sigma"] == 6.0 and a["replicas"] == 1 and "sigma_over_L" not in a


def test_tune_prefers_settings_that_reach_the_ground_state(tmp_path):
    J = make_couplings(4, 2, seed=5)
    sa = SOLVERS["simulated annealing"]
    ref = run_independent(sa, J, 2000, 8, sa.settings(4), seed=9)["final"].min(0)  # a good reference for these tiny instances
    best, table = tune(sa, J, ref, 64, 4, L=4, seed=0, trials=3, cache_dir=tmp_path)
    assert len(table) == 4 and table[0].keys() >= {"successes", "mean_residual"}
    top = max(table, key=lambda r: (r["successes"], -r["mean_residual"]))
    assert all(best[k] == top[k] for k in best) and top["chosen"] and sum(r["chosen"] for r in table) == 1
    assert torch.is_tensor(J)


def test_site_attention_equals_a_dense_reference_and_is_uniform_at_beta_zero():
    from tgnlib.spinglass.attention import site_attention, site_attention_term

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 4, 4, generator=g, dtype=torch.float64)
    force = torch.randn(2, 3, 4, 4, 4, generator=g, dtype=torch.float64)
    got = site_attention_term(x, force, beta=2.0)
    nbr = sum(torch.roll(x, s, d) for d in (-3, -2, -1) for s in (1, -1)) / 6
    for i in range(2):
        for r in range(3):
            f = torch.stack([x[i, r].flatten(), force[i, r].flatten(), nbr[i, r].flatten()], 1)
            f = (f - f.mean(0)) / (f.std(0) + 1e-6)
            w = torch.softmax(2.0 * f @ f.T / np.sqrt(3), dim=1)  # the dense N x N reference
            torch.testing.assert_close(got[i, r].flatten(), w @ force[i, r].flatten())
    uniform = site_attention_term(x, force, beta=0.0)
    torch.testing.assert_close(uniform, force.mean(dim=(-3, -2, -1), keepdim=True).expand_as(force))
    J = make_couplings(4, 2, seed=0)
    tr = site_attention(J, 40, replicas=2, n_records=2)
    assert tr.extra_flops == pytest.approx(9 * 64**2 * 2 * 20) and np.isfinite(tr.final).all()
    with pytest.raises(ValueError, match="mix"):
        site_attention(J, 10, mix=2.0)


def test_residual_and_best_and_two_algorithm_references(tmp_path):
    from tgnlib.spinglass.experiment import reference_ground_states
    from tgnlib.spinglass.reference import confirm_references

    J = make_couplings(4, 3, seed=1)
    refs = reference_ground_states(J, 20000, cache_dir=tmp_path, population=32)
    assert set(refs) == {"parallel tempering", "population annealing"} and refs["parallel tempering"].shape == (3,)
    again = reference_ground_states(J, 20000, cache_dir=tmp_path, population=32)  # cached
    np.testing.assert_array_equal(again["population annealing"], refs["population annealing"])
    confirmed = confirm_references({k: v * 64 for k, v in refs.items()})
    assert confirmed["confirmed"].all()  # L = 4: both long runs reach the same ground state
    sa = SOLVERS["simulated annealing"]
    got = measure_tts(sa, J, confirmed["energy"] / 64, [16, 64], 4, sa.settings(4))
    assert (got["best"] >= confirmed["energy"] / 64 - 1e-6).all()  # no run below the ground state
    assert (got["residual"] >= 0).all() and got["residual"].shape == (3,)
