"""A synthetic recall task with a controlled dependency distance (claim G8: "the key to the very old ... door").

Each sequence is local filler with one long-range dependency planted in it::

    filler ... KEY v filler filler ... filler QUERY v filler ...
                   ^-------- distance --------^

* Filler follows a first-order Markov rule over ``n_filler`` tokens: the next token is
  ``(3 * previous + 1) mod n_filler`` with probability ``p_local``, else uniform. It is predictable from
  the previous token alone, so a recurrent stream suffices for it.
* After the marker ``KEY`` comes a value ``v`` drawn uniformly from ``n_values`` tokens; ``distance``
  tokens after ``v`` comes the marker ``QUERY``, and the token after it is ``v`` again. Predicting it
  from the ``QUERY`` position needs the token ``distance`` steps back.

Token ids: filler ``0 .. n_filler - 1``, values ``n_filler .. n_filler + n_values - 1``, then ``KEY`` and
``QUERY``; :attr:`RecallTask.vocab_size` is the total.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class RecallBatch:
    """Inputs, next-token targets and where the dependency is, for a batch of recall sequences."""

    inputs: torch.Tensor  # (B, T)
    targets: torch.Tensor  # (B, T)
    query_position: torch.Tensor  # (B,), index in ``inputs`` of QUERY; targets there are the value
    distance: torch.Tensor  # (B,), tokens from the value back-reference to QUERY


class RecallTask:
    """Seeded generator of recall sequences; usable as the ``tokens`` sampler of :func:`~tgnlib.tgn.train.train`.

    Parameters
    ----------
    seq_len : int
        Tokens per sequence (inputs; one more is drawn for the targets).
    distances : sequence of int
        Dependency distances to draw from, uniformly; each must be in ``[1, seq_len - 3]``.
    n_filler : int, default 32
        Filler vocabulary.
    n_values : int, default 16
        Values a key can carry.
    p_local : float, default 0.8
        Probability that filler follows its local rule.
    seed : int, default 0
    """

    def __init__(self, seq_len: int, distances, n_filler: int = 32, n_values: int = 16, p_local: float = 0.8, seed: int = 0):
        self.distances = torch.as_tensor(list(distances), dtype=torch.long)
        if len(self.distances) == 0 or int(self.distances.min()) < 1 or int(self.distances.max()) > seq_len - 3:
            raise ValueError(f"distances must lie in [1, seq_len - 3 = {seq_len - 3}]; got {list(distances)}")
        if not 0 <= p_local <= 1:
            raise ValueError(f"p_local={p_local!r} must be in [0, 1]")
        self.seq_len, self.n_filler, self.n_values, self.p_local = seq_len, n_filler, n_values, p_local
        self.seed = seed
        self.key, self.query = n_filler + n_values, n_filler + n_values + 1
        self.vocab_size = n_filler + n_values + 2
        self.generator = torch.Generator().manual_seed(seed)

    def settings(self) -> dict:
        """What defines the task's sequences (its constructor's arguments): the data part of a run's cache key."""
        return {"task": "recall", "seq_len": self.seq_len, "distances": self.distances.tolist(), "n_filler": self.n_filler,
                "n_values": self.n_values, "p_local": self.p_local, "seed": self.seed}

    def sample(self, batch_size: int, distance: int | None = None) -> RecallBatch:
        """A batch of sequences, each with one dependency (of ``distance`` if given, else drawn).

        Parameters
        ----------
        batch_size : int
        distance : int or None, default None

        Returns
        -------
        RecallBatch
        """
        g, n, t_len = self.generator, batch_size, self.seq_len + 1
        if distance is None:
            dist = self.distances[torch.randint(len(self.distances), (n,), generator=g)]
        else:
            if not 1 <= distance <= self.seq_len - 3:
                raise ValueError(f"distance={distance} must lie in [1, seq_len - 3 = {self.seq_len - 3}]")
            dist = torch.full((n,), distance, dtype=torch.long)
        seq = torch.empty(n, t_len, dtype=torch.long)
        seq[:, 0] = torch.randint(self.n_filler, (n,), generator=g)
        local = torch.rand(n, t_len, generator=g) < self.p_local
        noise = torch.randint(self.n_filler, (n, t_len), generator=g)
        for t in range(1, t_len):
            seq[:, t] = torch.where(local[:, t], (3 * seq[:, t - 1] + 1) % self.n_filler, noise[:, t])
        # KEY at k, value at k + 1, QUERY at q = k + 1 + distance, value again at q + 1 (the target of q)
        k = (torch.rand(n, generator=g) * (t_len - 3 - dist)).long()
        q = k + 1 + dist
        value = self.n_filler + torch.randint(self.n_values, (n,), generator=g)
        rows = torch.arange(n)
        seq[rows, k], seq[rows, k + 1], seq[rows, q], seq[rows, q + 1] = self.key, value, self.query, value
        return RecallBatch(seq[:, :-1], seq[:, 1:], q, dist)

    def batch(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets, each (batch_size, seq_len): the interface :func:`~tgnlib.tgn.train.train` uses."""
        b = self.sample(batch_size)
        return b.inputs, b.targets
