"""The geometric stream: causal self-attention, dense or only for gated query positions.

Sparse execution is what makes the paper's compute claim testable: with a hard gate, attention is
computed only for the query positions whose gate is open, each still attending to every earlier key
and value. :func:`attention_flops` counts what was executed.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

# Kernels allowed for the masked attention of attend_rows on CUDA. cuDNN's is left out: with an explicit mask
# on Hopper its backward returns NaN in the query gradient for some key lengths (pytorch/pytorch#196678, torch
# 2.11 and later), which is how a hard-gated TGN trained on an H200 went to NaN within a dozen steps. The
# memory-efficient and math kernels give the exact result.
MASKED_SDPA_BACKENDS = [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]


def attention_flops(n_queries: int, n_keys: int, d_model: int) -> float:
    """Multiply-add FLOPs of the score and value products for ``n_queries`` rows over ``n_keys`` keys.

    ``2 * n_queries * n_keys * d_model`` each for ``Q K^T`` and ``A V`` (the projections are counted
    separately, as dense layers). For causal attention pass the mean number of visible keys.
    """
    return 4.0 * n_queries * n_keys * d_model


def attend_rows(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, positions: torch.Tensor,
                chunks: int = 4, dropout_p: float = 0.0) -> torch.Tensor:
    """Causal attention for a subset of query positions: the core of sparse gated attention.

    Parameters
    ----------
    q : tensor, shape (B, H, N, Dh)
        Queries of the N selected positions, in increasing position order.
    k, v : tensors, shape (B, H, T, Dh)
        Keys and values of every position.
    positions : long tensor, shape (B, N)
        Position of each query, increasing along N; query ``i`` sees keys ``0 .. positions[:, i]``.
    chunks : int, default 4
        The queries are cut into this many blocks that each read only the keys up to their last
        position, so a block of early queries does not pay for the whole sequence (about 5/8 of the
        keys with four blocks; more blocks lose more to per-call overhead on CPU).
    dropout_p : float, default 0.0
        Attention dropout, as in ``scaled_dot_product_attention``.

    Returns
    -------
    tensor, shape (B, H, N, Dh)
        Exactly the rows of dense causal attention at ``positions``.
    """
    parts = []
    backends = sdpa_kernel(MASKED_SDPA_BACKENDS) if q.is_cuda else contextlib.nullcontext()
    with backends:
        for block in torch.arange(q.shape[2], device=q.device).chunk(max(1, min(chunks, q.shape[2]))):
            limit = int(positions[:, block].max()) + 1
            mask = torch.arange(limit, device=q.device)[None, None, :] <= positions[:, block, None]  # (B, block, limit)
            parts.append(F.scaled_dot_product_attention(q[:, :, block], k[:, :, :limit], v[:, :, :limit],
                                                        attn_mask=mask[:, None], dropout_p=dropout_p))
    return torch.cat(parts, dim=2)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with ``scaled_dot_product_attention``."""

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.n_heads = n_heads
        self.dropout = dropout
        self.query_chunks = 4  # blocks of gated queries in forward_rows (see attend_rows)
        self.window: int | None = None  # if set, each query sees only its last `window` positions (a probe; never trained)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        return tuple(z.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2) for z in (q, k, v))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Dense causal attention for every position: (B, T, D) -> (B, T, D); with ``self.window`` set, a
        query at position i sees positions ``i - window + 1 .. i`` only (truncated context)."""
        q, k, v = self._heads(x)
        dropout_p = self.dropout if self.training else 0.0
        if self.window is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout_p)
        else:
            lag = torch.arange(x.shape[1], device=x.device)[:, None] - torch.arange(x.shape[1], device=x.device)[None, :]
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=(lag >= 0) & (lag < self.window), dropout_p=dropout_p)
        return self.proj(y.transpose(1, 2).reshape(x.shape))

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """Causal attention probabilities (B, H, T, T) for ``x`` (B, T, D): what :meth:`forward` mixes with."""
        q, k, _ = self._heads(x)
        t = x.shape[1]
        scores = (q @ k.transpose(-2, -1)) / (q.shape[-1] ** 0.5)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        return scores.masked_fill(~causal, float("-inf")).softmax(-1)

    def forward_rows(self, x: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Attention only for the query positions where ``rows`` is True.

        Parameters
        ----------
        x : tensor, shape (B, T, D)
        rows : bool tensor, shape (B, T)

        Returns
        -------
        (out, flops)
            ``out`` (B, T, D) with zeros where ``rows`` is False and, elsewhere, exactly the dense
            result; ``flops`` the score/value FLOPs executed.
        """
        b, t, d = x.shape
        h = self.n_heads
        n_max = int(rows.sum(1).max()) if rows.any() else 0
        out = torch.zeros_like(x)
        if n_max == 0:
            return out, 0.0
        # keys and values for every position; queries only for the open rows (a third of the projection saved).
        # Head-major copies once: each block of attend_rows would otherwise copy its strided slice inside SDPA.
        w_q, w_kv = self.qkv.weight.split([d, 2 * d])
        b_q, b_kv = self.qkv.bias.split([d, 2 * d])
        k, v = (z.view(b, t, h, d // h).transpose(1, 2).contiguous() for z in F.linear(x, w_kv, b_kv).split(d, dim=-1))
        # gather each sample's gated query positions (padded to n_max) and keep keys <= each query's position
        pos = torch.where(rows, torch.arange(t, device=x.device), t).sort(dim=1).values[:, :n_max]  # (B, n_max), t = padding
        valid = pos < t
        safe = pos.clamp(max=t - 1)
        x_rows = x.gather(1, safe[..., None].expand(-1, -1, d))
        qs = F.linear(x_rows, w_q, b_q).view(b, n_max, h, d // h).transpose(1, 2)
        y = attend_rows(qs, k, v, safe, chunks=self.query_chunks, dropout_p=self.dropout if self.training else 0.0)
        y = self.proj(y.transpose(1, 2).reshape(b, n_max, d))
        # Padding slots point at position t-1 with a zero output: add rather than write, so they can never
        # overwrite a real output there (a plain scatter did, when a sample's last position was open).
        y = y * valid[..., None]
        out = out.scatter_add(1, safe[..., None].expand(-1, -1, d), y)
        flops = attention_flops(1, 1, d) * float((pos.float() + 1).masked_fill(~valid, 0).sum())
        return out, flops
