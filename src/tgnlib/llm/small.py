"""A small Llama-type causal LM trained in the book, and its twin trained without attention.

No second causal LM ships inside a PyPI package, so chapter 2.3 trains one on the offline corpus. It
is a ``transformers`` ``LlamaForCausalLM`` built from a small config (RMSNorm, rotary positions,
SwiGLU MLP: the family of SmolLM2 and TinyLlama), so every reading of the chapter (residual stream,
ablation, attention temperature, perplexity) runs on it through the same code as on a pretrained
model. Its **twin** has the same blocks with every self-attention replaced by :class:`LocalMixer`, a
causal depthwise convolution over the last few tokens: a model *trained* without attention (not
ablated after training), which still mixes tokens locally so that it can learn a language model at
all. Same data, steps, optimiser and learning rate for both.

Training uses the pieces the TGN chapter's runs use (:mod:`tgnlib.training`) and is resumable: a checkpoint holds the model,
optimiser, step and every random generator, written atomically.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from ..cache import code_fingerprint, run_key
from ..tokens import windows
from ..training import TokenSampler, TrainConfig, learning_rate, parameter_groups, save_atomic

MIXERS = ("attention", "local")
# the modules a training run executes: its cache key fingerprints these, not the whole llm package
TRAINING_CODE = (Path(__file__), Path(__file__).parents[1] / "training.py", Path(__file__).parents[1] / "tokens.py")


@dataclass
class SmallLMConfig:
    """Sizes of the book-trained causal LM.

    Attributes
    ----------
    vocab_size : int
        Tokens in the vocabulary (the BPE trained on the corpus).
    d_model : int
        Width of the residual stream.
    n_layers : int
        Decoder blocks.
    n_heads : int
        Attention heads (the twin ignores it); must divide ``d_model``.
    context : int
        Longest sequence (rotary positions up to it).
    mixer : {"attention", "local"}
        Token mixer of every block: causal self-attention, or :class:`LocalMixer`.
    mixer_width : int
        Tokens the local mixer sees (itself and the ``mixer_width - 1`` before it).
    """

    vocab_size: int = 2048
    d_model: int = 256
    n_layers: int = 8
    n_heads: int = 4
    context: int = 256
    mixer: str = "attention"
    mixer_width: int = 4

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "n_layers", "n_heads", "context", "mixer_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SmallLMConfig.{name}={value!r} must be a positive integer")
        if self.d_model % self.n_heads:
            raise ValueError(f"SmallLMConfig.n_heads={self.n_heads} must divide d_model={self.d_model}")
        if self.mixer not in MIXERS:
            raise ValueError(f"SmallLMConfig.mixer={self.mixer!r} is not one of {MIXERS}")


class LocalMixer(nn.Module):
    """Causal depthwise convolution over the last ``width`` tokens, then a linear map: a token mixer
    with no attention, called as a Llama block calls its ``self_attn`` (returns ``(output, None)``)."""

    def __init__(self, d_model: int, width: int):
        super().__init__()
        self.width = width
        self.conv = nn.Conv1d(d_model, d_model, width, groups=d_model, padding=width - 1)
        self.o_proj = nn.Linear(d_model, d_model, bias=False)

    def forward(self, hidden_states: torch.Tensor, **kwargs) -> tuple[torch.Tensor, None]:
        t = hidden_states.shape[1]
        # (B, T, d) -> (B, d, T); the left padding makes position t see t - width + 1 .. t only
        mixed = self.conv(hidden_states.transpose(1, 2))[..., :t].transpose(1, 2)
        return self.o_proj(mixed), None


def build_small_lm(cfg: SmallLMConfig, seed: int = 0):
    """A freshly initialised ``LlamaForCausalLM`` of the given sizes (with local mixers for the twin).

    Parameters
    ----------
    cfg : SmallLMConfig
    seed : int, default 0
        Seeds the initialisation.

    Returns
    -------
    transformers.LlamaForCausalLM
        The twin's MLPs are widened so that both models have the same number of parameters (within
        about 1%): the twin is not weaker for having fewer weights.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    d = cfg.d_model
    hidden = int(8 * d / 3) // 8 * 8  # SwiGLU width, as Llama's 8/3 d
    if cfg.mixer == "local":
        # match the attention model's parameter count: the MLP takes what attention's 4 d^2 leaves over
        spare = 4 * d * d - (d * cfg.mixer_width + d + d * d)
        hidden += round(spare / (3 * d) / 8) * 8
    config = LlamaConfig(vocab_size=cfg.vocab_size, hidden_size=d, intermediate_size=hidden,
                         num_hidden_layers=cfg.n_layers, num_attention_heads=cfg.n_heads, num_key_value_heads=cfg.n_heads,
                         max_position_embeddings=cfg.context, tie_word_embeddings=True, attn_implementation="sdpa")
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    if cfg.mixer == "local":
        for block in model.model.layers:
            block.self_attn = LocalMixer(cfg.d_model, cfg.mixer_width)
    return model


def small_lm_dir(root, cfg: SmallLMConfig, train_cfg: TrainConfig, tokens) -> Path:
    """``root/small-<mixer>-<8 hex digits>``: the digits fingerprint both configurations, the training
    tokens and the modules training runs (this one, :mod:`tgnlib.training`, :mod:`tgnlib.tokens`), so a
    run never resumes on other data or code, and an edit to the chapter's analysis keeps trained models."""
    key = run_key({"model": asdict(cfg), "train": asdict(train_cfg)}, data=tokens, code=code_fingerprint(*TRAINING_CODE))
    return Path(root) / f"small-{cfg.mixer}-{key}"


def train_small_lm(cfg: SmallLMConfig, train_cfg: TrainConfig, tokens, root, device="cpu", progress: bool = True,
                   max_steps_this_call: int | None = None):
    """Train (or load, or resume) one small LM on a 1-d array of token ids.

    AdamW (betas 0.9, 0.95; no decay on norms), linear warm-up then cosine decay, gradient clipping,
    as the TGN chapter's runs. A checkpoint is written every ``train_cfg.checkpoint_every`` steps;
    a finished run is loaded from ``model.pt``.

    Parameters
    ----------
    cfg : SmallLMConfig
    train_cfg : TrainConfig
        ``seq_len`` must not exceed ``cfg.context``.
    tokens : 1-d array of token ids
        The training split.
    root : path
        Folder of runs (:func:`small_lm_dir` names the run's folder inside it).
    device : str or torch.device, default "cpu"
    progress : bool, default True
    max_steps_this_call : int or None, default None
        Stop after this many steps and write a checkpoint (the next call resumes exactly).

    Returns
    -------
    (model, history)
        The trained model in eval mode, and one record per step (``step``, ``ce``, ``lr``,
        ``seconds``).
    """
    if train_cfg.seq_len > cfg.context:
        raise ValueError(f"TrainConfig.seq_len={train_cfg.seq_len} exceeds SmallLMConfig.context={cfg.context}")
    out = small_lm_dir(root, cfg, train_cfg, tokens)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    model = build_small_lm(cfg, seed=train_cfg.seed).to(device)
    if (out / "model.pt").is_file():
        model.load_state_dict(torch.load(out / "model.pt", map_location=device))
        history = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
        return model.eval(), history
    optimiser = torch.optim.AdamW(parameter_groups(model, train_cfg.weight_decay), lr=train_cfg.lr, betas=(0.9, 0.95))
    sampler = TokenSampler(tokens, train_cfg.seq_len, seed=train_cfg.seed)
    start, history = 0, []
    ckpt = out / "checkpoint.pt"
    if ckpt.is_file():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        sampler.generator.set_state(state["data_rng"])
        torch.set_rng_state(state["torch_rng"])
        start, history = state["step"], state["history"]
    model.train()
    seconds = history[-1]["seconds"] if history else 0.0
    stop = train_cfg.steps if max_steps_this_call is None else min(train_cfg.steps, start + max_steps_this_call)
    bar = tqdm(range(start, stop), initial=start, total=train_cfg.steps, disable=not progress, desc=f"small LM ({cfg.mixer})")
    for step in bar:
        lr = learning_rate(step, train_cfg)
        for group in optimiser.param_groups:
            group["lr"] = lr
        x, y = sampler.batch(train_cfg.batch_size)
        t0 = time.perf_counter()
        logits = model(input_ids=x.to(device)).logits
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.to(device).reshape(-1))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg.grad_clip)
        optimiser.step()
        seconds += time.perf_counter() - t0
        history.append({"step": step + 1, "ce": float(loss.detach()), "lr": lr, "seconds": seconds})
        bar.set_postfix(loss=f"{history[-1]['ce']:.3f}")
        done = step + 1
        if done == stop or (train_cfg.checkpoint_every and done % train_cfg.checkpoint_every == 0):
            save_atomic({"step": done, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                          "data_rng": sampler.generator.get_state(), "torch_rng": torch.get_rng_state(), "history": history}, ckpt)
    (out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in history))
    if len(history) == train_cfg.steps:
        torch.save(model.state_dict(), out / "model.pt")
    return model.eval(), history


@torch.no_grad()
def evaluate_ce(model, tokens, seq_len: int, max_windows: int = 64, batch_size: int = 8) -> float:
    """Mean next-token cross-entropy (nats per token) over non-overlapping windows of a token array.

    Parameters
    ----------
    model : a causal LM returning ``.logits``
    tokens : 1-d array of token ids
    seq_len : int
        Tokens per window.
    max_windows : int, default 64
        The first this many windows are used.
    batch_size : int, default 8

    Returns
    -------
    float
    """
    blocks = windows(tokens, seq_len - 1, max_windows)  # (n, seq_len): seq_len - 1 predictions each
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for start in range(0, len(blocks), batch_size):
        x = blocks[start:start + batch_size].to(device)
        logits = model(input_ids=x).logits[:, :-1].float()
        total += float(nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum"))
        count += x[:, 1:].numel()
    return total / count


def tune_and_train_small_lm(cfg: SmallLMConfig, train_cfg: TrainConfig, learning_rates, train_tokens, validation_tokens, root,
                            tune_steps: int, device="cpu", progress: bool = True):
    """Pick the learning rate by short runs, then train the full run at it.

    Every learning rate of the grid gets a run of ``tune_steps`` steps (warm-up shortened in
    proportion), scored by validation cross-entropy; the best one trains for ``train_cfg.steps``.
    Both models of the chapter's pair go through this with the same grid: the same tuning effort.

    Parameters
    ----------
    cfg : SmallLMConfig
    train_cfg : TrainConfig
        The full run's settings; its ``lr`` is replaced by the chosen one.
    learning_rates : sequence of float
    train_tokens, validation_tokens : 1-d arrays of token ids
    root : path
    tune_steps : int
        Steps of each tuning run.
    device : str or torch.device, default "cpu"
    progress : bool, default True

    Returns
    -------
    (model, history, scores)
        The full run's model (eval mode) and log, and ``{lr: validation cross-entropy}`` of the
        tuning runs.
    """
    if not learning_rates:
        raise ValueError("learning_rates is empty; give at least one")
    scores = {}
    for lr in learning_rates:
        short = replace(train_cfg, lr=float(lr), steps=tune_steps, warmup=max(1, train_cfg.warmup * tune_steps // train_cfg.steps))
        model, _ = train_small_lm(cfg, short, train_tokens, Path(root) / "tuning", device=device, progress=progress)
        scores[float(lr)] = evaluate_ce(model, validation_tokens, train_cfg.seq_len)
    best = min(scores, key=scores.get)
    model, history = train_small_lm(cfg, replace(train_cfg, lr=best), train_tokens, root, device=device, progress=progress)
    return model, history, scores
