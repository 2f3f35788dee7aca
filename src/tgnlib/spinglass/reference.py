"""Reference energies: long parallel-tempering runs, the literature's thermodynamic limit, and an
outside simulated-annealing reference (``dwave-samplers``, C++).

The literature ground-state energy per spin of the 3D Edwards-Anderson model with Gaussian couplings
in the thermodynamic limit is about -1.70 (Pal 1996, Physica A 233, 60; Romá et al. 2009, Physica A
388, 2821), with finite-size form ``e(L) = e_inf + a L^(theta - 3)`` and a stiffness exponent theta
of about 0.2-0.27 (Hartmann 1999; Boettcher 2004). We draw -1.70 and theta = 0.24 as approximate
guides, not as fitted truths.
"""

from __future__ import annotations

import time

import numpy as np

from .lattice import check_couplings
from .tempering import parallel_tempering
from .trace import Trace

E_INF_GAUSSIAN_3D = -1.70
THETA_3D = 0.24


def finite_size_energy(L, e_inf: float = E_INF_GAUSSIAN_3D, a: float = 0.0, theta: float = THETA_3D) -> np.ndarray:
    """``e(L) = e_inf + a L^(theta - 3)``, the finite-size form of the ground-state energy per spin."""
    return e_inf + a * np.asarray(L, dtype=float) ** (theta - 3)


def fit_finite_size_amplitude(L, e, e_inf: float = E_INF_GAUSSIAN_3D, theta: float = THETA_3D) -> float:
    """Least-squares amplitude ``a`` of :func:`finite_size_energy` with ``e_inf`` and ``theta`` fixed."""
    x = np.asarray(L, dtype=float) ** (theta - 3)
    return float(np.dot(x, np.asarray(e) - e_inf) / np.dot(x, x))


def fit_finite_size(L, e) -> dict[str, float]:
    """Fit ``e(L) = e_inf + a L^(theta - 3)`` with all three free (least squares), for the extrapolated e_inf.

    Parameters
    ----------
    L : sequence of int, at least 4 sizes
    e : sequence of float
        Ground-state energy per spin at each size (mean over instances).

    Returns
    -------
    dict
        ``e_inf``, ``a``, ``theta``; compare ``e_inf`` with the literature's :data:`E_INF_GAUSSIAN_3D`.
    """
    from scipy.optimize import curve_fit

    x, y = np.asarray(L, dtype=float), np.asarray(e, dtype=float)
    if x.shape != y.shape or len(x) < 4:
        raise ValueError(f"need at least 4 sizes (three parameters and a residual); got {len(x)}")
    popt, _ = curve_fit(lambda size, e_inf, a, theta: e_inf + a * size ** (theta - 3), x, y,
                        p0=(y[-1], fit_finite_size_amplitude(x, y, y[-1]), THETA_3D), maxfev=20000)
    return {"e_inf": float(popt[0]), "a": float(popt[1]), "theta": float(popt[2])}


def confirm_references(energies: dict, atol: float = 1e-4) -> dict:
    """Which reference ground states deserve the name: reached by two independent algorithms.

    Parameters
    ----------
    energies : dict of str -> array of shape (I,)
        Per algorithm (e.g. ``"parallel tempering"``, ``"population annealing"``), the lowest total
        energy it found on each instance. Two runs of one algorithm count as one algorithm.
    atol : float, default 1e-4
        Total-energy tolerance under which two energies are the same state; pass
        :func:`~tgnlib.spinglass.tts.energy_tolerance` of N for solvers' float32 energies.

    Returns
    -------
    dict
        ``energy`` (the lowest over all algorithms, per instance), ``confirmed`` (bool per instance:
        at least two algorithms reached it), ``found_by`` (per instance, the algorithms that reached it).
        An unconfirmed reference is an upper bound: time to solution against it carries that caveat.
    """
    if len(energies) < 1:
        raise ValueError("need at least one algorithm's energies")
    names = list(energies)
    e = np.stack([np.asarray(energies[n], dtype=float) for n in names])  # (A, I)
    best = e.min(0)
    hit = e <= best + atol
    return {"energy": best, "confirmed": hit.sum(0) >= 2,
            "found_by": [[n for n, h in zip(names, hit[:, i]) if h] for i in range(e.shape[1])]}


def reference_energies(J, sweeps: int, chains: int = 2, seed: int = 12345, device="cpu", checkpoint=None) -> dict:
    """Long parallel-tempering runs with independent chains, per instance.

    Parameters
    ----------
    J : tensor, shape (I, 3, L, L, L)
    sweeps : int
        Budget per chain, in sweeps of its whole ladder.
    chains : int, default 2
        Independent ladders; the reference is a *likely* ground state when at least two reach it.
    seed : int, default 12345
        Different from the compared runs' seeds.
    device : str or torch.device
    checkpoint : path or None
        Passed to :func:`~tgnlib.spinglass.tempering.parallel_tempering`, so a killed run resumes.

    Returns
    -------
    dict
        ``energy`` (I,) best energy per spin; ``confirmed`` (I,) bool, two chains agree within 1e-6
        per spin; ``chain_best`` (I, chains); ``sweeps`` the budget per chain; ``trace``.
    """
    if chains < 2:
        raise ValueError(f"a reference needs at least 2 independent chains; got chains={chains}")
    trace = parallel_tempering(J, sweeps * chains, chains=chains, seed=seed, device=device, checkpoint=checkpoint)
    return summarise_reference(trace, sweeps)


def summarise_reference(trace: Trace, sweeps: int) -> dict:
    """The reference dictionary of :func:`reference_energies` from its parallel-tempering trace."""
    best = np.asarray(trace.info["chain_best"])
    low = best.min(1)
    confirmed = (np.abs(best - low[:, None]) < 1e-6).sum(1) >= 2
    return {"energy": low, "confirmed": confirmed, "chain_best": best, "sweeps": sweeps, "trace": trace}


def couplings_to_ising(J: np.ndarray) -> dict:
    """Our couplings (3, L, L, L) as a dimod Ising ``J`` dict (dimod's energy is +sum J s s, so signs flip)."""
    L = J.shape[-1]
    idx = np.arange(L**3).reshape(L, L, L)
    out = {}
    for a in range(3):
        for i, j, w in zip(idx.ravel(), np.roll(idx, -1, axis=a).ravel(), J[a].ravel()):
            key = (int(min(i, j)), int(max(i, j)))
            out[key] = out.get(key, 0.0) - float(w)
    return out


def dwave_annealing(J, sweeps: int, replicas: int = 16, t_hot: float = 2.0, t_cold: float = 0.2, seed: int = 0) -> Trace:
    """``dwave-samplers``' simulated annealing (C++) on our instances at the same budget.

    Its default temperature range follows the smallest |J| and spends most sweeps far outside the
    spin glass's useful window, so we set ``beta_range = (1 / t_hot, 1 / t_cold)`` = (0.5, 5) and a
    geometric schedule, as in :func:`tgnlib.spinglass.annealing.simulated_annealing`.

    Parameters
    ----------
    J : tensor, shape (I, 3, L, L, L)
    sweeps : int
        Budget per instance: ``replicas`` reads of ``sweeps // replicas`` sweeps.
    replicas : int, default 16
    t_hot, t_cold : float
    seed : int, default 0

    Returns
    -------
    Trace
        One record, at the full budget (the sampler reports only final states).
    """
    from dwave.samplers import SimulatedAnnealingSampler

    J = check_couplings(J).double().numpy()
    L = J.shape[-1]
    sampler = SimulatedAnnealingSampler()
    steps = max(sweeps // replicas, 1)
    best, start = [], time.perf_counter()
    for i, inst in enumerate(J):
        result = sampler.sample_ising({k: 0.0 for k in range(L**3)}, couplings_to_ising(inst), num_reads=replicas,
                                      num_sweeps=steps, beta_range=(1 / t_hot, 1 / t_cold),
                                      beta_schedule_type="geometric", seed=seed + i)
        best.append(result.first.energy / L**3)
    return Trace("dwave-samplers SA (C++)", L, np.array([float(steps * replicas)]), np.array([time.perf_counter() - start]),
                 np.array(best)[:, None], 0.0, {"beta_range": (1 / t_hot, 1 / t_cold), "steps": steps})
