"""Where the gate opens: gate values beside what attention would look at (claim G8).

For every block and token, the soft gate ``g_t`` and the *mean attended distance* of the block's
attention row, ``sum_j A_tj (t - j)`` averaged over heads: how far back attention looks from token t.
"""

from __future__ import annotations

import numpy as np
import torch

from .model import TGNLanguageModel


@torch.no_grad()
def gates_and_attended_distance(model: TGNLanguageModel, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Soft gates and mean attended distances of a TGN on a batch of token ids.

    Parameters
    ----------
    model : TGNLanguageModel
        With ``mode="tgn"``.
    idx : tensor, shape (B, T)
        Token ids.

    Returns
    -------
    (gates, distances) : tensors of shape (n_layers, B, T)
        ``gates``: the soft gate (before any threshold); ``distances``: mean attended distance in tokens.
    """
    if model.cfg.mode != "tgn":
        raise ValueError(f"model.cfg.mode={model.cfg.mode!r}: gates exist only for mode='tgn'")
    model.eval()
    b, t = idx.shape
    x = model.tok(idx) + model.pos(torch.arange(t, device=idx.device))
    lag = (torch.arange(t)[:, None] - torch.arange(t)[None, :]).clamp(min=0).to(x)
    gates, distances = [], []
    for block in model.blocks:
        weights = block.attn.weights(block.ln1(x))  # (B, H, T, T)
        distances.append((weights * lag).sum(-1).mean(1))
        x, stats = block(x)
        gates.append(stats.gate_soft)
    return torch.stack(gates), torch.stack(distances)


@torch.no_grad()
def recall_by_distance(model: TGNLanguageModel, task, distances, n_per_distance: int = 256) -> dict:
    """Recall accuracy and gate values at the token that needs the long dependency, per distance.

    Parameters
    ----------
    model : TGNLanguageModel
        Trained on ``task`` (any mode; gates are 0 or 1 for the fixed-gate modes).
    task : RecallTask
        Its generator is advanced (use a fresh task with another seed than training's).
    distances : sequence of int
    n_per_distance : int, default 256
        Sequences per distance.

    Returns
    -------
    dict of numpy arrays, indexed by distance
        ``accuracy`` (argmax at QUERY equals the value), ``gate_query`` (n_layers, n_distances): mean
        soft gate at QUERY; ``gate_filler`` (n_layers,): mean soft gate over all other positions.
    """
    model.eval()
    acc, gate_query, filler_sum, filler_n = [], [], 0.0, 0
    for d in distances:
        b = task.sample(n_per_distance, distance=int(d))
        out = model(b.inputs.to(next(model.parameters()).device))
        rows = torch.arange(n_per_distance)
        pred = out.logits[rows, b.query_position].argmax(-1).cpu()
        acc.append(float((pred == b.targets[rows, b.query_position]).float().mean()))
        gates = torch.stack([s.gate_soft for s in out.gates]).float().cpu()  # (L, B, T)
        gate_query.append(gates[:, rows, b.query_position].mean(1))
        is_query = torch.zeros_like(b.inputs, dtype=torch.bool)
        is_query[rows, b.query_position] = True
        filler_sum = filler_sum + gates[:, ~is_query].sum(1)
        filler_n += int((~is_query).sum())
    return {"distance": torch.as_tensor(list(distances)).numpy(), "accuracy": torch.tensor(acc).numpy(),
            "gate_query": torch.stack(gate_query, 1).numpy(), "gate_filler": (filler_sum / filler_n).numpy()}


def log_binned_means(x, y, lo: float, hi: float, n_bins: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``y`` in logarithmic bins of ``x`` between ``lo`` and ``hi`` (empty bins dropped).

    Parameters
    ----------
    x, y : 1-d arrays of the same length
        ``x`` > 0 where it is kept; values outside ``[lo, hi]`` fall in the edge bins.
    lo, hi : float
        Range of the bin edges (``0 < lo < hi``).
    n_bins : int, default 12

    Returns
    -------
    (centres, means)
        Geometric mean of ``x`` and arithmetic mean of ``y`` in each non-empty bin.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d of the same length; got {x.shape} and {y.shape}")
    if not 0 < lo < hi:
        raise ValueError(f"need 0 < lo < hi; got lo={lo}, hi={hi}")
    which = np.clip(np.digitize(x, np.geomspace(lo, hi, n_bins + 1)), 1, n_bins)
    bins = np.unique(which)
    return (np.array([np.exp(np.log(x[which == b]).mean()) for b in bins]), np.array([y[which == b].mean() for b in bins]))
