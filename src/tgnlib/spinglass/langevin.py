"""Overdamped Langevin dynamics on soft spins, the "gradient" baseline of the paper.

Soft spins ``x`` in R replace ``s = +-1``; a double-well potential keeps them near +-1::

    U(x) = H(x) + a * sum_i (x_i^2 - 1)^2,   a = 1 by default
    x <- x + eta * F(x) + sqrt(2 eta T(t)) * xi,   F = -grad U = h(x) - 4 a x (x^2 - 1)

with ``h`` the local field, step ``eta`` and a temperature ramped linearly from ``t_start`` to 0
over the run (``t_start = 0`` is zero-temperature gradient descent). Energies are always those of
``sign(x)``. One step updates all N soft spins of a replica: one sweep of budget.

The attention dynamics (:mod:`tgnlib.spinglass.attention`) use this same integrator and add a
non-local term to the drift, so the comparison isolates that term.
"""

from __future__ import annotations

from typing import Callable

import torch

from .lattice import check_couplings, energy, local_field
from .trace import Recorder, Trace

# drift(x, force, sign_energy) -> (new_force, flops of the non-local term per instance)
NonLocalTerm = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, float]]


def soft_spin_force(J: torch.Tensor, x: torch.Tensor, well: float = 1.0) -> torch.Tensor:
    """``-grad U(x)`` for the soft-spin potential (see the module docstring).

    Parameters
    ----------
    J : tensor, shape (I, 3, L, L, L)
    x : tensor, shape (I, R, L, L, L)
    well : float, default 1.0
        Height ``a`` of the double well.

    Returns
    -------
    torch.Tensor, same shape as ``x``
    """
    return local_field(J, x) - 4.0 * well * x * (x * x - 1.0)


def langevin(J, sweeps: int, replicas: int = 16, step: float = 0.05, t_start: float = 1.0, well: float = 1.0, seed: int = 0,
             device="cpu", n_records: int = 40, nonlocal_term: NonLocalTerm | None = None, method: str = "Langevin") -> Trace:
    """Annealed overdamped Langevin dynamics on soft spins, best energy of ``sign(x)``.

    Parameters
    ----------
    J : tensor, shape (3, L, L, L) or (I, 3, L, L, L)
    sweeps : int
        Budget per instance (all replicas together): ``sweeps // replicas`` steps.
    replicas : int, default 16
    step : float, default 0.05
        Time step eta (stable for the well's curvature 8a when eta < 0.25).
    t_start : float, default 1.0
        Initial temperature, ramped linearly to 0; 0 gives gradient descent.
    well : float, default 1.0
        Double-well height a.
    seed : int, default 0
    device : str or torch.device, default "cpu"
    n_records : int, default 40
    nonlocal_term : callable or None
        Adds a non-local term to the drift (used by the attention dynamics).
    method : str, default "Langevin"
        Name in the trace.

    Returns
    -------
    Trace
    """
    if step <= 0 or t_start < 0 or well <= 0:
        raise ValueError(f"need step > 0, t_start >= 0, well > 0; got step={step}, t_start={t_start}, well={well}")
    J = check_couplings(J).to(device=device, dtype=torch.float32)
    n_inst, L = J.shape[0], J.shape[-1]
    steps = max(sweeps // replicas, 1)
    g = torch.Generator(device=device).manual_seed(seed)
    x = 0.1 * torch.randn(n_inst, replicas, L, L, L, generator=g, device=device)
    rec = Recorder(method, L, n_inst, steps * replicas, n_records, device)
    flops = 0.0
    for t in range(steps):
        spins = torch.where(x >= 0, 1.0, -1.0)
        e = energy(J, spins)
        rec.update(e)
        force = soft_spin_force(J, x, well)
        if nonlocal_term is not None:
            force, f = nonlocal_term(x, force, e)
            flops += f
        temperature = t_start * (1 - t / steps)
        x = x + step * force
        if temperature > 0:
            x = x + (2 * step * temperature) ** 0.5 * torch.randn(x.shape, generator=g, device=device)
        spent = (t + 1) * replicas
        if rec.due(spent) or t == steps - 1:
            rec.update(energy(J, torch.where(x >= 0, 1.0, -1.0)))
            rec.record(spent)
    return rec.trace(extra_flops=flops, step=step, t_start=t_start, well=well, replicas=replicas, steps=steps)
