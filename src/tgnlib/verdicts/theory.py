"""Verdict rules of chapter 2.1 (theory): claims T1-T5.

Each rule takes the numbers the chapter measured and returns a :class:`~tgnlib.verdicts.Verdict`.
The readings of the claims are ours (the paper gives no equations for its tests); the chapter says so.
"""

from __future__ import annotations

import numpy as np

from . import Verdict, is_below, not_decided, not_reproduced, partly, reproduced

EXACT = 1e-10  # float64 error under which an identity counts as exact
T1_TV_MAX = 0.05  # median TV distance from the heat kernel that trained heads may show for "exactly"
T2_RATIO = 10.0  # attention gap over local-chain gap at the largest N, for reproduced
T2_SLOPE = -0.1  # log-log slope of the attention gap vs N above which it "does not close"
T4_FACTOR = 1.25  # critical beta within this factor of 1 counts as "at the 1/sqrt(d) scale"
T4_HEAD_SHARE = 0.5  # share of a layer's heads that must sit at beta = 1


def t1(identity_error: float, equal_norm_tv: float, tv_median: float) -> Verdict:
    """T1: is softmax attention exactly a heat kernel?

    Rule
    ----
    *Reproduced* if the identity softmax = key-norm-weighted heat kernel holds to float precision
    (error below 1e-10), equal-norm keys give the heat kernel exactly, and trained heads are within a
    median total-variation distance of 0.05 of the heat kernel; *partly* if the identity and the
    equal-norm case hold exactly but trained heads are farther (the named part: attention is a heat
    kernel reweighted by exp(|k|^2 / 2 tau), exactly a heat kernel only for equal key norms);
    *not reproduced* if even the equal-norm case fails.

    Parameters
    ----------
    identity_error : float
        Largest absolute difference between softmax attention and the reweighted heat kernel.
    equal_norm_tv : float
        Largest TV distance between attention and heat-kernel rows when all keys have one norm.
    tv_median : float
        Median over trained heads of the mean row TV distance.

    Returns
    -------
    Verdict
    """
    exact = identity_error < EXACT and equal_norm_tv < EXACT
    if not exact:
        return not_reproduced(f"the identity fails: error {identity_error:.1e}, equal-norm TV {equal_norm_tv:.1e} (need < {EXACT:g})")
    if tv_median <= T1_TV_MAX:
        return reproduced(f"identity exact; trained heads median TV {tv_median:.3f} <= {T1_TV_MAX}")
    return partly(f"exact only for equal key norms (identity error {identity_error:.1e}); trained heads median TV "
                  f"{tv_median:.3f} > {T1_TV_MAX}, so 'exactly' does not hold for real attention")


def t2(n_values, gap_attention, gap_chain) -> Verdict:
    """T2: does attention enlarge the spectral gap over local coupling?

    Rule
    ----
    Needs at least three sizes N (else *not decided*). *Reproduced* if at the largest N the attention
    gap exceeds the local chain's by more than 10x and does not close as N grows (log-log slope of
    the attention gap against N at least -0.1); *partly* if it exceeds the chain's gap at every N but
    closes with N or by less than 10x at the largest N; *not reproduced* otherwise.

    Parameters
    ----------
    n_values : sequence of int
        Numbers of points N, increasing.
    gap_attention, gap_chain : sequence of float
        Spectral gaps 1 - lambda_2 of the attention operator and the local chain at each N.

    Returns
    -------
    Verdict
    """
    n = np.asarray(n_values, dtype=float)
    att, chain = np.asarray(gap_attention, dtype=float), np.asarray(gap_chain, dtype=float)
    if len(n) < 3 or att.shape != n.shape or chain.shape != n.shape:
        return not_decided(f"{len(n)} sizes N; a slope needs at least 3 (run more n_values)")
    slope = float(np.polyfit(np.log(n), np.log(att), 1)[0])
    ratio = float(att[-1] / chain[-1])
    larger = all(is_below(c, a) for a, c in zip(att, chain))
    if ratio > T2_RATIO and slope >= T2_SLOPE and larger:
        return reproduced(f"attention gap {ratio:.0f}x the local chain's at N={n[-1]:.0f}, slope vs N {slope:+.2f}")
    if larger:
        return partly(f"attention gap larger at every N ({ratio:.1f}x at N={n[-1]:.0f}) but slope {slope:+.2f} or ratio below "
                      f"{T2_RATIO:g}x: the gap is larger without staying open")
    return not_reproduced(f"attention gap not above the local chain's at every N (ratio at N={n[-1]:.0f}: {ratio:.2f})")


def t3(n_values, t_mix_attention, t_mix_chain, t_mix_all, lower, upper) -> Verdict:
    """T3: does a larger gap give exponentially shorter mixing?

    Rule
    ----
    Needs at least three sizes N (else *not decided*). The claim has two parts. (i) A larger gap
    gives shorter mixing: attention mixes faster than the local chain at every N. (ii)
    "Exponentially": the advantage exceeds what the gap alone allows, i.e. some operator's mixing
    time leaves the relaxation-time window (t_rel - 1) ln 2 <= t_mix <= t_rel ln(4 / pi_min) in which
    t_mix tracks 1/gap up to a log factor. *Reproduced* if both; *partly* if (i) holds while every
    t_mix stays in the window (mixing is faster in proportion to the gap, not exponentially);
    *not reproduced* if attention does not mix faster. Our second reading, "the distance to
    equilibrium decays as exp(-gap t)", is a theorem for reversible chains (Levin, Peres and Wilmer,
    Thms 12.4-12.5), and the window test is its check.

    Parameters
    ----------
    n_values : sequence of int
        Numbers of points N.
    t_mix_attention, t_mix_chain : sequence of float
        Exact mixing times t_mix(1/4) (steps) of attention and of the local chain at each N.
    t_mix_all, lower, upper : sequence of float
        Every operator's mixing time at every N, with the window's two ends for it (steps).

    Returns
    -------
    Verdict
    """
    n = np.asarray(n_values, dtype=float)
    att, chain = np.asarray(t_mix_attention, dtype=float), np.asarray(t_mix_chain, dtype=float)
    if len(n) < 3:
        return not_decided(f"{len(n)} sizes N; need at least 3 (raise mixing_n_max or add n_values)")
    t, lo, hi = (np.asarray(v, dtype=float) for v in (t_mix_all, lower, upper))
    if not t.shape == lo.shape == hi.shape:
        raise ValueError(f"t_mix_all, lower and upper differ in shape: {t.shape}, {lo.shape}, {hi.shape}")
    faster = all(is_below(a, c) for a, c in zip(att, chain))
    outside = int(np.sum((t < lo * (1 - 1e-9)) | (t > hi * (1 + 1e-9))))
    speedup = float(chain[-1] / att[-1])
    if not faster:
        return not_reproduced(f"attention does not mix faster than the local chain at every N (at N={n[-1]:.0f}: "
                              f"{att[-1]:.0f} vs {chain[-1]:.0f} steps)")
    if outside == 0:
        return partly(f"attention mixes {speedup:.0f}x faster at N={n[-1]:.0f} (the part that holds), but all {t.size} mixing "
                      "times sit inside the 1/gap log-factor window: shorter in proportion to the gap, not exponentially")
    return reproduced(f"attention mixes {speedup:.0f}x faster and {outside} of {t.size} mixing times leave the 1/gap window")


def t4(critical_random, critical_heads_by_layer) -> Verdict:
    """T4: is the 1/sqrt(d) scale the critical (edge-of-chaos) temperature?

    Rule
    ----
    Two tests. The scale argument: with random Gaussian q, k the entropy-critical logit multiplier
    beta_c must lie within a factor 1.25 of 1 at every head dimension d and key count n tested.
    Trained attention: in every layer at least half of the heads must have beta_c within 1.25x of 1
    (the distribution of heads, not its median). Needs at least two key counts and one trained head
    per layer (else *not decided*). *Reproduced* if both hold; *partly* if one holds (named in the
    reason); *not reproduced* if neither.

    Parameters
    ----------
    critical_random : dict of (d, n) -> float
        beta_c of random q, k for each head dimension d and key count n.
    critical_heads_by_layer : sequence of sequences of float
        beta_c of each trained head, grouped by layer.

    Returns
    -------
    Verdict
    """
    if len({n for _, n in critical_random}) < 2 or not critical_heads_by_layer or any(len(h) == 0 for h in critical_heads_by_layer):
        return not_decided("need at least two key counts n for random q,k and trained heads in every layer")
    lo, hi = 1 / T4_FACTOR, T4_FACTOR
    inside = {key: lo <= b <= hi for key, b in critical_random.items()}
    random_ok = all(inside.values())
    shares = [float(np.mean([(lo <= b <= hi) for b in layer])) for layer in critical_heads_by_layer]
    heads_ok = all(s >= T4_HEAD_SHARE for s in shares)
    b = np.array(list(critical_random.values()))
    random_txt = (f"random q,k beta_c {b.min():.2f}-{b.max():.2f}, {sum(inside.values())} of {len(inside)} (d, n) within "
                  f"{T4_FACTOR}x of 1")
    heads_txt = f"share of trained heads within {T4_FACTOR}x of 1 per layer: " + ", ".join(f"{s:.0%}" for s in shares)
    if random_ok and heads_ok:
        return reproduced(f"{random_txt}; {heads_txt}")
    if random_ok:
        return partly(f"the scale argument holds ({random_txt}); trained heads do not sit there ({heads_txt})")
    if heads_ok:
        return partly(f"trained heads sit at beta = 1 ({heads_txt}); the scale argument fails ({random_txt})")
    return not_reproduced(f"{random_txt}; {heads_txt}")


def t5(retained: dict) -> Verdict:
    """T5: does local processing lose rank with depth, and attention not?

    Rule
    ----
    Rank retained over depth = the geometric mean of the effective rank over all blocks of the same
    random networks. *Reproduced* if local attention retains less rank than global attention both
    with and without residual connections; *not reproduced* if global attention retains less (or
    ties) in both; *partly* if local retains less in one setting only (named in the reason).

    Parameters
    ----------
    retained : dict of (mixing, residual) -> float
        Rank retained for mixing in {"global", "local"} and residual in {False, True}.

    Returns
    -------
    Verdict
    """
    need = {(m, r) for m in ("global", "local") for r in (False, True)}
    if not need <= set(retained):
        raise ValueError(f"retained needs the keys {sorted(need)}; got {sorted(retained)}")
    less = {r: is_below(retained[("local", r)], retained[("global", r)]) for r in (False, True)}
    txt = "; ".join(f"{'with' if r else 'without'} residuals: local {retained[('local', r)]:.1f} vs global {retained[('global', r)]:.1f}"
                    for r in (False, True))
    if all(less.values()):
        return reproduced(txt)
    if not any(less.values()):
        return not_reproduced(f"global attention keeps no more rank than local mixing ({txt})")
    where = "with" if less[True] else "without"
    return partly(f"local mixing loses more rank only {where} residual connections ({txt})")
