"""Verdict rules of chapter 2.3 (layer-wise rank of pretrained language models): claims L1-L5.

Each rule takes a mapping ``model label -> measured numbers`` and returns the weakest verdict over
the models (:func:`tgnlib.verdicts.weakest`): a claim about "GPT-2 and TinyLlama" must hold for
every model tested.
"""

from __future__ import annotations

import math

from . import NOT_REPRODUCED, PARTLY, REPRODUCED, Verdict, not_decided, not_reproduced, partly, reproduced, weakest

DROP = 0.9  # the rank must fall to at most 90% of the input's to count as a fall
EARLY_MIN_DEPTH = 0.45  # the minimum must lie within the first 45% of normalised depth
REBOUND_SHARE = 0.05  # a rebound smaller than 5% of the curve's minimum counts as none


def _each(models: dict, rule) -> Verdict:
    if not models:
        return not_decided("no model was measured")
    verdicts = []
    for label, m in models.items():
        v = rule(**m)
        verdicts.append(Verdict(v.outcome, f"{label}: {v.reason}"))
    return weakest(verdicts)


CURVES = ("all tokens", "without sinks", "standardised")  # as tgnlib.llm.geometry.CURVES
ESTIMATORS = ("entropy", "participation", "stable")


def _l1_curve(at_third: float, min_depth: float, drop: float, **_) -> Verdict:
    txt = f"rank at 1/3 depth {at_third:.0%} of input, minimum {drop:.0%} of input at depth {min_depth:.2f}"
    if at_third <= DROP and min_depth <= EARLY_MIN_DEPTH:
        return reproduced(txt)
    if drop <= DROP:
        return partly(f"falls, but not within the first third ({txt})")
    return not_reproduced(f"never falls by 10% ({txt})")


def _l2_curve(drop: float, final_vs_input: tuple, final_vs_min: tuple, **_) -> Verdict:
    if drop > DROP:
        return not_reproduced(f"no dip to rebound from (minimum {drop:.0%} of the input)")
    if final_vs_input[1] > 0:
        return reproduced(f"dip to {drop:.0%} of the input, final above the input (95% CI lower end {final_vs_input[1]:+.1f})")
    if final_vs_min[1] > 0:
        return partly(f"rebounds above its minimum (CI lower end {final_vs_min[1]:+.1f}) but not above the input "
                      f"(CI lower end {final_vs_input[1]:+.1f})")
    return not_reproduced(f"no rebound above the minimum (CI lower end {final_vs_min[1]:+.1f})")


def _across_curves(profiles: dict, test, contradicts, shape: str) -> Verdict:
    """Combine one per-curve test over curves (a)-(c) with the entropy rank, then check the other estimators."""
    missing = [c for c in CURVES if c not in profiles or "entropy" not in profiles[c]]
    if missing:
        return not_decided(f"curves {missing} were not measured; the rule needs all of {list(CURVES)}")
    per_curve = {c: test(**profiles[c]["entropy"]) for c in CURVES}
    a, b, c = (per_curve[k] for k in CURVES)
    if a.outcome in (REPRODUCED, PARTLY) and b.outcome == NOT_REPRODUCED:
        return not_reproduced(f"the {shape} on all tokens ({a.reason}) is the attention sink's doing: without the sink "
                              f"positions {b.reason}")
    worst = weakest(per_curve.values())
    if worst.outcome != REPRODUCED:
        if a.outcome == REPRODUCED and b.outcome == REPRODUCED:
            return partly(f"the {shape} holds on all tokens and without sinks, but not on standardised features ({c.reason}): "
                          "it is carried by a few dominant residual dimensions")
        return Verdict(a.outcome if a.outcome != REPRODUCED else worst.outcome,
                       "; ".join(f"{k}: {v.reason}" for k, v in per_curve.items()))
    against = [f"{k}/{e}" for k in CURVES for e in ESTIMATORS if e != "entropy" and e in profiles[k] and contradicts(profiles[k][e])]
    if against:
        return partly(f"the {shape} holds on all three curves with the entropy rank, but {', '.join(against)} contradict it")
    return reproduced(f"the {shape} holds on all tokens, without sinks and on standardised features ({a.reason})")


def _l1_one(profiles: dict) -> Verdict:
    return _across_curves(profiles, _l1_curve, lambda p: p["at_third"] >= 1.0, "fall")


def l1(models: dict) -> Verdict:
    """L1: does the rank of hidden states fall in the first third of depth?

    Rule
    ----
    Per curve (all tokens; without the attention-sink positions; standardised features), on the
    entropy rank per sequence, mean over sequences: the curve *falls* if its rank at one third of
    the depth (interpolated) is at least 10% below the input's and its minimum lies within the
    first 45% of depth. *Reproduced* if it falls on all three curves and no other estimator
    (participation ratio, stable rank) on those curves rises by one third of depth instead. If the
    fall holds on all tokens but not without the sinks, *not reproduced*: it is the sink's doing. If
    it holds on all tokens and without sinks but not on standardised features, or another
    estimator contradicts it, *partly*. Otherwise the all-tokens curve decides (*partly* if it falls
    by 10% only later than the first third, *not reproduced* if it never does). The weakest verdict
    over the pretrained models counts.

    Parameters
    ----------
    models : dict of str -> dict
        Per model: ``profiles[curve][estimator]``, the output of
        :func:`tgnlib.llm.geometry.describe_profile` (``at_third``, ``min_depth``, ``drop``, ...).

    Returns
    -------
    Verdict
    """
    return _each({k: {"profiles": v} for k, v in models.items()}, _l1_one)


def _l2_one(profiles: dict) -> Verdict:
    return _across_curves(profiles, _l2_curve, lambda p: p["final_over_input"] <= 1.0, "V (dip, then rebound above the input)")


def l2(models: dict) -> Verdict:
    """L2: does the rank rebound in the deeper two thirds, even above the input (a V)?

    Rule
    ----
    Per curve (all tokens; without the attention-sink positions; standardised features), on the
    entropy rank per sequence: a V needs a dip first, the minimum at most 90% of the input's rank;
    then the final rank must lie above the input's (95% bootstrap interval of the paired difference
    over sequences above 0). *Reproduced* if the V holds on all three curves and no other estimator
    on them ends at or below its input. If it holds on all tokens but not without the sinks, *not
    reproduced*: the V is the sink's doing. If it holds on all tokens and without sinks but not on
    standardised features, or another estimator contradicts it, *partly*. Otherwise the all-tokens
    curve decides (*partly* if it rebounds above its minimum but not above the input, *not
    reproduced* if there is no dip or no rebound). The weakest verdict over the pretrained models
    counts.

    Parameters
    ----------
    models : dict of str -> dict
        Per model: ``profiles[curve][estimator]`` as :func:`tgnlib.llm.geometry.describe_profile`
        returns (``drop``, ``final_vs_input`` and ``final_vs_min`` as (mean, low, high),
        ``final_over_input``).

    Returns
    -------
    Verdict
    """
    return _each({k: {"profiles": v} for k, v in models.items()}, _l2_one)


def _l3_curve(input_rank: float, drop: float, trained: tuple, ablated: tuple, **_) -> Verdict:
    threshold = REBOUND_SHARE * input_rank
    txt = (f"rebound from the trained minimum layer: trained {trained[0]:+.1f} [{trained[1]:+.1f}, {trained[2]:+.1f}], "
           f"without attention {ablated[0]:+.1f} [{ablated[1]:+.1f}, {ablated[2]:+.1f}]; threshold {threshold:.1f} (5% of the input rank)")
    if drop > DROP:
        return not_reproduced(f"the trained model has no rebound to remove: no dip first (minimum {drop:.0%} of the input; a rise "
                              "from the input is not a rebound)")
    if trained[1] <= threshold:
        return not_reproduced(f"the trained model has no rebound to remove ({txt})")
    if ablated[2] <= threshold:
        return reproduced(txt)
    if ablated[2] < trained[1]:
        return partly(f"removing attention shrinks the rebound without removing it ({txt})")
    return not_reproduced(f"the rebound survives without attention ({txt})")


def _l3_one(curves: dict) -> Verdict:
    missing = [c for c in CURVES[:2] if c not in curves]
    if missing:
        return not_decided(f"curves {missing} were not measured; the rule needs all tokens and without sinks")
    a, b = (_l3_curve(**curves[c]) for c in CURVES[:2])
    if a.outcome in (REPRODUCED, PARTLY) and b.reason.startswith("the trained model has no rebound"):
        return not_reproduced(f"on all tokens {a.reason}; but without the sink positions {b.reason}: the rebound is the sink's doing")
    worst = weakest([a, b])
    return Verdict(worst.outcome, f"all tokens: {a.reason}; without sinks: {b.reason}")


def l3(models: dict) -> Verdict:
    """L3: does taking attention away remove the deep rebound?

    Rule
    ----
    The rebound is the final rank minus the rank at the trained model's own minimum layer, on the
    same layers for the model without attention (entropy rank per sequence, paired over sequences,
    95% bootstrap interval). A rebound needs a dip first (the trained minimum at most 90% of the
    input rank: a rise from the input is not a rebound), and counts when it exceeds 5% of the input
    rank. Per curve (all tokens;
    without the attention-sink positions): *reproduced* if the trained model rebounds (interval
    above the threshold) and the model without attention does not (interval below it); *partly* if
    removing attention shrinks the rebound (intervals apart) without removing it; *not reproduced*
    if the rebound survives or the trained model has none. If the trained model rebounds on all
    tokens but not without the sinks, *not reproduced*: the rebound is the sink's doing. The
    weakest verdict over curves and over comparisons (attention ablated after training; a twin
    trained without attention) counts.

    Parameters
    ----------
    models : dict of str -> dict
        Per comparison: ``curves[curve]`` for "all tokens" and "without sinks", each with
        ``input_rank``, ``drop`` (the trained minimum over the input) and ``trained``, ``ablated``
        rebounds as (mean, low, high) (:func:`tgnlib.llm.geometry.rebounds_from_minimum`).

    Returns
    -------
    Verdict
    """
    return _each({k: {"curves": v} for k, v in models.items()}, _l3_one)


def _l4_one(t_best: float, t_nearest_one: float, grid_step: float) -> Verdict:
    off = abs(math.log(t_best / t_nearest_one))
    if off <= 1e-9:
        return reproduced(f"lowest perplexity at T={t_best:.2f}, the grid point nearest 1")
    if off <= math.log(grid_step) * 1.01:
        return partly(f"lowest perplexity at T={t_best:.2f}, one grid step ({grid_step:.2f}x) from T=1")
    return not_reproduced(f"lowest perplexity at T={t_best:.2f}, more than one grid step from T=1")


def l4(models: dict) -> Verdict:
    """L4: is perplexity lowest at attention temperature T = 1?

    Rule
    ----
    *Reproduced* if the perplexity's minimum on the temperature grid is at the grid point nearest
    T = 1; *partly* if within one grid step of it; *not reproduced* otherwise. The weakest verdict
    over the models counts. Any model trained at T = 1 is expected to pass: a weak test.

    Parameters
    ----------
    models : dict of str -> dict
        Per model: ``t_best`` (argmin of perplexity), ``t_nearest_one`` (grid point nearest 1),
        ``grid_step`` (ratio of neighbouring temperatures).

    Returns
    -------
    Verdict
    """
    return _each(models, _l4_one)


def _l5_one(t_best: float, grid_step: float, transitions: dict) -> Verdict:
    steps = {c: abs(math.log(transitions[c]["entropy"]["t_star"] / t_best)) / math.log(grid_step) for c in CURVES}
    # a peak at the grid's edge means the steepest change lies at or beyond it: undecided only if the edge is near t_best
    edge = [c for c in CURVES if transitions[c]["entropy"]["at_edge"] and steps[c] <= 1.01]
    if edge:
        return not_decided(f"the entropy rank's steepest change lies at the temperature grid's edge, within a step of the perplexity "
                           f"minimum, on {edge}: widen the grid")
    txt = (f"perplexity minimum at T={t_best:.2f}; transitions (entropy rank) at "
           + ", ".join(f"{c}: T={transitions[c]['entropy']['t_star']:.2f} ({steps[c]:.1f} steps"
                       + (", grid edge" if transitions[c]["entropy"]["at_edge"] else "") + ")" for c in CURVES))
    if all(v <= 1.01 for v in steps.values()):
        return reproduced(txt)
    return not_reproduced(txt)


def l5(models: dict) -> Verdict:
    """L5: does T = 1 coincide with the critical point of a rank transition?

    Rule
    ----
    On each curve (all tokens; without the attention-sink positions; standardised features) the
    transition is the susceptibility peak of the mean entropy rank against ln T, on a grid refined
    near the peaks; a peak at the grid's edge means the steepest change lies at or beyond it.
    *Reproduced* if on all three curves the transition lies within one (coarse) grid step of the
    perplexity's minimum; *not decided* if a curve's peak sits at a grid edge within one step of
    that minimum (the grid is too narrow to tell); *not reproduced* otherwise (the other estimators
    are reported beside). The weakest verdict over the pretrained
    models counts.

    Parameters
    ----------
    models : dict of str -> dict
        Per model: ``t_best`` (argmin of perplexity), ``grid_step`` (ratio of neighbouring
        temperatures of the coarse grid) and ``transitions[curve][estimator]`` with ``t_star`` and
        ``at_edge`` (:func:`tgnlib.llm.geometry.locate_transitions`).

    Returns
    -------
    Verdict
    """
    return _each(models, _l5_one)
