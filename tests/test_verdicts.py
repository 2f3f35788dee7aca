"""Every verdict rule takes each of its outcomes; boundaries, ties and trivially-satisfied cases do not pass."""

import inspect
import math

import numpy as np
import pytest

from tgnlib import verdicts as v
from tgnlib.verdicts import brain, llm_rank, spinglass, tgn, theory

R, P, N, D, X = v.REPRODUCED, v.PARTLY, v.NOT_REPRODUCED, v.NOT_DECIDED, v.NOT_TESTABLE
RULES = [f for mod in (theory, spinglass, llm_rank, brain, tgn) for name, f in inspect.getmembers(mod, inspect.isfunction)
         if f.__module__ == mod.__name__ and name[0] in "tslbg" and name[1:].isdigit()
         or (f.__module__ == mod.__name__ and name == "a1")]


def test_every_claim_has_a_rule_with_rule_text():
    assert sorted(f.__name__.upper() for f in RULES) == sorted(
        [f"T{i}" for i in range(1, 6)] + [f"S{i}" for i in range(1, 5)] + ["A1"] + [f"L{i}" for i in range(1, 6)]
        + [f"B{i}" for i in range(1, 5)] + [f"G{i}" for i in range(1, 9)])
    for rule in RULES:
        text = v.rule_text(rule)
        assert text.startswith("**Verdict rule (ours).** ") and len(text) > 80 and "Parameters" not in text, rule.__name__


def test_rule_text_refuses_a_function_without_a_rule_section():
    with pytest.raises(ValueError, match="no 'Rule' section"):
        v.rule_text(v.weakest)


def test_verdict_validates_and_weakest_orders():
    with pytest.raises(ValueError, match="outcome='maybe'"):
        v.Verdict("maybe", "x")
    with pytest.raises(ValueError, match="reason"):
        v.Verdict(R, " ")
    got = v.weakest([v.reproduced("a"), v.partly("b"), v.not_reproduced("c")])
    assert got.outcome == N
    assert v.weakest([v.reproduced("a"), v.not_decided("b"), v.not_reproduced("c")]).outcome == D
    assert v.weakest([v.not_decided("b"), v.not_testable("t")]).outcome == X
    with pytest.raises(ValueError):
        v.weakest([])


def test_ties_within_float_noise_are_not_wins():
    assert not v.is_below(6e-8, 0.0, atol=1e-5) and v.is_tie(6e-8, 0.0, atol=1e-5)
    assert v.is_below(0.0, 2e-5, atol=1e-5)
    assert not v.is_below(1.0, 1.0 + 1e-9) and v.is_below(1.0, 1.001)
    with pytest.raises(ValueError, match="NaN"):
        v.is_below(float("nan"), 1.0)


# ---- chapter 2.1 ---------------------------------------------------------------------------------

def test_t1_outcomes():
    assert theory.t1(1e-16, 1e-16, 0.01).outcome == R
    assert theory.t1(1e-16, 1e-16, 0.3).outcome == P
    assert theory.t1(1e-16, 1e-3, 0.01).outcome == N  # equal-norm case fails: nothing is exact
    assert theory.t1(1e-16, 1e-16, 0.05).outcome == R and theory.t1(1e-16, 1e-16, 0.0500001).outcome == P


def test_t2_outcomes():
    n = [64, 128, 256]
    assert theory.t2(n, [0.9, 0.9, 0.9], [1e-2, 3e-3, 1e-3]).outcome == R
    assert theory.t2(n, [0.5, 0.1, 0.02], [1e-2, 3e-3, 1e-3]).outcome == P  # larger, but closing with N
    assert theory.t2(n, [1e-3, 1e-3, 1e-3], [1e-2, 3e-3, 1e-3]).outcome == N  # ties at the largest N are not "larger"
    assert theory.t2(n[:2], [0.9, 0.9], [1e-2, 3e-3]).outcome == D


def test_t3_outcomes():
    n = [64, 128, 256]
    att, chain = [2, 2, 2], [500, 2000, 8000]
    inside = dict(t_mix_all=[2, 500, 2000], lower=[0.1, 300, 1000], upper=[5, 900, 4000])
    assert theory.t3(n, att, chain, **inside).outcome == P  # faster, in proportion to the gap: not "exponentially"
    outside = dict(t_mix_all=[2, 500, 2000], lower=[0.1, 300, 1000], upper=[5, 400, 4000])
    assert theory.t3(n, att, chain, **outside).outcome == R
    assert theory.t3(n, [2, 2, 9000], chain, **inside).outcome == N
    assert theory.t3(n, [2, 2, 8000], chain, **inside).outcome == N  # a tie at one N is not faster
    assert theory.t3(n[:2], att[:2], chain[:2], **inside).outcome == D


def test_t4_needs_every_random_case_and_the_head_distribution():
    good = {(16, 32): 1.1, (16, 128): 0.9, (64, 32): 1.0, (64, 128): 1.2}
    bad = {key: 2.4 for key in good}
    heads_ok, heads_bad = [[1.0, 1.1, 3.9], [0.9, 1.0, 0.2]], [[0.2, 3.9, 1.0], [0.9, 1.0, 1.1]]
    assert theory.t4(good, heads_ok).outcome == R
    assert theory.t4(good, heads_bad).outcome == P
    assert theory.t4(bad, heads_ok).outcome == P
    assert theory.t4(bad, heads_bad).outcome == N
    # a median at 1 over all heads does not pass when one layer has its heads elsewhere
    assert theory.t4(bad, [[1.0, 1.0, 1.0, 1.0], [0.2, 3.9, 0.3, 1.0]]).outcome == N
    assert theory.t4({(16, 32): 1.0}, heads_ok).outcome == D
    assert theory.t4({**good, (16, 128): 1.26}, heads_ok).outcome == P  # boundary: 1.26 is outside 1.25x


def test_t5_outcomes():
    base = {("global", False): 1.5, ("global", True): 38.0}
    assert theory.t5({**base, ("local", False): 1.0, ("local", True): 30.0}).outcome == R
    assert theory.t5({**base, ("local", False): 6.6, ("local", True): 43.0}).outcome == N
    assert theory.t5({**base, ("local", False): 1.0, ("local", True): 43.0}).outcome == P
    assert theory.t5({**base, ("local", False): 1.5, ("local", True): 38.0}).outcome == N  # ties are not less
    with pytest.raises(ValueError, match="retained needs"):
        theory.t5(base)


# ---- chapter 2.2 ---------------------------------------------------------------------------------

SIZES = [4, 6, 8]
THERMAL = ["simulated annealing", "parallel tempering", "population annealing"]


def _res(curves: dict, n: int = 8, sizes=SIZES) -> dict:
    """Per method and size, n instances scattered +-10% around the given median residual per spin."""
    spread = np.linspace(0.9, 1.1, n)
    return {m: {L: np.full(n, v) * spread for L, v in zip(sizes, values)} for m, values in curves.items()}


def test_s1_outcomes():
    base = {"simulated annealing": [0.0, 0.005, 0.01], "parallel tempering": [0.0, 0.004, 0.01], "population annealing": [0.0, 0.01, 0.02]}
    assert spinglass.s1(_res({"langevin": [0.01, 0.03, 0.05], **base}), THERMAL).outcome == R
    worse_thermal = {k: [0.0, 0.03, 0.06] for k in base}
    got = spinglass.s1(_res({"langevin": [0.01, 0.03, 0.05], **worse_thermal}), THERMAL)
    assert got.outcome == P and "grows with L only" in got.reason
    assert spinglass.s1(_res({"langevin": [0.05, 0.03, 0.01], **worse_thermal}), THERMAL).outcome == N
    assert spinglass.s1(_res({"langevin": [0.01, 0.03, 0.05], **base}, n=2), THERMAL).outcome == D
    assert spinglass.s1(_res({"langevin": [0.01], **{k: [0.0] for k in base}}, sizes=[4]), THERMAL).outcome == D
    # overlapping intervals are not growth: 0.030 -> 0.031 with +-10% scatter
    assert "grows" not in spinglass.s1(_res({"langevin": [0.03, 0.03, 0.031], **worse_thermal}), THERMAL).reason.split("(")[0]


def test_s2_a_tie_at_the_ground_state_is_not_a_win_nor_a_loss():
    others = {"simulated annealing": [0.0, 0.001, 0.002], "population annealing": [0.0, 0.0, 0.001]}
    got = spinglass.s2(_res({"parallel tempering": [6e-8, 0.002, 0.006], "langevin": [0.0, 0.02, 0.05], **others}), THERMAL)
    assert got.outcome == R and "best other thermal (population annealing)" in got.reason
    assert spinglass.s2(_res({"parallel tempering": [0.0, 0.03, 0.04], "langevin": [0.0, 0.02, 0.05], **others}), THERMAL).outcome == P
    ties = _res({"parallel tempering": [0.0, 0.0, 0.0], "langevin": [0.0, 0.0, 3e-6], **others})
    assert spinglass.s2(ties, THERMAL).outcome == N
    assert spinglass.s2(_res({"parallel tempering": [0.0, 0.0, 0.0], "langevin": [0.0, 0.0, 3e-6], **others}, n=2), THERMAL).outcome == D


def test_reference_runs_and_compared_solvers_of_one_algorithm_pool_not_replace():
    from tgnlib.spinglass.reference import confirm_references

    refs = {"parallel tempering": np.array([-10.0, -8.0]), "population annealing": np.array([-10.0, -9.0])}
    bests = {"parallel tempering": np.array([-9.0, -8.5]), "simulated annealing": np.array([-9.5, -9.0])}
    pooled = spinglass.energies_by_algorithm(refs, bests)
    assert list(pooled) == ["parallel tempering", "population annealing", "simulated annealing"]
    assert pooled["parallel tempering"].tolist() == [-10.0, -8.5]  # the lower of the reference run and the solver
    # the long reference runs agree on instance 0: confirmed; a plain dict merge drops the reference PT and misses it
    assert confirm_references(pooled)["confirmed"].tolist() == [True, True]
    assert confirm_references({**refs, **bests})["confirmed"].tolist() == [False, True]
    with pytest.raises(ValueError, match="different instances"):
        spinglass.energies_by_algorithm(refs, {"parallel tempering": np.zeros(3)})


def test_s3_outcomes():
    thermal = {"simulated annealing": [0.0, 0.001, 0.02], "parallel tempering": [0.0, 0.002, 0.03],
               "population annealing": [0.0, 0.002, 0.03]}
    att = ["attention (a)", "attention (b)"]
    near = _res({"attention (a)": [0.0, 0.005, 0.009], "attention (b)": [0.0, 0.02, 0.05], **thermal})
    assert spinglass.s3(near, att, THERMAL).outcome == R
    sizes = sorted(near["attention (a)"])
    confirmed = {L: np.ones(len(near["attention (a)"][L]), bool) for L in sizes}
    assert spinglass.s3(near, att, THERMAL, confirmed).outcome == R
    confirmed[sizes[-1]][0] = False  # near a reference that is only an upper bound at the largest L: not decided
    undecided = spinglass.s3(near, att, THERMAL, confirmed)
    assert undecided.outcome == D and f"L=[{sizes[-1]}]" in undecided.reason
    partial = _res({"attention (a)": [0.0, 0.02, 0.012], "attention (b)": [0.0, 0.03, 0.05], **thermal})
    assert spinglass.s3(partial, att, THERMAL).outcome == P
    tie = _res({"attention (a)": [0.0, 0.02, 0.02], "attention (b)": [0.0, 0.03, 0.05], **thermal})
    assert spinglass.s3(tie, att, THERMAL).outcome == N  # a tie with the best thermal method is no win
    # near the ground state on the median (0.0099) but not on its interval's upper end: only the part below thermal holds
    edge = spinglass.s3(_res({"attention (a)": [0.0, 0.005, 0.0099], "attention (b)": [0.1] * 3, **thermal}), att, THERMAL)
    assert edge.outcome == P
    assert spinglass.s3(_res({"attention (a)": [0.0, 0.005, 0.009], "attention (b)": [0.1] * 3, **thermal}, n=2), att, THERMAL).outcome == D


def test_s4_beating_langevin_only_is_not_a_part_and_l12_is_required():
    sizes = [8, 12]
    baselines = ["simulated annealing", "parallel tempering", "langevin"]
    base = {"simulated annealing": [0.001, 0.001], "parallel tempering": [0.002, 0.002], "langevin": [0.05, 0.05]}
    att = ["attention (a)"]
    assert spinglass.s4(_res({"attention (a)": [0.02, 0.02], **base}, sizes=sizes), att, baselines).outcome == N  # beats Langevin only
    assert spinglass.s4(_res({"attention (a)": [0.0001, 0.0001], **base}, sizes=sizes), att, baselines).outcome == R
    tie = _res({"attention (a)": [0.001 - 5e-6] * 2, **base}, sizes=sizes)
    assert spinglass.s4(tie, att, baselines).outcome == N  # within float tolerance of SA: a tie
    assert spinglass.s4(_res({"attention (a)": [0.0001] * 2, **base}, sizes=[4, 8]), att, baselines).outcome == D
    assert spinglass.s4(_res({"attention (a)": [0.0001] * 2, **base}, n=2, sizes=sizes), att, baselines).outcome == D
    no_att = _res(base, sizes=sizes)
    assert spinglass.s4(no_att, att, baselines).outcome == D  # reading not run at L = 12 (its N^2 cost)


def test_a1_outcomes():
    power, expo, flat = dict(rss_exp=1.0, rss_power=0.1), dict(rss_exp=0.1, rss_power=1.0), dict(rss_exp=0.1, rss_power=0.15)
    att, th = ("attention (a)", "attention (b)"), ("parallel tempering", "simulated annealing")
    assert spinglass.a1({"attention (a)": power, "parallel tempering": expo}, att, th).outcome == R
    assert spinglass.a1({"attention (a)": expo, "parallel tempering": expo}, att, th).outcome == N
    assert spinglass.a1({"attention (a)": power, "parallel tempering": power}, att, th).outcome == D  # no Arrhenius to renormalise
    assert spinglass.a1({"attention (a)": flat, "parallel tempering": expo}, att, th).outcome == D  # indecisive fit
    assert spinglass.a1({"parallel tempering": expo}, att, th).outcome == D


# ---- chapter 2.3 ---------------------------------------------------------------------------------

def _profiles(shapes: dict, others: dict | None = None) -> dict:
    """profiles[curve][estimator] from mean rank curves over depth (8 noisy sequences each)."""
    import numpy as np

    from tgnlib.llm.geometry import describe_profile

    rng = np.random.default_rng(0)
    out = {}
    for curve, shape in shapes.items():
        per_seq = np.asarray(shape, float)[:, None] * (1 + 0.01 * rng.standard_normal((len(shape), 8)))
        out[curve] = {e: describe_profile(per_seq) for e in llm_rank.ESTIMATORS}
        for e, other in (others or {}).get(curve, {}).items():
            out[curve][e] = describe_profile(np.asarray(other, float)[:, None] * (1 + 0.01 * rng.standard_normal((len(other), 8))))
    return out


V = [100, 60, 20, 30, 50, 80, 120]  # a V: falls early, ends above the input
FLAT_UP = [100, 110, 120, 125, 130, 140, 150]  # no dip, ends above the input
LATE = [100, 100, 98, 95, 60, 80, 90]  # falls only in the last half, no rebound above the input


def test_l1_l2_reproduced_only_when_all_three_curves_agree():
    assert llm_rank.l1({"m": _profiles(dict.fromkeys(llm_rank.CURVES, V))}).outcome == R
    assert llm_rank.l2({"m": _profiles(dict.fromkeys(llm_rank.CURVES, V))}).outcome == R
    assert llm_rank.l1({}).outcome == D


def test_a_v_on_all_tokens_only_is_the_sinks_doing():
    sink_only = _profiles({"all tokens": V, "without sinks": FLAT_UP, "standardised": FLAT_UP})
    for rule in (llm_rank.l1, llm_rank.l2):
        got = rule({"m": sink_only})
        assert got.outcome == N and "sink" in got.reason
    # the standardised curve never dips: final > input there is no V
    assert llm_rank.l2({"m": _profiles({"all tokens": FLAT_UP, "without sinks": FLAT_UP, "standardised": FLAT_UP})}).outcome == N


def test_a_v_carried_by_dominant_dimensions_or_contradicted_is_partly():
    got = llm_rank.l2({"m": _profiles({"all tokens": V, "without sinks": V, "standardised": FLAT_UP})})
    assert got.outcome == P and "standardised" in got.reason
    contradicted = _profiles(dict.fromkeys(llm_rank.CURVES, V), others={"without sinks": {"stable": FLAT_UP}})
    got = llm_rank.l1({"m": contradicted})
    assert got.outcome == P and "without sinks/stable" in got.reason


def test_l1_late_fall_and_weakest_model():
    late = _profiles(dict.fromkeys(llm_rank.CURVES, LATE))
    assert llm_rank.l1({"m": late}).outcome == P
    got = llm_rank.l1({"a": _profiles(dict.fromkeys(llm_rank.CURVES, V)), "b": late})
    assert got.outcome == P and got.reason.startswith("b:")
    assert llm_rank.l2({"m": late}).outcome == P  # rebounds above its minimum (60 -> 90), not above the input (100)
    assert llm_rank.l1({"m": {"all tokens": {}}}).outcome == D


def _l3(trained, ablated, input_rank=100.0, sink_trained=None, drop=0.3, sink_drop=None):
    curves = {"all tokens": dict(input_rank=input_rank, drop=drop, trained=trained, ablated=ablated),
              "without sinks": dict(input_rank=input_rank, drop=sink_drop or drop, trained=sink_trained or trained, ablated=ablated)}
    return llm_rank.l3({"m": curves})


def test_l3_threshold_is_relative_to_the_input_rank():
    assert _l3((60, 55, 65), (1, -1, 3)).outcome == R
    assert _l3((60, 55, 65), (20, 15, 25)).outcome == P
    assert _l3((60, 55, 65), (70, 65, 75)).outcome == N
    # a rebound of 4 is 20% of a minimum of 20 but under 5% of an input rank of 100: no rebound
    assert _l3((4, 3.5, 4.5), (0, -1, 1)).outcome == N
    assert _l3((4, 3.5, 4.5), (0, -1, 1), input_rank=20).outcome == R


def test_l3_reads_what_rebounds_from_minimum_returns():
    import numpy as np

    from tgnlib.llm.geometry import rebounds_from_minimum

    def measured(curve):  # (depths, B) entropy ranks, the same on curves (a) and (b)
        per_seq = np.asarray(curve, float)[:, None] + np.linspace(-1, 1, 6)[None, :]
        return {"ranks": {"per_sequence": {"entropy": per_seq}, "per_sequence_no_sink": {"entropy": per_seq}}}

    v_shape, collapse = measured([100, 40, 20, 60, 110]), measured([100, 40, 20, 19, 18])
    got = rebounds_from_minimum(v_shape, collapse)
    assert got["all tokens"]["min_index"] == 2 and got["all tokens"]["trained"][0] == pytest.approx(90)
    assert llm_rank.l3({"m": got}).outcome == R
    assert llm_rank.l3({"m": rebounds_from_minimum(v_shape, v_shape)}).outcome == N


def test_l3_rebound_only_with_the_sink_is_not_reproduced():
    got = _l3((60, 55, 65), (1, -1, 3), sink_trained=(0.5, -1, 2))
    assert got.outcome == N and "sink" in got.reason
    # without the sink the curve only rises from the input: a rise is not a rebound
    got = _l3((60, 55, 65), (1, -1, 3), sink_drop=1.0)
    assert got.outcome == N and "sink" in got.reason and "no dip" in got.reason


def _l5(t_stars, t_best=1.0, edge=False):
    transitions = {c: {e: dict(t_star=t, at_edge=edge) for e in llm_rank.ESTIMATORS} for c, t in zip(llm_rank.CURVES, t_stars)}
    return llm_rank.l5({"m": dict(t_best=t_best, grid_step=math.sqrt(2), transitions=transitions)})


def test_l4_l5_grid_steps():
    step = math.sqrt(2)
    assert llm_rank.l4({"a": dict(t_best=1.0, t_nearest_one=1.0, grid_step=step)}).outcome == R
    assert llm_rank.l4({"a": dict(t_best=step, t_nearest_one=1.0, grid_step=step)}).outcome == P
    assert llm_rank.l4({"a": dict(t_best=2.0, t_nearest_one=1.0, grid_step=step)}).outcome == N
    assert _l5((1.3, 0.8, 1.1)).outcome == R
    assert _l5((1.3, 2.0, 1.1)).outcome == N  # one curve's transition two steps away
    assert _l5((1.3, 0.8, 1.1), edge=True).outcome == D  # the edge is within a step of the optimum: grid too narrow
    assert _l5((4.0, 4.0, 4.0), edge=True).outcome == N  # steepest change at or beyond T = 4, four steps from T = 1


# ---- chapter 2.4 ---------------------------------------------------------------------------------

def test_b1_b2_need_the_sedation_data():
    top, p, dz = {False: "awake", True: "awake"}, {False: 0.01, True: 0.01}, {False: -1.0, True: -1.0}
    n = dict(n_subjects=17, n_tests=72)  # ds003171: 17 subjects; 2 GSR x 4 readings x 3 states x 3 quantiles
    assert brain.b1(False, top, p, dz, **n).outcome == X
    assert brain.b1(True, top, p, dz, **n).outcome == R
    assert brain.b1(True, {False: "awake", True: "light"}, p, dz, **n).outcome == P
    assert brain.b1(True, top, {False: 0.2, True: 0.2}, dz, **n).outcome == N
    assert brain.b2(False, p, dz, True, **n).outcome == X
    assert brain.b2(True, p, dz, True, **n).outcome == R
    assert brain.b2(True, p, dz, False, **n).outcome == P
    assert brain.b2(True, p, {False: 1.0, True: 1.0}, True, **n).outcome == N


def test_b1_b2_are_not_decided_when_no_data_could_pass_the_correction():
    top, p, dz = {False: "awake", True: "awake"}, {False: 0.01, True: 0.01}, {False: -1.0, True: -1.0}
    assert brain.smallest_corrected_p(5, 1) == 0.0625  # 2 / 2^5: five subjects cannot reach 0.05 even uncorrected
    assert brain.smallest_corrected_p(10, 24) == 24 * 2 / 2**10
    assert brain.smallest_corrected_p(3, 72) == 1.0
    few = brain.b1(True, top, p, dz, n_subjects=10, n_tests=24)  # 0.047 ... just below: decided
    assert few.outcome == R
    for rule in (lambda **n: brain.b1(True, top, p, dz, **n), lambda **n: brain.b2(True, p, dz, True, **n)):
        v = rule(n_subjects=9, n_tests=24)  # 24 x 2/512 = 0.094
        assert v.outcome == D and "10 subjects would decide" in v.reason
    assert brain.b2(False, p, dz, True, n_subjects=5, n_tests=24).outcome == X  # no data beats too few subjects


def test_b3_needs_every_bold_readout_onsets_beating_sham_and_no_control_with_the_same_order():
    ok = dict(rank_change=-1.0, rank_p=0.01, sync_change=0.01, sync_p=0.01, rank_beats_sham=True, sync_beats_sham=True,
              detected=15, runs=20, lag_low_s=10.0)
    both = {"BOLD phase synchrony": ok, "mean FC": ok}
    assert brain.b3(both, {"global": {"BOLD phase synchrony": {**ok, "lag_low_s": -5.0}, "mean FC": ok}}).outcome == R
    assert brain.b3(both, {"global": both}).outcome == P  # a control shows the same order: not the mechanism
    # onsets that do not beat the sham are not onsets, whatever the lag
    assert brain.b3({**both, "mean FC": {**ok, "sync_beats_sham": False}}, {}).outcome == P
    # the lag's sign must agree across readouts
    assert brain.b3({**both, "mean FC": {**ok, "lag_low_s": float("nan")}}, {}).outcome == P
    # synchrony that falls on one readout (mean FC, when long-range coupling is cut): not reproduced
    got = brain.b3({**both, "mean FC": {**ok, "sync_change": -0.02}}, {"global": both})
    assert got.outcome == N and "mean FC" in got.reason
    with pytest.raises(ValueError):
        brain.b3({}, {})
    assert brain.lag_established(15, 20, 10.0) and not brain.lag_established(5, 20, 10.0)
    assert not brain.lag_established(15, 20, float("nan")) and not brain.lag_established(0, 0, 1.0)


def test_b4_is_never_testable():
    assert brain.b4().outcome == X


# ---- chapter 2.5 ---------------------------------------------------------------------------------

def test_g1_outcomes():
    assert tgn.g1(5.0, 6.0).outcome == R and tgn.g1(5.95, 6.0).outcome == N


def test_g2_another_lambda_cannot_rescue_it_and_disagreeing_seeds_decide_nothing():
    assert tgn.g2([0.005, 0.008, 0.002]).outcome == R
    assert tgn.g2([0.05, 0.08, 0.02]).outcome == N
    assert tgn.g2([0.005, 0.08, 0.02]).outcome == D
    assert tgn.g2([0.005, 0.008]).outcome == D


def _traj(minimum, final, min_step=50):
    return dict(minimum=minimum, final=final, rebound=final - minimum, min_step=min_step, rebound_ratio=final / minimum)


def test_g3_needs_a_plateau_first():
    u = [_traj(0.01, 0.05)] * 3
    assert tgn.g3(u, [0.2, 0.01, 0.01], 300).outcome == D  # the loss still falls: the budget cannot decide
    assert tgn.g3(u, [0.01, 0.01, 0.01], 300).outcome == R
    assert tgn.g3([_traj(0.01, 0.012)] * 3, [0.01] * 3, 300).outcome == N
    assert tgn.g3([_traj(0.01, 0.05), _traj(0.01, 0.05), _traj(0.01, 0.012)], [0.01] * 3, 300).outcome == D
    assert tgn.g3([_traj(0.01, 0.05, min_step=290)] * 3, [0.01] * 3, 300).outcome == N  # minimum too late to rebound


def test_g4_both_readings_or_nothing():
    assert tgn.g4([0.09, 0.08, 0.1], [0.09, 0.07, 0.1], [0.01] * 3).outcome == R
    assert tgn.g4([0.066, 0.07, 0.06], [0.0007, 0.001, 0.0], [0.01] * 3).outcome == N  # soft 9% with no gate open
    assert tgn.g4([0.09] * 3, [0.09] * 3, [0.3, 0.01, 0.01]).outcome == D


def _diff(d, half=0.01, n=3):
    from tgnlib.welch import Difference

    return Difference(d, d - half, d + half, n, n)


def test_g5_needs_total_compute_then_attention_to_pay_and_has_no_partly():
    pays, good, att = _diff(-0.2), {"hard": _diff(0.0)}, {"hard": 0.05}
    assert tgn.g5(pays, good, {"hard": 0.1}, att).outcome == R
    assert tgn.g5(pays, good, {"hard": 0.9}, att).outcome == N  # a tenth of the attention is not a tenth of the compute
    assert tgn.g5(_diff(0.1), good, {"hard": 0.1}, att).outcome == D  # attention does not pay
    assert tgn.g5(_diff(-0.005), good, {"hard": 0.1}, att).outcome == D  # ... not shown to pay: the interval crosses 0
    assert tgn.g5(pays, {"hard": _diff(0.3)}, {"hard": 0.1}, att).outcome == N  # economy without quality: a shut gate
    assert tgn.g5(pays, {"hard": _diff(0.045)}, {"hard": 0.1}, att).outcome == D  # straddles log(1.05) = 0.0488
    assert tgn.g5(_diff(-0.2, n=1), good, {"hard": 0.1}, att).outcome == D  # one seed
    dear = {"a": 0.1, "b": 0.5}  # b is good but dear
    assert tgn.g5(pays, {"a": _diff(0.3), "b": _diff(0.0)}, dear, {"a": 0.05, "b": 0.2}).outcome == N


def test_g6_outcomes_over_seed_intervals():
    base = dict(transformer_lead=_diff(-0.1), early_step=30, warmup_steps=20, window=10)
    assert tgn.g6(early_gap=_diff(0.0), late_gap=_diff(0.0), **base).outcome == R
    assert tgn.g6(early_gap=_diff(0.5), late_gap=_diff(0.0), **base).outcome == P
    assert tgn.g6(early_gap=_diff(0.02), late_gap=_diff(0.0), **base).outcome == P  # early undecided: late is still a part
    assert tgn.g6(early_gap=_diff(0.0), late_gap=_diff(0.3), **base).outcome == N  # early alone is the TGN's own recurrence
    assert tgn.g6(early_gap=_diff(0.0), late_gap=_diff(0.02), **base).outcome == D  # late straddles the margin
    assert tgn.g6(early_gap=_diff(0.0), late_gap=_diff(0.0), **{**base, "early_step": 25}).outcome == D  # inside warm-up + smoothing
    assert tgn.g6(early_gap=_diff(0.0), late_gap=_diff(0.0), **{**base, "transformer_lead": _diff(-0.005)}).outcome == D
    assert tgn.g6(early_gap=_diff(0.0, n=2), late_gap=_diff(0.0, n=2), **base).outcome == D


def test_g7_a_smooth_monotone_fall_is_not_a_transition():
    assert tgn.g7(0.6, 0.001, 0.8).outcome == R
    assert tgn.g7(0.6, 0.001, 2.5).outcome == N  # what any L1 penalty gives
    assert tgn.g7(0.3, 0.001, 0.5).outcome == N  # not open at lambda = 0
    assert tgn.g7(0.6, 0.05, 0.8).outcome == D  # not shut at the largest lambda: extend the grid
    assert tgn.g7(0.6, 0.001, float("nan")).outcome == D


def test_g7_reads_every_seed_at_lambda_zero():
    assert tgn.g7([0.6, 0.7, 0.55], 0.001, 0.8).outcome == R
    assert tgn.g7([0.2, 0.3, 0.1], 0.001, 0.8).outcome == N
    v = tgn.g7([0.6, 0.3, 0.7], 0.001, 0.8)  # one seed shut at lambda = 0: the precondition is not settled
    assert v.outcome == D and "seeds 0.300-0.700" in v.reason


def test_g8_needs_a_probe_that_needs_attention_solved_by_the_gated_model_and_a_gate_above_its_controls():
    def probe(acc, rho, gq, gc, n=3, gp=0.1):
        return [dict(long_accuracy=acc, rho=rho, gate_query=gq, gate_control=gc, gate_position=gp)] * n

    gru = {"recall": 0.06}
    assert tgn.g8({"recall": probe(0.065, 0.9, 0.8, 0.1)}, gru).outcome == D  # gate pattern while recall is at chance
    assert tgn.g8({"recall": probe(0.9, 0.9, 0.8, 0.1)}, gru).outcome == R
    assert tgn.g8({"recall": probe(0.9, 0.9, 0.8, 0.1)}, {"recall": 0.6}).outcome == D  # the GRU alone solves it: no attention needed
    assert tgn.g8({"recall": probe(0.9, 0.1, 0.8, 0.1)}, gru).outcome == P  # above its controls, not rising with distance
    assert tgn.g8({"recall": probe(0.9, 0.9, 0.05, 0.1)}, gru).outcome == N  # no higher than the control token
    assert tgn.g8({"recall": probe(0.9, 0.9, 0.8, 0.1, gp=0.9)}, gru).outcome == N  # a gate that only grows along the sequence
    assert tgn.g8({"recall": probe(0.9, 0.9, 0.8, 0.1, n=1)}, gru).outcome == D  # one seed
    # an unsolved probe does not count; solved probes that disagree do not decide; nor do seeds
    both = {"recall": 0.06, "mqar": 0.03}
    assert tgn.g8({"recall": probe(0.9, 0.9, 0.8, 0.1), "mqar": probe(0.05, 0.0, 0.0, 0.1)}, both).outcome == R
    assert tgn.g8({"recall": probe(0.9, 0.9, 0.8, 0.1), "mqar": probe(0.9, 0.9, 0.0, 0.1)}, both).outcome == D
    assert tgn.g8({"recall": probe(0.9, 0.9, 0.8, 0.1), "mqar": probe(0.9, 0.9, 0.0, 0.1)}, {"recall": 0.06, "mqar": 0.7}).outcome == R
    mixed = probe(0.9, 0.9, 0.8, 0.1)[:2] + [dict(long_accuracy=0.9, rho=0.9, gate_query=0.05, gate_control=0.1, gate_position=0.1)]
    assert tgn.g8({"recall": mixed}, gru).outcome == D
    half = probe(0.9, 0.9, 0.8, 0.1)[:2] + [dict(long_accuracy=0.1, rho=0.9, gate_query=0.8, gate_control=0.1, gate_position=0.1)]
    assert "some TGN seeds solve" in tgn.g8({"recall": half}, gru).reason
    with pytest.raises(ValueError, match="recurrent_accuracy names"):
        tgn.g8({"recall": half}, {"mqar": 0.1})
    with pytest.raises(ValueError, match="NaN"):  # a control it could not read must not pass silently
        tgn.g8({"recall": probe(0.9, 0.9, 0.8, 0.1, gp=float("nan"))}, gru)
