"""Real text as token blocks for language-model evaluation."""

from __future__ import annotations

import numpy as np
import torch


def token_blocks(tokenizer, docs: list[str], seq_len: int, n_blocks: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Fixed-length blocks of consecutive tokens from randomly chosen documents.

    Documents are shuffled (seeded), tokenised and joined with the end-of-sequence token; the stream
    is cut into non-overlapping blocks of ``seq_len`` tokens, the first ``n_blocks`` of which are
    returned. Every block is real text, so no padding or attention mask is needed.

    Parameters
    ----------
    tokenizer : a ``transformers`` tokenizer
    docs : list of str
    seq_len : int
        Tokens per block.
    n_blocks : int
    seed : int, default 0

    Returns
    -------
    dict
        ``input_ids`` and ``attention_mask``, each (n_blocks, seq_len).

    Raises
    ------
    ValueError
        When the documents hold fewer than ``n_blocks * seq_len`` tokens.
    """
    if seq_len < 2 or n_blocks < 1:
        raise ValueError(f"need seq_len >= 2 and n_blocks >= 1; got seq_len={seq_len}, n_blocks={n_blocks}")
    order = np.random.default_rng(seed).permutation(len(docs))
    eos = tokenizer.eos_token_id
    stream: list[int] = []
    need = seq_len * n_blocks
    for i in order:
        stream.extend(tokenizer(docs[i], add_special_tokens=False)["input_ids"])
        if eos is not None:
            stream.append(eos)
        if len(stream) >= need:
            break
    if len(stream) < need:
        raise ValueError(f"the {len(docs)} documents give {len(stream)} tokens; {n_blocks} blocks of {seq_len} need {need}")
    ids = torch.tensor(stream[:need]).view(n_blocks, seq_len)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
