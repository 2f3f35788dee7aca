"""Single-spin Metropolis on the checkerboard, and simulated annealing built on it.

A sweep updates colour 0 then colour 1; each half-sweep proposes a flip of every spin of that colour
at once (valid because same-colour spins do not interact) and accepts it with probability
``min(1, exp(-beta dE))``, ``dE = 2 s h``. One sweep = N spin-update attempts per replica.
"""

from __future__ import annotations

import numpy as np
import torch

from .lattice import Checkerboard


def metropolis_half_sweep(cb: Checkerboard, colour: int, spins: list[torch.Tensor], beta: torch.Tensor,
                          uniforms: torch.Tensor) -> None:
    """Update one colour in place.

    Parameters
    ----------
    cb : Checkerboard
    colour : {0, 1}
    spins : [colour0, colour1], each (I, R, L, L, L/2)
    beta : tensor broadcastable to (I, R, 1, 1, 1)
        Inverse temperature of each replica.
    uniforms : tensor, shape of a colour array
        Uniform random numbers in [0, 1).
    """
    s = spins[colour]
    h = cb.field(colour, spins[1 - colour])
    # accept iff u < exp(-beta * 2 s h)  <=>  log(u) < -2 beta s h; flip by multiplying with -1
    accept = torch.log(uniforms) < (-2.0 * beta) * (s * h)
    s.mul_(1.0 - 2.0 * accept.to(s.dtype))


def metropolis_sweeps(cb: Checkerboard, spins: list[torch.Tensor], beta: torch.Tensor, n_sweeps: int,
                      generator: torch.Generator, chunk: int = 16) -> None:
    """``n_sweeps`` checkerboard Metropolis sweeps at fixed inverse temperatures, in place.

    Parameters
    ----------
    cb : Checkerboard
    spins : [colour0, colour1], each (I, R, L, L, L/2)
    beta : tensor broadcastable to (I, R, 1, 1, 1)
    n_sweeps : int
    generator : torch.Generator
        On the spins' device; random numbers are drawn ``chunk`` sweeps at a time.
    chunk : int, default 16
    """
    shape = spins[0].shape
    done = 0
    while done < n_sweeps:
        k = min(chunk, n_sweeps - done)
        u = torch.rand((k, 2, *shape), generator=generator, device=spins[0].device, dtype=spins[0].dtype)
        for t in range(k):
            metropolis_half_sweep(cb, 0, spins, beta, u[t, 0])
            metropolis_half_sweep(cb, 1, spins, beta, u[t, 1])
        done += k


def geometric_betas(t_hot: float, t_cold: float, n: int) -> np.ndarray:
    """``n`` inverse temperatures from ``1/t_hot`` to ``1/t_cold``, geometric in T.

    Parameters
    ----------
    t_hot, t_cold : float
        Temperatures, ``t_hot > t_cold > 0``.
    n : int
        At least 1 (a single value gives ``1/t_cold``).

    Returns
    -------
    numpy.ndarray, shape (n,)
    """
    if not (t_hot > 0 and t_cold > 0):
        raise ValueError(f"temperatures must be positive; got t_hot={t_hot!r}, t_cold={t_cold!r}")
    if n == 1:
        return np.array([1.0 / t_cold])
    return 1.0 / np.geomspace(t_hot, t_cold, n)
