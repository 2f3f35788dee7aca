"""Population annealing: a population of replicas cooled step by step, resampled by Boltzmann weights.

Hukushima and Iba (2003); Machta (2010); Wang, Machta and Katzgraber (2015), the form used here. A
population of R replicas starts at infinite temperature (uniform random spins). Each step raises the
inverse temperature from beta to beta', resamples the population in proportion to the reweighting
factors ``exp(-(beta' - beta) E_i)`` (systematic resampling keeps R fixed), and equilibrates every
replica with checkerboard Metropolis sweeps at beta'. The normalisations of the reweighting factors
give the free energy: ``ln Z(beta') = ln Z(beta) + ln Q``, ``Q = mean_i exp(-(beta' - beta) E_i)``,
from ``ln Z(0) = N ln 2``; the test compares it with exact enumeration on L = 2.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .annealing import colour_energy
from .lattice import Checkerboard, check_couplings, energy, random_spins
from .metropolis import metropolis_sweeps
from .trace import Recorder, Trace


def systematic_resample(weights: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices of a resampled population, one row per instance (systematic resampling).

    Parameters
    ----------
    weights : tensor, shape (I, R)
        Non-negative weights, not all zero in a row.
    generator : torch.Generator

    Returns
    -------
    torch.LongTensor, shape (I, R)
        Replica ``i`` is copied ``round(R w_i / sum w)`` times, up to one: the expected count is exact
        and the variance the smallest of the standard schemes.
    """
    n_inst, r = weights.shape
    cdf = torch.cumsum(weights / weights.sum(dim=1, keepdim=True), dim=1)
    cdf[:, -1] = 1.0  # guard against rounding
    u = (torch.rand((n_inst, 1), generator=generator, device=generator.device).to(weights.device)
         + torch.arange(r, device=weights.device)) / r
    return torch.searchsorted(cdf, u.to(cdf.dtype)).clamp(max=r - 1)


def population_annealing(J, sweeps: int, replicas: int = 64, t_cold: float = 0.2, sweeps_per_step: int = 10,
                         seed: int = 0, device="cpu", n_records: int = 40) -> Trace:
    """Population annealing from infinite temperature to ``t_cold``, at a budget in sweeps.

    Parameters
    ----------
    J : tensor, shape (3, L, L, L) or (I, 3, L, L, L)
        Couplings; L even.
    sweeps : int
        Budget per instance, in sweeps of all replicas together: the schedule has
        ``sweeps // (replicas * sweeps_per_step)`` temperature steps (at least 1), linear in beta.
    replicas : int, default 64
        Population size R, kept fixed by the resampling.
    t_cold : float, default 0.2
        Final temperature.
    sweeps_per_step : int, default 10
        Metropolis sweeps of every replica after each resampling.
    seed : int, default 0
    device : str or torch.device, default "cpu"
    n_records : int, default 40

    Returns
    -------
    Trace
        ``info`` holds ``ln_z`` (per instance, at ``t_cold``), ``families`` (distinct ancestors
        surviving at the end, per instance: a population reduced to a few families is not
        equilibrated) and the schedule.
    """
    if replicas < 2 or sweeps_per_step < 1 or not t_cold > 0:
        raise ValueError(f"need replicas >= 2, sweeps_per_step >= 1, t_cold > 0; got {replicas}, {sweeps_per_step}, {t_cold}")
    J = check_couplings(J).to(device=device, dtype=torch.float64)
    n_inst, L = J.shape[0], J.shape[-1]
    steps = max(sweeps // (replicas * sweeps_per_step), 1)
    betas = torch.linspace(0.0, 1.0 / t_cold, steps + 1, dtype=torch.float64, device=device)
    cb = Checkerboard.from_couplings(J)
    g = torch.Generator(device=device).manual_seed(seed)
    spins = list(cb.split(random_spins(n_inst, replicas, L, g, dtype=torch.float64, device=device)))
    ancestors = torch.arange(replicas, device=device).expand(n_inst, -1).clone()
    ln_z = torch.full((n_inst,), L**3 * math.log(2.0), dtype=torch.float64, device=device)
    rec = Recorder("population annealing", L, n_inst, steps * replicas * sweeps_per_step, n_records, device)
    for k in range(steps):
        e = colour_energy(cb, spins)  # (I, R)
        log_w = -(betas[k + 1] - betas[k]) * e
        shift = log_w.max(dim=1, keepdim=True).values  # stable log-mean-exp
        w = torch.exp(log_w - shift)
        ln_z += (shift.squeeze(1) + torch.log(w.mean(dim=1)))
        idx = systematic_resample(w, g)
        spins = [s.gather(1, idx.view(n_inst, replicas, 1, 1, 1).expand_as(s)).contiguous() for s in spins]
        ancestors = ancestors.gather(1, idx)
        metropolis_sweeps(cb, spins, betas[k + 1].to(spins[0].dtype), sweeps_per_step, g)
        rec.update(colour_energy(cb, spins))
        spent = (k + 1) * replicas * sweeps_per_step
        if rec.due(spent) or k == steps - 1:
            rec.record(spent)
    families = [len(torch.unique(a)) for a in ancestors]
    return rec.trace(ln_z=ln_z.cpu().numpy().tolist(), families=families, t_cold=t_cold, steps=steps, replicas=replicas,
                     sweeps_per_step=sweeps_per_step)


def exact_log_partition(J, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact ln Z and mean energy at ``beta`` by enumerating every configuration (N = L^3 <= 20 spins).

    Parameters
    ----------
    J : tensor, shape (I, 3, L, L, L)
    beta : float

    Returns
    -------
    (ln_z, mean_energy) : arrays of shape (I,)
    """
    J = check_couplings(J).to(torch.float64)
    L = J.shape[-1]
    n = L**3
    if n > 20:
        raise ValueError(f"exact enumeration needs N = L^3 <= 20 spins; got L={L}")
    codes = torch.arange(2**n)
    s = (((codes[:, None] >> torch.arange(n)) & 1) * 2 - 1).to(torch.float64).view(1, 2**n, L, L, L)
    e = energy(J, s.expand(J.shape[0], -1, -1, -1, -1))  # (I, 2^n)
    log_w = -beta * e
    ln_z = torch.logsumexp(log_w, dim=1)
    mean_e = (torch.softmax(log_w, dim=1) * e).sum(dim=1)
    return ln_z.numpy(), mean_e.numpy()
