import numpy as np
import pytest
import scipy.sparse as sp
import torch

from tgnlib import kernels


def qk(seed=0, n=12, m=15, d=8, batch=(3,)):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*batch, n, d, generator=g, dtype=torch.float64),
            torch.randn(*batch, m, d, generator=g, dtype=torch.float64))


def test_identity_rebuilds_attention_from_heat_kernel():
    q, k = qk()
    for tau in (0.5, 2.0, np.sqrt(8)):
        diff = kernels.attention_matrix(q, k, tau) - kernels.attention_from_heat_kernel(q, k, tau)
        assert diff.abs().max() < 1e-12


def test_equal_norm_keys_make_attention_a_heat_kernel():
    q, k = qk()
    k = 2.5 * k / k.norm(dim=-1, keepdim=True)
    dev = kernels.kernel_deviation(q, k, 1.7)
    assert dev["tv_max"].max() < 1e-12
    assert dev["key_logweight_std"].max() < 1e-12


def test_unequal_norms_give_a_measurable_deviation():
    q, k = qk()
    k[..., 0, :] *= 3  # one key much longer: attention favours it, the heat kernel does not
    dev = kernels.kernel_deviation(q, k, 1.0)
    assert (dev["tv_mean"] > 0.05).all()
    assert (dev["tv_mean"] <= dev["tv_max"] + 1e-15).all()


def test_rows_are_stochastic():
    q, k = qk()
    for m in (kernels.attention_matrix(q, k, 1.0), kernels.heat_kernel_matrix(q, k, 1.0)):
        torch.testing.assert_close(m.sum(-1), torch.ones(m.shape[:-1], dtype=m.dtype))


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan")])
def test_bad_temperature_is_named(tau):
    q, k = qk()
    with pytest.raises(ValueError, match="tau"):
        kernels.attention_matrix(q, k, tau)


def test_nan_queries_and_mismatched_dims_are_rejected():
    q, k = qk()
    q[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        kernels.heat_kernel_matrix(q, k, 1.0)
    with pytest.raises(ValueError, match="same d"):
        kernels.attention_matrix(torch.ones(2, 3), torch.ones(2, 4), 1.0)


@pytest.mark.parametrize("n", [5, 8, 31, 64])
def test_cycle_gap_closed_form(n):
    chain = kernels.local_chain(n, width=1, periodic=True, include_self=False)
    assert kernels.spectral_gap(chain) == pytest.approx(1 - np.cos(2 * np.pi / n), rel=1e-9)


def test_lazy_path_gap_dense_equals_sparse_and_nears_the_reflecting_chain():
    n = 900
    chain = kernels.local_chain(n, width=1)
    dense, sparse = kernels.spectral_gap(chain, method="dense"), kernels.spectral_gap(chain, method="sparse")
    assert sparse == pytest.approx(dense, rel=1e-8)
    # exact for reflecting ends (end loops of weight 2); ours have weight 1, an O(1/N) difference
    assert dense == pytest.approx(2 * (1 - np.cos(np.pi / n)) / 3, rel=3 / n)


def test_dense_and_sparse_agree_on_attention():
    x = kernels.layer_normalised_points(700, 16, np.random.default_rng(1))
    chain = kernels.attention_chain(x, 4.0)
    assert kernels.spectral_gap(chain, method="sparse") == pytest.approx(kernels.spectral_gap(chain, method="dense"), rel=1e-8)


def test_even_cycle_is_periodic_absolute_gap_zero():
    chain = kernels.local_chain(10, periodic=True, include_self=False)
    assert kernels.spectral_gap(chain, absolute=True) == pytest.approx(0.0, abs=1e-12)
    assert kernels.relaxation_time(chain) == float("inf") or kernels.relaxation_time(chain) > 1e11


def test_mixing_time_matches_brute_force_powers():
    rng = np.random.default_rng(0)
    x = kernels.layer_normalised_points(40, 4, rng)
    for chain in (kernels.attention_chain(x, 2.0), kernels.local_chain(40, width=2)):
        t = kernels.mixing_time(chain, eps=0.25)
        p, pi = chain.transition(), chain.stationary
        p = p.toarray() if sp.issparse(p) else p
        def dist(steps):
            return 0.5 * np.abs(np.linalg.matrix_power(p, steps) - pi).sum(1).max()

        assert dist(t) <= 0.25 < dist(t - 1)


def test_mixing_time_lies_within_relaxation_bounds():
    chain = kernels.local_chain(120, width=1)
    lo, hi = kernels.mixing_time_bounds(chain)
    assert lo <= kernels.mixing_time(chain) <= hi


def test_total_variation_curve_is_non_increasing():
    chain = kernels.local_chain(50, width=1)
    curve = kernels.total_variation_curve(chain, range(0, 4000, 97))
    assert curve[0] == pytest.approx(1 - chain.stationary.min(), rel=1e-6)
    assert (np.diff(curve) <= 1e-12).all()


def test_sweep_conductance_obeys_cheeger_and_finds_the_middle_cut():
    for chain in (kernels.local_chain(200, width=1),
                  kernels.attention_chain(kernels.layer_normalised_points(200, 8, np.random.default_rng(2)), np.sqrt(8))):
        phi = kernels.sweep_conductance(chain)
        lo, hi = kernels.cheeger_bounds(phi)
        assert lo <= kernels.spectral_gap(chain) <= hi
    # open path with self-loops, weights 1: the middle cut has 1 edge, volume (3N - 2) / 2 on each side
    n = 200
    assert kernels.sweep_conductance(kernels.local_chain(n, width=1)) == pytest.approx(1 / ((3 * n - 2) / 2), rel=1e-9)


def test_knn_chain_is_sparse_symmetric_and_local():
    x = np.random.default_rng(3).standard_normal((60, 3))
    chain = kernels.knn_chain(x, k=5)
    assert chain.is_sparse
    assert abs(chain.kernel - chain.kernel.T).max() == 0
    assert chain.kernel.getnnz(axis=1).min() >= 5


def test_window_attention_respects_the_window():
    x = kernels.layer_normalised_points(30, 4, np.random.default_rng(4))
    chain = kernels.attention_chain(x, 2.0, window=3)
    rows, cols = chain.kernel.nonzero()
    assert np.abs(rows - cols).max() == 3


def test_four_operators_are_named_and_share_size():
    x = kernels.layer_normalised_points(50, 8, np.random.default_rng(0))
    chains = kernels.attention_and_local_chains(x, window=4, k=5)
    assert [c.name for c in chains] == ["attention", "window attention (w=4)", "local chain (w=1)", "kNN (k=5)"]
    assert {c.n for c in chains} == {50}


def test_points_on_sphere_have_norm_sqrt_d():
    x = kernels.layer_normalised_points(10, 9, np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 3.0)
    assert np.array_equal(x, kernels.layer_normalised_points(10, 9, np.random.default_rng(0)))


@pytest.mark.parametrize("kernel, match", [
    (np.ones((3, 4)), "square"),
    (np.array([[1.0, 2.0], [0.5, 1.0]]), "not symmetric"),
    (np.array([[1.0, -1.0], [-1.0, 1.0]]), "negative"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN"),
    (np.array([[1.0, 0.0], [0.0, 0.0]]), "empty row"),
])
def test_bad_kernels_are_named(kernel, match):
    with pytest.raises(ValueError, match=match):
        kernels.chain_from_kernel(kernel)


def test_other_bad_arguments_are_named():
    with pytest.raises(ValueError, match="'lanczos'"):
        kernels.spectral_gap(kernels.local_chain(5), method="lanczos")
    with pytest.raises(ValueError, match="eps"):
        kernels.mixing_time(kernels.local_chain(5), eps=1.5)
    with pytest.raises(ValueError, match="width"):
        kernels.local_chain(5, width=0)
    with pytest.raises(ValueError, match="k must"):
        kernels.knn_chain(np.zeros((4, 2)), k=4)
    with pytest.raises(ValueError, match="conductance"):
        kernels.cheeger_bounds(1.5)


def test_sweep_conductance_large_dense_uses_lanczos_and_still_obeys_cheeger():
    x = kernels.layer_normalised_points(800, 16, np.random.default_rng(5))
    chain = kernels.attention_chain(x, 4.0)
    lo, hi = kernels.cheeger_bounds(kernels.sweep_conductance(chain))
    assert lo <= kernels.spectral_gap(chain) <= hi
