"""Verdict rules of chapter 2.2 (3D Edwards-Anderson spin glass): claims S1-S4 and A1.

S1-S4 read residual energies per spin (a run's best energy minus the instance's reference ground
state), one value per disorder instance (the median over that instance's independent runs), all at
the same budget. Every comparison carries its uncertainty over instances: a median's 95% bootstrap
interval, and for two methods on the same instances the interval of the median paired difference.
Two results within :data:`ATOL_ENERGY` per spin are a tie (the same state up to float noise): a tie is
never a win. A1 reads time to solution (:mod:`tgnlib.spinglass.tts`).
"""

from __future__ import annotations

import numpy as np

from ..bootstrap import bootstrap_interval
from . import Verdict, not_decided, not_reproduced, partly, reproduced

ATOL_ENERGY = 1e-5  # residual energy per spin under which two results are the same state
NEAR_GROUND = 0.01  # residual per spin that counts as "near the ground state"
MIN_INSTANCES = 3  # instances per size below which a median says little
CLAIM_L = 12  # the size (N = 1728) at which the paper makes claim S4


def _values(residuals: dict, method: str, L: int) -> np.ndarray:
    return np.asarray(residuals[method][L], dtype=float)


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    lo, hi = bootstrap_interval(x, np.median, seed=0) if len(x) >= 2 else (float(x[0]), float(x[0]))
    return float(np.median(x)), float(lo), float(hi)


def _grows(small: np.ndarray, large: np.ndarray) -> bool:
    # the larger size's interval lies above the smaller's, by more than a tie
    return _interval(large)[1] > _interval(small)[2] + ATOL_ENERGY


def _below(a: np.ndarray, b: np.ndarray) -> bool:
    # a below b on the same instances: the interval of the median paired difference lies under -ATOL
    return _interval(a - b)[2] < -ATOL_ENERGY


def _sizes(residuals: dict) -> list[int]:
    return sorted({L for per_size in residuals.values() for L in per_size})


def _enough(residuals: dict, methods) -> Verdict | None:
    sizes = _sizes(residuals)
    if len(sizes) < 2:
        return not_decided(f"{len(sizes)} lattice size; a trend needs at least 2 (add sizes)")
    missing = [m for m in methods if m not in residuals or set(residuals[m]) != set(sizes)]
    if missing:
        return not_decided(f"{missing} not measured at every size {sizes}")
    n = min(len(_values(residuals, m, L)) for m in methods for L in sizes)
    if n < MIN_INSTANCES:
        return not_decided(f"{n} instances per size; need at least {MIN_INSTANCES} for a median (raise instances)")
    return None


def _best(residuals: dict, methods, L: int) -> str:
    return min(methods, key=lambda m: np.median(_values(residuals, m, L)))


def _fmt(residuals: dict, method: str, L: int) -> str:
    med, lo, hi = _interval(_values(residuals, method, L))
    return f"{med:.4f} [{lo:.4f}, {hi:.4f}]"


def s1(residuals: dict, thermal) -> Verdict:
    """S1: does Langevin dynamics fail fast as L grows?

    Rule
    ----
    Needs two sizes and three instances per size (else *not decided*). Two parts: (i) Langevin's
    median residual grows with L (at the largest L its 95% interval lies above the smallest L's);
    (ii) at the largest L it is above the best thermal method's (simulated annealing, parallel
    tempering with and without Houdayer moves, population annealing), the interval of the median
    paired difference over instances excluding zero. *Reproduced* if both; *partly* if one (named);
    *not reproduced* if neither.

    Parameters
    ----------
    residuals : dict of str -> dict of int -> array
        Per method and linear size L, the residual energy per spin of each instance.
    thermal : sequence of str
        The thermal methods' keys.

    Returns
    -------
    Verdict
    """
    short = _enough(residuals, ["langevin", *thermal])
    if short:
        return short
    sizes = _sizes(residuals)
    lo, hi = sizes[0], sizes[-1]
    best = _best(residuals, thermal, hi)
    grows = _grows(_values(residuals, "langevin", lo), _values(residuals, "langevin", hi))
    worse = _below(_values(residuals, best, hi), _values(residuals, "langevin", hi))
    txt = (f"Langevin {_fmt(residuals, 'langevin', lo)} at L={lo} -> {_fmt(residuals, 'langevin', hi)} at L={hi}; best thermal "
           f"({best}) {_fmt(residuals, best, hi)} at L={hi}")
    if grows and worse:
        return reproduced(txt)
    if grows or worse:
        return partly(f"{'grows with L' if grows else 'above the best thermal method at the largest L'} only ({txt})")
    return not_reproduced(txt)


def s2(residuals: dict, thermal) -> Verdict:
    """S2: does parallel tempering do better, with a best energy that worsens with L?

    Rule
    ----
    Needs two sizes and three instances per size (else *not decided*). Two parts: (i) parallel
    tempering does better than Langevin: below it at the largest L (interval of the median paired
    difference below zero) and not above it at any L (a tie, both at the same state, is no worse);
    (ii) its median residual grows with L (intervals apart). *Reproduced* if both; *partly* if one
    (named); *not reproduced* if neither. The reason also gives the best other thermal method at
    the largest L (the claim does not say PT is the best of them).

    Parameters
    ----------
    residuals : dict of str -> dict of int -> array
    thermal : sequence of str
        The thermal methods' keys, "parallel tempering" among them.

    Returns
    -------
    Verdict
    """
    short = _enough(residuals, ["langevin", *thermal])
    if short:
        return short
    sizes = _sizes(residuals)
    lo, hi = sizes[0], sizes[-1]
    pt = "parallel tempering"
    no_worse = not any(_below(_values(residuals, "langevin", L), _values(residuals, pt, L)) for L in sizes)
    better = no_worse and _below(_values(residuals, pt, hi), _values(residuals, "langevin", hi))
    grows = _grows(_values(residuals, pt, lo), _values(residuals, pt, hi))
    others = [m for m in thermal if m != pt]
    best = _best(residuals, others, hi) if others else None
    txt = (f"PT {_fmt(residuals, pt, lo)} at L={lo} -> {_fmt(residuals, pt, hi)} at L={hi}; Langevin {_fmt(residuals, 'langevin', hi)}"
           + (f"; best other thermal ({best}) {_fmt(residuals, best, hi)}" if best else ""))
    if better and grows:
        return reproduced(txt)
    if better or grows:
        return partly(f"{'better than Langevin' if better else 'worsens with L'} only ({txt})")
    return not_reproduced(txt)


def energies_by_algorithm(references: dict, solver_bests: dict) -> dict:
    """Each algorithm's lowest energy per instance, for deciding which references are confirmed.

    The reference runs (long parallel tempering and population annealing) and the compared solvers
    share names: the compared "parallel tempering" is the same algorithm as the reference one, so the
    two are pooled by their minimum and count once (two runs of one algorithm do not confirm each
    other). Merging the two dicts instead would let the compared solver's energies silently replace
    the long reference run's, so that the references never took part in their own confirmation.

    Parameters
    ----------
    references : dict of str -> array of shape (I,)
        Per reference algorithm, its lowest energy on each instance (any unit, the same for all).
    solver_bests : dict of str -> array of shape (I,)
        Per compared solver, its best run's energy on each instance, in the same unit.

    Returns
    -------
    dict of str -> numpy.ndarray, shape (I,)
        One entry per algorithm (references first, then the other solvers, in their given order),
        for :func:`tgnlib.spinglass.reference.confirm_references`.
    """
    out = {}
    for name in dict.fromkeys([*references, *solver_bests]):
        parts = [np.asarray(d[name], dtype=float) for d in (references, solver_bests) if name in d]
        if len({p.shape for p in parts}) > 1:
            raise ValueError(f"{name!r}: the reference and the solver give energies for different instances "
                             f"(shapes {[p.shape for p in parts]})")
        out[name] = np.minimum.reduce(parts)
    return out


def s3(residuals: dict, attention, thermal, confirmed: dict | None = None) -> Verdict:
    """S3: is attention dynamics scale invariant, near the ground state at every L?

    Rule
    ----
    On the attention reading with the lowest median residual at the largest L. Needs two sizes and
    three instances (else *not decided*). *Reproduced* if the upper end of its median's 95% interval
    is at most 0.01 per spin at every L and every reference is confirmed (two algorithms reached it;
    near an unconfirmed reference, an upper bound on the ground state, is *not decided*); *partly*
    if not, but it is below the best thermal method at the largest L (paired interval below zero);
    *not reproduced* otherwise.

    Parameters
    ----------
    residuals : dict of str -> dict of int -> array
    attention, thermal : sequence of str
    confirmed : dict of int -> array of bool, optional
        Per size, which instances' references two algorithms reached; None counts all as confirmed.

    Returns
    -------
    Verdict
    """
    short = _enough(residuals, [*attention, *thermal])
    if short:
        return short
    sizes = _sizes(residuals)
    hi = sizes[-1]
    att = _best(residuals, attention, hi)
    best = _best(residuals, thermal, hi)
    txt = (f"{att}: " + ", ".join(f"L={L} {_fmt(residuals, att, L)}" for L in sizes)
           + f"; best thermal ({best}) {_fmt(residuals, best, hi)} at L={hi}")
    if all(_interval(_values(residuals, att, L))[2] <= NEAR_GROUND for L in sizes):
        weak = [L for L in sizes if confirmed is not None and not np.all(confirmed[L])]
        if weak:
            return not_decided(f"within {NEAR_GROUND} per spin of the references at every L, but references at L={weak} are "
                               f"not confirmed by two algorithms; longer reference runs would decide ({txt})")
        return reproduced(f"within {NEAR_GROUND} per spin at every L ({txt})")
    if _below(_values(residuals, att, hi), _values(residuals, best, hi)):
        return partly(f"not near the ground state at every L, but below the best thermal method at the largest L ({txt})")
    return not_reproduced(txt)


def s4(residuals: dict, attention, baselines) -> Verdict:
    """S4: does attention dynamics break through the thermal baselines' stagnation at L = 12?

    Rule
    ----
    The claim is made at L = 12 (N = 1728): a run whose largest L is smaller, or with fewer than
    three instances there, is *not decided*. *Reproduced* if the best attention reading at L = 12
    is below the best baseline there (every thermal method and Langevin: whichever is lowest), the
    interval of the median paired difference over instances below zero; *not reproduced*
    otherwise. There is no *partly*: beating Langevin alone, the dynamics the attention readings
    start from, is not a part.

    Parameters
    ----------
    residuals : dict of str -> dict of int -> array
    attention, baselines : sequence of str

    Returns
    -------
    Verdict
    """
    hi = max(_sizes(residuals))
    if hi < CLAIM_L:
        return not_decided(f"the claim is at L={CLAIM_L}; this run stops at L={hi}; run L={CLAIM_L}")
    measured = [m for m in attention if CLAIM_L in residuals.get(m, {})]
    if not measured:
        return not_decided(f"no attention reading was run at L={CLAIM_L}")
    n = min(len(_values(residuals, m, CLAIM_L)) for m in [*measured, *baselines])
    if n < MIN_INSTANCES:
        return not_decided(f"{n} instances at L={CLAIM_L}; need at least {MIN_INSTANCES}")
    att, best = _best(residuals, measured, CLAIM_L), _best(residuals, baselines, CLAIM_L)
    diff = _interval(_values(residuals, att, CLAIM_L) - _values(residuals, best, CLAIM_L))
    txt = (f"at L={CLAIM_L}: {att} {_fmt(residuals, att, CLAIM_L)} vs best baseline ({best}) {_fmt(residuals, best, CLAIM_L)}; "
           f"paired median difference {diff[0]:+.4f} [{diff[1]:+.4f}, {diff[2]:+.4f}]")
    if _below(_values(residuals, att, CLAIM_L), _values(residuals, best, CLAIM_L)):
        return reproduced(txt)
    return not_reproduced(txt)


def a1(fits: dict, attention_methods, thermal_methods, decisive_factor: float = 2.0) -> Verdict:
    """A1: does attention turn exponential (Arrhenius) relaxation into polynomial?

    Rule
    ----
    From each method's median time to solution (TTS99, optimised over schedule lengths) against the
    number of spins N, fitted as an exponential and as a power law in N over the sizes where the
    median was measured, not only bounded (three or more sizes). A fit is decisive when one form's residual
    is more than twice the other's. *Not decided* if no attention reading has a decisive fit, or no
    thermal method has one. Otherwise *reproduced* if an
    attention reading is decisively a power law and every decisive thermal method exponential;
    *not reproduced* if no attention reading is a power law; *not decided* if an attention reading is
    a power law but a thermal method is too (there is no Arrhenius law at these sizes to renormalise:
    larger L would decide). No *partly*: a power law shared with the baselines is not a part.

    Parameters
    ----------
    fits : dict of str -> dict
        Per method, :func:`tgnlib.scaling.compare_growth`'s ``rss_exp`` and ``rss_power`` of its
        median TTS against N, over the sizes where the median was measured.
    attention_methods, thermal_methods : sequence of str
    decisive_factor : float, default 2.0

    Returns
    -------
    Verdict
    """
    def decisive(m):
        f = fits.get(m)
        return f is not None and max(f["rss_exp"], f["rss_power"]) > decisive_factor * min(f["rss_exp"], f["rss_power"])

    att = [m for m in attention_methods if decisive(m)]
    thermal = [m for m in thermal_methods if decisive(m)]
    if not att or not thermal:
        return not_decided(f"decisive fits for attention: {att or 'none'}, thermal: {thermal or 'none'} (of {sorted(fits)}); "
                           "more sizes reaching the target, over a wider range of L, would decide")
    att_power = [m for m in att if fits[m]["rss_power"] < fits[m]["rss_exp"]]
    thermal_exp = all(fits[m]["rss_exp"] < fits[m]["rss_power"] for m in thermal)
    if not att_power:
        return not_reproduced(f"no attention reading grows as a power law ({', '.join(att)} fit the exponential better)")
    if thermal_exp:
        return reproduced(f"{', '.join(att_power)}: power law; {', '.join(thermal)}: exponential")
    return not_decided(f"{', '.join(att_power)} grow as a power law, but so does a thermal method: no exponential law at "
                       "these sizes to renormalise (larger L would decide)")
