"""Time to solution: the field's standard measure for heuristic ground-state solvers.

Ronnow et al. (2014), "Defining and detecting quantum speedup"; Aramon et al. (2019). A method run for
a schedule of length t (sweeps) finds the reference ground state with probability p_s; repeating
independent runs until one succeeds with probability 0.99 costs

    TTS99(t) = t ln(1 - 0.99) / ln(1 - p_s),

(t itself when p_s = 1), optimised over t. p_s is estimated from k successes in n runs; where k = 0
the data give no TTS, only a lower bound from the one-sided upper confidence bound on p_s: never
"infinite" and never a silent gap.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

TARGET = 0.99


def tts(t: float, p_s: float, target: float = TARGET) -> float:
    """Time to reach the ground state at least once with probability ``target``.

    Parameters
    ----------
    t : float
        Cost of one run (sweeps, seconds or FLOPs), > 0.
    p_s : float
        Success probability of one run, in (0, 1].
    target : float, default 0.99

    Returns
    -------
    float
        ``t`` when ``p_s >= target`` (one run suffices), else ``t ln(1 - target) / ln(1 - p_s)``.
    """
    if not t > 0 or not 0 < target < 1:
        raise ValueError(f"need t > 0 and 0 < target < 1; got t={t!r}, target={target!r}")
    if not 0 < p_s <= 1:
        raise ValueError(f"p_s={p_s!r} must lie in (0, 1]; with no success use tts_lower_bound")
    if p_s >= target:
        return float(t)
    return float(t * math.log(1 - target) / math.log(1 - p_s))


def success_interval(successes: int, runs: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson (exact binomial) interval for a success probability.

    Parameters
    ----------
    successes, runs : int
        ``0 <= successes <= runs``, ``runs >= 1``.
    confidence : float, default 0.95

    Returns
    -------
    (low, high)
    """
    if runs < 1 or not 0 <= successes <= runs:
        raise ValueError(f"need 0 <= successes <= runs and runs >= 1; got {successes} of {runs}")
    alpha = 1 - confidence
    low = 0.0 if successes == 0 else float(stats.beta.ppf(alpha / 2, successes, runs - successes + 1))
    high = 1.0 if successes == runs else float(stats.beta.ppf(1 - alpha / 2, successes + 1, runs - successes))
    return low, high


def tts_lower_bound(t: float, runs: int, confidence: float = 0.95, target: float = TARGET) -> float:
    """Lower bound on TTS when none of ``runs`` runs of length ``t`` succeeded.

    The one-sided upper bound on p_s with zero successes is ``1 - (1 - confidence)^(1/runs)``; TTS is
    at least :func:`tts` at that p_s.

    Parameters
    ----------
    t : float
    runs : int
    confidence : float, default 0.95
    target : float, default 0.99

    Returns
    -------
    float
    """
    if runs < 1:
        raise ValueError(f"runs={runs!r} must be >= 1")
    p_upper = 1 - (1 - confidence) ** (1 / runs)
    return tts(t, p_upper, target)


def tts_estimate(t: float, successes: int, runs: int, confidence: float = 0.95, target: float = TARGET) -> dict:
    """TTS from ``successes`` of ``runs`` runs of length ``t``, with its interval, or a bound.

    Parameters
    ----------
    t : float
    successes, runs : int
    confidence : float, default 0.95
    target : float, default 0.99

    Returns
    -------
    dict
        ``measured`` (bool), ``tts`` (point estimate, or the lower bound when nothing succeeded),
        ``low`` and ``high`` (from the Clopper-Pearson interval of p_s; ``high`` is ``inf`` when the
        interval reaches 0), ``p_s``.
    """
    low_p, high_p = success_interval(successes, runs, confidence)
    if successes == 0:
        bound = tts_lower_bound(t, runs, confidence, target)
        return {"measured": False, "tts": bound, "low": bound, "high": math.inf, "p_s": 0.0}
    return {"measured": True, "tts": tts(t, successes / runs, target), "low": tts(t, high_p, target),
            "high": tts(t, low_p, target) if low_p > 0 else math.inf, "p_s": successes / runs}


def optimal_tts(lengths, successes, runs, confidence: float = 0.95, target: float = TARGET) -> dict:
    """The best TTS over schedule lengths (the measured one where any length succeeded).

    Parameters
    ----------
    lengths : sequence of float
        Schedule lengths t tried.
    successes, runs : sequence of int
        Per length.
    confidence, target : float

    Returns
    -------
    dict
        :func:`tts_estimate` at the best length, plus ``t`` (that length). Measured estimates win over
        bounds; among bounds the largest (the tightest) is returned.
    """
    est = [dict(tts_estimate(t, k, n, confidence, target), t=float(t)) for t, k, n in zip(lengths, successes, runs)]
    if not est:
        raise ValueError("need at least one schedule length")
    measured = [e for e in est if e["measured"]]
    if measured:
        return min(measured, key=lambda e: e["tts"])
    return max(est, key=lambda e: e["tts"])


SAME_STATE_PER_SPIN = 1e-6  # energy per spin under which two solvers' energies are one state (float rounding)


def energy_tolerance(n_spins: int) -> float:
    """Total-energy tolerance under which two solvers' energies count as the same state.

    The solvers sum Gaussian couplings in float32, so one state's energy differs between two of them
    by rounding that grows with N: measured here, up to 4e-5 at L = 6 and 9e-5 at L = 8 between
    parallel tempering (float32) and population annealing (float64) on the same states. A fixed 1e-4
    then split ties by float noise at L >= 8 (no reference confirmed, successes missed). The tolerance
    is :data:`SAME_STATE_PER_SPIN` per spin (5e-4 at L = 8, 1.7e-3 at L = 12), at least 1e-4: five
    times the noise measured, and below the typical smallest single-spin excitation of these sizes
    (twice the smallest local field, about 6 / N).

    Parameters
    ----------
    n_spins : int
        N = L^3.

    Returns
    -------
    float
    """
    if n_spins < 1:
        raise ValueError(f"n_spins={n_spins!r} must be positive")
    return max(1e-4, SAME_STATE_PER_SPIN * n_spins)


def reached(final_energy, reference, atol: float = 1e-6) -> np.ndarray:
    """Which runs found the reference energy (total energies; a float tolerance, never a residual threshold).

    Parameters
    ----------
    final_energy : array
        Best total energy of each run.
    reference : float or array broadcastable to it
        Reference ground-state energy (total).
    atol : float, default 1e-6
        Absolute tolerance in total energy (float32 sums of Gaussian couplings are exact to about 1e-5
        relative; the solvers compare in float64).

    Returns
    -------
    numpy.ndarray of bool
    """
    return np.asarray(final_energy) <= np.asarray(reference) + atol
