"""The Thermodynamic Gated Network (section 2.5 of the paper) and its baselines, nanoGPT-style.

One TGN block (pre-norm)::

    u       = LN(x)
    h_inert = InertialStream(u)                       # GRU or Mamba-like recurrence
    g_t     = sigmoid(w . h_inert_t + b)              # the adaptive entropy regulator, one gate per token
    h_t     = (1 - g_t) * h_inert_t + g_t * Attention(u)_t
    x       = x + h;   x = x + MLP(LN(x))

Loss = cross-entropy + lambda * mean(g) (the paper's ``lambda * ||g||_1``, averaged over tokens and
layers). With ``gate="hard"`` the gate is thresholded and attention runs only for the open positions
(:meth:`CausalSelfAttention.forward_rows`); training through a hard gate uses the straight-through
estimator (the gradient of the 0/1 gate is taken as that of the soft gate). With ``gate="capacity"``
a router opens about a fixed fraction of positions (a threshold on the gate logit that follows the
quantile of past batches' logits) and mixes attention in with weight g where open, Mixture-of-Depths
style (:class:`TGNBlock`). Modes ``"inertial"`` (g = 0) and ``"attention"`` (g = 1)
are the two streams alone inside the same block; ``"transformer"`` is a plain pre-norm Transformer.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .attention import CausalSelfAttention, attention_flops
from .config import TGNConfig
from .inertial import InertialStream

ROUTER_MOMENTUM = 0.9  # the capacity router's threshold: weight of its past value at each training step


class MLP(nn.Module):
    """Token-wise feed-forward network, width 4d, GELU."""

    def __init__(self, d: int, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@dataclass
class BlockStats:
    """What one block did: its gate values and the attention FLOPs it executed."""

    gate: torch.Tensor  # (B, T), the gate used (soft values; 0/1 when hard; g where the capacity router opened, else 0)
    gate_soft: torch.Tensor  # (B, T), sigmoid output before any threshold
    attention_flops: float


class TGNBlock(nn.Module):
    """One block: inertial and geometric streams mixed by a gate (see the module docstring)."""

    def __init__(self, cfg: TGNConfig):
        super().__init__()
        self.cfg = cfg
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg.d_model, cfg.dropout)
        self.attn = CausalSelfAttention(cfg.d_model, cfg.n_heads, cfg.dropout) if cfg.mode != "inertial" else None
        if cfg.mode in ("tgn", "inertial"):
            self.inertial = InertialStream(cfg.inertial, cfg.d_model, cfg.d_state)
        if cfg.mode == "tgn":
            self.gate = nn.Linear(cfg.d_model, 1)
            nn.init.zeros_(self.gate.weight)
            nn.init.constant_(self.gate.bias, cfg.gate_bias)
            self.gate.keep_init = True
            for p in self.gate.parameters():  # decay would pull the gate toward sigmoid(0) = 0.5 (see train.parameter_groups)
                p._no_weight_decay = True
        if cfg.mode == "tgn" and cfg.gate == "capacity":
            # the router's threshold on the gate logit; it starts at the initial logit, so every position is
            # open at the first step (the gate weight starts at zero) and the router gets a gradient
            self.register_buffer("threshold", torch.tensor(float(cfg.gate_bias)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, BlockStats]:
        cfg, (b, t, d) = self.cfg, x.shape
        u = self.ln1(x)
        causal_flops = attention_flops(1, 1, d) * b * t * (t + 1) / 2
        if cfg.mode == "transformer" or cfg.mode == "attention":
            h, ones = self.attn(u), torch.ones(b, t, device=x.device)
            stats = BlockStats(ones, ones, causal_flops)
        elif cfg.mode == "inertial":
            h, zeros = self.inertial(u), torch.zeros(b, t, device=x.device)
            stats = BlockStats(zeros, zeros, 0.0)
        else:
            h_inert = self.inertial(u)
            gate_in = h_inert.detach() if cfg.gate_input == "detached" else h_inert
            z = self.gate(gate_in).squeeze(-1)  # (B, T), the gate's logit
            g_soft = torch.sigmoid(z)
            if cfg.gate == "hard":
                open_rows = g_soft > cfg.gate_threshold
                att, flops = self.attn.forward_rows(u, open_rows)
                # straight-through: the forward pass uses exactly 0 or 1, the gradient flows to g_soft
                g = open_rows.to(x.dtype) + g_soft - g_soft.detach()
            elif cfg.gate == "capacity":
                open_rows = z.detach() >= self.threshold  # the threshold comes from earlier batches only: causal
                att, flops = self.attn.forward_rows(u, open_rows)
                # Mixture-of-Depths: the router weight scales the attention it lets in, so open rows teach the
                # router whether attention helped there; closed rows keep the inertial stream alone
                g = open_rows.to(x.dtype) * g_soft
                if self.training:
                    level = torch.quantile(z.detach().flatten().to(self.threshold.dtype), 1 - cfg.capacity)
                    self.threshold.lerp_(level, 1 - ROUTER_MOMENTUM)
            else:
                att, flops, g = self.attn(u), causal_flops, g_soft
            h = (1 - g).unsqueeze(-1) * h_inert + g.unsqueeze(-1) * att
            stats = BlockStats(g, g_soft, flops)
        x = x + h
        return x + self.mlp(self.ln2(x)), stats


@dataclass
class TGNOutput:
    """Logits, losses and gate statistics of one forward pass."""

    logits: torch.Tensor
    loss: torch.Tensor | None  # cross-entropy + lambda * mean(gate), when targets were given
    ce: torch.Tensor | None
    gates: list[BlockStats]

    @property
    def gate_rate(self) -> float:
        """Mean gate over tokens and layers (the paper's "gate rate")."""
        return float(torch.stack([s.gate.detach().float().mean() for s in self.gates]).mean())

    @property
    def attention_flops(self) -> float:
        """Score/value FLOPs of attention actually executed in this pass, all layers."""
        return float(sum(s.attention_flops for s in self.gates))


class TGNLanguageModel(nn.Module):
    """Token and position embeddings, ``n_layers`` blocks, final norm, tied output head."""

    def __init__(self, cfg: TGNConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.context, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(TGNBlock(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.head.weight = self.tok.weight
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        # nanoGPT's initialisation (std 0.02; PyTorch's N(0, 1) embeddings make tied logits of order sqrt(d));
        # the gate and the recurrence's step keep the initialisation their modules chose
        if getattr(module, "keep_init", False):
            return
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def n_params(self) -> int:
        """Number of trainable parameters (tied weights counted once)."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> TGNOutput:
        """Next-token logits for ``idx`` (B, T); with ``targets`` (B, T) also the losses."""
        b, t = idx.shape
        if t > self.cfg.context:
            raise ValueError(f"sequence length {t} exceeds TGNConfig.context={self.cfg.context}")
        x = self.drop(self.tok(idx) + self.pos(torch.arange(t, device=idx.device)))
        stats = []
        for block in self.blocks:
            x, s = block(x)
            stats.append(s)
        logits = self.head(self.ln_f(x))
        if targets is None:
            return TGNOutput(logits, None, None, stats)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        penalty = torch.stack([s.gate_soft.mean() for s in stats]).mean() if self.cfg.mode == "tgn" else ce.new_zeros(())
        return TGNOutput(logits, ce + self.cfg.lam * penalty, ce, stats)
