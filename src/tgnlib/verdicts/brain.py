"""Verdict rules of chapter 2.4 (brain): claims B1-B4.

B1 and B2 need the propofol sedation data (OpenNeuro ds003171); without them they are *not testable
here*, whatever the synthetic fixture shows. B3 is an in-silico experiment; B4 is interpretive.
"""

from __future__ import annotations

from . import Verdict, not_reproduced, not_testable, partly, reproduced

ALPHA = 0.05

_NO_DATA = ("OpenNeuro ds003171 (propofol sedation fMRI) is not reachable here: run scale='full' where it is; the "
            "fixture's numbers check the pipeline, not brains")


def b1(sedation_data: bool, top_state: dict, deep_p: dict, deep_dz: dict) -> Verdict:
    """B1: is the awake state the one of highest effective rank?

    Rule
    ----
    On the real sedation data only (else *not testable here*), for each global-signal choice (GSR
    off, on): the awake state has the highest mean time-series rank, and awake -> deep is a fall
    (d_z < 0) with a Holm-corrected Wilcoxon p < 0.05. *Reproduced* if both GSR choices pass;
    *partly* if one does (named); *not reproduced* if neither.

    Parameters
    ----------
    sedation_data : bool
        Whether the numbers come from ds003171 (not the synthetic fixture).
    top_state, deep_p, deep_dz : dict of bool -> ...
        Per GSR choice: the state of highest rank; the corrected p and d_z of awake -> deep.

    Returns
    -------
    Verdict
    """
    if not sedation_data:
        return not_testable(_NO_DATA)
    ok = {g: top_state[g] == "awake" and deep_p[g] < ALPHA and deep_dz[g] < 0 for g in (False, True)}
    txt = "; ".join(f"GSR {'on' if g else 'off'}: top {top_state[g]}, deep d_z {deep_dz[g]:.2f} (p {deep_p[g]:.3g})"
                    for g in (False, True))
    if all(ok.values()):
        return reproduced(txt)
    if any(ok.values()):
        return partly(f"holds with GSR {'on' if ok[True] else 'off'} only ({txt})")
    return not_reproduced(txt)


def b2(sedation_data: bool, deep_p: dict, deep_dz: dict, long_range_specific: bool) -> Verdict:
    """B2: does rank fall significantly with sedation depth, and specifically at long range?

    Rule
    ----
    On the real sedation data only (else *not testable here*). A fall: awake -> deep d_z < 0 with a
    Holm-corrected Wilcoxon p < 0.05. *Reproduced* if it falls under both GSR choices and the
    long-range fall exceeds the short-range fall at every split quantile and GSR choice; *partly*
    if it falls under at least one GSR choice (the fall, without the long-range specificity or the
    robustness); *not reproduced* otherwise.

    Parameters
    ----------
    sedation_data : bool
    deep_p, deep_dz : dict of bool -> float
        Per GSR choice, awake -> deep.
    long_range_specific : bool

    Returns
    -------
    Verdict
    """
    if not sedation_data:
        return not_testable(_NO_DATA)
    falls = {g: deep_p[g] < ALPHA and deep_dz[g] < 0 for g in (False, True)}
    txt = f"d_z {deep_dz[False]:.2f} (GSR off), {deep_dz[True]:.2f} (on); long-range specific: {long_range_specific}"
    if all(falls.values()) and long_range_specific:
        return reproduced(txt)
    if any(falls.values()):
        return partly(f"rank falls, without {'robustness to GSR' if not all(falls.values()) else 'long-range specificity'} ({txt})")
    return not_reproduced(txt)


def lag_established(detected: int, runs: int, lag_low_s: float) -> bool:
    """Whether a set of runs shows a positive lag: both onsets in at least half the runs, and the 95%
    interval of the median lag (synchrony onset - rank onset, s) above 0 (NaN: no run had both).

    Parameters
    ----------
    detected, runs : int
    lag_low_s : float

    Returns
    -------
    bool
    """
    return bool(runs > 0 and detected >= runs / 2 and lag_low_s == lag_low_s and lag_low_s > 0)


def b3(rank_change: float, rank_p: float, sync_change: float, sync_p: float, detected: int, runs: int, lag_low_s: float,
       control_lag: dict) -> Verdict:
    """B3: in silico, does long-range rank collapse before global synchrony bursts?

    Rule
    ----
    For the long-range induction, over simulated runs: the directions hold if long-range rank falls
    and synchrony rises (each p < 0.05); the lag holds if both onsets are found in at least half of
    the runs and the 95% interval of the median lag (synchrony onset - rank onset) is above 0.
    *Reproduced* if directions and lag hold and no control induction shows such a lag; *partly* if
    the directions hold (named) but the lag does not, or a control shows the same lag (then the lag
    is not specific to the long-range mechanism); *not reproduced* if the directions fail.

    Parameters
    ----------
    rank_change, rank_p, sync_change, sync_p : float
        Mean change over the ramp and its p, for long-range rank and for synchrony.
    detected, runs : int
        Runs with both onsets, runs in all.
    lag_low_s : float
        Lower end of the 95% interval of the median lag (s); NaN when no run had both onsets.
    control_lag : dict of str -> bool
        Per control induction, whether it shows a positive lag by the same test (:func:`lag_established`).

    Returns
    -------
    Verdict
    """
    directions = rank_change < 0 and rank_p < ALPHA and sync_change > 0 and sync_p < ALPHA
    lag = lag_established(detected, runs, lag_low_s)
    controls = sorted(k for k, v in control_lag.items() if v)
    txt = (f"rank change {rank_change:+.2f} (p {rank_p:.2g}), synchrony change {sync_change:+.4f} (p {sync_p:.2g}); both onsets in "
           f"{detected} of {runs} runs")
    if not directions:
        return not_reproduced(f"the long-range induction does not collapse rank and raise synchrony ({txt})")
    if lag and not controls:
        return reproduced(f"{txt}; lag interval above 0; no control lags")
    if lag:
        return partly(f"directions hold; the lag also appears under {', '.join(controls)}, so it is not specific ({txt})")
    return partly(f"directions hold, but no positive lag is established ({txt})")


def b4() -> Verdict:
    """B4: is consciousness a high-dimensional state held at the brain's critical point?

    Rule
    ----
    Always *not testable here*: it is an interpretation, not a measurement. "Consciousness" is not an
    observable of any dataset or model in the chapter, and "held at the critical point" needs a
    criticality measure across states that the paper neither defines nor reports.

    Returns
    -------
    Verdict
    """
    return not_testable("interpretive: no observable of consciousness or criticality is defined by the paper")
