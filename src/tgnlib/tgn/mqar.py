"""Multi-query associative recall (MQAR; Arora et al. 2023, "Zoology"), the probe for claim G8.

Each sequence opens with ``n_pairs`` key-value pairs, then asks for every key again at a random later
position; the value must be predicted right after the repeated key::

    k1 v1 k2 v2 ... kn vn  0 0 k2 [v2] 0 k1 [v1] 0 0 ... kn [vn] ...
                                ^-- distance from k2's first appearance

Keys come from ``1 .. V/2 - 1`` and values from ``V/2 .. V - 1`` (token 0 is filler), drawn without
repetition within a sequence. Only the value after a repeated key is a target (the others are
``-100``, which ``cross_entropy`` ignores), so the task has no local signal at all: it is solved by
recall or not at all. Distances spread uniformly over the sequence, so accuracy can be read by distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .probe import position_matched

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


@torch.no_grad()
def mqar_accuracy(model, task: MQARTask, batches: int = 8, batch_size: int = 64, bins=(0, 16, 64, 256, 1 << 30),
                  long_from: int = 16) -> dict:
    """Recall accuracy of a model on fresh MQAR sequences, overall and by key-query distance, and, for a
    TGN, its soft gate at the repeated keys (where the value must be recalled) and at every other token.

    Parameters
    ----------
    model : callable
        Maps inputs (B, T) to an object with ``.logits`` (B, T, V) and, for a TGN, ``.gates`` (a
        :class:`~tgnlib.tgn.TGNLanguageModel`).
    task : MQARTask
        Its generator is advanced (use another seed than training's).
    batches, batch_size : int
    bins : sequence of int
        Distance bin edges, ``[lo, hi)``.
    long_from : int, default 16
        Queries at least this far from their key make ``long_accuracy``.

    Returns
    -------
    dict
        ``accuracy`` (all queries), ``long_accuracy`` (queries at distance >= ``long_from``; nan if none),
        ``by_distance`` (list of (lo, hi, accuracy, count)), ``chance``
        (``2 / V``: one value among V/2); for a model with gates also ``gate_query`` (n_layers,
        n_bins): mean soft gate at the queries of each non-empty bin, ``gate_first_key`` (n_layers,
        n_bins): at the first appearance of the same keys (the same tokens, with nothing to recall: the
        control), ``gate_position`` (n_layers, n_bins): of the other tokens at the queries' positions
        (:func:`tgnlib.tgn.probe.position_matched`), and ``gate_other`` (n_layers,): mean soft gate at every
        position but the queries.
    """
    was = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    first = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    device = first.device if first is not None else torch.device("cpu")
    hits, dists, at_query, at_key, at_position, other_sum, other_n = [], [], [], [], [], 0.0, 0
    for _ in range(batches):
        b = task.sample(batch_size)
        out = model(b.inputs.to(device))
        pred = out.logits.argmax(-1).cpu()
        hits.append((pred.gather(1, b.query_position) == b.targets.gather(1, b.query_position)).flatten())
        dists.append(b.distance.flatten())
        if getattr(out, "gates", None):
            gates = torch.stack([s.gate_soft for s in out.gates]).float().cpu()  # (L, B, T)
            rows = torch.arange(batch_size)[:, None]
            at_query.append(gates[:, rows, b.query_position].flatten(1))  # (L, B * n_pairs), same order as hits
            first = 2 * torch.arange(task.n_pairs).expand(batch_size, -1)  # pair j's key first appears at 2j
            at_key.append(gates[:, rows, first].flatten(1))
            at_position.append(position_matched(gates, b.query_position).flatten(1))
            is_query = torch.zeros_like(b.inputs, dtype=torch.bool)
            is_query[rows, b.query_position] = True
            other_sum = other_sum + gates[:, ~is_query].sum(1)
            other_n += int((~is_query).sum())
    if was:
        model.train()
    hit, dist = torch.cat(hits).float(), torch.cat(dists)
    gate_q = torch.cat(at_query, 1) if at_query else None
    gate_k = torch.cat(at_key, 1) if at_key else None
    gate_p = torch.cat(at_position, 1) if at_position else None
    by, gate_by, key_by, pos_by = [], [], [], []
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (dist >= lo) & (dist < hi)
        if m.any():
            by.append((int(lo), int(min(hi, task.seq_len)), float(hit[m].mean()), int(m.sum())))
            if gate_q is not None:
                gate_by.append(gate_q[:, m].mean(1))
                key_by.append(gate_k[:, m].mean(1))
                pos_by.append(gate_p[:, m].nanmean(1))
    long = dist >= long_from
    result = {"accuracy": float(hit.mean()), "long_accuracy": float(hit[long].mean()) if long.any() else float("nan"),
              "by_distance": by, "chance": 2 / task.vocab_size}
    if gate_q is not None:
        result.update(gate_query=torch.stack(gate_by, 1).numpy(), gate_first_key=torch.stack(key_by, 1).numpy(),
                      gate_position=torch.stack(pos_by, 1).numpy(),
                      gate_other=(other_sum / other_n).numpy())
    return result
