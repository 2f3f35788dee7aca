"""Reading and changing a causal LM from the inside, for GPT-2- and Llama-type models alike.

* :func:`residual_stream`: the residual stream entering every decoder block, plus the output of the
  last block *before* the final norm (``output_hidden_states``' last element is after the final norm
  in GPT-2 and Llama: :func:`residual_stream` returns both, and says which is which).
* :func:`ablate`: zero the attention (or the MLP) contribution of every block with forward hooks,
  keeping everything else, residual connections included.
* :func:`attention_temperature`: divide every attention logit by T through ``transformers``' attention
  function registry (no copy of the model code); T = 1 reproduces the stock model exactly.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

PARTS = ("attention", "mlp")
TEMPERED = "tgnlib_tempered_sdpa"


def decoder_blocks(model) -> list[torch.nn.Module]:
    """The decoder blocks of a GPT-2-type (``transformer.h``) or Llama-type (``model.layers``) model."""
    base = getattr(model, "model", None) or getattr(model, "transformer", None)
    blocks = getattr(base, "layers", None) or getattr(base, "h", None)
    if blocks is None:
        raise NotImplementedError(f"{type(model).__name__}: no decoder blocks found (expected model.layers or transformer.h)")
    return list(blocks)


def _part(block: torch.nn.Module, part: str) -> torch.nn.Module:
    names = {"attention": ("self_attn", "attn"), "mlp": ("mlp",)}[part]
    for name in names:
        if hasattr(block, name):
            return getattr(block, name)
    raise NotImplementedError(f"{type(block).__name__} has no {part} module named {names}")


@torch.no_grad()
def residual_stream(model, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Residual stream at every depth, from hooks on the decoder blocks.

    Parameters
    ----------
    model : a GPT-2- or Llama-type ``transformers`` causal LM
    batch : dict with ``input_ids`` (B, T) and optionally ``attention_mask``

    Returns
    -------
    dict
        ``"pre_norm"``: (n_blocks + 1, B, T, d), the input of each block then the output of the last
        block before the final norm (what "depth" means in the chapter);
        ``"final_norm"``: (B, T, d), the last element of ``output_hidden_states`` (after the final norm);
        ``"logits"``: (B, T, vocab).
    """
    blocks = decoder_blocks(model)
    inputs: dict[int, torch.Tensor] = {}
    hooks = [b.register_forward_pre_hook(lambda m, args, kwargs, i=i: inputs.__setitem__(
                 i, (args[0] if args else kwargs["hidden_states"]).detach()),
                                         with_kwargs=True) for i, b in enumerate(blocks)]
    last: list[torch.Tensor] = []
    hooks.append(blocks[-1].register_forward_hook(lambda m, a, out: last.append((out[0] if isinstance(out, tuple) else out).detach())))
    try:
        device = next(model.parameters()).device
        out = model(**{k: v.to(device) for k, v in batch.items()}, output_hidden_states=True)
    finally:
        for h in hooks:
            h.remove()
    stream = torch.stack([inputs[i] for i in range(len(blocks))] + [last[0]])
    return {"pre_norm": stream, "final_norm": out.hidden_states[-1], "logits": out.logits}


@contextmanager
def ablate(model, part: str = "attention"):
    """Zero the output of every block's attention (or MLP) while the context is open.

    Parameters
    ----------
    model : a GPT-2- or Llama-type causal LM
    part : {"attention", "mlp"}, default "attention"
    """
    if part not in PARTS:
        raise ValueError(f"part={part!r} is not one of {PARTS}")

    def zero(module, args, output):
        if isinstance(output, tuple):
            return (torch.zeros_like(output[0]),) + tuple(output[1:])
        return torch.zeros_like(output)

    hooks = [_part(b, part).register_forward_hook(zero) for b in decoder_blocks(model)]
    try:
        yield model
    finally:
        for h in hooks:
            h.remove()


def _register_tempered_attention() -> None:
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    def tempered(module, query, key, value, attention_mask, scaling=None, **kwargs):
        temperature = getattr(module, "_tgnlib_temperature", 1.0)
        base = scaling if scaling is not None else query.shape[-1] ** -0.5
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=base / temperature, **kwargs)

    AttentionInterface.register(TEMPERED, tempered)


@contextmanager
def attention_temperature(model, temperature: float):
    """Divide every attention logit by ``temperature`` in all blocks while the context is open.

    Parameters
    ----------
    model : a GPT-2- or Llama-type causal LM
    temperature : float
        Positive; 1 is the trained model, below 1 sharper, above 1 flatter attention.
    """
    if not (temperature > 0 and temperature < float("inf")):
        raise ValueError(f"temperature must be positive and finite; got temperature={temperature!r}")
    _register_tempered_attention()
    previous = model.config._attn_implementation
    modules = [_part(b, "attention") for b in decoder_blocks(model)]
    model.set_attn_implementation(TEMPERED)
    for m in modules:
        m._tgnlib_temperature = float(temperature)
    try:
        yield model
    finally:
        for m in modules:
            m._tgnlib_temperature = 1.0
        model.set_attn_implementation(previous)


@torch.no_grad()
def perplexity(model, batch: dict[str, torch.Tensor]) -> float:
    """Perplexity ``exp(mean next-token cross-entropy)`` over all predicted tokens of the batch.

    Parameters
    ----------
    model : a causal LM
    batch : dict with ``input_ids`` (B, T) and optionally ``attention_mask``

    Returns
    -------
    float
    """
    device = next(model.parameters()).device
    ids = batch["input_ids"].to(device)
    logits = model(**{k: v.to(device) for k, v in batch.items()}).logits[:, :-1].float()
    targets = ids[:, 1:]
    mask = batch.get("attention_mask", torch.ones_like(ids)).to(device)[:, 1:].bool()
    loss = torch.nn.functional.cross_entropy(logits[mask], targets[mask])
    return float(torch.exp(loss))
