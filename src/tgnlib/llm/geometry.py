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
