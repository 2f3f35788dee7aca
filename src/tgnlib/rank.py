"""Effective rank estimators shared by every chapter.

"Geometric rank" is never defined in the paper. The book reads it as the effective dimension of a
cloud of vectors (tokens, time points, spins), measured from the singular values of the data
matrix. Three standard estimators are given, because they weigh the spectrum differently:

* entropy effective rank (Roy and Vetterli 2007): ``exp(H(p))`` with ``p_i = s_i / sum(s)``;
* participation ratio: ``(sum s_i^2)^2 / sum s_i^4``, i.e. of the covariance eigenvalues;
* stable rank: ``sum s_i^2 / max s_i^2``, the most sensitive to one dominant direction.

All take a matrix or a batch of matrices (``(..., n, d)``), as a NumPy array or a torch tensor on
any device, and return one value per matrix. Batched SVD in torch is what makes per-layer,
per-window and per-sample rank curves cheap (``benchmarks/bench_rank.py``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

ESTIMATORS = ("entropy", "participation", "stable")


def _as_tensor(x, check_finite: bool = True) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        t = x
    else:
        t = torch.as_tensor(np.asarray(x))
    if t.ndim < 2:
        raise ValueError(f"rank estimators need a matrix or a batch of matrices (..., n, d); got shape {tuple(t.shape)}")
    if not torch.is_floating_point(t):
        t = t.to(torch.float64)
    elif t.dtype in (torch.float16, torch.bfloat16):
        t = t.to(torch.float32)
    if check_finite and not torch.isfinite(t).all():
        raise ValueError("rank estimators got NaN or infinite entries")
    return t


METHODS = ("gram", "svd")
CUSOLVER_BATCHED_MAX = 32  # largest matrix cuSOLVER's batched eigen/singular-value solvers take (syevjBatched)


def _map_over_batch(decomposition, t: torch.Tensor) -> torch.Tensor:
    """Apply a batched LAPACK call with one batch slice per CPU thread (CUDA batches of large matrices too).

    On CPU, torch's ``eigvalsh`` and ``svdvals`` loop over the batch and MKL's threads barely help
    at these sizes, so the per-layer rank curve of a language model took as long as a quarter of
    its forward pass. The ops release the GIL, so Python threads over batch slices use every core.
    Each worker must run MKL single-threaded (two threads of two OpenMP threads each on two cores
    are slower than one), and torch only sets that globally: the thread count is set to 1 while
    the workers run and restored after, so do not run other torch work in parallel threads during
    the call. The result equals a single-threaded unsplit call exactly, and the default
    multi-threaded one to float rounding.
    """
    flat = t.reshape(-1, *t.shape[-2:])
    if t.device.type == "cuda" and flat.shape[0] > 1 and min(flat.shape[-2:]) > CUSOLVER_BATCHED_MAX:
        # cuSOLVER's batched Jacobi solvers take matrices up to 32 x 32; torch runs larger ones one
        # matrix per call, about 5 ms each at 256 x 256 on an H200, which made the rank curves of
        # chapter 2.3 cost 15-45 forward passes there. The host's cores do the batch 10x faster.
        return _map_over_batch(decomposition, t.cpu()).to(t.device)
    n_threads = torch.get_num_threads()
    # Starting the workers costs about 0.4 ms; a single-core eigvalsh costs about 4 us + k^3 / 5000 us
    # per k x k matrix (both measured on the 2-core CI machine), so small batches stay on one call.
    single_call_us = flat.shape[0] * (4.0 + min(flat.shape[-2:]) ** 3 / 5000.0)
    if t.device.type != "cpu" or n_threads < 2 or flat.shape[0] < 2 or single_call_us < 1500.0:
        return decomposition(t)
    chunks = flat.chunk(min(n_threads, flat.shape[0]))
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            parts = list(pool.map(decomposition, chunks))
    finally:
        torch.set_num_threads(n_threads)
    return torch.cat(parts).reshape(*t.shape[:-2], -1)


def singular_values(x, center: bool = False, method: str = "gram") -> torch.Tensor:
    """Singular values of a matrix or a batch of matrices.

    Parameters
    ----------
    x : array or tensor, shape (..., n, d)
        Rows are samples (tokens, time points), columns are features.
    center : bool, default False
        Subtract the mean row first, so the rank measures spread around the centroid rather than
        the offset of the centroid from the origin.
    method : {"gram", "svd"}, default "gram"
        ``"gram"``: square roots of the eigenvalues of the smaller Gram matrix, in the input's
        precision; 1.5-2.5x faster than an SVD on CPU. Small singular values lose accuracy to about
        ``sqrt(eps) * s_max`` (1e-8 in float64, 3e-4 in float32), which moves an effective rank by
        about 1e-6 (float64) or up to 1e-3 (float32) relative. ``"svd"``: ``torch.linalg.svdvals``.

    Returns
    -------
    torch.Tensor, shape (..., min(n, d))
        Singular values in descending order, on the input's device.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}")
    # A non-finite entry always reaches the (smaller) Gram matrix, so checking it there is the
    # same test at half the cost on a tall or wide batch.
    t = _as_tensor(x, check_finite=method == "svd")
    if center:
        t = t - t.mean(dim=-2, keepdim=True)
    if method == "svd":
        return _map_over_batch(torch.linalg.svdvals, t)
    gram = t.transpose(-1, -2) @ t if t.shape[-1] <= t.shape[-2] else t @ t.transpose(-1, -2)
    if not torch.isfinite(gram).all():
        raise ValueError("rank estimators got NaN or infinite entries (or entries so large that their Gram "
                         "matrix overflows: use float64 or method='svd')")
    return _map_over_batch(torch.linalg.eigvalsh, gram).clamp(min=0).sqrt().flip(-1)


def rank_from_singular_values(s, estimator: str = "entropy") -> torch.Tensor:
    """Effective rank from singular values already computed.

    Parameters
    ----------
    s : tensor, shape (..., k)
        Non-negative singular values.
    estimator : {"entropy", "participation", "stable"}, default "entropy"
        See the module docstring.

    Returns
    -------
    torch.Tensor, shape (...)
        Effective rank, between 1 and k (0 for an all-zero matrix).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator={estimator!r} is not one of {ESTIMATORS}")
    s = torch.as_tensor(s)
    if (s < 0).any():
        raise ValueError("singular values must be non-negative")
    total = s.sum(dim=-1, keepdim=True)
    zero = total.squeeze(-1) == 0
    if estimator == "entropy":
        p = s / torch.where(total == 0, torch.ones_like(total), total)
        plogp = torch.where(p > 0, p * torch.log(p), torch.zeros_like(p))
        out = torch.exp(-plogp.sum(dim=-1))
    elif estimator == "participation":
        s2 = s**2
        out = s2.sum(dim=-1) ** 2 / torch.where(zero, torch.ones_like(total.squeeze(-1)), (s2**2).sum(dim=-1))
    else:
        s2 = s**2
        out = s2.sum(dim=-1) / torch.where(zero, torch.ones_like(total.squeeze(-1)), s2.max(dim=-1).values)
    return torch.where(zero, torch.zeros_like(out), out)


def effective_rank(x, estimator: str = "entropy", center: bool = False, method: str = "gram") -> torch.Tensor:
    """Effective rank of a matrix or of each matrix in a batch.

    Parameters
    ----------
    x : array or tensor, shape (..., n, d)
        Rows are samples, columns features; any leading batch dimensions.
    estimator : {"entropy", "participation", "stable"}, default "entropy"
        Which estimator (see the module docstring).
    center : bool, default False
        Subtract the mean row before the SVD.
    method : {"gram", "svd"}, default "gram"
        How the singular values are computed (see :func:`singular_values`).

    Returns
    -------
    torch.Tensor, shape (...)
        One effective rank per matrix (a 0-d tensor for a single matrix).

    Examples
    --------
    >>> float(effective_rank(torch.eye(5)))
    5.0
    """
    return rank_from_singular_values(singular_values(x, center=center, method=method), estimator)


def effective_ranks(x, center: bool = False, method: str = "gram") -> dict[str, torch.Tensor]:
    """All three estimators from a single SVD.

    Parameters
    ----------
    x : array or tensor, shape (..., n, d)
    center : bool, default False
        Subtract the mean row before the SVD.
    method : {"gram", "svd"}, default "gram"
        See :func:`singular_values`.

    Returns
    -------
    dict
        ``{"entropy": ..., "participation": ..., "stable": ...}``, each of shape (...).
    """
    s = singular_values(x, center=center, method=method)
    return {name: rank_from_singular_values(s, name) for name in ESTIMATORS}


def effective_rank_numpy_loop(matrices, estimator: str = "entropy", center: bool = False) -> np.ndarray:
    """Reference implementation: one ``numpy.linalg.svd`` per matrix, in a Python loop.

    Kept for the benchmark and as an independent check of the batched torch path.

    Parameters
    ----------
    matrices : iterable of arrays, each (n, d)
    estimator, center : as in :func:`effective_rank`

    Returns
    -------
    numpy.ndarray, shape (len(matrices),)
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator={estimator!r} is not one of {ESTIMATORS}")
    out = []
    for m in matrices:
        m = np.asarray(m, dtype=np.float64)
        if center:
            m = m - m.mean(axis=0, keepdims=True)
        s = np.linalg.svd(m, compute_uv=False)
        if s.sum() == 0:
            out.append(0.0)
        elif estimator == "entropy":
            p = s[s > 0] / s.sum()
            out.append(float(np.exp(-(p * np.log(p)).sum())))
        elif estimator == "participation":
            out.append(float((s**2).sum() ** 2 / (s**4).sum()))
        else:
            out.append(float((s**2).sum() / (s**2).max()))
    return np.array(out)


def standardise_features(x, eps: float = 1e-6) -> torch.Tensor:
    """Z-score every feature (column) over the samples (rows), per matrix.

    A few "massive" residual dimensions can dominate the spectrum of a language model's hidden states;
    ranks with and without this step show how much.

    Parameters
    ----------
    x : array or tensor, shape (..., n, d)
    eps : float, default 1e-6
        Added to the standard deviation (constant features become 0).

    Returns
    -------
    torch.Tensor, same shape
    """
    t = _as_tensor(x)
    return (t - t.mean(dim=-2, keepdim=True)) / (t.std(dim=-2, keepdim=True) + eps)
