"""Effective rank of the residual stream, layer by layer ("geometric rank", our reading).

The paper does not define its geometric rank. We read it as the effective rank of the token cloud
at each depth: the (T, d) matrix of one sequence's hidden states, centred over tokens (so the shared
mean direction does not count), with every estimator of :mod:`tgnlib.rank`. Two variants: the
tokens of each sequence separately (a band over sequences) and all tokens pooled; and each with the
features standardised, because a few massive residual dimensions can dominate the raw spectrum.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import rank
from ..bootstrap import bootstrap_interval

VARIANTS = ("per_sequence", "pooled", "per_sequence_standardised", "pooled_standardised")


def layer_ranks(stream: torch.Tensor) -> dict[str, dict[str, np.ndarray]]:
    """Effective ranks of a residual stream at every depth.

    Parameters
    ----------
    stream : tensor, shape (depths, B, T, d)
        E.g. ``residual_stream(model, batch)["pre_norm"]``.

    Returns
    -------
    dict
        ``result[variant][estimator]``: arrays of shape (depths, B) for the per-sequence variants and
        (depths,) for the pooled ones; variants in ``VARIANTS``, estimators in ``rank.ESTIMATORS``.
    """
    if stream.ndim != 4:
        raise ValueError(f"stream must be (depths, B, T, d); got shape {tuple(stream.shape)}")
    x = stream.double()
    depths, b, t, d = x.shape
    pooled = x.reshape(depths, b * t, d)
    out = {}
    for name, data in (("per_sequence", x), ("pooled", pooled)):
        out[name] = {k: v.cpu().numpy() for k, v in rank.effective_ranks(data, center=True).items()}
        std = rank.standardise_features(data)
        out[f"{name}_standardised"] = {k: v.cpu().numpy() for k, v in rank.effective_ranks(std, center=True).items()}
    return out


SINK_MULTIPLE = 10.0  # a token whose residual norm exceeds this multiple of the sequence's median is a sink


def sink_diagnostics(stream: torch.Tensor, top_dims: int = 4) -> dict[str, np.ndarray]:
    """Per-layer attention-sink / massive-activation diagnostics (Xiao et al. 2023; Sun et al. 2024).

    Parameters
    ----------
    stream : tensor, shape (depths, B, T, d)
    top_dims : int, default 4
        How many residual dimensions of largest magnitude to report per depth.

    Returns
    -------
    dict
        ``norm_ratio`` (depths, B): largest token norm over the median token norm of the sequence;
        ``argmax_position`` (depths, B): where the largest norm sits; ``top_dims`` (depths, top_dims):
        the residual dimensions of largest absolute activation over all tokens (the "massive"
        dimensions); ``top_values`` (depths, top_dims): those activations' magnitudes over the median
        absolute activation.
    """
    if stream.ndim != 4:
        raise ValueError(f"stream must be (depths, B, T, d); got shape {tuple(stream.shape)}")
    x = stream.float()
    norms = x.norm(dim=-1)  # (depths, B, T)
    ratio = norms.max(-1).values / norms.median(-1).values.clamp(min=1e-12)
    mags = x.abs().amax(dim=(1, 2))  # (depths, d): largest magnitude per dimension
    top = mags.topk(min(top_dims, x.shape[-1]), dim=-1)
    median = x.abs().flatten(1).median(-1).values.clamp(min=1e-12)
    return {"norm_ratio": ratio.cpu().numpy(), "argmax_position": norms.argmax(-1).cpu().numpy(),
            "top_dims": top.indices.cpu().numpy(), "top_values": (top.values / median[:, None]).cpu().numpy()}


def sink_mask(stream: torch.Tensor, multiple: float = SINK_MULTIPLE, first: bool = True) -> torch.Tensor:
    """Tokens to leave out as attention sinks: position 0, and any token whose residual norm exceeds
    ``multiple`` times its sequence's median token norm at some depth.

    Parameters
    ----------
    stream : tensor, shape (depths, B, T, d)
    multiple : float, default :data:`SINK_MULTIPLE`
    first : bool, default True
        Whether position 0 is always a sink (the usual sink in causal LMs).

    Returns
    -------
    torch.BoolTensor, shape (B, T)
    """
    norms = stream.float().norm(dim=-1)  # (depths, B, T)
    huge = (norms > multiple * norms.median(-1, keepdim=True).values).any(0)
    if first:
        huge[:, 0] = True
    return huge


def ranks_without(stream: torch.Tensor, mask: torch.Tensor) -> dict[str, np.ndarray]:
    """Per-sequence effective ranks of the token cloud with the ``mask``-ed tokens left out.

    Parameters
    ----------
    stream : tensor, shape (depths, B, T, d)
    mask : bool tensor, shape (B, T)
        True for the tokens to drop (e.g. :func:`sink_mask`).

    Returns
    -------
    dict of str -> numpy.ndarray, shape (depths, B)
        One entry per estimator of :mod:`tgnlib.rank`, centred over the kept tokens.
    """
    depths, b = stream.shape[:2]
    out = {e: np.zeros((depths, b)) for e in rank.ESTIMATORS}
    for i in range(b):
        kept = stream[:, i, ~mask[i]].double()  # (depths, T_kept, d)
        if kept.shape[1] < 2:
            raise ValueError(f"sequence {i} keeps {kept.shape[1]} tokens after removing sinks; need at least 2")
        for e, v in rank.effective_ranks(kept, center=True).items():
            out[e][:, i] = v.cpu().numpy()
    return out


def mean_band(per_sequence: np.ndarray, n_boot: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over sequences with a 95% bootstrap band.

    Parameters
    ----------
    per_sequence : array, shape (depths, B)
    n_boot : int, default 1000
    seed : int, default 0

    Returns
    -------
    (mean, low, high) : arrays of shape (depths,)
    """
    values = np.asarray(per_sequence, dtype=float)
    low, high = bootstrap_interval(values, np.mean, n_boot=n_boot, seed=seed)
    return values.mean(1), low, high


def paired_difference_ci(a: np.ndarray, b: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``a - b`` over paired samples with a 95% bootstrap interval.

    Parameters
    ----------
    a, b : arrays of shape (B,)
    n_boot : int, default 2000
    seed : int, default 0

    Returns
    -------
    (mean, low, high)
    """
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if diff.ndim != 1 or len(diff) < 2:
        raise ValueError(f"need two paired 1-d samples of length >= 2; got shape {diff.shape}")
    low, high = bootstrap_interval(diff, np.mean, n_boot=n_boot, seed=seed)
    return float(diff.mean()), low, high


def _ranks_from_gram(gram: torch.Tensor) -> dict[str, np.ndarray]:
    # singular values of the (centred) data are the square roots of the Gram (scatter) eigenvalues
    s = torch.linalg.eigvalsh(gram).clamp(min=0).sqrt().flip(-1)
    return {est: rank.rank_from_singular_values(s, est).cpu().numpy() for est in rank.ESTIMATORS}


@torch.no_grad()
def measure_model(model, batch: dict[str, torch.Tensor], batch_size: int = 4) -> dict:
    """Layer ranks and perplexity of a model on a batch, in minibatches (memory-safe at full scale).

    Per-sequence ranks are computed per minibatch; pooled ranks come from the scatter matrix of all
    tokens, accumulated in float64, so no more than ``batch_size`` sequences of hidden states are held.

    Parameters
    ----------
    model : a GPT-2- or Llama-type causal LM (any interventions already applied by the caller)
    batch : dict with ``input_ids`` (B, T)
    batch_size : int, default 4

    Returns
    -------
    dict
        ``ranks[variant][estimator]`` as in :func:`layer_ranks`; ``perplexity`` (float) over all
        next-token predictions.
    """
    from .inside import residual_stream

    ids_all = batch["input_ids"]
    per_seq: dict[str, dict[str, list]] = {v: {e: [] for e in rank.ESTIMATORS} for v in ("per_sequence", "per_sequence_standardised")}
    total = sq = count = None
    ce_sum, ce_n = 0.0, 0
    for start in range(0, len(ids_all), batch_size):
        sub = {k: v[start:start + batch_size] for k, v in batch.items()}
        out = residual_stream(model, sub)
        x = out["pre_norm"]  # (depths, b, T, d), in the model's precision: per-sequence ranks to ~1e-3 in float32
        for variant, data in (("per_sequence", x), ("per_sequence_standardised", rank.standardise_features(x))):
            for est, value in rank.effective_ranks(data, center=True).items():
                per_seq[variant][est].append(value.cpu().numpy())
        flat = x.double().reshape(x.shape[0], -1, x.shape[-1])  # pooled sums in float64
        total = flat.sum(1) if total is None else total + flat.sum(1)
        sq = flat.transpose(1, 2) @ flat if sq is None else sq + flat.transpose(1, 2) @ flat
        count = flat.shape[1] + (count or 0)
        logits = out["logits"][:, :-1].float()
        targets = sub["input_ids"][:, 1:].to(logits.device)
        ce_sum += float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum"))
        ce_n += targets.numel()
    mean = total / count
    scatter = sq - count * mean.unsqueeze(-1) * mean.unsqueeze(-2)  # centred over all tokens
    std = torch.sqrt(torch.diagonal(scatter, dim1=-2, dim2=-1).clamp(min=0) / (count - 1)) + 1e-6
    ranks = {v: {e: np.concatenate(vals, axis=1) for e, vals in d.items()} for v, d in per_seq.items()}
    ranks["pooled"] = _ranks_from_gram(scatter)
    ranks["pooled_standardised"] = _ranks_from_gram(scatter / (std.unsqueeze(-1) * std.unsqueeze(-2)))
    return {"ranks": ranks, "perplexity": float(np.exp(ce_sum / ce_n))}
