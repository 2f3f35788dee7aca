"""Attention as a kernel, and the Markov chains that kernels define (claims T1-T3).

Part 1, the identity behind claim T1. For queries ``q`` and keys ``k`` and a temperature ``tau``::

    exp(q.k / tau) = exp(-|q - k|^2 / 2 tau) * exp(|q|^2 / 2 tau) * exp(|k|^2 / 2 tau)

Row-normalising over keys cancels the query factor, so softmax attention equals the row-normalised
Gaussian heat kernel *reweighted by* ``exp(|k|^2 / 2 tau)``: the two are equal exactly when all
keys have the same norm, and :func:`kernel_deviation` measures how far apart they are otherwise.

Part 2, the spectral claims T2 and T3. A symmetric non-negative kernel ``K`` on ``N`` points defines
a reversible Markov chain ``P = D^-1 K`` (``D`` the row sums) with stationary law ``pi ~ D``. Its
spectral gap ``1 - lambda_2`` equals ``lambda_2`` of the normalised Laplacian ``I - D^-1/2 K D^-1/2``,
the quantity the paper names. We build chains from attention (``q = k = x``, the symmetric reading
for which that spectral theory applies), from the heat kernel, from local coupling along the
sequence (a band of half-width ``w``), from sliding-window attention and from a k-nearest-neighbour
graph, and measure gap, relaxation time, exact mixing time and Cheeger conductance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

# --------------------------------------------------------------------------------------------
# Part 1: softmax attention and the heat kernel on the same points
# --------------------------------------------------------------------------------------------


def _check_qk(q: torch.Tensor, k: torch.Tensor, tau: float) -> None:
    if not (isinstance(tau, (int, float)) and np.isfinite(tau) and tau > 0):
        raise ValueError(f"temperature tau must be a positive finite number; got tau={tau!r}")
    if q.ndim < 2 or k.ndim < 2 or q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q and k must be (..., n, d) with the same d; got q {tuple(q.shape)}, k {tuple(k.shape)}"
        )
    if not (torch.isfinite(q).all() and torch.isfinite(k).all()):
        raise ValueError("q or k contains NaN or infinite entries")


def attention_matrix(q: torch.Tensor, k: torch.Tensor, tau: float) -> torch.Tensor:
    """Softmax attention weights ``softmax(q k^T / tau)`` over keys.

    Parameters
    ----------
    q : tensor, shape (..., n_queries, d)
    k : tensor, shape (..., n_keys, d)
    tau : float
        Temperature; a Transformer uses ``tau = sqrt(d)``.

    Returns
    -------
    torch.Tensor, shape (..., n_queries, n_keys)
        Row-stochastic weights.
    """
    _check_qk(q, k, tau)
    return torch.softmax(q @ k.transpose(-1, -2) / tau, dim=-1)


def heat_kernel_matrix(q: torch.Tensor, k: torch.Tensor, tau: float) -> torch.Tensor:
    """Row-normalised Gaussian heat kernel ``exp(-|q - k|^2 / 2 tau)`` between queries and keys.

    Parameters
    ----------
    q : tensor, shape (..., n_queries, d)
    k : tensor, shape (..., n_keys, d)
    tau : float
        Temperature (variance of the Gaussian, in squared units of q and k).

    Returns
    -------
    torch.Tensor, shape (..., n_queries, n_keys)
        Row-stochastic weights.
    """
    _check_qk(q, k, tau)
    return torch.softmax(-torch.cdist(q, k) ** 2 / (2 * tau), dim=-1)


def attention_from_heat_kernel(q: torch.Tensor, k: torch.Tensor, tau: float) -> torch.Tensor:
    """Softmax attention rebuilt from the heat kernel and the key-norm weights.

    The right-hand side of the identity: row-normalise ``heat(q, k) * exp(|k|^2 / 2 tau)``. It
    equals :func:`attention_matrix` for any q and k, up to floating-point rounding.

    Parameters
    ----------
    q, k, tau : as in :func:`attention_matrix`

    Returns
    -------
    torch.Tensor, shape (..., n_queries, n_keys)
    """
    _check_qk(q, k, tau)
    log_heat = -torch.cdist(q, k) ** 2 / (2 * tau)
    log_key_weight = (k**2).sum(-1) / (2 * tau)
    log_query_weight = (q**2).sum(-1, keepdim=True) / (2 * tau)
    return torch.softmax(log_heat + log_key_weight.unsqueeze(-2) + log_query_weight, dim=-1)


def kernel_deviation(q: torch.Tensor, k: torch.Tensor, tau: float) -> dict[str, torch.Tensor]:
    """How far softmax attention is from the heat kernel on the same queries and keys.

    Parameters
    ----------
    q, k, tau : as in :func:`attention_matrix`

    Returns
    -------
    dict of tensors, each of shape (...) (one value per batch element, e.g. per head)
        ``tv_mean``: mean over queries of the total-variation distance between the attention row
        and the heat-kernel row (0 = identical, 1 = disjoint support);
        ``tv_max``: the largest such distance over queries;
        ``max_abs``: the largest absolute difference of any weight;
        ``key_logweight_std``: standard deviation over keys of ``|k|^2 / 2 tau``, the log-weight
        that separates the two kernels (0 exactly when all key norms are equal).
    """
    att = attention_matrix(q, k, tau)
    heat = heat_kernel_matrix(q, k, tau)
    tv = 0.5 * (att - heat).abs().sum(-1)
    return {
        "tv_mean": tv.mean(-1),
        "tv_max": tv.amax(-1),
        "max_abs": (att - heat).abs().flatten(-2).amax(-1),
        "key_logweight_std": ((k**2).sum(-1) / (2 * tau)).std(-1),
    }


# --------------------------------------------------------------------------------------------
# Part 2: reversible Markov chains from symmetric kernels
# --------------------------------------------------------------------------------------------


@dataclass
class ReversibleChain:
    """A reversible Markov chain ``P = D^-1 K`` given by a symmetric non-negative kernel ``K``.

    Build one with :func:`chain_from_kernel` (which checks the kernel) or the named builders.

    Attributes
    ----------
    kernel : numpy.ndarray or scipy.sparse matrix, shape (N, N)
        Symmetric, non-negative, no empty row.
    name : str
        Label used in plots and tables.
    """

    kernel: np.ndarray | sp.spmatrix
    name: str = "chain"

    @property
    def n(self) -> int:
        """Number of states N."""
        return self.kernel.shape[0]

    @property
    def degrees(self) -> np.ndarray:
        """Row sums ``D`` of the kernel."""
        return np.asarray(self.kernel.sum(axis=1)).ravel()

    @property
    def stationary(self) -> np.ndarray:
        """Stationary distribution ``pi = D / sum(D)``."""
        d = self.degrees
        return d / d.sum()

    @property
    def is_sparse(self) -> bool:
        """Whether the kernel is stored as a sparse matrix."""
        return sp.issparse(self.kernel)

    def transition(self) -> np.ndarray | sp.spmatrix:
        """The transition matrix ``P = D^-1 K`` (rows sum to one)."""
        inv = 1.0 / self.degrees
        if self.is_sparse:
            return sp.diags(inv) @ self.kernel
        return self.kernel * inv[:, None]

    def symmetric(self) -> np.ndarray | sp.spmatrix:
        """``S = D^-1/2 K D^-1/2``: symmetric, with the same eigenvalues as ``P``."""
        r = 1.0 / np.sqrt(self.degrees)
        if self.is_sparse:
            return (sp.diags(r) @ self.kernel @ sp.diags(r)).tocsc()
        return self.kernel * r[:, None] * r[None, :]


def chain_from_kernel(kernel, name: str = "chain", symmetry_tol: float = 1e-10) -> ReversibleChain:
    """Check a kernel and wrap it as a :class:`ReversibleChain`.

    Parameters
    ----------
    kernel : array or sparse matrix, shape (N, N)
        Symmetric and non-negative, every row with positive mass.
    name : str, default "chain"
    symmetry_tol : float, default 1e-10
        Largest allowed ``|K - K^T|`` relative to ``max |K|``.

    Returns
    -------
    ReversibleChain

    Raises
    ------
    ValueError
        If the kernel is not square, not symmetric, has negative, NaN or infinite entries, or an
        empty row. The message names the problem.
    """
    if isinstance(kernel, torch.Tensor):
        kernel = kernel.detach().cpu().double().numpy()
    if not sp.issparse(kernel):
        kernel = np.asarray(kernel, dtype=np.float64)
    else:
        kernel = kernel.astype(np.float64).tocsr()
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must be a square (N, N) matrix; got shape {kernel.shape}")
    values = kernel.data if sp.issparse(kernel) else kernel
    if not np.isfinite(values).all():
        raise ValueError("kernel contains NaN or infinite entries")
    if (values < 0).any():
        raise ValueError("kernel has negative entries; a Markov kernel must be non-negative")
    scale = np.abs(values).max() if values.size else 0.0
    asym = abs(kernel - kernel.T).max() if sp.issparse(kernel) else np.abs(kernel - kernel.T).max()
    if asym > symmetry_tol * max(scale, 1e-300):
        raise ValueError(f"kernel is not symmetric (max |K - K^T| = {asym:.3g}); the chain would not be reversible")
    if (np.asarray(kernel.sum(axis=1)).ravel() <= 0).any():
        raise ValueError("kernel has an empty row: that state can never be left")
    return ReversibleChain(kernel, name)


def _check_points(x) -> np.ndarray:
    x = x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"points must be an (N, d) array; got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("points contain NaN or infinite entries")
    return x


def _log_kernel_to_kernel(log_k: np.ndarray) -> np.ndarray:
    # A global shift leaves P unchanged and keeps exp() in range.
    return np.exp(log_k - log_k.max())


def attention_chain(x, tau: float, window: int | None = None) -> ReversibleChain:
    """Chain of softmax attention with queries = keys = ``x``: ``K_ij = exp(x_i . x_j / tau)``.

    Parameters
    ----------
    x : array, shape (N, d)
        Points (tokens), in sequence order.
    tau : float
        Temperature; ``sqrt(d)`` for a Transformer.
    window : int or None, default None
        If given, keep only pairs with ``|i - j| <= window`` (sliding-window attention, a local
        operator with attention's weights). ``None`` is full, non-local attention.

    Returns
    -------
    ReversibleChain
    """
    x = _check_points(x)
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError(f"temperature tau must be positive; got tau={tau!r}")
    k = _log_kernel_to_kernel(x @ x.T / tau)
    if window is None:
        return ReversibleChain(k, "attention")
    mask = _band_mask(len(x), window)
    return ReversibleChain(sp.csr_matrix(k * mask.toarray()), f"window attention (w={window})")


def heat_kernel_chain(x, tau: float) -> ReversibleChain:
    """Chain of the Gaussian heat kernel ``K_ij = exp(-|x_i - x_j|^2 / 2 tau)``.

    Parameters
    ----------
    x : array, shape (N, d)
    tau : float
        Variance of the Gaussian.

    Returns
    -------
    ReversibleChain
    """
    x = _check_points(x)
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError(f"temperature tau must be positive; got tau={tau!r}")
    sq = (x**2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    return ReversibleChain(np.exp(-d2 / (2 * tau)), "heat kernel")


def _band_mask(n: int, width: int, periodic: bool = False, include_self: bool = True) -> sp.csr_matrix:
    if not (isinstance(width, (int, np.integer)) and width >= 1):
        raise ValueError(f"band width must be an integer >= 1; got {width!r}")
    if n < 2:
        raise ValueError(f"a chain needs at least 2 states; got N={n}")
    offsets = [o for o in range(-width, width + 1) if include_self or o != 0]
    rows, cols = [], []
    idx = np.arange(n)
    for o in offsets:
        j = idx + o
        keep = np.ones(n, bool) if periodic else (j >= 0) & (j < n)
        rows.append(idx[keep])
        cols.append(j[keep] % n)
    r, c = np.concatenate(rows), np.concatenate(cols)
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    m.data[:] = 1.0  # offsets that wrap onto the same pair on tiny rings count once
    return m


def local_chain(n: int, width: int = 1, periodic: bool = False, include_self: bool = True) -> ReversibleChain:
    """Local coupling along the sequence: equal weight to every site with ``|i - j| <= width``.

    With ``width=1, periodic=True, include_self=False`` this is the simple random walk on the
    cycle, whose spectral gap is ``1 - cos(2 pi / N)``.

    Parameters
    ----------
    n : int
        Number of sites N (at least 2).
    width : int, default 1
        Half-width of the band, in sites.
    periodic : bool, default False
        Join the ends (a ring) instead of an open chain.
    include_self : bool, default True
        Keep the diagonal (a lazy chain, which avoids the periodicity of bipartite walks).

    Returns
    -------
    ReversibleChain
    """
    kind = "ring" if periodic else "chain"
    return ReversibleChain(_band_mask(n, width, periodic, include_self), f"local {kind} (w={width})")


def knn_chain(x, k: int = 10, tau: float | None = None) -> ReversibleChain:
    """Symmetrised k-nearest-neighbour graph on the points, with Gaussian edge weights.

    A local operator in feature space rather than in sequence order.

    Parameters
    ----------
    x : array, shape (N, d)
    k : int, default 10
        Neighbours per point (self excluded); an edge is kept if either end chose it.
    tau : float or None, default None
        Variance of the Gaussian weight; ``None`` uses the median squared neighbour distance.

    Returns
    -------
    ReversibleChain
    """
    x = _check_points(x)
    n = len(x)
    if not (isinstance(k, (int, np.integer)) and 1 <= k < n):
        raise ValueError(f"k must be an integer in [1, N-1] = [1, {n - 1}]; got k={k!r}")
    xt = torch.from_numpy(x)
    d2 = torch.cdist(xt, xt) ** 2
    d2.fill_diagonal_(float("inf"))
    dist, nbr = torch.topk(d2, k, largest=False, dim=1)
    dist, nbr = dist.numpy(), nbr.numpy()
    if tau is None:
        tau = float(np.median(dist)) / 2 or 1.0
    w = np.exp(-dist / (2 * tau)).ravel()
    m = sp.csr_matrix((w, (np.repeat(np.arange(n), k), nbr.ravel())), shape=(n, n))
    m = m.maximum(m.T) + sp.identity(n, format="csr") * 1e-12  # keep every row non-empty
    return ReversibleChain(m.tocsr(), f"kNN (k={k})")


def layer_normalised_points(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` i.i.d. points uniform on the sphere of radius ``sqrt(d)``: tokens after a LayerNorm.

    All norms are equal, so on these points attention *is* the heat kernel (claim T1's premise).

    Parameters
    ----------
    n : int
        Number of points.
    d : int
        Dimension.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n, d)
    """
    if n < 2 or d < 1:
        raise ValueError(f"need n >= 2 points in d >= 1 dimensions; got n={n}, d={d}")
    x = rng.standard_normal((n, d))
    return x * np.sqrt(d) / np.linalg.norm(x, axis=1, keepdims=True)


def attention_and_local_chains(x, window: int = 4, k: int = 10) -> list[ReversibleChain]:
    """The four operators that chapter 2.1 compares on the same points, non-local first.

    Full attention and sliding-window attention (``tau = sqrt(d)``), the local chain coupling each
    token to its sequence neighbours (``|i - j| <= 1``), and the k-nearest-neighbour graph.

    Parameters
    ----------
    x : array, shape (N, d)
        Points in sequence order.
    window : int, default 4
        Half-width of the sliding window, in tokens.
    k : int, default 10
        Neighbours of the kNN graph.

    Returns
    -------
    list of ReversibleChain
        ``[attention, window attention, local chain, kNN]``.
    """
    x = _check_points(x)
    tau = float(np.sqrt(x.shape[1]))
    return [attention_chain(x, tau), attention_chain(x, tau, window=window), local_chain(len(x), width=1), knn_chain(x, k=k)]


# --------------------------------------------------------------------------------------------
# Spectra, mixing and conductance
# --------------------------------------------------------------------------------------------

METHODS = ("auto", "dense", "sparse")


def chain_eigenvalues(chain: ReversibleChain, k: int = 2, method: str = "auto") -> np.ndarray:
    """The ``k`` largest eigenvalues of the chain's transition matrix, in descending order.

    Parameters
    ----------
    chain : ReversibleChain
    k : int, default 2
        How many (at least 2; all N with ``method="dense"`` if ``k >= N``).
    method : {"auto", "dense", "sparse"}, default "auto"
        ``"dense"``: full symmetric eigendecomposition (``numpy.linalg.eigvalsh``), O(N^3).
        ``"sparse"``: ARPACK Lanczos (``scipy.sparse.linalg.eigsh``), with shift-invert around 1
        for sparse kernels, whose gaps can be tiny. ``"auto"``: dense for N <= 512, else sparse.

    Returns
    -------
    numpy.ndarray, shape (k,)
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}")
    n = chain.n
    if method == "auto":
        method = "dense" if n <= 512 else "sparse"
    if method == "dense" or k >= n - 1:
        s = chain.symmetric()
        s = s.toarray() if sp.issparse(s) else s
        return np.sort(np.linalg.eigvalsh(s))[::-1][:k]
    s = chain.symmetric()
    if chain.is_sparse:
        vals = spla.eigsh(s, k=k, sigma=1.0 + 1e-6, which="LM", return_eigenvectors=False)
    else:
        v0 = np.sqrt(chain.stationary) + 0.01  # deterministic start, overlapping the top vectors
        vals = spla.eigsh(s, k=k, which="LA", v0=v0, return_eigenvectors=False, tol=1e-12)
    return np.sort(vals)[::-1]


def spectral_gap(chain: ReversibleChain, absolute: bool = False, method: str = "auto") -> float:
    """Spectral gap ``1 - lambda_2`` of the chain (= ``lambda_2`` of the normalised Laplacian).

    Parameters
    ----------
    chain : ReversibleChain
    absolute : bool, default False
        Return the absolute gap ``1 - max(|lambda_2|, |lambda_N|)``, which governs convergence
        (a periodic chain has gap > 0 but absolute gap 0).
    method : {"auto", "dense", "sparse"}, default "auto"
        See :func:`chain_eigenvalues`.

    Returns
    -------
    float
    """
    if method == "dense" or (method == "auto" and chain.n <= 512):
        lam = chain_eigenvalues(chain, chain.n, "dense")  # one decomposition gives lambda_2 and lambda_N
        lam2, lam_min = float(lam[1]), float(lam[-1])
    else:
        lam2 = float(chain_eigenvalues(chain, 2, method)[1])
        if not absolute:
            return 1.0 - lam2
        lam_min = float(spla.eigsh(chain.symmetric(), k=1, which="SA", return_eigenvectors=False)[0])
    return 1.0 - max(abs(lam2), abs(lam_min)) if absolute else 1.0 - lam2


def relaxation_time(chain: ReversibleChain, method: str = "auto") -> float:
    """Relaxation time ``1 / absolute gap``, in steps of the chain.

    Parameters
    ----------
    chain : ReversibleChain
    method : {"auto", "dense", "sparse"}, default "auto"

    Returns
    -------
    float
        ``inf`` for a periodic or disconnected chain.
    """
    gap = spectral_gap(chain, absolute=True, method=method)
    return float("inf") if gap <= 0 else 1.0 / gap


class _SpectralPropagator:
    """``P^t`` rows from one eigendecomposition: ``P^t = D^-1/2 U diag(lam^t) U^T D^1/2``."""

    def __init__(self, chain: ReversibleChain, starts: np.ndarray):
        s = chain.symmetric()
        s = s.toarray() if sp.issparse(s) else s
        self.lam, self.u = np.linalg.eigh(s)
        self.pi = chain.stationary
        self.starts = starts
        sq = np.sqrt(self.pi)
        self.left = self.u[starts] / sq[starts, None]
        self.right = self.u.T * sq[None, :]

    def tv(self, t: int) -> np.ndarray:
        lam_t = np.sign(self.lam) ** t * np.abs(self.lam) ** t
        rows = (self.left * lam_t) @ self.right
        return 0.5 * np.abs(rows - self.pi[None, :]).sum(1)


def _default_starts(chain: ReversibleChain, max_starts: int) -> np.ndarray:
    n = chain.n
    if n <= max_starts:
        return np.arange(n)
    # Ends of the sequence and of the stationary law are where slow chains start worst.
    rng = np.random.default_rng(0)
    pi = chain.stationary
    special = [0, n - 1, n // 2, int(np.argmin(pi)), int(np.argmax(pi))]
    rest = rng.choice(n, size=max_starts - len(special), replace=False)
    return np.unique(np.concatenate([special, rest]))


def total_variation_curve(chain: ReversibleChain, times, starts=None, max_starts: int = 512) -> np.ndarray:
    """Worst-case distance to stationarity ``d(t) = max_x TV(P^t(x, .), pi)`` at given times.

    Computed exactly from one eigendecomposition (no sampling), so it costs O(N^3) once.

    Parameters
    ----------
    chain : ReversibleChain
    times : sequence of int
        Non-negative step counts.
    starts : array of int or None, default None
        Starting states to maximise over; ``None`` takes all states when N <= ``max_starts``,
        otherwise the sequence ends, the extremes of pi and a fixed random subset.
    max_starts : int, default 512

    Returns
    -------
    numpy.ndarray, shape (len(times),)
    """
    starts = _default_starts(chain, max_starts) if starts is None else np.asarray(starts)
    prop = _SpectralPropagator(chain, starts)
    return np.array([prop.tv(int(t)).max() for t in times])


def mixing_time(chain: ReversibleChain, eps: float = 0.25, starts=None, max_starts: int = 512, t_max: int = 10**9) -> int:
    """Mixing time ``t_mix(eps) = min{t : d(t) <= eps}``, measured exactly.

    ``d(t)`` is non-increasing, so doubling then bisection finds it in O(log t_mix) evaluations of
    :func:`total_variation_curve`'s exact propagator.

    Parameters
    ----------
    chain : ReversibleChain
    eps : float, default 0.25
        Total-variation threshold, in (0, 1).
    starts, max_starts : see :func:`total_variation_curve`
    t_max : int, default 1e9
        Give up (raise) beyond this many steps.

    Returns
    -------
    int
        Steps of the chain.
    """
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1); got eps={eps!r}")
    starts = _default_starts(chain, max_starts) if starts is None else np.asarray(starts)
    prop = _SpectralPropagator(chain, starts)
    if prop.tv(0).max() <= eps:
        return 0
    hi = 1
    while prop.tv(hi).max() > eps:
        hi *= 2
        if hi > t_max:
            raise RuntimeError(f"chain {chain.name!r} has not mixed to eps={eps} within t_max={t_max} steps")
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if prop.tv(mid).max() <= eps:
            hi = mid
        else:
            lo = mid
    return hi


def mixing_time_bounds(chain: ReversibleChain, eps: float = 0.25, method: str = "auto") -> tuple[float, float]:
    """Relaxation-time bounds on the mixing time (Levin, Peres and Wilmer, Thms 12.4 and 12.5).

    ``(t_rel - 1) ln(1 / 2 eps) <= t_mix(eps) <= t_rel ln(1 / (eps pi_min))``.

    Parameters
    ----------
    chain : ReversibleChain
    eps : float, default 0.25
    method : {"auto", "dense", "sparse"}, default "auto"

    Returns
    -------
    (lower, upper) : tuple of float, in steps
    """
    t_rel = relaxation_time(chain, method)
    pi_min = chain.stationary.min()
    return (t_rel - 1) * np.log(1 / (2 * eps)), t_rel * np.log(1 / (eps * pi_min))


def sweep_conductance(chain: ReversibleChain) -> float:
    """Conductance of the best level set of the Fiedler vector (a Cheeger sweep cut).

    ``Phi(S) = Q(S, S^c) / min(pi(S), pi(S^c))`` with ``Q(x, y) = pi(x) P(x, y)``. The sweep value
    ``Phi_sweep`` is an upper bound on the chain's conductance ``Phi*`` and satisfies the Cheeger
    inequalities ``Phi_sweep^2 / 2 <= gap <= 2 Phi_sweep`` (see :func:`cheeger_bounds`).

    Parameters
    ----------
    chain : ReversibleChain

    Returns
    -------
    float
    """
    s = chain.symmetric()
    n = chain.n
    if chain.is_sparse and n > 512:
        _, vecs = spla.eigsh(s, k=2, sigma=1.0 + 1e-6, which="LM")
        vec = vecs[:, 0]  # shift-invert returns ascending 1/(lam - sigma): lambda_2 comes first
    elif n > 512:
        v0 = np.sqrt(chain.stationary) + 0.01
        _, vecs = spla.eigsh(s, k=2, which="LA", v0=v0, tol=1e-12)
        vec = vecs[:, 0]  # ascending: lambda_2 first, then lambda_1 = 1
    else:
        dense = s.toarray() if sp.issparse(s) else s
        _, vecs = np.linalg.eigh(dense)
        vec = vecs[:, -2]
    order = np.argsort(vec / np.sqrt(chain.stationary))
    k = chain.kernel[order][:, order]
    total = chain.degrees.sum()
    deg = chain.degrees[order]
    # weight from the k-th state back into the first k-1 states: strict lower triangle row sums
    inner = np.asarray(sp.tril(k, -1).sum(axis=1)).ravel() if sp.issparse(k) else np.tril(k, -1).sum(1)
    self_loops = k.diagonal()
    # adding state v to S adds its edges to the outside and removes those into S; loops never cut
    cut = np.cumsum(deg - self_loops - 2 * inner)[:-1]
    vol = np.cumsum(deg)[:-1]
    phi = cut / np.minimum(vol, total - vol)
    return float(phi.min())


def cheeger_bounds(conductance: float) -> tuple[float, float]:
    """Cheeger's interval for the spectral gap: ``(Phi^2 / 2, 2 Phi)``.

    Parameters
    ----------
    conductance : float
        A conductance in [0, 1] (e.g. from :func:`sweep_conductance`).

    Returns
    -------
    (lower, upper) : tuple of float
    """
    if not 0 <= conductance <= 1:
        raise ValueError(f"conductance must be in [0, 1]; got {conductance!r}")
    return conductance**2 / 2, 2 * conductance
