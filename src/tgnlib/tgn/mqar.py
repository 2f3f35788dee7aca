"""Multi-query associative recall (MQAR; Arora et al. 2023, "Zoology"), the probe for claim G8.

Each sequence opens with ``n_pairs`` key-value pairs, then asks for every key again at a random later
position; the value must be predicted right after the repeated key::

    k1 v1 k2 v2 ... kn vn  0 0 k2 [v2] 0 k1 [v1] 0 0 ... kn [vn] ...
                                ^-- distance from k2's first appearance

Keys come from ``1 .. V/2 - 1`` and values from ``V/2 .. V - 1`` (token 0 is filler), drawn without
repetition within a sequence. Only the value after a repeated key is a target (the others are
``-100``, which ``cross_entropy`` ignores), so the task has no local signal at all: it is solved by
recall or not at all. Distances spread uniformly over the sequence, so accuracy can be read by distance.
The task generates training data (its code is part of a training run's cache key); what a trained model
does on it is measured by :func:`tgnlib.tgn.probe.mqar_accuracy`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

IGNORE = -100


@dataclass
class MQARBatch:
    """A batch of MQAR sequences."""

    inputs: torch.Tensor  # (B, T)
    targets: torch.Tensor  # (B, T): the value at query positions, IGNORE elsewhere
    query_position: torch.Tensor  # (B, n_pairs): index in inputs of each repeated key
    distance: torch.Tensor  # (B, n_pairs): query position minus the key's first position


class MQARTask:
    """Seeded MQAR generator; usable as the ``tokens`` sampler of :func:`~tgnlib.tgn.train.train`.

    Parameters
    ----------
    seq_len : int
        Tokens per sequence.
    n_pairs : int
        Key-value pairs per sequence; ``4 * n_pairs <= seq_len`` (the pairs, then the queries and
        their values).
    vocab_size : int, default 256
        Even; keys are ``1 .. V/2 - 1``, values ``V/2 .. V - 1``; ``n_pairs <= V/2 - 1``.
    seed : int, default 0
    """

    def __init__(self, seq_len: int, n_pairs: int, vocab_size: int = 256, seed: int = 0):
        if n_pairs < 1 or 4 * n_pairs > seq_len:
            raise ValueError(f"need 1 <= n_pairs and 4 * n_pairs <= seq_len; got n_pairs={n_pairs}, seq_len={seq_len}")
        if vocab_size % 2 or n_pairs > vocab_size // 2 - 1:
            raise ValueError(f"vocab_size={vocab_size} must be even with at least n_pairs + 1 = {n_pairs + 1} keys in its lower half")
        self.seq_len, self.n_pairs, self.vocab_size, self.seed = seq_len, n_pairs, vocab_size, seed
        self.generator = torch.Generator().manual_seed(seed)

    def settings(self) -> dict:
        """What defines the task's sequences (its constructor's arguments): the data part of a run's cache key."""
        return {"task": "mqar", "seq_len": self.seq_len, "n_pairs": self.n_pairs, "vocab_size": self.vocab_size,
                "seed": self.seed}

    def sample(self, batch_size: int) -> MQARBatch:
        """A batch of sequences with all their queries.

        Parameters
        ----------
        batch_size : int

        Returns
        -------
        MQARBatch
        """
        g, n, k, t = self.generator, batch_size, self.n_pairs, self.seq_len
        half = self.vocab_size // 2
        keys = torch.argsort(torch.rand(n, half - 1, generator=g), dim=1)[:, :k] + 1  # distinct keys per sequence
        values = half + torch.randint(half, (n, k), generator=g)
        seq = torch.zeros(n, t + 1, dtype=torch.long)
        seq[:, 0:2 * k:2], seq[:, 1:2 * k:2] = keys, values
        # queries: each pair's key repeated at a distinct slot after the pairs, its value right after it
        slots = (t + 1 - 2 * k) // 2  # two-token slots in the query region
        chosen = torch.argsort(torch.rand(n, slots, generator=g), dim=1)[:, :k]  # (B, k) slot per pair
        q = 2 * k + 2 * chosen  # query positions
        rows = torch.arange(n)[:, None]
        seq[rows, q], seq[rows, q + 1] = keys, values
        inputs, targets = seq[:, :-1], torch.full((n, t), IGNORE, dtype=torch.long)
        targets[rows, q] = values
        return MQARBatch(inputs, targets, q, q - 2 * torch.arange(k))

    def batch(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets, each (batch_size, seq_len): the interface :func:`~tgnlib.tgn.train.train` uses."""
        b = self.sample(batch_size)
        return b.inputs, b.targets
