import numpy as np
import pytest
import torch

from tgnlib import criticality


def test_entropy_limits_uniform_and_frozen():
    q, k = criticality.random_queries_keys(64, 16, batch=2, seed=1)
    sweep = criticality.logit_scale_sweep(q, k, [1e-6, 1e4])
    assert sweep["entropy"][0] == pytest.approx(1.0, abs=1e-6)  # beta -> 0: uniform rows
    assert sweep["entropy"][1] < 0.01  # beta -> inf: one key per row
    assert sweep["rank"][0] == pytest.approx(1 / 64, rel=1e-3)  # uniform attention has rank one


def test_row_entropy_of_uniform_rows_is_log_n():
    assert float(criticality.row_entropy(torch.zeros(5, 7))) == pytest.approx(np.log(7))


def test_mask_restricts_the_entropy():
    mask = torch.tril(torch.ones(6, 6, dtype=torch.bool))
    expected = np.mean([np.log(i) for i in range(1, 7)])
    assert float(criticality.row_entropy(torch.zeros(6, 6), mask)) == pytest.approx(expected)


def test_susceptibility_of_a_logistic_peaks_at_its_midpoint():
    betas = np.geomspace(0.01, 100, 201)
    values = 1 / (1 + (betas / 2.0) ** 3)
    assert criticality.critical_beta(betas, values) == pytest.approx(2.0, rel=0.01)


def test_random_attention_critical_point_tracks_rem_not_one():
    betas = np.geomspace(0.1, 30, 41)
    crit = []
    for n in (32, 512):
        q, k = criticality.random_queries_keys(n, 64, batch=2, seed=0)
        crit.append(criticality.critical_beta(betas, criticality.logit_scale_sweep(q, k, betas)["entropy"]))
    assert crit[0] < crit[1]  # grows with n
    assert all(1.5 < c < criticality.rem_freezing_beta(512) for c in crit)


def test_rem_formulas():
    assert criticality.rem_freezing_beta(100) == pytest.approx(np.sqrt(2 * np.log(100)))
    np.testing.assert_allclose(criticality.rem_entropy([0.0, 1.0, 10.0], 100), [1.0, 1 - 1 / (2 * np.log(100)), 0.0])


def test_seeded_queries_are_deterministic():
    a = criticality.random_queries_keys(5, 3, seed=7)
    b = criticality.random_queries_keys(5, 3, seed=7)
    assert all(torch.equal(x, y) for x, y in zip(a, b))


def test_bad_arguments_are_named():
    q, k = criticality.random_queries_keys(4, 3)
    with pytest.raises(ValueError, match="betas"):
        criticality.logit_scale_sweep(q, k, [1.0, -2.0])
    with pytest.raises(ValueError, match="increasing"):
        criticality.susceptibility([3.0, 2.0, 1.0], [1, 2, 3])
    with pytest.raises(ValueError, match="n must"):
        criticality.rem_freezing_beta(1)
    with pytest.raises(ValueError, match="last dimension"):
        criticality.attention_logits(torch.ones(2, 3), torch.ones(2, 4))


def test_fit_against_log_n_recovers_the_rem_law_and_entropy_at_beta_one():
    n = np.array([32, 128, 512, 2048])
    fit = criticality.fit_critical_vs_log_n(n, [criticality.rem_freezing_beta(int(v)) for v in n])
    assert fit["a"] == pytest.approx(np.sqrt(2)) and fit["b"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at least 2"):
        criticality.fit_critical_vs_log_n([32], [1.0])
    betas = np.geomspace(0.1, 10, 21)
    assert criticality.entropy_at(betas, np.log(betas)) == pytest.approx(0.0, abs=1e-12)
    assert criticality.entropy_at(betas, np.log(betas), beta=10.0) == pytest.approx(np.log(10))
