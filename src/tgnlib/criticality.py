"""Is the 1/sqrt(d) logit scale a critical point? (claim T4)

The paper says the Transformer's ``1/sqrt(d)`` scale puts attention at the "edge of chaos": neither
the identity (frozen) nor uniform (heat death). We sweep a multiplier ``beta`` on the logits,
``A(beta) = softmax(beta * q k^T / sqrt(d))`` (``beta = 1`` is the Transformer), and record:

* the mean row entropy of ``A`` divided by ``ln n`` (1 = uniform, 0 = one key per query);
* the entropy effective rank of ``A`` divided by ``n`` (``rank.py``);
* their susceptibilities ``chi = |d value / d ln beta|``; the peak locates the transition.

Reference point: for ``n`` independent Gaussian logits of standard deviation ``beta`` the softmax
is Derrida's random energy model (1981), which freezes at ``beta_c = sqrt(2 ln n)`` with quenched
entropy ``ln n - beta^2 / 2`` above that point's temperature. For random unit-variance q and k the
logits ``q.k / sqrt(d)`` have standard deviation 1 whatever ``d``: ``1/sqrt(d)`` makes the scale
independent of ``d``, and the transition then sits near ``sqrt(2 ln n)``, a function of ``n``.
"""

from __future__ import annotations

import numpy as np
import torch

from .rank import effective_rank


def attention_logits(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Transformer logits ``q k^T / sqrt(d)``.

    Parameters
    ----------
    q : tensor, shape (..., n_queries, d)
    k : tensor, shape (..., n_keys, d)

    Returns
    -------
    torch.Tensor, shape (..., n_queries, n_keys)
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must share the last dimension d; got {q.shape[-1]} and {k.shape[-1]}")
    return q @ k.transpose(-1, -2) / np.sqrt(q.shape[-1])


def row_entropy(logits: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean Shannon entropy (nats) of the softmax rows of ``logits``.

    Parameters
    ----------
    logits : tensor, shape (..., n_queries, n_keys)
    mask : bool tensor broadcastable to ``logits`` or None, default None
        ``False`` marks keys a query may not see (e.g. causal or padding).

    Returns
    -------
    torch.Tensor, shape (...)
    """
    if mask is not None:
        logits = logits.masked_fill(~mask, float("-inf"))
    logp = torch.log_softmax(logits, dim=-1)
    p = logp.exp()
    ent = -(torch.where(p > 0, p * logp, torch.zeros_like(p))).sum(-1)
    return ent.mean(-1)


def logit_scale_sweep(q: torch.Tensor, k: torch.Tensor, betas, mask: torch.Tensor | None = None) -> dict[str, np.ndarray]:
    """Attention observables as the logit multiplier ``beta`` sweeps a grid.

    Parameters
    ----------
    q : tensor, shape (..., n, d)
        Queries; leading dimensions (e.g. heads, samples) are averaged in the output.
    k : tensor, shape (..., n, d)
        Keys.
    betas : sequence of float
        Positive multipliers of the logits ``q k^T / sqrt(d)``; a log grid is best.
    mask : bool tensor or None, default None
        Keys each query may see (``True``), as in :func:`row_entropy`.

    Returns
    -------
    dict of numpy arrays, each of shape (len(betas),) unless noted
        ``beta``; ``entropy`` (mean row entropy / ln n_visible); ``rank`` (entropy effective rank of
        A / n); ``entropy_per_batch`` and ``rank_per_batch`` with shape (len(betas), batch) when q
        has leading dimensions.
    """
    betas = np.asarray(betas, dtype=float)
    if betas.ndim != 1 or (betas <= 0).any() or not np.isfinite(betas).all():
        raise ValueError(f"betas must be a 1-d sequence of positive finite numbers; got {betas!r}")
    base = attention_logits(q, k)
    n_keys = base.shape[-1]
    if mask is None:
        norm = np.log(n_keys)
    else:
        visible = mask.expand_as(base).sum(-1).to(base.dtype).clamp(min=2)
        norm = torch.log(visible).mean(-1)
    ent, rk = [], []
    for beta in betas:
        logits = beta * base
        if mask is not None:
            logits = logits.masked_fill(~mask, float("-inf"))
        a = torch.softmax(logits, dim=-1)
        e = row_entropy(logits) / norm
        r = effective_rank(a) / a.shape[-1]
        ent.append(e.reshape(-1).cpu().double().numpy())
        rk.append(r.reshape(-1).cpu().double().numpy())
    ent, rk = np.array(ent), np.array(rk)
    return {
        "beta": betas,
        "entropy": ent.mean(1),
        "rank": rk.mean(1),
        "entropy_per_batch": ent,
        "rank_per_batch": rk,
    }


def susceptibility(betas, values) -> np.ndarray:
    """``|d value / d ln beta|`` by central differences on the (log) grid.

    Parameters
    ----------
    betas : array, shape (m,)
        Increasing positive grid.
    values : array, shape (m,) or (m, batch)

    Returns
    -------
    numpy.ndarray, same shape as ``values``
    """
    betas = np.asarray(betas, dtype=float)
    if betas.ndim != 1 or len(betas) < 3 or (np.diff(betas) <= 0).any() or (betas <= 0).any():
        raise ValueError("betas must be an increasing positive grid of at least 3 points")
    return np.abs(np.gradient(np.asarray(values, dtype=float), np.log(betas), axis=0))


def critical_beta(betas, values) -> float:
    """Location of the susceptibility peak, refined by a parabola through its three points.

    Parameters
    ----------
    betas : array, shape (m,)
        Increasing positive grid (log-spaced is assumed for the refinement).
    values : array, shape (m,)
        An order parameter, e.g. normalised entropy.

    Returns
    -------
    float
        The ``beta`` at which ``|d value / d ln beta|`` peaks.
    """
    chi = susceptibility(betas, values)
    i = int(np.argmax(chi))
    lb = np.log(np.asarray(betas, dtype=float))
    if 0 < i < len(chi) - 1:
        y0, y1, y2 = chi[i - 1], chi[i], chi[i + 1]
        denom = y0 - 2 * y1 + y2
        shift = 0.5 * (y0 - y2) / denom if denom != 0 else 0.0
        return float(np.exp(lb[i] + shift * (lb[i + 1] - lb[i])))
    return float(np.exp(lb[i]))


def fit_critical_vs_log_n(key_counts, beta_c) -> dict[str, float]:
    """Fit ``beta_c = a (ln n)^b`` by least squares in log-log (the REM predicts a = sqrt(2), b = 1/2).

    Parameters
    ----------
    key_counts : array of int, at least 2
        Numbers of keys n (> 1).
    beta_c : array of float, same length
        Critical logit multipliers measured at each n (positive).

    Returns
    -------
    dict
        ``a`` (prefactor) and ``b`` (exponent of ln n).
    """
    n = np.asarray(key_counts, dtype=float)
    b = np.asarray(beta_c, dtype=float)
    if n.shape != b.shape or len(n) < 2 or (n <= 1).any() or (b <= 0).any():
        raise ValueError(f"need at least 2 key counts n > 1 and as many positive beta_c; got {n.tolist()} and {b.tolist()}")
    slope, intercept = np.polyfit(np.log(np.log(n)), np.log(b), 1)
    return {"a": float(np.exp(intercept)), "b": float(slope)}


def entropy_at(betas, entropy, beta: float = 1.0) -> float:
    """The order parameter at one multiplier, interpolated linearly in ln beta.

    Parameters
    ----------
    betas : array, shape (m,)
        Increasing positive grid.
    entropy : array, shape (m,)
        The order parameter on that grid (e.g. row entropy / ln n).
    beta : float, default 1.0
        Where to read it (1 is the 1/sqrt(d) scale).

    Returns
    -------
    float
    """
    return float(np.interp(np.log(beta), np.log(np.asarray(betas, dtype=float)), np.asarray(entropy, dtype=float)))


def rem_freezing_beta(n: int) -> float:
    """Freezing point ``sqrt(2 ln n)`` of the random energy model with ``n`` unit-variance levels.

    Parameters
    ----------
    n : int
        Number of keys (at least 2).

    Returns
    -------
    float
    """
    if n < 2:
        raise ValueError(f"n must be at least 2; got n={n}")
    return float(np.sqrt(2 * np.log(n)))


def rem_entropy(betas, n: int) -> np.ndarray:
    """Large-n quenched entropy of the REM softmax, divided by ``ln n``.

    ``(ln n - beta^2 / 2) / ln n`` below ``beta_c = sqrt(2 ln n)``, 0 above (Derrida 1981).

    Parameters
    ----------
    betas : array of float
        Logit standard deviations.
    n : int
        Number of keys.

    Returns
    -------
    numpy.ndarray, same shape as ``betas``
    """
    betas = np.asarray(betas, dtype=float)
    ln = np.log(n)
    return np.clip(1 - betas**2 / (2 * ln), 0.0, 1.0)


def random_queries_keys(n: int, d: int, batch: int = 1, seed: int = 0, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Independent standard Gaussian queries and keys, shape (batch, n, d).

    Parameters
    ----------
    n : int
        Tokens.
    d : int
        Head dimension.
    batch : int, default 1
        Independent draws.
    seed : int, default 0
    device : str or torch.device, default "cpu"

    Returns
    -------
    (q, k) : tuple of tensors
    """
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(batch, n, d, generator=g, dtype=torch.float64)
    k = torch.randn(batch, n, d, generator=g, dtype=torch.float64)
    return q.to(device), k.to(device)
