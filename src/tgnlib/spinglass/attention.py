"""Three readings of the paper's "attention dynamics" (it gives no equations; all three are ours).

All are the Langevin dynamics of :mod:`tgnlib.spinglass.langevin` with one extra term in the drift.

(a) **Geometric smoothing** (:func:`attention_smoothing`): the force is passed through a softmax
    heat kernel over lattice sites, ``F <- (1 - mix) F + mix K F`` with
    ``K_ij = softmax_j(-d_ij^2 / 2 sigma^2)`` and ``d_ij`` the periodic lattice distance: a non-local
    preconditioner, the heat kernel K_tau of section 2.1 acting on the physical lattice. Its logits do
    not depend on the spins, so it is a fixed **linear filter**: a Gaussian blur, translation invariant on
    the periodic lattice, computed as a circular convolution by FFT (:func:`smooth_by_fft`, equal to
    the dense N x N product to float precision; tested). Cost charged: ``2 * 5 N log2 N + 6 N`` FLOPs
    per replica per step (two real FFTs and the product); the dense product would be ``2 N^2``.

(b) **Attention over replicas** (:func:`replica_attention`): each replica r attends to the population,
    ``w_rs = softmax_s(-(e_s - min e) / temperature + overlap * q_rs)`` with ``e_s`` the energy per spin
    of ``sign(x_s)`` and ``q_rs = x_r . x_s / N``, and is pulled toward the attended configuration:
    ``F_r <- F_r + pull * (sum_s w_rs x_s - x_r)``, in the spirit of consensus-based optimisation.
    Cost: ``4 R^2 N`` FLOPs per step (overlaps and the weighted sum).

(c) **Content-based site attention** (:func:`site_attention`): attention as in a Transformer, over
    the N sites of one replica, with queries and keys from each site's content: its soft spin, its
    force (local field plus the well) and the mean soft spin of its 6 neighbours, standardised over
    the sites. ``F <- (1 - mix) F + mix softmax(beta Q K^T / sqrt(3)) F``. Unlike (a), the weights
    depend on the state, so sites in like environments share their forces wherever they are. Cost
    charged: ``2 N^2 (2 * 3 + 2) / 2 + 3 N^2`` rounded to ``9 N^2`` FLOPs per replica per step (scores,
    softmax, weighted sum), computed by PyTorch's fused attention (no N x N matrix is stored).
"""

from __future__ import annotations

import math

import torch

from .langevin import langevin
from .trace import Trace


def lattice_heat_kernel(L: int, sigma: float, device="cpu") -> torch.Tensor:
    """Row-normalised Gaussian kernel over the sites of a periodic L^3 lattice, (N, N).

    Parameters
    ----------
    L : int
    sigma : float
        Width, in lattice spacings.
    device : str or torch.device

    Returns
    -------
    torch.Tensor, shape (L^3, L^3), rows summing to 1
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive; got sigma={sigma}")
    c = torch.stack(torch.meshgrid(*(torch.arange(L),) * 3, indexing="ij"), -1).reshape(-1, 3).float()
    diff = (c[:, None, :] - c[None, :, :]).abs()
    diff = torch.minimum(diff, L - diff)
    return torch.softmax(-(diff**2).sum(-1) / (2 * sigma**2), dim=1).to(device)


def lattice_kernel_spectrum(L: int, sigma: float, device="cpu") -> torch.Tensor:
    """Fourier transform (``rfftn``) of the row of :func:`lattice_heat_kernel` at the origin, (L, L, L//2 + 1).

    The kernel is translation invariant on the periodic lattice, so every row is this row shifted, and
    ``K F`` is the circular convolution of ``F`` with it.
    """
    row = lattice_heat_kernel(L, sigma)[0].reshape(L, L, L).double()
    return torch.fft.rfftn(row, dim=(-3, -2, -1)).to(device)


def smooth_by_fft(force: torch.Tensor, spectrum: torch.Tensor) -> torch.Tensor:
    """``K F`` on every replica by FFT: force (..., L, L, L), spectrum from :func:`lattice_kernel_spectrum`."""
    f = torch.fft.rfftn(force.double(), dim=(-3, -2, -1))
    # the kernel is symmetric (K_ij = K_ji), so convolution and correlation coincide
    return torch.fft.irfftn(f * spectrum, s=force.shape[-3:], dim=(-3, -2, -1)).to(force.dtype)


def attention_smoothing(J, sweeps: int, replicas: int = 16, sigma: float = 1.0, mix: float = 0.5, seed: int = 0,
                        device="cpu", n_records: int = 40, **langevin_kwargs) -> Trace:
    """Reading (a): Langevin with its force smoothed by a softmax heat kernel over sites.

    Parameters
    ----------
    J, sweeps, replicas, seed, device, n_records : as in :func:`tgnlib.spinglass.langevin.langevin`
    sigma : float, default 1.0
        Kernel width in lattice spacings.
    mix : float, default 0.5
        Weight of the smoothed force, in [0, 1].
    **langevin_kwargs
        ``step``, ``t_start``, ``well`` of the underlying Langevin dynamics.

    Returns
    -------
    Trace
        ``extra_flops``: the FFT filter's FLOPs per instance.
    """
    if not 0 <= mix <= 1:
        raise ValueError(f"mix must be in [0, 1]; got mix={mix}")
    L = torch.as_tensor(J).shape[-1]
    n = L**3
    spectrum = lattice_kernel_spectrum(L, sigma, device)
    flops_per_replica = 2 * 5.0 * n * math.log2(n) + 6.0 * n

    def smooth(x, force, _energy):
        return (1 - mix) * force + mix * smooth_by_fft(force, spectrum), flops_per_replica * force.shape[1]

    return langevin(J, sweeps, replicas, seed=seed, device=device, n_records=n_records, nonlocal_term=smooth,
                    method="attention (a): smoothed force", **langevin_kwargs)


def replica_attention(J, sweeps: int, replicas: int = 16, pull: float = 0.5, temperature: float = 0.02, overlap: float = 1.0,
                      seed: int = 0, device="cpu", n_records: int = 40, **langevin_kwargs) -> Trace:
    """Reading (b): Langevin replicas that attend to the population and move toward what they attend to.

    Parameters
    ----------
    J, sweeps, replicas, seed, device, n_records : as in :func:`tgnlib.spinglass.langevin.langevin`
    pull : float, default 0.5
        Strength of the pull toward the attended configuration.
    temperature : float, default 0.02
        Softmax temperature on energies per spin.
    overlap : float, default 1.0
        Weight of the overlap ``q_rs`` in the logits (0: every replica attends alike).
    **langevin_kwargs
        ``step``, ``t_start``, ``well``.

    Returns
    -------
    Trace
    """
    if temperature <= 0 or pull < 0:
        raise ValueError(f"need temperature > 0 and pull >= 0; got temperature={temperature}, pull={pull}")

    def attend(x, force, energy):
        i, r = x.shape[:2]
        n = x[0, 0].numel()
        flat = x.reshape(i, r, n)
        e = energy / n
        q = flat @ flat.transpose(1, 2) / n  # (I, R, R)
        logits = -(e - e.min(dim=1, keepdim=True).values).unsqueeze(1) / temperature + overlap * q
        target = torch.softmax(logits, dim=-1) @ flat
        return force + pull * (target.reshape(x.shape) - x), 4.0 * r * r * n

    return langevin(J, sweeps, replicas, seed=seed, device=device, n_records=n_records, nonlocal_term=attend,
                    method="attention (b): replica attention", **langevin_kwargs)


def site_attention_term(x: torch.Tensor, force: torch.Tensor, beta: float) -> torch.Tensor:
    """The attended force of reading (c): ``softmax(beta Q K^T / sqrt(3)) F`` for every replica.

    Parameters
    ----------
    x, force : tensors, shape (I, R, L, L, L)
        Soft spins and their force.
    beta : float
        Inverse temperature of the attention logits (0: every site attends to all alike).

    Returns
    -------
    torch.Tensor, same shape as ``force``
    """
    i, r = x.shape[:2]
    n = x[0, 0].numel()
    neighbours = sum(torch.roll(x, shift, dim) for dim in (-3, -2, -1) for shift in (1, -1)) / 6.0
    feats = torch.stack([x, force, neighbours], dim=-1).reshape(i * r, n, 3)
    feats = (feats - feats.mean(1, keepdim=True)) / (feats.std(1, keepdim=True) + 1e-6)  # standardised over sites
    value = force.reshape(i * r, n, 1)
    out = torch.nn.functional.scaled_dot_product_attention(feats, feats, value, scale=beta / math.sqrt(3.0))
    return out.reshape(force.shape)


def site_attention(J, sweeps: int, replicas: int = 16, beta: float = 1.0, mix: float = 0.5, seed: int = 0, device="cpu",
                   n_records: int = 40, **langevin_kwargs) -> Trace:
    """Reading (c): Langevin with its force mixed by content-based attention over the sites.

    Parameters
    ----------
    J, sweeps, replicas, seed, device, n_records : as in :func:`tgnlib.spinglass.langevin.langevin`
    beta : float, default 1.0
        Inverse temperature of the attention logits, >= 0.
    mix : float, default 0.5
        Weight of the attended force, in [0, 1].
    **langevin_kwargs
        ``step``, ``t_start``, ``well``.

    Returns
    -------
    Trace
        ``extra_flops``: ``9 N^2`` FLOPs per replica per step, per instance.
    """
    if not 0 <= mix <= 1 or beta < 0:
        raise ValueError(f"need mix in [0, 1] and beta >= 0; got mix={mix}, beta={beta}")
    n = torch.as_tensor(J).shape[-1] ** 3

    def attend(x, force, _energy):
        return (1 - mix) * force + mix * site_attention_term(x, force, beta), 9.0 * n * n * force.shape[1]

    return langevin(J, sweeps, replicas, seed=seed, device=device, n_records=n_records, nonlocal_term=attend,
                    method="attention (c): site attention", **langevin_kwargs)
