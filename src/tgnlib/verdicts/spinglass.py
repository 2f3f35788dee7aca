"""Verdict rules of chapter 2.2 (3D Edwards-Anderson spin glass): claims S1-S4 and A1.

Residual energies are per spin, medians over disorder instances. Two residuals within
:data:`ATOL_ENERGY` of each other are a tie (both methods at the same state, up to float noise):
a tie is never a win.
"""

from __future__ import annotations

from . import Verdict, is_below, is_tie, not_decided, not_reproduced, partly, reproduced

ATOL_ENERGY = 1e-5  # residual energy per spin under which two results are the same state
NEAR_GROUND = 0.01  # median residual per spin that counts as "near the ground state"
MIN_INSTANCES = 3  # instances per size below which a median says little
CLAIM_L = 12  # the size (N = 1728) at which the paper makes claim S4


def _below(a, b):
    return is_below(a, b, atol=ATOL_ENERGY)


def _enough(sizes, instances) -> Verdict | None:
    if len(sizes) < 2:
        return not_decided(f"{len(sizes)} lattice size; a trend needs at least 2 (add sizes)")
    if instances < MIN_INSTANCES:
        return not_decided(f"{instances} instances per size; need at least {MIN_INSTANCES} for a median (raise instances)")
    return None


def s1(sizes, langevin, parallel_tempering, instances: int) -> Verdict:
    """S1: does Langevin dynamics fail fast as L grows?

    Rule
    ----
    Needs two sizes and three instances per size (else *not decided*). Two parts: (i) Langevin's
    median residual grows with L (largest L above smallest by more than 1e-5 per spin); (ii) at the
    largest L it is more than twice parallel tempering's at the same budget. *Reproduced* if both;
    *partly* if one (named); *not reproduced* if neither.

    Parameters
    ----------
    sizes : sequence of int
        Linear sizes L, increasing.
    langevin, parallel_tempering : sequence of float
        Median residual energy per spin at each L.
    instances : int
        Disorder instances per size.

    Returns
    -------
    Verdict
    """
    short = _enough(sizes, instances)
    if short:
        return short
    grows = _below(langevin[0], langevin[-1])
    worse = _below(2 * parallel_tempering[-1], langevin[-1])
    txt = (f"Langevin {langevin[0]:.4f} at L={sizes[0]} -> {langevin[-1]:.4f} at L={sizes[-1]}; PT {parallel_tempering[-1]:.4f} "
           f"at L={sizes[-1]}")
    if grows and worse:
        return reproduced(txt)
    if grows or worse:
        return partly(f"{'grows with L' if grows else 'more than twice PT at the largest L'} only ({txt})")
    return not_reproduced(txt)


def s2(sizes, parallel_tempering, langevin, instances: int) -> Verdict:
    """S2: does parallel tempering do better, with a best energy that worsens with L?

    Rule
    ----
    Needs two sizes and three instances per size (else *not decided*). Two parts: (i) PT does
    better than Langevin: no worse at any L (a tie within 1e-5 per spin, both at the same state,
    counts as no worse) and strictly better at the largest L; (ii) PT's median residual grows with L
    (by more than 1e-5 per spin). *Reproduced* if both; *partly* if one (named); *not reproduced*
    if neither.

    Parameters
    ----------
    sizes : sequence of int
    parallel_tempering, langevin : sequence of float
        Median residual energy per spin at each L.
    instances : int

    Returns
    -------
    Verdict
    """
    short = _enough(sizes, instances)
    if short:
        return short
    ties = [L for L, p, g in zip(sizes, parallel_tempering, langevin) if is_tie(p, g, atol=ATOL_ENERGY)]
    no_worse = all(not _below(g, p) for p, g in zip(parallel_tempering, langevin))
    better = no_worse and _below(parallel_tempering[-1], langevin[-1])
    grows = _below(parallel_tempering[0], parallel_tempering[-1])
    txt = (f"PT {parallel_tempering[0]:.4f} at L={sizes[0]} -> {parallel_tempering[-1]:.4f} at L={sizes[-1]}, Langevin "
           f"{langevin[-1]:.4f} at L={sizes[-1]}" + (f"; ties at L={ties}" if ties else ""))
    if better and grows:
        return reproduced(txt)
    if better or grows:
        return partly(f"{'better than Langevin' if better else 'worsens with L'} only ({txt})")
    return not_reproduced(txt)


def s3(sizes, attention, parallel_tempering, instances: int) -> Verdict:
    """S3: is attention dynamics scale invariant, near the ground state at every L?

    Rule
    ----
    On the better of the attention readings at the largest L. Needs two sizes and three instances
    (else *not decided*). *Reproduced* if its median residual is at most 0.01 per spin at every L;
    *partly* if not, but it beats parallel tempering (by more than 1e-5 per spin) at the largest L;
    *not reproduced* otherwise.

    Parameters
    ----------
    sizes : sequence of int
    attention, parallel_tempering : sequence of float
        Median residual energy per spin at each L.
    instances : int

    Returns
    -------
    Verdict
    """
    short = _enough(sizes, instances)
    if short:
        return short
    txt = f"attention {attention[0]:.4f} at L={sizes[0]} -> {attention[-1]:.4f} at L={sizes[-1]}; PT {parallel_tempering[-1]:.4f}"
    if all(a <= NEAR_GROUND for a in attention):
        return reproduced(f"within {NEAR_GROUND} per spin at every L ({txt})")
    if _below(attention[-1], parallel_tempering[-1]):
        return partly(f"not near the ground state at every L, but below PT at the largest L ({txt})")
    return not_reproduced(txt)


def s4(largest_l: int, attention: float, baselines: dict, instances: int) -> Verdict:
    """S4: does attention dynamics break through the thermal baselines' stagnation at L = 12?

    Rule
    ----
    The claim is made at L = 12 (N = 1728): a run whose largest L is smaller, or with fewer than three
    instances, is *not decided*. *Reproduced* if the better attention reading ends below the best
    thermal baseline (simulated annealing, parallel tempering, Langevin: whichever is lowest) by
    more than 1e-5 per spin at the same budget; *not reproduced* otherwise. There is no *partly*:
    beating Langevin alone, the dynamics both attention readings start from, is not a part.

    Parameters
    ----------
    largest_l : int
    attention : float
        Median residual per spin of the better attention reading at ``largest_l``.
    baselines : dict of str -> float
        Median residual per spin of each thermal baseline at ``largest_l``.
    instances : int

    Returns
    -------
    Verdict
    """
    best = min(baselines, key=baselines.get)
    txt = f"at L={largest_l}: attention {attention:.4f} vs best baseline {best} {baselines[best]:.4f} per spin"
    if largest_l < CLAIM_L:
        return not_decided(f"the claim is at L={CLAIM_L}; this run stops at L={largest_l} ({txt}); run L={CLAIM_L}")
    if instances < MIN_INSTANCES:
        return not_decided(f"{instances} instances; need at least {MIN_INSTANCES}")
    if _below(attention, baselines[best]):
        return reproduced(txt)
    return not_reproduced(txt)


def a1(fits: dict, attention_methods, thermal_methods, decisive_factor: float = 2.0) -> Verdict:
    """A1: does attention turn exponential (Arrhenius) relaxation into polynomial?

    Rule
    ----
    From the time each method needs to reach the target against size, fitted as an exponential and
    as a power law in L (three or more sizes reached). A fit is decisive when one form's residual
    is more than twice the other's. *Not decided* if no attention reading has a decisive fit, or no
    thermal method (parallel tempering, simulated annealing) has one. Otherwise *reproduced* if an
    attention reading is decisively a power law and every decisive thermal method exponential;
    *not reproduced* if no attention reading is a power law; *not decided* if an attention reading is
    a power law but a thermal method is too (there is no Arrhenius law at these sizes to renormalise:
    larger L would decide). No *partly*: a power law shared with the baselines is not a part.

    Parameters
    ----------
    fits : dict of str -> dict
        Per method, :func:`tgnlib.scaling.compare_growth`'s ``rss_exp`` and ``rss_power``.
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
