"""The inertial stream: a GRU, or a Mamba-like selective diagonal linear recurrence.

The GRU is ``torch.nn.GRU``'s, weights and equations; on a CPU it runs through :func:`gru`, which
computes the input products of all steps at once and the recurrence as a loop with a hand-written
backward (:class:`_GRUScan`), because autograd through ``torch.nn.GRU`` on a CPU replays every step's
operations one by one and made the GRU most of a TGN's training step. Where a C++ compiler is found the
loop runs compiled (:mod:`tgnlib.tgn.gru_kernel`: the same numbers up to float rounding, as between
thread counts, so a run keeps its key). The module itself stays the reference path (and the GPU one,
cuDNN); tests compare the three.

Mamba-like recurrence (Gu and Dao 2023, simplified; plain PyTorch). For each channel c and state n::

    delta_t = softplus(W_delta x_t)                   (input-dependent step, per channel)
    a_t     = exp(-delta_t * A_cn),   A_cn > 0        (decay in (0, 1))
    h_t     = a_t * h_{t-1} + delta_t * B_t[n] * x_t[c]
    y_t[c]  = sum_n C_t[n] * h_t[c, n] + D_c * x_t[c]

The linear recurrence ``h_t = a_t h_{t-1} + b_t`` has two implementations with the same numbers
(tested): :func:`parallel_scan`, an associative (Hillis-Steele) scan in log2(T) steps, and
:func:`sequential_scan`, a loop over time. On a GPU the loop is bound by kernel launches and the
parallel scan wins; on a CPU the loop already streams the inputs at memory bandwidth and is the
fastest we have (measured in ``benchmarks/bench_tgn.py``), so :func:`scan` picks by device. The loop's
gradient is a second loop, backwards in time (:class:`_SequentialScan`), not autograd through T steps.

The recurrence above is exactly what ``mamba-ssm``'s ``selective_scan_fn`` computes (with
``A = -A_cn``, ``delta_softplus=True``, a variable ``B`` and ``C`` shared by all channels, ``D`` the
skip), so on a GPU where ``mamba-ssm`` is installed the layer runs its fused CUDA kernel instead
(:meth:`SelectiveRecurrence.selective_scan_arguments`; the kernel is CUDA-only and not a dependency).
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from . import gru_kernel


def parallel_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """All states of ``h_t = a_t * h_{t-1} + b_t`` (``h_{-1} = 0``), along dimension 1.

    Parameters
    ----------
    a, b : tensors of the same shape (B, T, ...)
        Decays and inputs.

    Returns
    -------
    torch.Tensor, shape (B, T, ...)
    """
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}")
    t_len = a.shape[1]
    offset = 1
    while offset < t_len:
        # combine each step with the one `offset` earlier: (a1, b1) then (a2, b2) = (a1 a2, a2 b1 + b2)
        b = torch.cat([b[:, :offset], b[:, offset:] + a[:, offset:] * b[:, :-offset]], dim=1)
        a = torch.cat([a[:, :offset], a[:, offset:] * a[:, :-offset]], dim=1)
        offset *= 2
    return b


def _loop(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    h = torch.zeros_like(b[:, 0])
    out = []
    for t in range(a.shape[1]):
        h = torch.addcmul(b[:, t], a[:, t], h)
        out.append(h)
    return torch.stack(out, dim=1)


class _SequentialScan(torch.autograd.Function):
    """The loop with a hand-written backward: the gradient of a linear recurrence is the same
    recurrence run backwards, ``g_t = dL/dh_t + a_{t+1} g_{t+1}``, and then ``dL/db_t = g_t`` and
    ``dL/da_t = g_t h_{t-1}``. Autograd through the loop records T small nodes per call: on CPU it made
    a forward + backward of the scan 60x slower and training the Mamba-like TGN 5x slower
    (``benchmarks/bench_tgn.py``)."""

    @staticmethod
    def forward(ctx, a, b):
        h = _loop(a, b)
        ctx.save_for_backward(a, h)
        return h

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h):
        a, h = ctx.saved_tensors
        a_next = torch.cat([a[:, 1:], torch.zeros_like(a[:, :1])], dim=1)
        g = _loop(a_next.flip(1), grad_h.flip(1)).flip(1)
        h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
        return g * h_prev, g


def sequential_scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Loop over time for :func:`parallel_scan` (same arguments and result).

    Differentiable through a hand-written backward (a reverse scan), not through autograd of the loop;
    second derivatives are not supported.
    """
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}")
    return _SequentialScan.apply(a, b)


SCANS = ("auto", "parallel", "sequential")


def scan(a: torch.Tensor, b: torch.Tensor, method: str = "auto") -> torch.Tensor:
    """``h_t = a_t * h_{t-1} + b_t`` along dimension 1 by the fastest method for the device.

    Parameters
    ----------
    a, b : tensors of the same shape (B, T, ...)
    method : {"auto", "parallel", "sequential"}, default "auto"
        ``"auto"``: parallel on CUDA, sequential on the CPU.

    Returns
    -------
    torch.Tensor
    """
    if method not in SCANS:
        raise ValueError(f"method={method!r} is not one of {SCANS}")
    if method == "auto":
        method = "parallel" if a.is_cuda else "sequential"
    return parallel_scan(a, b) if method == "parallel" else sequential_scan(a, b)


class SelectiveRecurrence(nn.Module):
    """Mamba-like selective diagonal recurrence over a sequence (B, T, D) -> (B, T, D)."""

    def __init__(self, d_model: int, d_state: int = 8):
        super().__init__()
        self.delta = nn.Linear(d_model, d_model)
        self.bc = nn.Linear(d_model, 2 * d_state)
        # A_cn in [1, d_state] as in S4D-real: a spread of time scales per channel
        self.log_a = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(d_model, 1))
        self.skip = nn.Parameter(torch.ones(d_model))
        self.log_a._no_weight_decay = True  # as Mamba's A_log: decay would pull every time scale to 1
        nn.init.constant_(self.delta.bias, math.log(math.expm1(0.05)))  # initial step ~0.05
        self.delta.keep_init = True

    def coefficients(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Decays a (B, T, D, N), inputs b (B, T, D, N) and readout C (B, T, N)."""
        delta = nn.functional.softplus(self.delta(x))  # (B, T, D)
        b_in, c_out = self.bc(x).chunk(2, dim=-1)  # (B, T, N) each
        a = torch.exp(-delta.unsqueeze(-1) * torch.exp(self.log_a))
        b = (delta * x).unsqueeze(-1) * b_in.unsqueeze(-2)
        return a, b, c_out

    def selective_scan_arguments(self, x: torch.Tensor) -> dict:
        """The arguments of ``mamba_ssm``'s ``selective_scan_fn`` that compute this layer on ``x`` (B, T, D).

        ``u`` and ``delta`` (before softplus) are (B, D, T), ``A`` (D, N) is ``-exp(log_a)``, ``B`` and
        ``C`` are (B, N, T), ``D`` is the skip; the kernel's output (B, D, T) transposed is :meth:`forward`.
        The kernel wants ``u``, ``delta``, ``B`` and ``C`` in one dtype (bf16 under autocast) and ``A``,
        ``D`` in float32.
        """
        delta = self.delta(x)
        b_in, c_out = self.bc(x).chunk(2, dim=-1)
        dtype = delta.dtype
        return {"u": x.to(dtype).transpose(1, 2), "delta": delta.transpose(1, 2), "A": -torch.exp(self.log_a.float()),
                "B": b_in.to(dtype).transpose(1, 2), "C": c_out.to(dtype).transpose(1, 2), "D": self.skip.float(),
                "delta_softplus": True}

    def forward(self, x: torch.Tensor, method: str = "auto") -> torch.Tensor:
        """(B, T, D) -> (B, T, D).

        method : {"auto", "parallel", "sequential", "mamba-ssm"}, default "auto"
            How the recurrence is run: a scan of :func:`scan`, or ``mamba-ssm``'s fused CUDA kernel.
            ``"auto"``: the kernel on CUDA when ``mamba-ssm`` is installed, else :func:`scan`'s choice.
        """
        if method not in RECURRENCE_METHODS:
            raise ValueError(f"method={method!r} is not one of {RECURRENCE_METHODS}")
        kernel = selective_scan_kernel() if method == "mamba-ssm" or (method == "auto" and x.is_cuda) else None
        if method == "mamba-ssm" and kernel is None:
            raise RuntimeError("method='mamba-ssm' needs the mamba-ssm package and a CUDA tensor (pip install mamba-ssm "
                               "on a machine with CUDA); it is not installed here. Use method='auto'.")
        if kernel is not None:
            return kernel(**self.selective_scan_arguments(x)).transpose(1, 2).to(x.dtype)
        a, b, c_out = self.coefficients(x)
        return (scan(a, b, method) * c_out.unsqueeze(-2)).sum(-1) + self.skip * x


RECURRENCE_METHODS = SCANS + ("mamba-ssm",)


@functools.cache
def selective_scan_kernel():
    """``mamba_ssm``'s ``selective_scan_fn`` when the package is installed and importable, else None.

    Looked up once per process: a failed import is retried by Python on every call, and the layer asks
    on every CUDA forward.
    """
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except (ImportError, OSError):  # not installed, or installed without a usable CUDA runtime
        return None
    return selective_scan_fn


def _gru_loop(gi: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor):
    """Forward of the GRU recurrence given the input projections ``gi`` (B, T, 3D), as torch.nn.GRU.

    Returns the states h (B, T, D) and what the backward needs: the reset and update gates r, z and the
    candidate n (B, T, D each) and the hidden projection's candidate part ``gh_n`` (B, T, D).
    """
    bsz, t_len, d3 = gi.shape
    d = d3 // 3
    h = gi.new_zeros(bsz, d)
    hs, rz, n, gh_n = (gi.new_empty(bsz, t_len, k) for k in (d, 2 * d, d, d))
    for t in range(t_len):
        gh = torch.addmm(b_hh, h, w_hh.t())  # (B, 3D): the only product that has to wait for h_{t-1}
        torch.sigmoid(gi[:, t, :2 * d] + gh[:, :2 * d], out=rz[:, t])
        gh_n[:, t] = gh[:, 2 * d:]
        torch.tanh(torch.addcmul(gi[:, t, 2 * d:], rz[:, t, :d], gh[:, 2 * d:]), out=n[:, t])
        h = torch.addcmul(n[:, t], rz[:, t, d:], h - n[:, t])  # (1 - z) n + z h
        hs[:, t] = h
    return hs, rz[..., :d], rz[..., d:], n, gh_n


class _GRUScan(torch.autograd.Function):
    """The GRU recurrence with a hand-written backward in reverse time.

    Autograd through ``torch.nn.GRU`` on a CPU records every step's operations and replays them one by
    one; here the backward is one loop of three operations per step. Given the saved gates, the
    gradient reaching the hidden projection, ``dgh_t = dh_t * c_t`` (c_t = [c_r, c_z, c_n]), is linear
    in ``dh_t``, so the loop only carries ``dh_{t-1} = dL/dh_{t-1} + z_t dh_t + dgh_t W_hh``; every
    other gradient is computed from all the ``dh_t`` at once after it.
    """

    @staticmethod
    def forward(ctx, gi, w_hh, b_hh):
        hs, r, z, n, gh_n = _gru_loop(gi, w_hh, b_hh)
        ctx.save_for_backward(w_hh, hs, r, z, n, gh_n)
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h):
        w_hh, hs, r, z, n, gh_n = ctx.saved_tensors
        h_prev = torch.cat([torch.zeros_like(hs[:, :1]), hs[:, :-1]], dim=1)
        dn_pre = (1 - z) * (1 - n * n)  # d h_t / d n_pre, n_pre the tanh's argument
        # (B, T, 3, D): d(gh)/d(h_t) per unit of dh_t, in torch.nn.GRU's gate order r, z, n
        coef = torch.stack([dn_pre * gh_n * r * (1 - r), (h_prev - n) * z * (1 - z), dn_pre * r], dim=2)
        bsz, t_len, d = hs.shape
        dh_all = torch.empty_like(hs)
        dh = grad_h[:, -1]
        for t in range(t_len - 1, -1, -1):
            dh_all[:, t] = dh
            if t == 0:
                break
            dgh = (coef[:, t] * dh.unsqueeze(1)).reshape(bsz, 3 * d)
            dh = torch.addmm(torch.addcmul(grad_h[:, t - 1], z[:, t], dh), dgh, w_hh)
        dgh_all = (coef * dh_all.unsqueeze(2)).reshape(bsz, t_len, 3 * d)
        dgi = torch.cat([dgh_all[..., :2 * d], dh_all * dn_pre], dim=-1)
        flat = dgh_all.reshape(-1, 3 * d)
        return dgi, flat.t() @ h_prev.reshape(-1, d), flat.sum(0)


GRU_METHODS = ("auto", "torch", "loop", "compiled")


def gru(x: torch.Tensor, module: nn.GRU, method: str = "auto") -> torch.Tensor:
    """All hidden states of a one-layer, batch-first ``torch.nn.GRU`` run from a zero state on ``x`` (B, T, D).

    Parameters
    ----------
    x : torch.Tensor, shape (B, T, D_in)
    module : torch.nn.GRU
        One layer, unidirectional, ``batch_first=True``, with biases: its weights are used as they are.
    method : {"auto", "torch", "loop", "compiled"}, default "auto"
        ``"torch"``: the module itself (the reference; cuDNN on a GPU). ``"loop"``: the input products
        for all steps at once, then the recurrence as a Python loop with the hand-written backward of
        :class:`_GRUScan` (same numbers up to rounding, tested; its forward + backward at (8, 256, 64) is
        1.5x faster on one CPU thread and 2.6x on two, ``benchmarks/bench_tgn.py``). ``"compiled"``: the
        same equations as C++ loops (:mod:`tgnlib.tgn.gru_kernel`, built on first use; 4.4x faster than
        the Python loop there); an error where they cannot be built. ``"auto"``: on the CPU when a
        gradient will flow through it (training), the compiled loops where they build, else the Python
        loop; otherwise the module: without a backward to save, torch's own loop is fast (forward alone
        at (8, 256, 64) 2.7x the Python loop, at (8, 256, 256) 1.4x, one thread), and on other devices
        the module.

    Returns
    -------
    torch.Tensor, shape (B, T, D)
    """
    if method not in GRU_METHODS:
        raise ValueError(f"method={method!r} is not one of {GRU_METHODS}")
    if module.num_layers != 1 or module.bidirectional or not module.batch_first or not module.bias:
        raise ValueError("gru() runs a one-layer, unidirectional, batch_first torch.nn.GRU with biases")
    needs_grad = torch.is_grad_enabled() and (x.requires_grad or any(p.requires_grad for p in module.parameters()))
    if method == "torch" or (method == "auto" and (x.device.type != "cpu" or not needs_grad)):
        return module(x)[0]
    gi = nn.functional.linear(x, module.weight_ih_l0, module.bias_ih_l0)  # (B, T, 3D), every step at once
    if method == "compiled" and gru_kernel.load() is None:
        raise RuntimeError("method='compiled' needs the C++ loop of tgnlib.tgn.gru_kernel, which could not be built here")
    if method == "compiled" or (method == "auto" and gru_kernel.load() is not None):
        return gru_kernel.GRUKernelScan.apply(gi, module.weight_hh_l0, module.bias_hh_l0)
    return _GRUScan.apply(gi, module.weight_hh_l0, module.bias_hh_l0)


class InertialStream(nn.Module):
    """The inertial stream of a TGN block: ``"gru"`` (torch.nn.GRU) or ``"mamba"`` (selective recurrence).

    ``gru_method`` (attribute, default ``"auto"``) is how the GRU is run, see :func:`gru`; it changes the
    speed, not the model (its weights are the ``torch.nn.GRU``'s).
    """

    def __init__(self, kind: str, d_model: int, d_state: int = 8):
        super().__init__()
        self.kind = kind
        self.gru_method = "auto"
        if kind == "gru":
            self.net = nn.GRU(d_model, d_model, batch_first=True)
        elif kind == "mamba":
            self.net = SelectiveRecurrence(d_model, d_state)
        else:
            raise ValueError(f"inertial={kind!r} is not one of ('gru', 'mamba')")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return gru(x, self.net, self.gru_method) if self.kind == "gru" else self.net(x)
