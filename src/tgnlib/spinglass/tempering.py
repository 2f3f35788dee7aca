"""Parallel tempering (replica exchange) with checkerboard Metropolis sweeps.

Each chain holds one replica per temperature of a geometric ladder; after every sweep, neighbouring
temperatures try to exchange their configurations with probability
``min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1})))``, even pairs and odd pairs in turn. We exchange
temperatures (a permutation) rather than configurations, which is equivalent and cheaper.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .annealing import colour_energy
from .lattice import Checkerboard, check_couplings, random_spins
from .houdayer import houdayer_move
from .metropolis import geometric_betas, metropolis_sweeps
from .trace import Recorder, Trace


def swap_acceptance(beta_low: torch.Tensor, beta_high: torch.Tensor, e_low: torch.Tensor, e_high: torch.Tensor) -> torch.Tensor:
    """Acceptance probability of exchanging two replicas' temperatures.

    Parameters
    ----------
    beta_low, beta_high : tensors
        Inverse temperatures of slots k and k + 1.
    e_low, e_high : tensors
        Energies of the configurations at those slots.

    Returns
    -------
    torch.Tensor
        ``min(1, exp((beta_low - beta_high) * (e_low - e_high)))``.
    """
    return torch.exp(torch.clamp((beta_low - beta_high) * (e_low - e_high), max=0.0))


def default_ladder_size(L: int) -> int:
    """Temperatures for T in [0.2, 2.0]: 8 at L = 4 rising to 32 at L = 12 (about L^3 / 54, clipped)."""
    return int(np.clip(round(8 + (L - 4) * 3), 8, 32))


class Interrupted(RuntimeError):
    """A run stopped early on request after saving its checkpoint; call again to resume."""


def parallel_tempering(J, sweeps: int, n_temps: int | None = None, chains: int = 1, t_min: float = 0.2, t_max: float = 2.0,
                       seed: int = 0, device="cpu", n_records: int = 40, checkpoint=None, checkpoint_every: int = 2000,
                       stop_after: int | None = None, houdayer: bool = False) -> Trace:
    """Parallel tempering on every instance, best energy over all replicas.

    Parameters
    ----------
    J : tensor, shape (3, L, L, L) or (I, 3, L, L, L)
        Couplings; L even.
    sweeps : int
        Budget per instance in sweeps of all replicas together: the ladder runs
        ``sweeps // (n_temps * chains)`` sweeps.
    n_temps : int or None, default None
        Temperatures in the ladder; ``None`` uses :func:`default_ladder_size`.
    chains : int, default 1
        Independent ladders per instance.
    t_min, t_max : float, default 0.2 and 2.0
        Ends of the geometric ladder.
    seed : int, default 0
    device : str or torch.device, default "cpu"
    n_records : int, default 40
    checkpoint : path or None, default None
        File holding the run's state (spins, temperature permutation, counters, records, random
        generator). Written every ``checkpoint_every`` ladder sweeps; if it exists when the run starts,
        the run resumes from it and continues exactly as if it had never stopped. Deleted at the end.
    checkpoint_every : int, default 2000
        Ladder sweeps between checkpoints.
    stop_after : int or None, default None
        Save a checkpoint and raise :class:`Interrupted` after this many ladder sweeps in this call
        (to split a long run over several sessions; also how the tests simulate a killed run).
    houdayer : bool, default False
        After each ladder sweep, one Houdayer cluster move (:mod:`tgnlib.spinglass.houdayer`) between
        chains 2c and 2c + 1 at each temperature of the colder half of the ladder (where the clusters
        do not percolate; Zhu, Ochoa and Katzgraber 2015). Needs an even number of chains. The moves
        are not counted in the sweep budget (they are in the wall time).

    Returns
    -------
    Trace
        ``info["swap_rates"]``: acceptance of each neighbouring pair, coldest last;
        ``info["chain_best"]``: best energy per spin of each chain, shape (I, chains).
    """
    J = check_couplings(J).to(device=device, dtype=torch.float32)
    n_inst, L = J.shape[0], J.shape[-1]
    m = n_temps or default_ladder_size(L)
    if m < 2:
        raise ValueError(f"parallel tempering needs at least 2 temperatures; got n_temps={m}")
    if houdayer and (chains < 2 or chains % 2):
        raise ValueError(f"houdayer=True pairs chains two by two: chains={chains} must be even and >= 2")
    steps = max(sweeps // (m * chains), 1)
    ladder = torch.as_tensor(geometric_betas(t_max, t_min, m), dtype=torch.float32, device=device)  # hot -> cold
    cb = Checkerboard.from_couplings(J)
    g = torch.Generator(device=device).manual_seed(seed)
    r = chains * m
    spins = list(cb.split(random_spins(n_inst, r, L, g, device=device)))
    # replica_at[i, c, k]: replica index (within the R = chains * m axis) holding temperature k of chain c
    replica_at = (torch.arange(chains, device=device)[:, None] * m + torch.arange(m, device=device)).expand(n_inst, -1, -1).clone()
    accepted = torch.zeros(m - 1, dtype=torch.float64, device=device)
    tried = torch.zeros(m - 1, dtype=torch.float64, device=device)
    chain_best = torch.full((n_inst, chains), float("inf"), dtype=torch.float64, device=device)
    rec = Recorder("parallel tempering", L, n_inst, steps * r, n_records, device)
    beta_of = torch.empty(n_inst, r, device=device)
    start = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        spins = [state["spins"][0].to(device), state["spins"][1].to(device)]
        replica_at, accepted, tried, chain_best = (state[k].to(device) for k in ("replica_at", "accepted", "tried", "chain_best"))
        g.set_state(state["generator"])
        rec.load_state(state["recorder"])
        start = state["t"]
    for t in range(start, steps):
        if checkpoint is not None and t > start and ((t - start) % checkpoint_every == 0 or (stop_after and t - start == stop_after)):
            Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
            torch.save({"t": t, "spins": spins, "replica_at": replica_at, "accepted": accepted, "tried": tried,
                        "chain_best": chain_best, "generator": g.get_state(), "recorder": rec.state()}, checkpoint)
            if stop_after and t - start == stop_after:
                raise Interrupted(f"parallel tempering stopped after {stop_after} ladder sweeps; state saved to {checkpoint}")
        beta_of.scatter_(1, replica_at.reshape(n_inst, r), ladder.repeat(chains).expand(n_inst, -1))
        metropolis_sweeps(cb, spins, beta_of.view(n_inst, r, 1, 1, 1), 1, g, chunk=1)
        if houdayer:
            spins = _houdayer_step(cb, spins, replica_at, m, g)
        energy = colour_energy(cb, spins)  # (I, R)
        e_slot = energy.gather(1, replica_at.reshape(n_inst, r)).view(n_inst, chains, m)
        chain_best = torch.minimum(chain_best, e_slot.min(-1).values.double())
        k = torch.arange(t % 2, m - 1, 2, device=device)
        p = swap_acceptance(ladder[k], ladder[k + 1], e_slot[..., k], e_slot[..., k + 1])
        ok = torch.rand(p.shape, generator=g, device=device) < p
        lo, hi = replica_at[..., k].clone(), replica_at[..., k + 1].clone()
        replica_at[..., k] = torch.where(ok, hi, lo)
        replica_at[..., k + 1] = torch.where(ok, lo, hi)
        accepted[k] += ok.double().mean((0, 1))
        tried[k] += 1
        rec.update(energy)
        spent = (t + 1) * r
        if rec.due(spent) or t == steps - 1:
            rec.record(spent)
    if checkpoint is not None:
        Path(checkpoint).unlink(missing_ok=True)
    rates = (accepted / tried.clamp(min=1)).cpu().numpy()
    return rec.trace(temperatures=(1 / ladder).cpu().numpy().tolist(), swap_rates=rates.tolist(), steps=steps,
                     chains=chains, chain_best=(chain_best / L**3).cpu().numpy(), houdayer=houdayer)


def _houdayer_step(cb: Checkerboard, spins: list[torch.Tensor], replica_at: torch.Tensor, m: int,
                   g: torch.Generator) -> list[torch.Tensor]:
    # replica_at (I, chains, m): pair chains (0, 1), (2, 3)... at the colder half of the ladder (index 0 is hottest)
    full = cb.merge(*spins)  # (I, R, L, L, L)
    n_inst, _, L = full.shape[0], full.shape[1], full.shape[-1]
    cold = replica_at[:, :, m // 2:]
    a, b = cold[:, 0::2].reshape(n_inst, -1), cold[:, 1::2].reshape(n_inst, -1)  # (I, P)
    shape = (n_inst, a.shape[1], L, L, L)
    s1 = full.gather(1, a.view(n_inst, -1, 1, 1, 1).expand(shape)).reshape(-1, L, L, L)
    s2 = full.gather(1, b.view(n_inst, -1, 1, 1, 1).expand(shape)).reshape(-1, L, L, L)
    n1, n2 = houdayer_move(s1, s2, g)
    full.scatter_(1, a.view(n_inst, -1, 1, 1, 1).expand(shape), n1.view(shape))
    full.scatter_(1, b.view(n_inst, -1, 1, 1, 1).expand(shape), n2.view(shape))
    return [c.contiguous() for c in cb.split(full)]
