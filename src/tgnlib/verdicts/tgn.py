"""Verdict rules of chapter 2.5 (the Thermodynamic Gated Network): claims G1-G8.

Several claims are about training dynamics, so their rules check the budget first: a loss still
falling, an early point inside the learning-rate warm-up, a Transformer that does not yet beat the
recurrent models (attention does not pay), or a recall task the gated model does not solve, each
makes the claim *not decided at this scale*. Seeds that disagree do too: with three seeds, "two of
three" is noise, not a part. Comparisons between models use Welch 95% intervals over their seeds
(:func:`tgnlib.welch.welch_interval`) and hold only when the whole interval does.
"""

from __future__ import annotations

import numpy as np

from ..welch import Difference
from . import Verdict, not_decided, not_reproduced, partly, reproduced

MIN_SEEDS = 3
CLOSED = 0.01  # gate rate below which the gate counts as closed (G2, G7)
G1_MARGIN = 0.1  # nats below the unigram floor for "trains"
G3_PLATEAU = 0.05  # nats: the smoothed loss may fall at most this much over the last quarter for a plateau
G4_BAND = (0.06, 0.12)  # "about 9%"
G5_QUALITY, G5_ECONOMY = 1.05, 0.15  # perplexity within 5% of the Transformer's; at most 15% of its total FLOPs
G6_MARGIN = 0.02  # nats
G7_DECADES = 1.0  # a transition: the 90%-to-10% fall spans at most one decade of lambda
G8_SOLVED = 0.5  # recall accuracy at long distances for "solved"
G8_RHO = 0.5


def g1(test_ce: float, unigram_ce: float) -> Verdict:
    """G1: does the TGN, as specified, train?

    Rule
    ----
    The architecture (causality, gate range, the loss term, the closed- and open-gate limits) is
    checked by unit tests. *Reproduced* if the TGN trains to a test loss at least 0.1 nats below the
    unigram floor (token frequencies alone); *not reproduced* otherwise.

    Parameters
    ----------
    test_ce, unigram_ce : float
        Test cross-entropy of the TGN and of the unigram model (nats per token).

    Returns
    -------
    Verdict
    """
    txt = f"test loss {test_ce:.3f} vs unigram {unigram_ce:.3f} nats"
    return reproduced(txt) if test_ce < unigram_ce - G1_MARGIN else not_reproduced(txt)


def _seeds(flags, what: str, txt: str) -> Verdict:
    k, n = int(sum(flags)), len(flags)
    if n < MIN_SEEDS:
        return not_decided(f"{n} seeds; need at least {MIN_SEEDS} ({txt})")
    if k == n:
        return reproduced(f"{what} in all {n} seeds ({txt})")
    if k == 0:
        return not_reproduced(f"{what} in none of {n} seeds ({txt})")
    return not_decided(f"{what} in {k} of {n} seeds: the seeds disagree ({txt}); more seeds or a longer run would decide")


def g2(minima) -> Verdict:
    """G2: does the gate close (below 1%) early in training?

    Rule
    ----
    On the smoothed gate rate (mean g) of each seed of the main run, at the chosen lambda only.
    *Reproduced* if every seed's minimum is below 1%; *not reproduced* if none is; *not decided* if
    the seeds disagree or there are fewer than three. Another lambda of the sweep passing does not
    count: that would choose lambda after seeing the result.

    Parameters
    ----------
    minima : sequence of float
        Minimum of the smoothed gate rate, per seed.

    Returns
    -------
    Verdict
    """
    m = np.asarray(minima, dtype=float)
    return _seeds(m < CLOSED, "the gate closes below 1%", f"minima {', '.join(f'{v:.3f}' for v in m)}")


def rebounds(trajectories, steps: int) -> list[bool]:
    """Which gate trajectories rebound: final rate at least twice the minimum and 1 point above it, with the
    minimum before 80% of training.

    Parameters
    ----------
    trajectories : sequence of dict
        :func:`tgnlib.tgn.experiment.describe_gate_trajectory` of each run.
    steps : int
        Training steps of the runs.

    Returns
    -------
    list of bool
    """
    return [t["final"] >= 2 * t["minimum"] and t["rebound"] >= 0.01 and t["min_step"] < 0.8 * steps for t in trajectories]


def g3(trajectories, loss_drops, steps: int) -> Verdict:
    """G3: when the loss plateaus, does the gate rate rebound (a U)?

    Rule
    ----
    The claim needs a plateau: in every seed the smoothed training loss must fall by less than 0.05
    nats over the last quarter of training (else *not decided*: the run stops while the loss still
    falls, before any rebound could follow the plateau). A seed rebounds if its final gate rate is at
    least twice its minimum and at least 1 point above it, with the minimum before 80% of training.
    *Reproduced* if every seed rebounds; *not reproduced* if none does; *not decided* if the seeds
    disagree or are fewer than three.

    Parameters
    ----------
    trajectories : sequence of dict
        Per seed, :func:`tgnlib.tgn.experiment.describe_gate_trajectory`.
    loss_drops : sequence of float
        Per seed, :func:`tgnlib.tgn.experiment.loss_drop_last_quarter`.
    steps : int
        Training steps.

    Returns
    -------
    Verdict
    """
    drops = np.asarray(loss_drops, dtype=float)
    if (drops >= G3_PLATEAU).any():
        return not_decided(f"the loss still falls by {drops.max():.3f} nats over the last quarter (plateau: < {G3_PLATEAU}); "
                           "train longer")
    ratios = ", ".join(f"{t['rebound_ratio']:.2f}" for t in trajectories)
    return _seeds(rebounds(trajectories, steps), "the gate rebounds after the plateau", f"final/minimum {ratios}")


def g4(final_mean_g, final_open, loss_drops) -> Verdict:
    """G4: does the gate converge to a sparse steady state of about 9%?

    Rule
    ----
    A steady state needs a plateau (loss falling by less than 0.05 nats over the last quarter in
    every seed, else *not decided*). *Reproduced* if the median final rate over seeds lies in
    [6%, 12%] under both readings of "gate rate": the mean g, and the fraction of open gates
    (g > 0.5) that a hard gate executes; *not reproduced* otherwise. One reading in the band while the
    other is not is not a part: a soft gate can average 9% with no gate open.

    Parameters
    ----------
    final_mean_g, final_open : sequence of float
        Per seed, the final smoothed mean g and the final fraction of open gates.
    loss_drops : sequence of float
        Per seed, :func:`tgnlib.tgn.experiment.loss_drop_last_quarter`.

    Returns
    -------
    Verdict
    """
    drops = np.asarray(loss_drops, dtype=float)
    mean_g, opened = float(np.median(final_mean_g)), float(np.median(final_open))
    txt = f"median final mean g {mean_g:.3f}, open fraction {opened:.4f}"
    if (drops >= G3_PLATEAU).any():
        return not_decided(f"no steady state yet: the loss still falls by {drops.max():.3f} nats over the last quarter ({txt})")
    lo, hi = G4_BAND
    if lo <= mean_g <= hi and lo <= opened <= hi:
        return reproduced(txt)
    return not_reproduced(f"{txt}; band [{lo:.0%}, {hi:.0%}] needed under both readings")


def g5(pays: Difference, quality: dict, total_flop_ratio: dict, attention_flop_ratio: dict) -> Verdict:
    """G5: Transformer quality at a tenth of its compute?

    Rule
    ----
    Relative claim only (the paper's absolute PPL 24.86 is a `full`-scale number). Our reading of
    "compute" is the *total* forward FLOPs per token the model executes (every projection, the gate,
    the recurrence, the MLPs, the head, and attention only where it runs), at the context where
    quality is measured; attention FLOPs alone are the second reading, reported beside it. A model
    whose total compute is above 15% of the Transformer's fails the claim whatever its quality, so
    if no hard-gated model (trained hard, capacity-routed, or hardened at inference) is that cheap,
    *not reproduced*. Otherwise quality is compared over seeds (Welch 95% intervals, at least three
    seeds per model). It means something only where attention pays: unless the Transformer's test
    loss is below the best recurrent baseline's with its whole interval, a TGN that shuts its gate
    "matches" it for free, and G5 is *not decided*. Then *reproduced* if a cheap model's test loss
    exceeds the Transformer's by less than log(1.05) nats (5% perplexity) with its whole interval;
    *not reproduced* if every cheap model's interval lies above that margin; *not decided* if an
    interval straddles it. No *partly*: economy without quality is what a shut gate gives, and
    quality at full cost is the Transformer's own.

    Parameters
    ----------
    pays : tgnlib.welch.Difference
        Test loss of the Transformer minus the best recurrent baseline's, over seeds (nats; negative:
        attention pays).
    quality : dict of str -> tgnlib.welch.Difference
        Per hard-gated model: its test loss minus the Transformer's, over seeds (nats).
    total_flop_ratio, attention_flop_ratio : dict of str -> float
        Per hard-gated model: total forward FLOPs and attention FLOPs per token over the
        Transformer's (means over seeds).

    Returns
    -------
    Verdict
    """
    txt = "; ".join(f"{k}: loss {quality[k]} nats vs the Transformer, {total_flop_ratio[k]:.0%} of its total FLOPs "
                    f"({attention_flop_ratio[k]:.1%} of its attention FLOPs)" for k in quality)
    cheap = [k for k in quality if total_flop_ratio[k] <= G5_ECONOMY]
    if not cheap:
        return not_reproduced(f"no hard-gated model executes at most {G5_ECONOMY:.0%} of the Transformer's total FLOPs per "
                              f"token at this context ({txt})")
    few = min([pays.n_a, pays.n_b] + [quality[k].n_a for k in cheap])
    if few < MIN_SEEDS:
        return not_decided(f"{few} seeds; need at least {MIN_SEEDS} per model ({txt})")
    if pays.high >= 0:
        return not_decided(f"attention does not pay at this budget: the Transformer's test loss minus the best recurrent "
                           f"baseline's is {pays} nats ({txt}); a budget where attention pays would decide")
    margin = float(np.log(G5_QUALITY))
    if any(quality[k].high < margin for k in cheap):
        return reproduced(txt)
    if all(quality[k].low > margin for k in cheap):
        return not_reproduced(txt)
    return not_decided(f"the loss intervals straddle the 5% margin ({txt}); more seeds would decide")


def g6(early_gap: Difference, late_gap: Difference, transformer_lead: Difference, early_step: int, warmup_steps: int,
       window: int) -> Verdict:
    """G6: does the TGN converge fast early like Mamba, and catch the Transformer later?

    Rule
    ----
    Over seeds, with Welch 95% intervals (at least three seeds per model). Preconditions (else *not
    decided*): the early point lies after the learning-rate warm-up and its smoothing window (early
    step - window >= warm-up steps), and the Transformer ends ahead of the better recurrent baseline
    with its whole interval (otherwise there is nothing to catch up with). Early holds if the
    TGN's smoothed training loss minus the better recurrent baseline's is below 0.02 nats with its
    whole interval, and fails if its whole interval lies above; late likewise for the TGN's final
    validation loss minus the Transformer's. *Reproduced* if both hold; *partly* if late holds
    (it catches the Transformer) and early fails or is undecided; *not reproduced* if late fails;
    *not decided* if late's interval straddles the margin. Early alone is not a part: it is the
    TGN's own recurrent stream.

    Parameters
    ----------
    early_gap : tgnlib.welch.Difference
        TGN minus better recurrent baseline, smoothed training loss at the early point (nats).
    late_gap : tgnlib.welch.Difference
        TGN minus Transformer, final validation loss (nats).
    transformer_lead : tgnlib.welch.Difference
        Transformer minus better recurrent baseline, final validation loss (nats; negative: ahead).
    early_step, warmup_steps, window : int

    Returns
    -------
    Verdict
    """
    txt = f"at step {early_step} TGN - recurrent {early_gap} nats; final TGN - Transformer {late_gap} nats"
    if early_step - window < warmup_steps:
        return not_decided(f"the early point (step {early_step}) sits inside the warm-up ({warmup_steps} steps) and its "
                           f"{window}-step smoothing ({txt})")
    few = min(early_gap.n_a, early_gap.n_b, late_gap.n_a, late_gap.n_b)
    if few < MIN_SEEDS:
        return not_decided(f"{few} seeds; need at least {MIN_SEEDS} per model ({txt})")
    if transformer_lead.high >= 0:
        return not_decided(f"the Transformer does not end ahead of the recurrent baselines (Transformer - recurrent "
                           f"{transformer_lead} nats): nothing to catch up with ({txt})")
    if late_gap.low > G6_MARGIN:
        return not_reproduced(txt)
    if late_gap.high >= G6_MARGIN:
        return not_decided(f"the final gap's interval straddles the {G6_MARGIN} nat margin ({txt}); more seeds would decide")
    if early_gap.high < G6_MARGIN:
        return reproduced(txt)
    early = "is slower than" if early_gap.low > G6_MARGIN else "is not shown to be as fast as"
    return partly(f"catches the Transformer late, but {early} the recurrent baseline early ({txt})")


def g7(rates_at_zero, rate_at_largest: float, decades_10_90: float) -> Verdict:
    """G7: is lambda a temperature with a phase transition?

    Rule
    ----
    From the final gate rate over a lambda grid. Open at lambda = 0 means mean g >= 0.5 in every seed
    trained at lambda = 0; shut at the largest lambda means mean g <= 1%. *Not reproduced* if no seed
    is open at lambda = 0; *not decided* if the seeds disagree there, or if the grid does not bracket
    the fall (the 90% or 10% level of the fall is not crossed, or the gate is not shut at the largest
    lambda: extend the grid). A transition, beyond the smooth monotone fall any L1 penalty gives, means
    the fall from 90% to 10% of its range spans at most one decade of lambda. *Reproduced* if open at
    0, shut at the largest lambda and sharp; *not reproduced* otherwise. No *partly*: a monotone fall
    from open to shut is what any L1 penalty on a sigmoid gate gives.

    Parameters
    ----------
    rates_at_zero : float or sequence of float
        Final gate rate at lambda = 0, one per seed.
    rate_at_largest : float
        Final gate rate at the largest lambda.
    decades_10_90 : float
        Decades of lambda between the 90% and 10% crossings (NaN when not crossed in the grid).

    Returns
    -------
    Verdict
    """
    zero = np.atleast_1d(np.asarray(rates_at_zero, dtype=float))
    at_zero = f"{zero[0]:.3f}" if zero.size == 1 else f"{zero.mean():.3f} (seeds {zero.min():.3f}-{zero.max():.3f})"
    txt = f"gate rate {at_zero} at lambda = 0, {rate_at_largest:.4f} at the largest lambda"
    if (zero < 0.5).all():
        return not_reproduced(f"the gate is not open at lambda = 0 ({txt})")
    if (zero < 0.5).any():
        return not_decided(f"the seeds disagree on whether the gate is open at lambda = 0 ({txt})")
    if rate_at_largest > CLOSED or not np.isfinite(decades_10_90):
        return not_decided(f"the lambda grid does not bracket the fall ({txt}); extend the grid")
    if decades_10_90 <= G7_DECADES:
        return reproduced(f"{txt}; 90%-to-10% fall over {decades_10_90:.2f} decades")
    return not_reproduced(f"{txt}; the fall spans {decades_10_90:.2f} decades (> {G7_DECADES:g}): smooth, no transition")


def _probe_outcome(seeds) -> str:
    # one solved probe over the TGN's seeds: "both", "selective" (above its control, not rising with distance),
    # "neither" (not above its control), or "mixed" (the seeds disagree)
    for p in seeds:  # max() with a NaN control would silently drop that control
        if not np.all(np.isfinite([p["gate_query"], p["gate_control"], p["gate_position"]])):
            raise ValueError(f"a gate reading is NaN: {p}")
    selective = [p["gate_query"] > max(p["gate_control"], p["gate_position"]) for p in seeds]
    rising = [p["rho"] > G8_RHO for p in seeds]
    if any(selective) and not all(selective):
        return "mixed"
    if not any(selective):
        return "neither"
    if all(rising):
        return "both"
    return "selective" if not any(rising) else "mixed"


def g8(probes: dict, recurrent_accuracy: dict) -> Verdict:
    """G8: does the gate open for long-range dependencies and stay shut for local ones?

    Rule
    ----
    On synthetic probes where a token needs a distant one (the chapter's recall task, MQAR), over at
    least three seeds of the TGN whose gate is read. A probe counts only if it needs attention and
    the TGN does it: the recurrent model alone must fail it (accuracy at distance >= 16 below 0.5;
    a task the inertial stream solves alone says nothing about when attention is needed), and the
    TGN must solve it in every seed (at least 0.5). If no probe counts, G8 is *not decided*. On a solved probe two
    things are read in the block where the query gate is highest: the gate at the token that needs
    the distant one must exceed two controls, the gate at a token of the same kind that needs nothing
    distant (the recall task's KEY marker; MQAR's first appearance of the same key), so that a gate
    which merely opens on rare tokens does not pass, and the gate of the other tokens at the same
    positions, so that a gate which merely grows along the sequence does not pass; and it must rise
    with distance (Spearman rho > 0.5 over distances). *Reproduced* if both hold in every seed on every solved probe; *partly* if
    the gate beats its controls everywhere but does not rise with distance in any seed (the named
    part: it opens where a distant token is needed); *not reproduced* if it does not beat its
    controls in any seed; *not decided* if seeds or probes disagree.

    Parameters
    ----------
    probes : dict of str -> sequence of dict
        Per probe, per TGN seed: ``long_accuracy``, ``rho``, ``gate_query``, ``gate_control`` and
        ``gate_position`` (:func:`tgnlib.tgn.probe.gate_probe`).
    recurrent_accuracy : dict of str -> float
        Per probe, the accuracy at distance >= 16 of the recurrent model alone (the TGN's inertial
        stream with the gate fixed at 0), trained the same way.

    Returns
    -------
    Verdict
    """
    if not probes:
        raise ValueError("g8 needs at least one probe")
    def values(seeds, key):
        return ", ".join(f"{p[key]:.2f}" for p in seeds)

    txt = "; ".join(f"{k}: recall at distance >= 16 {values(seeds, 'long_accuracy')}, query gate {values(seeds, 'gate_query')} "
                    f"vs controls {values(seeds, 'gate_control')} (same kind) and {values(seeds, 'gate_position')} (same position), "
                    f"rho {values(seeds, 'rho')}" for k, seeds in probes.items())
    few = min(len(seeds) for seeds in probes.values())
    if few < MIN_SEEDS:
        return not_decided(f"{few} TGN seeds on a probe; need at least {MIN_SEEDS} ({txt})")
    if set(recurrent_accuracy) != set(probes):
        raise ValueError(f"recurrent_accuracy names {sorted(recurrent_accuracy)}, probes {sorted(probes)}")
    txt += "; recurrent model alone " + ", ".join(f"{k} {v:.2f}" for k, v in recurrent_accuracy.items())
    needs = {k: seeds for k, seeds in probes.items() if recurrent_accuracy[k] < G8_SOLVED}
    solved = {k: seeds for k, seeds in needs.items() if all(p["long_accuracy"] >= G8_SOLVED for p in seeds)}
    split = [k for k, seeds in needs.items() if k not in solved and any(p["long_accuracy"] >= G8_SOLVED for p in seeds)]
    if not solved:
        why = [f"the recurrent model alone solves {', '.join(k for k in probes if k not in needs)}, so it needs no attention"
               ] if len(needs) < len(probes) else []
        why.append(f"some TGN seeds solve {', '.join(split)}, others do not" if split else "the TGN solves no probe that needs attention")
        return not_decided(f"{'; '.join(why)} ({txt}); its gate pattern cannot show what recall needs")
    outcomes = {k: _probe_outcome(seeds) for k, seeds in solved.items()}
    found = set(outcomes.values())
    on = f"on {', '.join(solved)} ({txt})"
    if found == {"both"}:
        return reproduced(on)
    if found <= {"both", "selective"}:
        return partly(f"the gate opens where a distant token is needed, above both controls, but does not rise with distance {on}")
    if found == {"neither"}:
        return not_reproduced(f"the gate at the query is not above both of its controls {on}")
    return not_decided(f"the seeds or probes disagree ({', '.join(f'{k}: {v}' for k, v in outcomes.items())}) {on}")
