"""Simulated annealing: checkerboard Metropolis with a geometric temperature schedule."""

from __future__ import annotations

import torch

from .lattice import Checkerboard, check_couplings, random_spins
from .metropolis import geometric_betas, metropolis_sweeps
from .trace import Recorder, Trace


def colour_energy(cb: Checkerboard, spins: list[torch.Tensor]) -> torch.Tensor:
    """Total energy (I, R) from the two colour arrays: every bond joins colour 0 to colour 1 once."""
    return -(spins[0] * cb.field(0, spins[1])).sum(dim=(-3, -2, -1))


def simulated_annealing(J, sweeps: int, replicas: int = 16, t_hot: float = 2.0, t_cold: float = 0.2, seed: int = 0,
                        device="cpu", n_records: int = 40) -> Trace:
    """Independent annealing runs (restarts) from random spins, best energy over all of them.

    Parameters
    ----------
    J : tensor, shape (3, L, L, L) or (I, 3, L, L, L)
        Couplings; L even.
    sweeps : int
        Budget per instance, in sweeps of all replicas together: each run anneals over
        ``sweeps // replicas`` sweeps.
    replicas : int, default 16
        Independent runs per instance.
    t_hot, t_cold : float, default 2.0 and 0.2
        Schedule from ``t_hot`` to ``t_cold``, geometric in temperature.
    seed : int, default 0
    device : str or torch.device, default "cpu"
    n_records : int, default 40
        Log-spaced records along the run.

    Returns
    -------
    Trace
    """
    J = check_couplings(J).to(device=device, dtype=torch.float32)
    n_inst, L = J.shape[0], J.shape[-1]
    steps = max(sweeps // replicas, 1)
    betas = torch.as_tensor(geometric_betas(t_hot, t_cold, steps), dtype=torch.float32, device=device)
    cb = Checkerboard.from_couplings(J)
    g = torch.Generator(device=device).manual_seed(seed)
    spins = list(cb.split(random_spins(n_inst, replicas, L, g, device=device)))
    rec = Recorder("simulated annealing", L, n_inst, steps * replicas, n_records, device)
    for t in range(steps):
        metropolis_sweeps(cb, spins, betas[t], 1, g, chunk=1)
        spent = (t + 1) * replicas
        if rec.due(spent) or t == steps - 1:
            rec.update(colour_energy(cb, spins))
            rec.record(spent)
    return rec.trace(t_hot=t_hot, t_cold=t_cold, steps=steps, replicas=replicas)
