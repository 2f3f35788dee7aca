"""Verdict rules of chapter 2.4 (brain): claims B1-B4.

B1 and B2 need the propofol sedation data (OpenNeuro ds003171); without them they are *not testable
here*, whatever the synthetic fixture shows. B3 is an in-silico experiment; B4 is interpretive.
"""

from __future__ import annotations

import itertools

from ..brain.stats import min_attainable_p
from . import Verdict, not_decided, not_reproduced, not_testable, partly, reproduced

ALPHA = 0.05


def smallest_corrected_p(n_subjects: int, n_tests: int) -> float:
    """Smallest Holm-corrected p the state contrasts can reach: ``n_tests`` times the smallest exact
    two-sided Wilcoxon (or sign-flip) p with ``n_subjects`` pairs, 2 / 2^n (capped at 1).

    Parameters
    ----------
    n_subjects : int
        Subjects in each paired contrast.
    n_tests : int
        Rows the Holm correction runs over (every reading, GSR choice, state and split quantile).

    Returns
    -------
    float
    """
    if n_tests < 1:
        raise ValueError(f"n_tests={n_tests!r} must be >= 1")
    return min(1.0, n_tests * min_attainable_p(n_subjects))


def _too_few_subjects(n_subjects: int, n_tests: int) -> Verdict | None:
    floor = smallest_corrected_p(n_subjects, n_tests)
    if floor < ALPHA:
        return None
    need = next(n for n in itertools.count(n_subjects + 1) if smallest_corrected_p(n, n_tests) < ALPHA)
    return not_decided(f"with {n_subjects} subjects and Holm over {n_tests} contrasts the smallest attainable corrected p is "
                       f"{floor:.3g} >= {ALPHA}: no data could pass; {need} subjects would decide")


_NO_DATA = ("OpenNeuro ds003171 (propofol sedation fMRI) is not reachable here: run scale='full' where it is; the "
            "fixture's numbers check the pipeline, not brains")


def b1(sedation_data: bool, top_state: dict, deep_p: dict, deep_dz: dict, n_subjects: int, n_tests: int) -> Verdict:
    """B1: is the awake state the one of highest effective rank?

    Rule
    ----
    On the real sedation data only (else *not testable here*), for each global-signal choice (GSR
    off, on): the awake state has the highest mean time-series rank, and awake -> deep is a fall
    (d_z < 0) with a Holm-corrected Wilcoxon p < 0.05. *Reproduced* if both GSR choices pass;
    *partly* if one does (named); *not reproduced* if neither. *Not decided at this scale* if no data
    could pass: the smallest attainable corrected p (:func:`smallest_corrected_p`) is >= 0.05.

    Parameters
    ----------
    sedation_data : bool
        Whether the numbers come from ds003171 (not the synthetic fixture).
    top_state, deep_p, deep_dz : dict of bool -> ...
        Per GSR choice: the state of highest rank; the corrected p and d_z of awake -> deep.
    n_subjects, n_tests : int
        Subjects per contrast and contrasts in the Holm correction.

    Returns
    -------
    Verdict
    """
    if not sedation_data:
        return not_testable(_NO_DATA)
    if undecidable := _too_few_subjects(n_subjects, n_tests):
        return undecidable
    ok = {g: top_state[g] == "awake" and deep_p[g] < ALPHA and deep_dz[g] < 0 for g in (False, True)}
    txt = "; ".join(f"GSR {'on' if g else 'off'}: top {top_state[g]}, deep d_z {deep_dz[g]:.2f} (p {deep_p[g]:.3g})"
                    for g in (False, True))
    if all(ok.values()):
        return reproduced(txt)
    if any(ok.values()):
        return partly(f"holds with GSR {'on' if ok[True] else 'off'} only ({txt})")
    return not_reproduced(txt)


def b2(sedation_data: bool, deep_p: dict, deep_dz: dict, long_range_specific: bool, n_subjects: int, n_tests: int) -> Verdict:
    """B2: does rank fall significantly with sedation depth, and specifically at long range?

    Rule
    ----
    On the real sedation data only (else *not testable here*). A fall: awake -> deep d_z < 0 with a
    Holm-corrected Wilcoxon p < 0.05. *Reproduced* if it falls under both GSR choices and the
    long-range fall exceeds the short-range fall at every split quantile and GSR choice; *partly*
    if it falls under at least one GSR choice (the fall, without the long-range specificity or the
    robustness); *not reproduced* otherwise. *Not decided at this scale* if the smallest attainable
    corrected p (:func:`smallest_corrected_p`) is >= 0.05.

    Parameters
    ----------
    sedation_data : bool
    deep_p, deep_dz : dict of bool -> float
        Per GSR choice, awake -> deep.
    long_range_specific : bool
    n_subjects, n_tests : int
        Subjects per contrast and contrasts in the Holm correction.

    Returns
    -------
    Verdict
    """
    if not sedation_data:
        return not_testable(_NO_DATA)
    if undecidable := _too_few_subjects(n_subjects, n_tests):
        return undecidable
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


def readout_established(r: dict) -> bool:
    """Whether one synchrony readout of one induction shows the claimed order: both onsets beat the
    sham (``rank_beats_sham``, ``sync_beats_sham``) and the lag is positive (:func:`lag_established`
    on ``detected``, ``runs``, ``lag_low_s``)."""
    return bool(r["rank_beats_sham"] and r["sync_beats_sham"] and lag_established(r["detected"], r["runs"], r["lag_low_s"]))


def b3(long_range: dict, controls: dict) -> Verdict:
    """B3: in silico, does long-range rank collapse before global synchrony bursts?

    Rule
    ----
    Read on every synchrony readout taken from the simulated BOLD, the clock of the rank (Kuramoto
    order of the BOLD phases, mean FC). For the long-range induction: the **directions** hold if
    long-range rank falls and synchrony rises on every readout (each p < 0.05 over runs). The
    **order** holds on a readout if the rank onset and the synchrony onset are each detected more
    often than on the sham runs (thresholds set on the shams; one-sided Fisher p < 0.05) and the
    lag (synchrony onset - rank onset) is established: both onsets in at least half of the runs and
    the 95% interval of the median lag above 0. *Reproduced* if the directions hold and the order
    holds on every readout (the lag's sign agrees across readouts) and no control induction shows
    the same on every readout; *partly* if the directions hold but the order does not (or a control
    shows it too, so it is not specific to long-range collapse); *not reproduced* if the directions
    fail on any readout.

    Parameters
    ----------
    long_range : dict of str -> dict
        Per readout: ``rank_change, rank_p, sync_change, sync_p`` (mean change baseline to hold and
        its p), ``rank_beats_sham, sync_beats_sham`` (bool), ``detected, runs`` (runs with both
        onsets, runs in all), ``lag_low_s`` (lower end of the median lag's 95% interval; NaN if none).
    controls : dict of str -> dict
        Per control induction, the same per-readout dicts.

    Returns
    -------
    Verdict
    """
    if not long_range:
        raise ValueError("no synchrony readout given")

    def txt(name, r):
        return (f"{name}: rank {r['rank_change']:+.2f} (p {r['rank_p']:.2g}), synchrony {r['sync_change']:+.4f} (p {r['sync_p']:.2g}), "
                f"onsets beat sham: rank {'yes' if r['rank_beats_sham'] else 'no'}, synchrony {'yes' if r['sync_beats_sham'] else 'no'}, "
                f"both in {r['detected']} of {r['runs']} runs")

    detail = "; ".join(txt(n, r) for n, r in long_range.items())
    wrong = [n for n, r in long_range.items()
             if not (r["rank_change"] < 0 and r["rank_p"] < ALPHA and r["sync_change"] > 0 and r["sync_p"] < ALPHA)]
    if wrong:
        return not_reproduced(f"the long-range induction does not both collapse rank and raise synchrony on {', '.join(wrong)} "
                              f"({detail})")
    ordered = [n for n, r in long_range.items() if readout_established(r)]
    if len(ordered) < len(long_range):
        missing = ", ".join(n for n in long_range if n not in ordered)
        return partly(f"directions hold on every readout, but the order (onsets beating sham, lag above 0) fails on {missing} ({detail})")
    same = sorted(c for c, per in controls.items() if per and all(readout_established(r) for r in per.values()))
    if same:
        return partly(f"directions and order hold, but {', '.join(same)} shows the same order: it is not specific ({detail})")
    return reproduced(f"directions and order hold on every readout, and on no control ({detail})")


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
