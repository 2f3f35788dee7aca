import numpy as np
import pytest
import torch

from tgnlib import rank


def test_identity_has_full_rank_for_every_estimator():
    ranks = rank.effective_ranks(torch.eye(7, dtype=torch.float64))
    for name, value in ranks.items():
        assert float(value) == pytest.approx(7.0, rel=1e-12), name


@pytest.mark.parametrize("method, tol", [("svd", 1e-9), ("gram", 1e-6)])
def test_rank_one_matrix_has_rank_one(method, tol):
    u, v = torch.randn(20, 1, dtype=torch.float64), torch.randn(1, 9, dtype=torch.float64)
    for estimator in rank.ESTIMATORS:
        assert float(rank.effective_rank(u @ v, estimator, method=method)) == pytest.approx(1.0, abs=tol)


def test_gram_and_svd_singular_values_agree_on_wide_and_tall():
    for shape in ((4, 30, 12), (4, 12, 30)):
        x = torch.randn(*shape, dtype=torch.float64)
        torch.testing.assert_close(rank.singular_values(x, method="gram"), rank.singular_values(x, method="svd"))
    with pytest.raises(ValueError, match="'qr'"):
        rank.singular_values(torch.eye(2), method="qr")


def test_known_spectrum_values():
    # singular values 3, 1: entropy p = (.75, .25); PR = (9 + 1)^2 / (81 + 1); stable = 10 / 9
    m = torch.diag(torch.tensor([3.0, 1.0], dtype=torch.float64))
    p = np.array([0.75, 0.25])
    assert float(rank.effective_rank(m, "entropy")) == pytest.approx(np.exp(-(p * np.log(p)).sum()))
    assert float(rank.effective_rank(m, "participation")) == pytest.approx(100 / 82)
    assert float(rank.effective_rank(m, "stable")) == pytest.approx(10 / 9)


def test_batched_torch_matches_numpy_loop():
    x = torch.randn(5, 3, 30, 12, dtype=torch.float64)
    for estimator in rank.ESTIMATORS:
        for center in (False, True):
            batched = rank.effective_rank(x, estimator, center=center).reshape(-1).numpy()
            loop = rank.effective_rank_numpy_loop(x.reshape(-1, 30, 12).numpy(), estimator, center=center)
            np.testing.assert_allclose(batched, loop, rtol=1e-9)


def test_centering_removes_a_common_offset():
    x = torch.randn(50, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 1000.0
    assert float(rank.effective_rank(x, center=False)) < 1.05
    assert float(rank.effective_rank(x, center=True)) > 3.5


def test_zero_matrix_has_rank_zero_not_nan():
    assert float(rank.effective_rank(torch.zeros(4, 3))) == 0.0


@pytest.mark.parametrize("bad, match", [
    (np.ones(5), "matrix"),
    (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
])
def test_bad_input_is_named(bad, match):
    with pytest.raises(ValueError, match=match):
        rank.effective_rank(bad)


@pytest.mark.parametrize("method", rank.METHODS)
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_any_non_finite_entry_is_refused(method, center, value):
    for shape in [(3, 6, 4), (3, 4, 6)]:
        x = torch.randn(*shape)
        x[1, 2, 3] = value
        with pytest.raises(ValueError, match="NaN or infinite"):
            rank.singular_values(x, center=center, method=method)


def test_gram_overflow_is_refused_with_the_way_out():
    x = torch.full((2, 4, 3), 1e30)
    with pytest.raises(ValueError, match="float64"):
        rank.singular_values(x)
    assert torch.isfinite(rank.singular_values(x.double())).all()


def test_unknown_estimator_is_named():
    with pytest.raises(ValueError, match="'renyi'"):
        rank.effective_rank(torch.eye(3), "renyi")
    with pytest.raises(ValueError, match="'renyi'"):
        rank.effective_rank_numpy_loop([np.eye(3)], "renyi")


def test_float32_gram_is_within_its_documented_accuracy():
    x = torch.randn(16, 40, 96, generator=torch.Generator().manual_seed(0)) * torch.logspace(0, -2, 96)
    exact = rank.effective_rank(x.double(), method="svd")
    fast = rank.effective_rank(x, method="gram")
    assert fast.dtype == torch.float32
    assert ((fast.double() - exact).abs() / exact).max() < 1e-3


@pytest.mark.parametrize("method", rank.METHODS)
def test_threaded_batch_equals_single_threaded_call_and_restores_thread_count(method, monkeypatch):
    pools = []

    class CountedPool(rank.ThreadPoolExecutor):
        def __init__(self, *args, **kwargs):
            pools.append(kwargs.get("max_workers"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(rank, "ThreadPoolExecutor", CountedPool)
    x = torch.randn(150, 2, 40, 25)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        serial = rank.singular_values(x, center=True, method=method)
    finally:
        torch.set_num_threads(threads)
    assert pools == []
    torch.set_num_threads(3)
    try:
        threaded = rank.singular_values(x, center=True, method=method)
        assert torch.get_num_threads() == 3
        assert pools == [3]
        rank.singular_values(x[:2], center=True, method=method)  # too small to be worth the workers
        assert pools == [3]
    finally:
        torch.set_num_threads(threads)
    assert threaded.shape == (150, 2, 25)
    torch.testing.assert_close(threaded, serial, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the host path for CUDA batches needs CUDA")
@pytest.mark.parametrize("method", rank.METHODS)
def test_cuda_batch_of_large_matrices_is_decomposed_on_the_host_and_returned_on_cuda(method, monkeypatch):
    calls = []
    real = torch.linalg.eigvalsh if method == "gram" else torch.linalg.svdvals

    def spy(t):
        calls.append(t.device.type)
        return real(t)

    monkeypatch.setattr(torch.linalg, "eigvalsh" if method == "gram" else "svdvals", spy)
    x = torch.randn(6, 64, 48, dtype=torch.float64, device="cuda")
    s = rank.singular_values(x, center=True, method=method)
    assert s.device.type == "cuda" and set(calls) == {"cpu"}
    expected = rank.singular_values(x.cpu(), center=True, method=method)
    torch.testing.assert_close(s.cpu(), expected)
    calls.clear()
    rank.singular_values(x[:, :20, :16], method=method)  # small matrices: cuSOLVER's batched solver, on the device
    assert set(calls) == {"cuda"}
