"""Verdict rules of chapter 2.3 (layer-wise rank of pretrained language models): claims L1-L5.

Each rule takes a mapping ``model label -> measured numbers`` and returns the weakest verdict over
the models (:func:`tgnlib.verdicts.weakest`): a claim about "GPT-2 and TinyLlama" must hold for
every model tested.
"""

from __future__ import annotations

import math

from . import Verdict, not_decided, not_reproduced, partly, reproduced, weakest

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


def _l1_one(at_third: float, min_depth: float, drop: float) -> Verdict:
    txt = f"rank at 1/3 depth {at_third:.0%} of input, minimum {drop:.0%} of input at depth {min_depth:.2f}"
    if at_third <= DROP and min_depth <= EARLY_MIN_DEPTH:
        return reproduced(txt)
    if drop <= DROP:
        return partly(f"falls, but not within the first third ({txt})")
    return not_reproduced(f"never falls by 10% ({txt})")


def l1(models: dict) -> Verdict:
    """L1: does the rank of hidden states fall in the first third of depth?

    Rule
    ----
    On the raw entropy rank per sequence, mean over sequences. *Reproduced* if the rank has fallen
    at least 10% below the input's by one third of the depth (interpolated) and its minimum lies
    within the first 45% of depth; *partly* if it falls by 10% somewhere, but not within the first
    third; *not reproduced* if it never falls by 10%. The weakest verdict over the models counts.

    Parameters
    ----------
    models : dict of str -> dict
        Per model: ``at_third`` (rank at 1/3 depth over the input's), ``min_depth`` (normalised depth
        of the minimum), ``drop`` (minimum over input).

    Returns
    -------
    Verdict
    """
    return _each(models, _l1_one)


def _l2_one(drop: float, final_vs_input_low: float, final_vs_min_low: float) -> Verdict:
    if drop > DROP:
        return not_reproduced(f"no dip to rebound from (minimum {drop:.0%} of the input)")
    if final_vs_input_low > 0:
        return reproduced(f"dip to {drop:.0%} of the input, final above the input (95% CI lower end {final_vs_input_low:+.1f})")
    if final_vs_min_low > 0:
        return partly(f"rebounds above its minimum (CI lower end {final_vs_min_low:+.1f}) but not above the input "
                      f"(CI lower end {final_vs_input_low:+.1f})")
    return not_reproduced(f"no rebound above the minimum (CI lower end {final_vs_min_low:+.1f})")


def l2(models: dict) -> Verdict:
    """L2: does the rank rebound in the deeper two thirds, even above the input (a V)?

    Rule
    ----
    A V needs a dip first: the minimum must be at most 90% of the input's rank (else *not
    reproduced*). Then *reproduced* if the final rank is above the input's (95% bootstrap interval
    of the paired difference over sequences above 0); *partly* if it only rebounds above the minimum
    (same test); *not reproduced* otherwise. The weakest verdict over the models counts.

    Parameters
    ----------
    models : dict of str -> dict
        Per model: ``drop`` (minimum over input), ``final_vs_input_low`` and ``final_vs_min_low``
        (lower ends of the 95% intervals of final - input and final - minimum).

    Returns
    -------
    Verdict
    """
    return _each(models, _l2_one)


def _l3_one(rebound_trained: float, min_trained: float, rebound_ablated: float, min_ablated: float) -> Verdict:
    txt = f"rebound trained {rebound_trained:+.1f}, attention ablated {rebound_ablated:+.1f}"
    if rebound_trained <= REBOUND_SHARE * min_trained:
        return not_reproduced(f"the trained model has no rebound to remove ({txt})")
    if rebound_ablated <= REBOUND_SHARE * min_ablated:
        return reproduced(txt)
    if rebound_ablated < rebound_trained:
        return partly(f"ablation shrinks the rebound without removing it ({txt})")
    return not_reproduced(f"the rebound survives ablation ({txt})")


def l3(models: dict) -> Verdict:
    """L3: does masking attention remove the deep rebound?

    Rule
    ----
    Rebound = final rank minus the minimum of the mean curve. *Reproduced* if the trained model
    rebounds (by more than 5% of its minimum) and the attention-ablated model does not (at most 5%
    of its minimum); *partly* if ablation shrinks the rebound without removing it; *not reproduced*
    if the rebound survives undiminished or the trained model has none. The weakest verdict over the
    models counts.

    Parameters
    ----------
    models : dict of str -> dict
        Per model: ``rebound_trained``, ``min_trained``, ``rebound_ablated``, ``min_ablated``.

    Returns
    -------
    Verdict
    """
    return _each(models, _l3_one)


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


def _l5_one(t_star: float, t_best: float, grid_step: float) -> Verdict:
    txt = f"rank transition at T={t_star:.2f}, perplexity minimum at T={t_best:.2f}, grid step {grid_step:.2f}x"
    if abs(math.log(t_star / t_best)) <= math.log(grid_step) * 1.01:
        return reproduced(txt)
    return not_reproduced(txt)


def l5(models: dict) -> Verdict:
    """L5: does T = 1 coincide with the critical point of a rank transition?

    Rule
    ----
    The transition is the susceptibility peak of the mean entropy rank against ln T. *Reproduced*
    if it lies within one grid step of the perplexity's minimum; *not reproduced* otherwise. The
    weakest verdict over the models counts.

    Parameters
    ----------
    models : dict of str -> dict
        Per model: ``t_star``, ``t_best``, ``grid_step``.

    Returns
    -------
    Verdict
    """
    return _each(models, _l5_one)
