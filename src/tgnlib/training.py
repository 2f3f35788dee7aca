"""Training pieces every language model of the book shares: the settings, the learning-rate schedule,
the data sampler, the AdamW parameter groups and atomic checkpoints.

The TGN chapter's loop (:mod:`tgnlib.tgn.train`) and the book-trained pair of chapter 2.3
(:mod:`tgnlib.llm.small`) both use them, so every model of a comparison is optimised the same way.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


@dataclass
class TrainConfig:
    """Optimisation settings; every model of a comparison gets the same ones.

    Attributes
    ----------
    steps : int
        Optimiser steps.
    batch_size : int
        Sequences per step, all ranks together (the global batch).
    seq_len : int
        Tokens per sequence.
    lr : float
        Peak learning rate.
    min_lr_ratio : float
        Final learning rate as a fraction of ``lr`` (cosine decay).
    warmup : int
        Linear warm-up steps.
    weight_decay : float
    grad_clip : float
        Maximum gradient norm.
    checkpoint_every : int
        Steps between checkpoints (0: only at the end).
    seed : int
    """

    steps: int = 200
    batch_size: int = 16
    seq_len: int = 128
    lr: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup: int = 20
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    checkpoint_every: int = 100
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "batch_size", "seq_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name}={getattr(self, name)!r} must be >= 1")
        if self.lr <= 0 or not 0 <= self.min_lr_ratio <= 1 or self.warmup < 0 or self.grad_clip <= 0:
            raise ValueError(f"TrainConfig has an invalid schedule: lr={self.lr}, min_lr_ratio={self.min_lr_ratio}, "
                             f"warmup={self.warmup}, grad_clip={self.grad_clip}")


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``cfg.lr`` over ``cfg.warmup`` steps, then cosine decay to ``min_lr_ratio * lr``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


class TokenSampler:
    """Random windows of ``seq_len + 1`` tokens from a 1-d array of token ids, from a seeded generator.

    The generator's state is the data position: it is saved in checkpoints and restored on resume.
    """

    def __init__(self, tokens, seq_len: int, seed: int = 0):
        self.tokens = torch.as_tensor(np.asarray(tokens), dtype=torch.long)
        if self.tokens.ndim != 1 or len(self.tokens) <= seq_len + 1:
            raise ValueError(f"need a 1-d token array longer than seq_len + 1 = {seq_len + 1}; got shape {tuple(self.tokens.shape)}")
        self.seq_len = seq_len
        self.generator = torch.Generator().manual_seed(seed)

    def batch(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and next-token targets, each (batch_size, seq_len)."""
        starts = torch.randint(0, len(self.tokens) - self.seq_len - 1, (batch_size,), generator=self.generator)
        windows = torch.stack([self.tokens[s : s + self.seq_len + 1] for s in starts.tolist()])
        return windows[:, :-1], windows[:, 1:]


def save_atomic(obj, path: Path) -> None:
    """``torch.save`` to a temporary file, then rename it: a killed run never leaves half a checkpoint."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def parameter_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups: weight decay on weight matrices and embeddings only.

    As nanoGPT's ``configure_optimizers`` and Mamba's ``_no_weight_decay``: biases, norms and the
    recurrence's skip (1-D), the recurrence's ``log_a`` and the gate's weight and bias (marked
    ``_no_weight_decay``) are not decayed. Decaying the gate would pull it toward g = 0.5 and confound
    every gate-trajectory claim.

    Parameters
    ----------
    model : torch.nn.Module
    weight_decay : float

    Returns
    -------
    list of dict
        Two groups, ``{"params", "weight_decay"}``, with every trainable parameter in exactly one.
    """
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 and not getattr(p, "_no_weight_decay", False) else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
