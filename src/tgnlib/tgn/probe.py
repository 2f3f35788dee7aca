"""Where the gate opens: gate values beside what attention would look at (claim G8).

For every block and token, the soft gate ``g_t`` and the *mean attended distance* of the block's
attention row, ``sum_j A_tj (t - j)`` averaged over heads: how far back attention looks from token t.
"""

from __future__ import annotations

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
