"""Rank of representations against depth in deep random networks (claim T5).

The paper argues by the data-processing inequality that *local* processing loses rank (mutual
information) exponentially with depth, and that non-local attention counters it. The most direct
test we know: the same random network, once with global self-attention and once with the attention
restricted to a window of ``+-window`` tokens (local processing), and the effective rank of the token
representations after each block. Residual connections and a token-wise MLP are switches, because
the known result for attention without them (Dong, Cordonnier and Loukas 2021: pure attention loses
rank doubly exponentially) points the other way.

One block, pre-norm as in GPT-2, weights drawn afresh per block with variance 1/fan-in::

    h = LN(x);  a = softmax(mask(h Wq (h Wk)^T / sqrt(d))) h Wv
    x = x + a        (or x = a without residual)
    x = x + relu(LN(x) W1) W2 * sqrt(2)   (when mlp=True; x = ... without residual)
"""

from __future__ import annotations

import numpy as np
import torch

from .rank import effective_rank

MIXINGS = ("global", "local", "none")


def _layer_norm(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.layer_norm(x, x.shape[-1:])


def _mix(h: torch.Tensor, mixing: str, window: int, g: torch.Generator) -> torch.Tensor:
    s, n, d = h.shape
    if mixing == "none":
        return h
    wq, wk, wv = (torch.randn(s, d, d, generator=g, dtype=h.dtype, device="cpu").to(h.device) / np.sqrt(d) for _ in range(3))
    logits = (h @ wq) @ (h @ wk).transpose(-1, -2) / np.sqrt(d)
    if mixing == "local":
        i = torch.arange(n, device=h.device)
        logits = logits.masked_fill((i[:, None] - i[None, :]).abs() > window, float("-inf"))
    return torch.softmax(logits, dim=-1) @ (h @ wv)


def depth_rank_profile(
    n_tokens: int = 128,
    width: int = 64,
    depth: int = 24,
    mixing: str = "global",
    window: int = 2,
    residual: bool = False,
    mlp: bool = True,
    samples: int = 8,
    estimator: str = "entropy",
    seed: int = 0,
    device="cpu",
) -> np.ndarray:
    """Effective rank of the token representations after each block of a random network.

    Parameters
    ----------
    n_tokens : int, default 128
        Sequence length n.
    width : int, default 64
        Model width d.
    depth : int, default 24
        Number of blocks.
    mixing : {"global", "local", "none"}, default "global"
        Token mixing: full self-attention, attention within ``+-window`` tokens, or none (MLP only).
    window : int, default 2
        Half-width of the local window, in tokens (used when ``mixing="local"``).
    residual : bool, default False
        Add each sub-block's output to its input (as in a Transformer) instead of replacing it.
    mlp : bool, default True
        Include the token-wise ReLU MLP (width 4d) after the mixing.
    samples : int, default 8
        Independent networks and inputs, run as a batch.
    estimator : str, default "entropy"
        Rank estimator of :mod:`tgnlib.rank`, on the uncentred (n, d) token matrix: all tokens
        equal ("rank collapse") gives 1. Centring would amplify round-off once tokens coincide.
    seed : int, default 0
    device : str or torch.device, default "cpu"

    Returns
    -------
    numpy.ndarray, shape (samples, depth + 1)
        Column 0 is the input (i.i.d. Gaussian tokens), column l the output of block l.
    """
    if mixing not in MIXINGS:
        raise ValueError(f"mixing={mixing!r} is not one of {MIXINGS}")
    for name, value in (("n_tokens", n_tokens), ("width", width), ("depth", depth), ("samples", samples), ("window", window)):
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise ValueError(f"{name} must be a positive integer; got {name}={value!r}")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, n_tokens, width, generator=g, dtype=torch.float64).to(device)
    ranks = [effective_rank(x, estimator)]
    for _ in range(depth):
        a = _mix(_layer_norm(x), mixing, window, g)
        x = x + a if residual else a
        if mlp:
            w1 = torch.randn(samples, width, 4 * width, generator=g, dtype=x.dtype).to(device) / np.sqrt(width)
            w2 = torch.randn(samples, 4 * width, width, generator=g, dtype=x.dtype).to(device) / np.sqrt(4 * width)
            m = torch.relu(_layer_norm(x) @ w1) @ w2 * np.sqrt(2)
            x = x + m if residual else m
        ranks.append(effective_rank(x, estimator))
    return torch.stack(ranks, dim=-1).cpu().numpy()


def depth_to_fraction(profile: np.ndarray, fraction: float = 0.5) -> np.ndarray:
    """First block at which the rank falls below ``fraction`` of its input value.

    Parameters
    ----------
    profile : array, shape (samples, depth + 1)
        From :func:`depth_rank_profile`.
    fraction : float, default 0.5

    Returns
    -------
    numpy.ndarray of float, shape (samples,)
        Block index; ``inf`` where the rank never falls that low.
    """
    profile = np.asarray(profile, dtype=float)
    if profile.ndim != 2:
        raise ValueError(f"profile must be (samples, depth + 1); got shape {profile.shape}")
    below = profile <= fraction * profile[:, :1]
    first = np.where(below.any(1), below.argmax(1), np.inf)
    return first.astype(float)
