"""Effective rank of the residual stream, layer by layer ("geometric rank", our reading).

The paper does not define its geometric rank. We read it as the effective rank of the token cloud
at each depth: the (T, d) matrix of one sequence's hidden states, centred over tokens (so the shared
mean direction does not count), with every estimator of :mod:`tgnlib.rank`.

Three curves per model and condition (:data:`CURVES`), because the field's first objection to a
rank dip in a Llama-type model is the **attention sink** with its **massive activation** (Xiao et
al. 2023; Sun et al. 2024): one token (usually position 0) whose residual norm grows by orders of
magnitude in the middle blocks and then owns the spectrum of the token cloud.

* (a) ``"all tokens"``: every token of the sequence;
* (b) ``"without sinks"``: the sink positions left out (:func:`sink_mask`: position 0, and any
  token whose norm exceeds :data:`SINK_MULTIPLE` times the sequence's median token norm at some
  depth), the rest centred over the kept tokens;
* (c) ``"standardised"``: all tokens, each feature divided by its standard deviation over the
  sequence's tokens (a few massive residual dimensions can dominate the raw spectrum).
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

# curve name -> key of measure_model's per-sequence ranks
CURVES = {"all tokens": "per_sequence", "without sinks": "per_sequence_no_sink", "standardised": "per_sequence_standardised"}


def sink_diagnostics(stream: torch.Tensor, top_dims: int = 4) -> dict[str, np.ndarray]:
    """Per-layer attention-sink / massive-activation diagnostics (Xiao et al. 2023; Sun et al. 2024).

    Parameters
    ----------
    stream : tensor, shape (depths, B, T, d)
    top_dims : int, default 4
        How many residual dimensions of largest magnitude to report per depth; 0 skips them (and
        the median over all activations they are compared with, the costly part).

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
    out = {"norm_ratio": ratio.cpu().numpy(), "argmax_position": norms.argmax(-1).cpu().numpy()}
    if top_dims == 0:  # the median over every activation is the costly part: skip it when not asked
        return out
    mags = x.abs().amax(dim=(1, 2))  # (depths, d): largest magnitude per dimension
    top = mags.topk(min(top_dims, x.shape[-1]), dim=-1)
    median = x.abs().flatten(1).median(-1).values.clamp(min=1e-12)
    return {**out, "top_dims": top.indices.cpu().numpy(), "top_values": (top.values / median[:, None]).cpu().numpy()}


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


def curve_ranks(stream: torch.Tensor, mask: torch.Tensor | None = None) -> dict[str, dict[str, torch.Tensor]]:
    """Per-sequence ranks of the three curves of :data:`CURVES` at every depth.

    Parameters
    ----------
    stream : tensor, shape (depths, B, T, d)
    mask : bool tensor, shape (B, T), or None
        The sink tokens left out of curve (b); ``None`` takes :func:`sink_mask` of ``stream``.

    Returns
    -------
    dict
        ``result[key][estimator]``, tensors of shape (depths, B), for the keys of :data:`CURVES`
        (``"per_sequence"``, ``"per_sequence_no_sink"``, ``"per_sequence_standardised"``).
    """
    mask = sink_mask(stream) if mask is None else mask
    centred = stream - stream.mean(dim=-2, keepdim=True)  # (depths, B, T, d)
    # token Gram matrices (T x T): their eigenvalues are the squared singular values of the token cloud
    gram_a = centred @ centred.transpose(-1, -2)
    # (b) from (a) without a second product: the kept rows W (Xc - 1 delta^T), delta the kept rows' mean of Xc,
    # have Gram W (G - u 1^T - 1 u^T + |delta|^2 1 1^T) W with u = Xc delta = G w / n and |delta|^2 = w.u / n
    w = (~mask).to(device=stream.device, dtype=stream.dtype)  # (B, T)
    n_kept = w.sum(-1, keepdim=True)  # (B, 1)
    if (n_kept < 2).any():
        raise ValueError(f"sequence(s) {torch.nonzero(n_kept.flatten() < 2).flatten().tolist()} keep fewer than 2 tokens after "
                         "removing sinks")
    u = (gram_a @ w.unsqueeze(-1)).squeeze(-1) / n_kept  # (depths, B, T)
    delta2 = (w * u).sum(-1, keepdim=True) / n_kept  # (depths, B, 1)
    gram_b = (gram_a - u.unsqueeze(-1) - u.unsqueeze(-2) + delta2.unsqueeze(-1)) * w.unsqueeze(-1) * w.unsqueeze(-2)
    scaled = centred / (centred.std(dim=-2, keepdim=True) + 1e-6)  # (c), as rank.standardise_features
    gram_c = scaled @ scaled.transpose(-1, -2)
    # one batched eigendecomposition for the three curves, split over the cores
    grams = torch.cat([gram_a, gram_b, gram_c], dim=1)  # (depths, 3B, T, T)
    s = rank._map_over_batch(torch.linalg.eigvalsh, grams).clamp(min=0).sqrt().flip(-1)
    b = stream.shape[1]
    return {key: {est: rank.rank_from_singular_values(s[:, i * b:(i + 1) * b], est) for est in rank.ESTIMATORS}
            for i, key in enumerate(CURVES.values())}


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
        ``ranks[variant][estimator]``: per-sequence arrays (depths, B) for the three curves of
        :data:`CURVES` and pooled arrays (depths,) as in :func:`layer_ranks`; ``sinks``: the per-layer
        diagnostics of :func:`sink_diagnostics` over all sequences (``norm_ratio`` and
        ``argmax_position`` (depths, B); ``top_dims`` and ``top_values`` of the first minibatch)
        plus ``removed`` (B,), the tokens :func:`sink_mask` left out of curve (b);
        ``perplexity`` (float) over all next-token predictions.
    """
    from .inside import residual_stream

    ids_all = batch["input_ids"]
    per_seq: dict[str, dict[str, list]] = {v: {e: [] for e in rank.ESTIMATORS} for v in CURVES.values()}
    sinks: dict[str, list] = {"norm_ratio": [], "argmax_position": [], "removed": []}
    total = sq = count = None
    ce_sum, ce_n = 0.0, 0
    for start in range(0, len(ids_all), batch_size):
        sub = {k: v[start:start + batch_size] for k, v in batch.items()}
        out = residual_stream(model, sub)
        x = out["pre_norm"]  # (depths, b, T, d), in the model's precision: per-sequence ranks to ~1e-3 in float32
        diag = sink_diagnostics(x, top_dims=4 if start == 0 else 0)
        if start == 0:
            sinks.update(top_dims=diag["top_dims"], top_values=diag["top_values"])
        mask = sink_mask(x)  # (b, T): position 0 and massive tokens
        sinks["norm_ratio"].append(diag["norm_ratio"])
        sinks["argmax_position"].append(diag["argmax_position"])
        sinks["removed"].append(mask.sum(-1).cpu().numpy())
        for variant, values in curve_ranks(x, mask).items():
            for est, value in values.items():
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
    sink_out = {k: (np.concatenate(v, axis=-1) if isinstance(v, list) else v) for k, v in sinks.items()}
    return {"ranks": ranks, "sinks": sink_out, "perplexity": float(np.exp(ce_sum / ce_n))}


def describe_profile(per_sequence: np.ndarray, seed: int = 0) -> dict:
    """The numbers the L1-L3 rules read from one rank-against-depth curve.

    Parameters
    ----------
    per_sequence : array, shape (depths, B)
        One estimator's rank per depth and sequence (one curve of :data:`CURVES`).
    seed : int, default 0
        Seed of the bootstrap intervals.

    Returns
    -------
    dict
        ``input``, ``minimum``, ``final`` (mean over sequences), ``min_index`` and ``min_depth``
        (where the mean curve is lowest, as index and normalised depth), ``drop`` (minimum / input),
        ``at_third`` (rank at one third of depth, interpolated, / input), ``final_over_input``, and
        ``final_vs_input`` and ``final_vs_min``: paired differences over sequences as (mean, low,
        high) with 95% bootstrap intervals.
    """
    values = np.asarray(per_sequence, dtype=float)
    if values.ndim != 2 or values.shape[0] < 3:
        raise ValueError(f"per_sequence must be (depths >= 3, B); got shape {values.shape}")
    curve = values.mean(1)
    depth = np.linspace(0, 1, len(curve))
    i_min = int(np.argmin(curve))
    return dict(input=float(curve[0]), minimum=float(curve[i_min]), final=float(curve[-1]), min_index=i_min,
                min_depth=float(depth[i_min]), drop=float(curve[i_min] / curve[0]),
                at_third=float(np.interp(1 / 3, depth, curve) / curve[0]), final_over_input=float(curve[-1] / curve[0]),
                final_vs_input=paired_difference_ci(values[-1], values[0], seed=seed),
                final_vs_min=paired_difference_ci(values[-1], values[i_min], seed=seed))


def refine_temperatures(temperatures, curves) -> list[float]:
    """Temperatures to add so that each curve's rank transition is located on a finer grid.

    For every curve, the susceptibility ``|d rank / d ln T|`` peaks at some grid point; the
    geometric midpoints of its two neighbouring intervals are returned (those not already on the
    grid), so one call halves the grid step around every transition.

    Parameters
    ----------
    temperatures : array, shape (m,)
        The increasing grid measured so far.
    curves : iterable of arrays of shape (m,)
        One order parameter per curve (e.g. the mean entropy rank over depths).

    Returns
    -------
    list of float
        New temperatures, increasing; empty when nothing is left to refine.
    """
    from ..criticality import susceptibility

    temps = np.asarray(temperatures, dtype=float)
    new: set[float] = set()
    for values in curves:
        i = int(np.argmax(susceptibility(temps, values)))
        for j in (i - 1, i + 1):
            if 0 <= j < len(temps):
                mid = float(np.sqrt(temps[i] * temps[j]))
                if not np.isclose(temps, mid, rtol=1e-9).any():
                    new.add(mid)
    return sorted(new)


def scan_temperatures(model, batch: dict[str, torch.Tensor], temperatures, refine_rounds: int = 0, batch_size: int = 4,
                      progress: bool = True) -> dict[float, dict]:
    """:func:`measure_model` at every attention temperature, with the grid refined near the transitions.

    After the given grid, ``refine_rounds`` times: :func:`refine_temperatures` on the mean entropy
    rank (over depths and sequences) of every curve of :data:`CURVES`, and the new points measured.

    Parameters
    ----------
    model : a GPT-2- or Llama-type causal LM
    batch : dict with ``input_ids`` (B, T)
    temperatures : sequence of float
        The coarse grid (increasing, positive).
    refine_rounds : int, default 0
    batch_size : int, default 4
    progress : bool, default True
        Show a tqdm bar.

    Returns
    -------
    dict of float -> dict
        :func:`measure_model`'s result per temperature, in increasing order of T.
    """
    from tqdm.auto import tqdm

    from .inside import attention_temperature

    results: dict[float, dict] = {}

    def measure(temps, desc):
        for t in tqdm(temps, desc=desc, disable=not progress, leave=False):
            with attention_temperature(model, t):
                results[float(t)] = measure_model(model, batch, batch_size=batch_size)

    measure(list(temperatures), "attention temperature")
    for r in range(refine_rounds):
        grid = sorted(results)
        curves = [[results[t]["ranks"][key]["entropy"].mean() for t in grid] for key in CURVES.values()]
        extra = refine_temperatures(grid, curves)
        if not extra:
            break
        measure(extra, f"refining near the transitions ({r + 1}/{refine_rounds})")
    return dict(sorted(results.items()))


def locate_transitions(temperature_results: dict[float, dict]) -> dict[str, dict[str, dict]]:
    """Where each curve's rank transition lies in T, and whether it lies inside the grid.

    Parameters
    ----------
    temperature_results : dict of float -> dict
        As :func:`scan_temperatures` returns.

    Returns
    -------
    dict
        ``result[curve][estimator]`` for every curve of :data:`CURVES` and estimator of
        :mod:`tgnlib.rank`: ``t_star`` (susceptibility peak of the mean rank over depths and
        sequences, refined by a parabola) and ``at_edge`` (True when the peak is the grid's first or
        last point: the transition may lie outside the grid).
    """
    from ..criticality import critical_beta, susceptibility

    temps = np.array(sorted(temperature_results))
    out: dict[str, dict[str, dict]] = {}
    for curve, key in CURVES.items():
        out[curve] = {}
        for est in rank.ESTIMATORS:
            values = np.array([temperature_results[t]["ranks"][key][est].mean() for t in temps])
            i = int(np.argmax(susceptibility(temps, values)))
            out[curve][est] = dict(t_star=critical_beta(temps, values), at_edge=i in (0, len(temps) - 1))
    return out


def profiles_of(measured: dict, seed: int = 0) -> dict[str, dict[str, dict]]:
    """:func:`describe_profile` of every curve and estimator of one :func:`measure_model` result.

    Parameters
    ----------
    measured : dict
        As :func:`measure_model` returns.
    seed : int, default 0

    Returns
    -------
    dict
        ``result[curve][estimator]`` for the curves of :data:`CURVES` (what the L1 and L2 rules read).
    """
    return {curve: {est: describe_profile(measured["ranks"][key][est], seed=seed) for est in rank.ESTIMATORS}
            for curve, key in CURVES.items()}


def rebounds_from_minimum(trained: dict, other: dict, seed: int = 0) -> dict[str, dict]:
    """Rebound of the entropy rank from the trained model's minimum layer, for it and for another condition.

    On curves (a) "all tokens" and (b) "without sinks": the layer where the trained model's mean
    curve is lowest is found on that curve, and for both conditions the rebound is the final rank
    minus the rank at that same layer, paired over sequences.

    Parameters
    ----------
    trained, other : dict
        :func:`measure_model` results on the same sequences and the same number of depths (e.g. the
        trained model and the model with attention ablated, or its twin trained without attention).
    seed : int, default 0

    Returns
    -------
    dict
        ``result[curve]`` with ``input_rank`` (the trained model's depth-0 rank), ``min_index`` and
        ``drop`` (its minimum over its input), and ``trained`` and ``ablated`` as (mean, low, high) with 95% bootstrap intervals (what the
        L3 rule reads).
    """
    out = {}
    for curve in ("all tokens", "without sinks"):
        key = CURVES[curve]
        a, b = trained["ranks"][key]["entropy"], other["ranks"][key]["entropy"]
        if a.shape != b.shape:
            raise ValueError(f"conditions differ in shape on {curve!r}: {a.shape} vs {b.shape}; measure the same sequences and depths")
        i = int(np.argmin(a.mean(1)))
        out[curve] = dict(input_rank=float(a[0].mean()), min_index=i, drop=float(a[i].mean() / a[0].mean()),
                          trained=paired_difference_ci(a[-1], a[i], seed=seed), ablated=paired_difference_ci(b[-1], b[i], seed=seed))
    return out


# ---- tables for the chapter (pandas DataFrames, one row per model x curve x estimator) -----------

def profile_table(models: dict[str, dict]):
    """The L1/L2 numbers of every model, curve and estimator, as a table for reading.

    Parameters
    ----------
    models : dict of str -> dict
        Per model label, :func:`profiles_of`'s result.

    Returns
    -------
    pandas.DataFrame
        Indexed by (model, curve, estimator); rank at depth 0, at one third of depth and at the
        minimum (as % of depth 0), where the minimum lies, the final rank (% of depth 0) and the
        paired final - input difference with its 95% interval.
    """
    import pandas as pd

    rows = []
    for label, profiles in models.items():
        for curve, by_est in profiles.items():
            for est, p in by_est.items():
                d, lo, hi = p["final_vs_input"]
                rows.append({"model": label, "curve": curve, "estimator": est, "rank at depth 0": round(p["input"], 1),
                             "at 1/3 depth (%)": round(100 * p["at_third"]), "minimum (%)": round(100 * p["drop"]),
                             "minimum at depth": round(p["min_depth"], 2), "final (%)": round(100 * p["final_over_input"]),
                             "final - input [95% CI]": f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]"})
    return pd.DataFrame(rows).set_index(["model", "curve", "estimator"])


def transition_table(models: dict[str, dict]):
    """Where each curve's rank transition lies, per model and estimator, and how far from the perplexity minimum.

    Parameters
    ----------
    models : dict of str -> dict
        Per model label: ``transitions`` (:func:`locate_transitions`), ``t_best`` and ``grid_step``.

    Returns
    -------
    pandas.DataFrame
        Indexed by (model, curve, estimator): the transition T*, its distance from the perplexity's
        minimum in coarse grid steps, and whether it sits at the grid's edge.
    """
    import pandas as pd

    rows = []
    for label, m in models.items():
        for curve, by_est in m["transitions"].items():
            for est, t in by_est.items():
                rows.append({"model": label, "curve": curve, "estimator": est, "transition T*": round(t["t_star"], 3),
                             "perplexity minimum T": round(m["t_best"], 3),
                             "distance (grid steps)": round(abs(np.log(t["t_star"] / m["t_best"])) / np.log(m["grid_step"]), 2),
                             "at grid edge": t["at_edge"]})
    return pd.DataFrame(rows).set_index(["model", "curve", "estimator"])


def sink_table(conditions: dict[tuple[str, str], dict]):
    """Attention-sink diagnostics of every model and condition, at the depth of its largest norm ratio.

    Parameters
    ----------
    conditions : dict of (model, condition) -> dict
        :func:`measure_model` results.

    Returns
    -------
    pandas.DataFrame
        Indexed by (model, condition): the largest token-norm / median ratio (mean over sequences)
        and its normalised depth, the share of sequences whose largest norm sits at position 0
        there, the two residual dimensions of largest activation there (with magnitude over the
        median activation), and the tokens per sequence left out of curve (b).
    """
    import pandas as pd

    rows = []
    for (label, cond), m in conditions.items():
        s = m["sinks"]
        ratio = s["norm_ratio"].mean(1)
        i = int(np.argmax(ratio))
        dims = ", ".join(f"{int(d)} ({v:.0f}x)" for d, v in zip(s["top_dims"][i][:2], s["top_values"][i][:2]))
        at_zero = float((s["argmax_position"][i] == 0).mean())
        rows.append({"model": label, "condition": cond, "largest norm / median": round(float(ratio[i]), 1),
                     "at depth": round(i / (len(ratio) - 1), 2), "at position 0 (%)": round(100 * at_zero),
                     "massive dimensions": dims, "tokens left out of (b)": round(float(s["removed"].mean()), 1)})
    return pd.DataFrame(rows).set_index(["model", "condition"])
