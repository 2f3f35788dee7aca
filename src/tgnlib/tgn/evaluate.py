"""Evaluating trained TGNs and baselines: perplexity, gate rates and the compute actually executed.

Perplexity is ``exp`` of the mean next-token cross-entropy over non-overlapping windows of the model's
context length (each window's first token is predicted from nothing but the window, as in training).
Compute is counted two ways per token of a forward pass:

* attention FLOPs: the score and value products executed (:func:`~tgnlib.tgn.attention.attention_flops`;
  causal: a query at position i sees i + 1 keys; with a hard gate only the open queries count);
* total forward FLOPs: every matrix product PyTorch executed (projections, recurrences, MLPs, the output
  head), counted by ``torch.utils.flop_counter.FlopCounterMode``, plus the attention FLOPs above (the
  counter leaves fused attention kernels out or counts them without the causal saving, so we replace them
  by our own count).
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from ..timing import best_of
from ..tokens import windows
from .config import GATES, TGNConfig
from .model import TGNLanguageModel


@contextlib.contextmanager
def gating(model: TGNLanguageModel, gate: str):
    """Run ``model`` with another gate inside the ``with`` block (same weights).

    Parameters
    ----------
    model : TGNLanguageModel
    gate : {"soft", "hard", "capacity"}
        ``"capacity"`` only for a model trained with it (its threshold is set in training).
    """
    if gate not in GATES:
        raise ValueError(f"gate={gate!r} is not one of {GATES}")
    if gate == "capacity" and model.cfg.gate != "capacity":
        raise ValueError(f"gate='capacity' needs a model trained with it (its threshold is set in training); this one is "
                         f"gate={model.cfg.gate!r}")
    before = model.cfg.gate
    model.cfg.gate = gate  # the blocks share the model's config object
    try:
        yield model
    finally:
        model.cfg.gate = before


def _product_flops(fn) -> float:
    # Matrix-product FLOPs of fn(); fused attention is left out (the model counts what it executed).
    with FlopCounterMode(display=False) as counter:
        fn()
    counts = counter.get_flop_counts().get("Global", {})
    return float(sum(v for k, v in counts.items() if "scaled_dot_product" not in str(k)))


@torch.no_grad()
def evaluate(model: TGNLanguageModel, tokens, seq_len: int, batch_size: int = 16, max_windows: int | None = None,
             gate: str | None = None, device=None) -> dict:
    """Perplexity, gate statistics and executed FLOPs of ``model`` on a token split.

    Parameters
    ----------
    model : TGNLanguageModel
    tokens : 1-d array of token ids
        The split to evaluate (validation or test).
    seq_len : int
        Window length in tokens (use the training context).
    batch_size : int, default 16
        Windows per forward pass.
    max_windows : int or None, default None
        Evaluate only the first this many windows.
    gate : {"soft", "hard"} or None, default None
        Override the model's gating for this evaluation (None: as trained).
    device : str, torch.device or None, default None
        Where to run (None: where the model is).

    Returns
    -------
    dict
        ``ce`` (nats/token), ``perplexity``, ``gate_rate`` (mean gate used, over tokens and layers),
        ``open_fraction`` (per layer, fraction of tokens with soft gate > 0.5), ``attention_flops_per_token``,
        ``forward_flops_per_token`` (all matrix products plus attention), ``tokens`` evaluated.
    """
    device = next(model.parameters()).device if device is None else torch.device(device)
    model = model.to(device)
    data = windows(tokens, seq_len, max_windows)
    was_training = model.training
    model.eval()
    nll = gate_sum = att = 0.0
    open_sum = np.zeros(model.cfg.n_layers)
    with gating(model, gate or model.cfg.gate):
        for start in range(0, len(data), batch_size):
            chunk = data[start:start + batch_size].to(device)
            out = model(chunk[:, :-1], chunk[:, 1:])
            n = chunk[:, 1:].numel()
            nll += float(out.ce) * n
            gate_sum += out.gate_rate * n
            att += out.attention_flops
            open_sum += np.array([float((s.gate_soft > 0.5).float().mean()) for s in out.gates]) * n
        matmul = _product_flops(lambda: model(data[:1, :-1].to(device))) / seq_len
    model.train(was_training)
    n_tokens = data[:, 1:].numel()
    ce = nll / n_tokens
    return {"ce": ce, "perplexity": math.exp(ce), "gate_rate": gate_sum / n_tokens, "open_fraction": (open_sum / n_tokens).tolist(),
            "attention_flops_per_token": att / n_tokens, "forward_flops_per_token": matmul + att / n_tokens, "tokens": n_tokens}


def unigram_cross_entropy(train_tokens, tokens, vocab_size: int) -> float:
    """Cross-entropy (nats/token) of ``tokens`` under the training split's token frequencies (add-one smoothed).

    The floor a language model must beat to have learned anything beyond token frequencies.
    """
    counts = np.bincount(np.asarray(train_tokens), minlength=vocab_size).astype(float) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[np.asarray(tokens)].mean())


def count_parameters(cfg: TGNConfig) -> int:
    """Trainable parameters of the model ``cfg`` describes (built on the meta device: no memory, no time)."""
    with torch.device("meta"):
        return TGNLanguageModel(cfg).n_params()


def matched_config(cfg: TGNConfig, target_params: int, tolerance: float = 0.1) -> TGNConfig:
    """``cfg`` with the width ``d_model`` changed so its parameter count is closest to ``target_params``.

    Widths are multiples of ``n_heads`` up to four times the original. Used to give every baseline the
    TGN's parameter count.

    Parameters
    ----------
    cfg : TGNConfig
    target_params : int
    tolerance : float, default 0.1
        Largest relative difference allowed.

    Returns
    -------
    TGNConfig

    Raises
    ------
    ValueError
        When no width comes within ``tolerance`` of the target.
    """
    widths = range(cfg.n_heads, 4 * cfg.d_model + 1, cfg.n_heads)
    best = min((TGNConfig(**{**cfg.to_dict(), "d_model": d}) for d in widths),
               key=lambda c: abs(count_parameters(c) - target_params))
    got = count_parameters(best)
    if abs(got - target_params) > tolerance * target_params:
        raise ValueError(f"no width of {cfg.mode}/{cfg.inertial} comes within {tolerance:.0%} of {target_params} parameters "
                         f"(closest: d_model={best.d_model}, {got})")
    return best


def load_run(out_dir, device="cpu") -> tuple[TGNLanguageModel, list[dict]]:
    """The trained model and per-step log of a finished :func:`~tgnlib.tgn.train.train` run.

    Parameters
    ----------
    out_dir : path
        The run's folder (``checkpoint.pt`` and ``log.jsonl``).
    device : str or torch.device, default "cpu"

    Returns
    -------
    (model, history)
    """
    out = Path(out_dir)
    if not (out / "checkpoint.pt").is_file():
        raise FileNotFoundError(f"{out / 'checkpoint.pt'} not found: train the run first")
    state = torch.load(out / "checkpoint.pt", map_location=device, weights_only=False)
    model = TGNLanguageModel(TGNConfig(**state["model_cfg"])).to(device)
    model.load_state_dict(state["model"])
    log = out / "log.jsonl"
    history = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else state["history"]
    return model.eval(), history


def compute_profile(model: TGNLanguageModel, contexts, batch_size: int = 2, repeats: int = 2, seed: int = 0,
                    tokens=None) -> list[dict]:
    """End-to-end compute of a model per token, at several context lengths: FLOPs and wall time,
    inference (forward) and training (forward + backward).

    FLOPs are every matrix product PyTorch executes (projections, the gate, the recurrence's products,
    the MLPs, the output head; ``torch.utils.flop_counter``) plus the attention score/value products the
    model executed (causal, or only at open rows with a hard gate), in place of the counter's reading
    of the fused attention kernel. Element-wise work (norms, the scan's multiply-adds, activations) is
    not counted; it is small beside the products at these widths. Training FLOPs count the backward
    pass's products too (the attention part is taken as twice the forward's, the usual ratio).

    Parameters
    ----------
    model : TGNLanguageModel
        Trained or not (a hard gate's cost depends on how many gates open).
    contexts : sequence of int
        Sequence lengths, each at most ``model.cfg.context``.
    batch_size : int, default 2
    repeats : int, default 2
        Timed repetitions after one warm-up; the fastest counts.
    seed : int, default 0
        Seeds the random token sequences (or the choice of windows from ``tokens``).
    tokens : 1-d array of token ids or None, default None
        Text to draw the sequences from; a hard gate's cost depends on how many gates the text opens, so
        profile gated models on real text. None: uniformly random tokens.

    Returns
    -------
    list of dict
        Per context: ``context``, ``forward_flops_per_token``, ``train_flops_per_token``,
        ``attention_flops_per_token``, ``forward_seconds_per_token``, ``train_seconds_per_token``.
    """
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    rows = []
    was = model.training
    text = None if tokens is None else torch.as_tensor(np.asarray(tokens), dtype=torch.long)
    for t in contexts:
        if not 1 <= t <= model.cfg.context:
            raise ValueError(f"context {t} must lie in [1, {model.cfg.context}]")
        if text is None:
            x = torch.randint(model.cfg.vocab_size, (batch_size, t), generator=g)
        else:
            if len(text) < t:
                raise ValueError(f"tokens has {len(text)} ids; context {t} needs at least that many")
            starts = torch.randint(len(text) - t + 1, (batch_size,), generator=g)
            x = torch.stack([text[s:s + t] for s in starts.tolist()])
        x = x.to(device)
        n = batch_size * t
        model.eval()
        with torch.no_grad():
            att = model(x).attention_flops
            fwd = _product_flops(lambda: model(x))
        model.train()
        train_matmul = _product_flops(lambda: model(x, x).loss.backward())
        model.zero_grad(set_to_none=True)
        model.eval()
        with torch.no_grad():
            fwd_s = best_of(lambda: model(x), device, repeats, warmup=1)
        model.train()

        def step():
            model(x, x).loss.backward()
            model.zero_grad(set_to_none=True)

        train_s = best_of(step, device, repeats, warmup=1)
        rows.append({"context": t, "forward_flops_per_token": (fwd + att) / n, "train_flops_per_token": (train_matmul + 3 * att) / n,
                     "attention_flops_per_token": att / n, "forward_seconds_per_token": fwd_s / n,
                     "train_seconds_per_token": train_s / n})
    model.train(was)
    return rows
