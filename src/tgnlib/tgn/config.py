"""Configuration of the Thermodynamic Gated Network and its baselines (one dataclass, checked)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

INERTIAL = ("gru", "mamba")
MODES = ("tgn", "inertial", "attention", "transformer")
GATES = ("soft", "hard", "capacity")
GATE_INPUTS = ("inertial", "detached")


@dataclass
class TGNConfig:
    """Sizes and switches of a TGN language model.

    Attributes
    ----------
    vocab_size : int
        Tokens in the vocabulary.
    context : int
        Longest sequence (learned position embeddings).
    d_model : int
        Width of the residual stream.
    n_layers : int
        Blocks.
    n_heads : int
        Attention heads; must divide ``d_model``.
    inertial : {"gru", "mamba"}
        The inertial stream: ``torch.nn.GRU``, or a Mamba-like selective diagonal recurrence
        computed with a parallel scan.
    d_state : int
        State size per channel of the Mamba-like recurrence.
    mode : {"tgn", "inertial", "attention", "transformer"}
        ``"tgn"``: gated mix of both streams; ``"inertial"``: gate fixed at 0 (the recurrent model);
        ``"attention"``: gate fixed at 1 (the attention stream alone, inside the TGN block);
        ``"transformer"``: a plain pre-norm Transformer block (nanoGPT-like baseline). The TGN
        block's attention path is a pre-norm Transformer block, so ``"attention"`` and
        ``"transformer"`` are the same network (tested); both names are kept for the tables.
    gate : {"soft", "hard", "capacity"}
        ``"hard"`` thresholds the gate at ``gate_threshold`` and computes attention only for the
        gated query positions (sparse execution; trained with the straight-through estimator);
        ``"soft"`` uses g in [0, 1] everywhere. ``"capacity"`` is a router in the manner of
        Mixture-of-Depths (Raposo et al. 2024): attention runs for the positions whose gate logit
        clears a threshold that tracks the ``1 - capacity`` quantile of past batches' logits (so
        about ``capacity`` of the tokens open, and a position's choice never depends on later
        tokens), and the open positions mix attention in with weight g, so the router learns from
        what attention brought where it ran.
    capacity : float
        Fraction of positions the ``"capacity"`` router opens, in (0, 1].
    gate_threshold : float
        Threshold of the hard gate, in (0, 1).
    gate_bias : float
        Initial bias of the gate's logit (negative: starts mostly closed).
    gate_input : {"inertial", "detached"}
        What the gate reads. ``"inertial"`` (the paper's formula, our default): the inertial state
        itself, so the gate's gradients, the lambda penalty's included, flow into the inertial
        stream and reshape it. ``"detached"``: the same state with its gradient stopped, so the
        penalty can only move the gate, and lambda -> infinity leaves a plain recurrent model.
    lam : float
        Weight lambda of the gate penalty ``lambda * mean(g)`` in the loss (finite, >= 0).
    dropout : float
        Dropout probability in [0, 1).
    """

    vocab_size: int = 256
    context: int = 128
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    inertial: str = "gru"
    d_state: int = 8
    mode: str = "tgn"
    gate: str = "soft"
    gate_threshold: float = 0.5
    capacity: float = 0.125
    gate_bias: float = 0.0
    gate_input: str = "inertial"
    lam: float = 0.01
    dropout: float = 0.0

    def __post_init__(self):
        for name in ("vocab_size", "context", "d_model", "n_layers", "n_heads", "d_state"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TGNConfig.{name}={value!r} must be a positive integer")
        if self.d_model % self.n_heads:
            raise ValueError(f"TGNConfig.n_heads={self.n_heads} must divide TGNConfig.d_model={self.d_model}")
        for name, allowed in (("inertial", INERTIAL), ("mode", MODES), ("gate", GATES), ("gate_input", GATE_INPUTS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"TGNConfig.{name}={getattr(self, name)!r} is not one of {allowed}")
        if isinstance(self.capacity, bool) or not isinstance(self.capacity, (int, float)) or not 0 < self.capacity <= 1:
            raise ValueError(f"TGNConfig.capacity={self.capacity!r} must be in (0, 1]")
        if not 0 < self.gate_threshold < 1:
            raise ValueError(f"TGNConfig.gate_threshold={self.gate_threshold!r} must be in (0, 1)")
        if isinstance(self.lam, bool) or not isinstance(self.lam, (int, float)) or not math.isfinite(self.lam) or self.lam < 0:
            raise ValueError(f"TGNConfig.lam={self.lam!r} must be a finite number >= 0")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"TGNConfig.dropout={self.dropout!r} must be in [0, 1)")

    def to_dict(self) -> dict:
        """Plain dict (for checkpoints and logs)."""
        return asdict(self)
