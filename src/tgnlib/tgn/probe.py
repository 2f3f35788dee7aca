"""Where the gate opens: gate values beside what attention would look at (claim G8).

For every block and token, the soft gate ``g_t`` and the *mean attended distance* of the block's
attention row, ``sum_j A_tj (t - j)`` averaged over heads: how far back attention looks from token t.
And, from a model with attention (the Transformer), how much each token's loss gains from long context
(:func:`long_context_gain`): the tokens where a gate that serves long-range dependencies should open.
And what trained models do on the synthetic probes: recall and gates by distance on the recall task
(:func:`recall_by_distance`) and on MQAR (:func:`mqar_accuracy`), with the controls the gate is read
against (:func:`position_matched`), summarised per probe by :func:`gate_probe`.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import spearmanr
from torch.nn import functional as F

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


def _query_mask(batch: int, length: int, query_position: torch.Tensor) -> torch.Tensor:
    # (B, T) bool: True at each sequence's query positions (query_position is (B, n_queries))
    is_query = torch.zeros(batch, length, dtype=torch.bool)
    is_query[torch.arange(batch)[:, None], query_position] = True
    return is_query


def position_matched(gates: torch.Tensor, query_position: torch.Tensor) -> torch.Tensor:
    """The mean gate of the *other* tokens at each query's position (over the batch): a control for a gate
    that simply grows or shrinks along the sequence.

    Parameters
    ----------
    gates : tensor, shape (n_layers, B, T)
    query_position : long tensor, shape (B, n_queries)

    Returns
    -------
    tensor, shape (n_layers, B, n_queries)
        NaN where every sequence of the batch has a query at that position.
    """
    kept = (~_query_mask(*gates.shape[1:], query_position)).float()
    by_position = (gates * kept).sum(1) / kept.sum(0)  # (L, T); 0/0 = NaN where no other token sits there
    return by_position[:, query_position]


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
        soft gate at QUERY; ``gate_key`` (n_layers, n_distances): mean soft gate at KEY, the other rare
        marker, which needs nothing distant (the control for ``gate_query``); ``gate_position``
        (n_layers, n_distances): mean soft gate of the other tokens at QUERY's positions
        (:func:`position_matched`); ``gate_filler`` (n_layers,): mean soft gate over all positions but QUERY.
    """
    model.eval()
    acc, gate_query, gate_key, gate_pos, filler_sum, filler_n = [], [], [], [], 0.0, 0
    for d in distances:
        b = task.sample(n_per_distance, distance=int(d))
        out = model(b.inputs.to(next(model.parameters()).device))
        rows = torch.arange(n_per_distance)
        pred = out.logits[rows, b.query_position].argmax(-1).cpu()
        acc.append(float((pred == b.targets[rows, b.query_position]).float().mean()))
        gates = torch.stack([s.gate_soft for s in out.gates]).float().cpu()  # (L, B, T)
        gate_query.append(gates[:, rows, b.query_position].mean(1))
        gate_key.append(gates[:, rows, b.query_position - 1 - b.distance].mean(1))  # KEY sits distance + 1 before QUERY
        gate_pos.append(position_matched(gates, b.query_position[:, None]).nanmean((1, 2)))
        other = ~_query_mask(*b.inputs.shape, b.query_position[:, None])
        filler_sum = filler_sum + gates[:, other].sum(1)
        filler_n += int(other.sum())
    return {"distance": torch.as_tensor(list(distances)).numpy(), "accuracy": torch.tensor(acc).numpy(),
            "gate_query": torch.stack(gate_query, 1).numpy(), "gate_key": torch.stack(gate_key, 1).numpy(),
            "gate_position": torch.stack(gate_pos, 1).numpy(),
            "gate_filler": (filler_sum / filler_n).numpy()}


@torch.no_grad()
def long_context_gain(model: TGNLanguageModel, idx: torch.Tensor, targets: torch.Tensor, window: int) -> torch.Tensor:
    """Per-token loss reduction from long context: the loss when every attention layer sees only the last
    ``window`` positions, minus the loss with the whole causal context.

    Parameters
    ----------
    model : TGNLanguageModel
        A model with attention (e.g. ``mode="transformer"``); its recurrent streams, if any, keep their
        whole past, so use an attention-only model to measure what attention's long context brings.
    idx, targets : tensors, shape (B, T)
        Token ids and next-token targets.
    window : int
        Positions each query may see in the truncated run (>= 1); positions before ``window`` lose
        nothing and get exactly 0.

    Returns
    -------
    tensor, shape (B, T)
        Nats per token; positive where the long context helped.
    """
    if window < 1:
        raise ValueError(f"window={window} must be >= 1")
    attention = [b.attn for b in model.blocks if b.attn is not None]
    if not attention:
        raise ValueError("long_context_gain needs a model with attention")
    model.eval()

    def token_loss():
        logits = model(idx).logits
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none").view(targets.shape)

    full = token_loss()
    try:
        for a in attention:
            a.window = window
        short = token_loss()
    finally:
        for a in attention:
            a.window = None
    gain = short - full
    gain[:, :window] = 0.0  # identical context there; float noise from the two kernels is not a gain
    return gain


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


def gate_probe(distance, accuracy, gate_query, gate_control, gate_position, gate_other, count=None, long_from: int = 16) -> dict:
    """What a long-range probe says of a TGN's gate (claim G8): recall at long distances; whether the
    gate at the token that needs a distant one exceeds the gate at a control token of the same kind
    that needs nothing distant, and the gate of other tokens at the same positions; and whether it
    rises with distance.

    Parameters
    ----------
    distance : 1-d array, shape (n,)
        Dependency distance of each group (for distance bins: the bin's lower edge).
    accuracy : 1-d array, shape (n,)
        Recall accuracy of each group.
    gate_query, gate_control : arrays, shape (n_layers, n)
        Mean soft gate at the query token and at its control (e.g. the recall task's KEY marker, or
        MQAR's first appearance of the same key), per block and group.
    gate_position : array, shape (n_layers, n)
        Mean soft gate of the other tokens at the query positions (:func:`position_matched`); NaN
        groups (no other token at those positions) are left out of its mean, and a ValueError is
        raised if every group is NaN.
    gate_other : array, shape (n_layers,)
        Mean soft gate at every other token, per block (reported, not compared).
    count : 1-d array, shape (n,), or None, default None
        Queries per group (weights of the long-distance accuracy and of the means); None: equal.
    long_from : int, default 16
        Groups at or beyond this distance make the long-distance accuracy.

    Returns
    -------
    dict
        ``block`` (1-based; the block whose query gate is highest on average), ``long_accuracy``,
        ``rho`` (Spearman correlation of that block's query gate with distance; 0 when the gate is
        constant), and that block's ``gate_query``, ``gate_control``, ``gate_position`` and ``gate_other``.
    """
    distance, accuracy = np.asarray(distance, dtype=float), np.asarray(accuracy, dtype=float)
    gate_query = np.atleast_2d(np.asarray(gate_query, dtype=float))
    gate_control, gate_other = np.atleast_2d(np.asarray(gate_control, dtype=float)), np.asarray(gate_other, dtype=float)
    gate_position = np.atleast_2d(np.asarray(gate_position, dtype=float))
    count = np.ones_like(distance) if count is None else np.asarray(count, dtype=float)
    if not (distance.shape == accuracy.shape == count.shape == gate_query.shape[1:]) or not (
            gate_control.shape == gate_position.shape == gate_query.shape):
        raise ValueError(f"distance {distance.shape}, accuracy {accuracy.shape}, count {count.shape}, gate_query "
                         f"{gate_query.shape} and gate_control {gate_control.shape} (n_layers, n) disagree")
    long = distance >= long_from
    if not long.any():
        raise ValueError(f"no group at distance >= {long_from}; distances {distance.tolist()}")
    top = int(np.argmax(gate_query.mean(1)))
    # a group's position control is NaN where every sequence holds a query at its positions: no other token to read
    read = np.isfinite(gate_position[top])
    if not read.any():
        raise ValueError("gate_position is NaN in every group: every query position holds a query in every sequence, "
                         "so the position-matched control has no token to read (use fewer pairs or longer sequences)")
    rho = float(spearmanr(distance, gate_query[top])[0]) if np.ptp(gate_query[top]) > 0 else 0.0
    return {"block": top + 1, "long_accuracy": float(np.average(accuracy[long], weights=count[long])),
            "rho": rho if np.isfinite(rho) else 0.0, "gate_query": float(np.average(gate_query[top], weights=count)),
            "gate_control": float(np.average(gate_control[top], weights=count)),
            "gate_position": float(np.average(gate_position[top][read], weights=count[read])),
            "gate_other": float(gate_other[top])}


def quantile_binned_means(x, y, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Means of ``x`` and ``y`` in bins of ``x`` holding equal numbers of points (for ``x`` of any sign).

    Parameters
    ----------
    x, y : 1-d arrays of the same length
    n_bins : int, default 10

    Returns
    -------
    (x_means, y_means)
        One value per non-empty bin, in increasing ``x``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < n_bins:
        raise ValueError(f"x and y must be 1-d of the same length, at least n_bins={n_bins}; got {x.shape} and {y.shape}")
    order = np.argsort(x, kind="stable")
    parts = [p for p in np.array_split(order, n_bins) if len(p)]
    return np.array([x[p].mean() for p in parts]), np.array([y[p].mean() for p in parts])


@torch.no_grad()
def mqar_accuracy(model, task, batches: int = 8, batch_size: int = 64, bins=(0, 16, 64, 256, 1 << 30),
                  long_from: int = 16) -> dict:
    """Recall accuracy of a model on fresh MQAR sequences, overall and by key-query distance, and, for a
    TGN, its soft gate at the repeated keys (where the value must be recalled) and at every other token.

    Parameters
    ----------
    model : callable
        Maps inputs (B, T) to an object with ``.logits`` (B, T, V) and, for a TGN, ``.gates`` (a
        :class:`~tgnlib.tgn.TGNLanguageModel`).
    task : tgnlib.tgn.mqar.MQARTask
        Its generator is advanced (use another seed than training's).
    batches, batch_size : int
    bins : sequence of int
        Distance bin edges, ``[lo, hi)``.
    long_from : int, default 16
        Queries at least this far from their key make ``long_accuracy``.

    Returns
    -------
    dict
        ``accuracy`` (all queries), ``long_accuracy`` (queries at distance >= ``long_from``; nan if none),
        ``by_distance`` (list of (lo, hi, accuracy, count)), ``chance``
        (``2 / V``: one value among V/2); for a model with gates also ``gate_query`` (n_layers,
        n_bins): mean soft gate at the queries of each non-empty bin, ``gate_first_key`` (n_layers,
        n_bins): at the first appearance of the same keys (the same tokens, with nothing to recall: the
        control), ``gate_position`` (n_layers, n_bins): of the other tokens at the queries' positions
        (:func:`tgnlib.tgn.probe.position_matched`), and ``gate_other`` (n_layers,): mean soft gate at every
        position but the queries.
    """
    was = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    first = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    device = first.device if first is not None else torch.device("cpu")
    hits, dists, at_query, at_key, at_position, other_sum, other_n = [], [], [], [], [], 0.0, 0
    for _ in range(batches):
        b = task.sample(batch_size)
        out = model(b.inputs.to(device))
        pred = out.logits.argmax(-1).cpu()
        hits.append((pred.gather(1, b.query_position) == b.targets.gather(1, b.query_position)).flatten())
        dists.append(b.distance.flatten())
        if getattr(out, "gates", None):
            gates = torch.stack([s.gate_soft for s in out.gates]).float().cpu()  # (L, B, T)
            rows = torch.arange(batch_size)[:, None]
            at_query.append(gates[:, rows, b.query_position].flatten(1))  # (L, B * n_pairs), same order as hits
            first = 2 * torch.arange(task.n_pairs).expand(batch_size, -1)  # pair j's key first appears at 2j
            at_key.append(gates[:, rows, first].flatten(1))
            at_position.append(position_matched(gates, b.query_position).flatten(1))
            other = ~_query_mask(*b.inputs.shape, b.query_position)
            other_sum = other_sum + gates[:, other].sum(1)
            other_n += int(other.sum())
    if was:
        model.train()
    hit, dist = torch.cat(hits).float(), torch.cat(dists)
    gate_q = torch.cat(at_query, 1) if at_query else None
    gate_k = torch.cat(at_key, 1) if at_key else None
    gate_p = torch.cat(at_position, 1) if at_position else None
    by, gate_by, key_by, pos_by = [], [], [], []
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (dist >= lo) & (dist < hi)
        if m.any():
            by.append((int(lo), int(min(hi, task.seq_len)), float(hit[m].mean()), int(m.sum())))
            if gate_q is not None:
                gate_by.append(gate_q[:, m].mean(1))
                key_by.append(gate_k[:, m].mean(1))
                pos_by.append(gate_p[:, m].nanmean(1))
    long = dist >= long_from
    result = {"accuracy": float(hit.mean()), "long_accuracy": float(hit[long].mean()) if long.any() else float("nan"),
              "by_distance": by, "chance": 2 / task.vocab_size}
    if gate_q is not None:
        result.update(gate_query=torch.stack(gate_by, 1).numpy(), gate_first_key=torch.stack(key_by, 1).numpy(),
                      gate_position=torch.stack(pos_by, 1).numpy(),
                      gate_other=(other_sum / other_n).numpy())
    return result
