"""Chapter 2.4 library: rank readings, the long/short split, statistics, the BIDS path, the model."""

import numpy as np
import pandas as pd
import pytest

from tgnlib.brain import geometry as geo
from tgnlib.brain import insilico, sedation, stats
from tgnlib.brain.connectome import clean_timeseries, load_hcp_connectome, load_schaefer_group
from tgnlib.brain.fixture import make_bids_fixture
from tgnlib.brain.preprocess import preprocess_subject

TINY = insilico.InductionConfig(baseline_s=20.0, ramp_s=10.0, hold_s=4.0, window_tr=5, discard_s=4.0)


@pytest.fixture(scope="module")
def connectome():
    return load_hcp_connectome()


@pytest.fixture(scope="module")
def bids(tmp_path_factory):
    # labelled like the dataset, one state with two runs, planted head motion, fMRIPrep-like derivatives
    # (200 volumes: the six motion regressors, five CompCor-like ones and the band-pass leave too few
    # degrees of freedom in 100 volumes for a 2-source state to stay low-rank)
    return make_bids_fixture(tmp_path_factory.mktemp("ds003171"), subjects=("02CB", "03CB"), n_volumes=200, two_runs={"03CB": "awake"},
                             motion_mm=2.0, derivatives=True)


@pytest.fixture(scope="module")
def realigned(bids, tmp_path_factory):
    from tgnlib.brain.preprocess import realign_runs

    cache = tmp_path_factory.mktemp("realigned")  # realignment cache shared by the tests of one module
    realign_runs(sedation.find_runs(bids), cache, n_jobs=2, progress=False)
    return cache


@pytest.mark.parametrize("k", [2, 5, 9])
def test_timeseries_rank_of_known_covariance(k):
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.standard_normal((12, 12)))[0][:, :k]
    x = rng.standard_normal((20000, k)) @ basis.T  # k equal covariance eigenvalues, the rest zero
    assert geo.timeseries_rank(x, "participation") == pytest.approx(k, rel=0.05)
    assert geo.timeseries_rank(x) == pytest.approx(k, rel=0.05)


def test_connectivity_of_independent_signals_is_full_rank():
    x = np.random.default_rng(1).standard_normal((5000, 10))
    fc = geo.functional_connectivity(x)
    assert np.allclose(np.diag(fc), 1)
    assert geo.connectivity_rank(fc) == pytest.approx(10, rel=0.02)
    same = np.repeat(x[:, :1], 10, axis=1)
    assert geo.connectivity_rank(geo.functional_connectivity(same)) == pytest.approx(1, abs=1e-6)


def test_long_short_split_on_a_line():
    d = geo.distance_matrix(np.array([[i, 0.0, 0.0] for i in range(4)]))
    long, short = geo.split_by_distance(d, 1.5)
    i, j = np.indices(d.shape)
    assert (long == (np.abs(i - j) >= 2)).all()
    assert (short == (np.abs(i - j) == 1)).all()
    assert not (long & short).any() and not np.diag(long | short).any()
    assert geo.distance_threshold(d, 0.5) == pytest.approx(np.median([1, 1, 1, 2, 2, 3]))
    with pytest.raises(ValueError, match="no long-range"):
        geo.split_by_distance(d, 10.0)


def test_windows_are_equal_length_and_errors_name_the_length():
    w = geo.sliding_windows(np.zeros((103, 4)), 20)
    assert w.shape == (5, 20, 4)
    assert geo.sliding_windows(np.zeros((30, 4)), 20, 5).shape == (3, 20, 4)
    with pytest.raises(ValueError, match="window length 50"):
        geo.sliding_windows(np.zeros((30, 4)), 50)


def test_onset_detection_on_a_synthetic_change():
    t = np.arange(0, 400, 2.0)
    rng = np.random.default_rng(0)
    falling = np.where(t < 150, 0.0, -0.05 * (t - 150)) + 0.1 * rng.standard_normal(len(t))
    assert insilico.detect_onset(t, falling, 120, -1, "hinge") == pytest.approx(150, abs=10)
    assert 150 <= insilico.detect_onset(t, falling, 120, -1, "threshold") <= 170
    assert np.isnan(insilico.detect_onset(t, falling, 120, +1, "hinge"))
    assert np.isnan(insilico.detect_onset(t, falling, 120, +1, "threshold"))
    with pytest.raises(ValueError, match="rule='mean'"):
        insilico.detect_onset(t, falling, 120, -1, "mean")


def test_paired_statistics():
    rng = np.random.default_rng(0)
    before = rng.normal(10, 1, 17)
    result = stats.compare_paired(before, before - 1 + 0.2 * rng.standard_normal(17), seed=1)
    assert result.cohens_dz < -2 and result.dz_ci[1] < 0
    assert result.wilcoxon_p < 1e-3 and result.t_p < 1e-6
    assert stats.compare_paired(before, before).wilcoxon_p == 1.0
    assert stats.correct_pvalues([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    assert (stats.correct_pvalues([0.01, 0.04, 0.03], "bh") <= 0.04 + 1e-12).all()
    with pytest.raises(ValueError, match="method='sidak'"):
        stats.correct_pvalues([0.1], "sidak")
    motion = rng.standard_normal(17)
    fit = stats.motion_adjusted_difference(2 + 3 * motion, motion)
    assert fit["intercept"] == pytest.approx(2) and fit["slope"] == pytest.approx(3)


def test_bids_state_mapping_on_the_fixture(bids):
    runs = sedation.find_runs(bids)
    expected = [("02CB", st) for st in sedation.STATES] + [("03CB", "awake")] + [("03CB", st) for st in sedation.STATES]
    assert [(r.subject, r.state) for r in runs] == expected
    assert [r.path.name for r in runs if r.subject == "03CB" and r.state == "awake"] == [
        "sub-03CB_task-restawake_run-1_bold.nii.gz", "sub-03CB_task-restawake_run-2_bold.nii.gz"]
    assert all(r.task == f"rest{r.state}" for r in runs)
    assert sedation.repetition_time(runs[0]) == 2.0
    assert sedation.state_of_task("audio") == ("audio", "awake")
    assert sedation.state_of_task("audiodeep") == ("audio", "deep")
    with pytest.raises(ValueError, match="'restsleep'.*restawake"):
        sedation.state_of_task("restsleep")
    assert sedation.find_runs(bids, "audio") == []
    assert "sub-02CB/func/sub-02CB_task-rest*_bold.*" in sedation.include_patterns(["02CB"])


def test_nilearn_pipeline_recovers_the_planted_rank_drop_and_uses_both_runs_of_a_state(bids, realigned):
    runs = sedation.find_runs(bids)
    by_subject = {}
    for subject in ("02CB", "03CB"):
        signals = preprocess_subject([r for r in runs if r.subject == subject], n_parcels=30, global_signal=False, cache_dir=realigned)
        assert signals.n_parcels == 30 and set(signals.timeseries) == set(sedation.STATES)
        assert [len(v) for v in signals.timeseries.values()] == ([2, 1, 1, 1] if subject == "03CB" else [1, 1, 1, 1])
        # every run lost its planted jump (4 moved frames, censored with their neighbours) and little else
        assert all(150 <= ts.shape[0] <= 196 and ts.shape[1] == 30 for v in signals.timeseries.values() for ts in v)
        assert all(0.75 <= k <= 0.98 for k in signals.kept.values())
        assert np.all(np.abs(signals.centroids_mm) < 40)  # inside the 64 x 64 x 48 mm field of view
        d = geo.distance_matrix(signals.centroids_mm)
        ranks = {s: geo.geometric_ranks(v[0], d, window=100)["time series"] for s, v in signals.timeseries.items()}
        assert ranks["deep"] < ranks["awake"], (subject, ranks)  # 2 sources vs 20, in every subject
        by_subject[subject] = ranks
    # over subjects the drop is clear (02CB: 10.7 vs 16.5); in 03CB the cleaning leaves it at 0.4 (14.9 vs 15.3):
    # the five CompCor-like confounds and six motion regressors take part of a 2-source signal with them
    mean = {s: np.mean([r[s] for r in by_subject.values()]) for s in sedation.STATES}
    assert mean["deep"] == min(mean.values()) and mean["deep"] < mean["awake"] - 1.0, mean


def test_global_signal_regression_changes_the_signals(bids, realigned):
    runs = [r for r in sedation.find_runs(bids) if r.subject == "02CB"]
    raw = preprocess_subject(runs, n_parcels=20, global_signal=False, cache_dir=realigned)
    gsr = preprocess_subject(runs, n_parcels=20, global_signal=True, cache_dir=realigned)
    assert gsr.global_signal_regressed and not raw.global_signal_regressed
    assert not np.allclose(raw.timeseries["deep"][0], gsr.timeseries["deep"][0])
    assert np.allclose(raw.centroids_mm, gsr.centroids_mm)  # same seed, same parcels
    assert raw.dvars == gsr.dvars and all(v > 0 for v in raw.dvars.values())


def test_framewise_displacement_and_scrubbing_by_hand():
    from tgnlib.brain import preprocess as pp

    params = np.zeros((8, 6))
    params[3:, 0] = 0.3  # a 0.3-mm step at frame 3
    params[5:, 4] = 0.01  # a 0.01-rad rotation at frame 5: 0.5 mm of arc on a 50-mm sphere
    params[6:, 1] = 1.0  # a 1-mm jump at frame 6
    fd = pp.framewise_displacement(params)
    np.testing.assert_allclose(fd, [0, 0, 0, 0.3, 0, 0.5, 1.0, 0])
    np.testing.assert_array_equal(pp.scrub_mask(fd, 0.45), [1, 1, 1, 1, 0, 0, 0, 0])  # frames 5 and 6, one before, two after
    np.testing.assert_array_equal(pp.scrub_mask(fd, 2.0), np.ones(8, bool))
    with pytest.raises(ValueError, match=r"\(T, 6\)"):
        pp.framewise_displacement(np.zeros((8, 3)))
    rot = np.eye(4)[:, :, None].repeat(2, axis=2)
    c, s_ = np.cos(0.02), np.sin(0.02)
    rot[:3, :3, 1] = [[1, 0, 0], [0, c, -s_], [0, s_, c]]
    rot[:3, 3, 1] = [1.0, -2.0, 0.5]
    np.testing.assert_allclose(pp.motion_parameters(rot), [[0, 0, 0, 0, 0, 0], [1.0, -2.0, 0.5, 0.02, 0, 0]], atol=1e-12)


def test_realignment_finds_and_undoes_the_planted_head_motion(bids, realigned):
    import nibabel

    from tgnlib.brain import preprocess as pp

    run = [r for r in sedation.find_runs(bids) if r.subject == "02CB" and r.state == "light"][0]
    image, parameters = pp.realign_run(run.path, realigned)
    again, _ = pp.realign_run(run.path, realigned)  # read back from the cache
    np.testing.assert_allclose(np.asarray(again.dataobj), np.asarray(image.dataobj), rtol=1e-6)
    truth = pd.read_csv(bids / "derivatives" / "fmriprep" / "sub-02CB" / "func" / "sub-02CB_task-restlight_desc-confounds_timeseries.tsv",
                        sep="\t")["trans_x"].to_numpy()
    moved = truth > 0
    # the estimated x translation follows the planted 2-mm shift, to within a voxel fraction
    assert np.abs(np.abs(parameters[moved, 0]).mean() - 2.0) < 0.5 and np.abs(parameters[~moved, 0]).mean() < 0.3
    fd = pp.framewise_displacement(parameters)
    assert fd[np.flatnonzero(np.diff(truth))[0] + 1] > 1.5  # the jump is seen
    keep = pp.scrub_mask(fd)
    assert not keep[moved].any()
    # a moved frame matches the run's reference (middle) volume better once realigned
    original, fixed = np.asarray(nibabel.load(run.path).dataobj), np.asarray(image.dataobj)
    reference, t = original[..., original.shape[-1] // 2].ravel(), np.flatnonzero(moved)[1]
    before, after = (np.corrcoef(x[..., t].ravel(), reference)[0, 1] for x in (original, fixed))
    assert 1 - after < 0.5 * (1 - before), (before, after)


def test_fmriprep_path_reads_derivatives_with_nilearns_loader(bids):
    from tgnlib.brain import preprocess as pp

    run = [r for r in sedation.find_runs(bids) if r.subject == "02CB" and r.state == "deep"][0]
    image, confounds, keep, fd = pp.motion_confounds(run, "fmriprep", bids / "derivatives" / "fmriprep")
    assert str(image).endswith("sub-02CB_task-restdeep_space-T1w_desc-preproc_bold.nii.gz")
    assert confounds.shape == (200, 8)  # six motion parameters, white matter, CSF
    jump = np.flatnonzero(fd > 0.5)
    assert len(jump) == 2 and not keep[jump].any()
    with pytest.raises(FileNotFoundError, match="space-MNI.*found.*space-T1w"):
        pp.fmriprep_run(run, bids / "derivatives" / "fmriprep", space="MNI152NLin2009cAsym")
    with pytest.raises(ValueError, match="derivatives folder"):
        pp.motion_confounds(run, "fmriprep")
    with pytest.raises(ValueError, match="'mcflirt' is not one of"):
        pp.motion_confounds(run, "mcflirt")


def test_offline_download_fails_loudly(tmp_path):
    with pytest.raises(sedation.DatasetUnreachableError, match=r'ds003171.*scale="ci"'):
        sedation.download_sedation_data(tmp_path, host="openneuro.invalid")
    assert not any(tmp_path.iterdir())


def test_offline_uses_a_complete_local_copy_and_names_missing_subjects(bids, capsys):
    assert sedation.download_sedation_data(bids, host="openneuro.invalid") == bids
    assert sedation.download_sedation_data(bids, subjects=["02CB", "03CB"], host="openneuro.invalid") == bids
    assert "not re-checked" in capsys.readouterr().out
    with pytest.raises(sedation.DatasetUnreachableError, match="lacks subject.*17"):
        sedation.download_sedation_data(bids, subjects=["02CB", "17CB"], host="openneuro.invalid")


def test_packaged_connectomes(connectome):
    assert connectome.structural.shape == (80, 80) and (np.diag(connectome.structural) == 0).all()
    assert len(connectome.bold) == 7 and connectome.bold[0].shape == (1200, 80)
    ts = clean_timeseries(connectome.bold[0], connectome.t_r, global_signal=True)
    assert np.allclose(ts.mean(0), 0, atol=1e-8) and np.allclose(ts.std(0, ddof=1), 1)
    fc, centroids = load_schaefer_group(100)
    assert fc.shape == (100, 100) and centroids.shape == (100, 3)
    assert centroids[:50, 0].max() < 0 < centroids[50:, 0].min()  # Schaefer: left hemisphere first
    with pytest.raises(ValueError, match="n_parcels=150"):
        load_schaefer_group(150)


def test_simulation_is_deterministic_for_a_seed(connectome):
    a = insilico.simulate_induction(connectome, "long-range", 3, TINY)
    b = insilico.simulate_induction(connectome, "long-range", 3, TINY)
    c = insilico.simulate_induction(connectome, "long-range", 4, TINY)
    assert a.bold.shape == (17, 80) and np.isfinite(a.bold).all()
    assert np.array_equal(a.bold, b.bold) and np.array_equal(a.kuramoto, b.kuramoto)
    assert not np.allclose(a.bold, c.bold)
    with pytest.raises(ValueError, match="induction='propofol'"):
        insilico.simulate_induction(connectome, "propofol", 0, TINY)


def test_inductions_change_what_they_target(connectome):
    from dataclasses import replace

    config = replace(TINY, baseline_s=4.0, ramp_s=2.0, hold_s=2.0)
    none = insilico.simulate_induction(connectome, "none", 5, config)
    cut = insilico.simulate_induction(connectome, "global", 5, replace(config, global_final=0.0))
    same = insilico.simulate_induction(connectome, "global", 5, replace(config, global_final=1.0))
    assert np.array_equal(none.bold, same.bold)
    assert not np.array_equal(none.bold, cut.bold)
    with pytest.raises(ValueError, match="diverges"):
        insilico.check_stability(connectome, replace(config, coupling=5.0))


def test_run_inductions_caches_and_resumes(connectome, tmp_path, monkeypatch):
    first = insilico.run_inductions(connectome, ["bifurcation"], [0], TINY, cache_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*.npz"))) == 1

    def fail(*args):
        raise AssertionError("a cached run was simulated again")

    monkeypatch.setattr(insilico, "simulate_and_save", fail)
    again = insilico.run_inductions(connectome, ["bifurcation"], [0], TINY, cache_dir=tmp_path, progress=False)
    assert np.array_equal(first[("bifurcation", 0)]["long-range rank"], again[("bifurcation", 0)]["long-range rank"])
    assert set(first[("bifurcation", 0)]) >= set(insilico.MEASURES) | {"t_s"}
    assert not list(tmp_path.glob("*.partial.npz"))  # written atomically
    # another connectome (or code) never reuses these runs
    from dataclasses import replace
    other = replace(connectome, structural=connectome.structural * 1.01)
    assert TINY.fingerprint(other) != TINY.fingerprint(connectome) != TINY.fingerprint()


def _table(effect):
    rng = np.random.default_rng(2)
    rows = []
    for subject in range(12):  # with 12 comparisons, Holm needs n >= 10 for an exact Wilcoxon p to survive
        base = rng.normal(20, 2)
        for state in sedation.STATES:
            for kind in geo.RANK_KINDS:
                rank = base + (effect if state == "deep" else 0) + 0.1 * rng.standard_normal()
                rows.append(dict(subject=subject, state=state, gsr=False, quantile=0.5, kind=kind, rank=rank, dvars=rng.normal(10, 1)))
    import pandas as pd

    return pd.DataFrame(rows)


def test_state_contrasts_find_a_planted_fall_and_only_it():
    from tgnlib.brain.analysis import state_contrasts

    out = state_contrasts(_table(-3.0)).set_index(["kind", "state"])
    assert len(out) == len(geo.RANK_KINDS) * 3
    for kind in geo.RANK_KINDS:
        assert out.loc[(kind, "deep"), "dz"] < -5 and out.loc[(kind, "deep"), "wilcoxon_p_adjusted"] < 0.05
        assert out.loc[(kind, "light"), "wilcoxon_p_adjusted"] > 0.05
        assert out.loc[(kind, "deep"), "motion_adjusted_change"] == pytest.approx(-3.0, abs=0.3)
    assert (out["wilcoxon_p_adjusted"] >= out["wilcoxon_p"]).all()


def test_lag_summary_and_time_courses():
    import pandas as pd

    from tgnlib.brain.analysis import mean_time_courses, summarise_lags

    lags = pd.DataFrame([dict(induction="long-range", seed=s, rule="hinge", synchrony="Kuramoto order", rank_onset_s=150.0,
                              sync_onset_s=150.0 + 10 + s, lag_s=10.0 + s, rank_change=-1.0 - 0.1 * s, sync_change=0.01 * (s + 1))
                         for s in range(10)])
    row = summarise_lags(lags).iloc[0]
    assert row.detected == 10 and row.median_lag_s == pytest.approx(14.5)
    assert 10 <= row.lag_low_s <= 14.5 <= row.lag_high_s <= 19 and row.positive == 1.0
    assert row.rank_change < 0 and row.rank_change_p < 0.01 and row.sync_change_p < 0.01
    results = {("global", s): {"t_s": np.arange(3.0), "Kuramoto order": np.full(3, float(s))} for s in range(3)}
    course = mean_time_courses(results, "global")
    assert np.allclose(course["Kuramoto order"], 1.0) and np.allclose(course["Kuramoto order sd"], np.std([0, 1, 2]))
    with pytest.raises(ValueError, match="'long-range'"):
        mean_time_courses(results, "long-range")


def test_hcp_rank_table_has_both_halves(connectome):
    from tgnlib.brain.analysis import hcp_rank_table

    table = hcp_rank_table(connectome, window=200, quantiles=(0.5,), global_signal=(False,))
    assert set(table.half) == {"whole", "first", "second"} and set(table.subject) == set(range(1, 8))
    assert len(table) == 7 * 3 * len(geo.RANK_KINDS)
    assert (table["rank"] > 1).all()


def test_sedation_rank_table_needs_three_complete_subjects(bids):
    from tgnlib.brain.analysis import sedation_rank_table

    with pytest.raises(ValueError, match="at least 3 subjects"):
        sedation_rank_table(bids, n_parcels=10, progress=False)


def test_sedation_table_reads_fmriprep_derivatives_pools_two_runs_and_bounds_every_reading(tmp_path):
    from tgnlib.brain.analysis import sedation_rank_table

    root = make_bids_fixture(tmp_path / "ds", subjects=("02CB", "03CB", "04CB"), n_volumes=120, two_runs={"03CB": "awake"},
                             motion_mm=2.0, derivatives=True)
    table = sedation_rank_table(root, n_parcels=20, global_signal=(False,), n_surrogates=2, motion="fmriprep",
                                derivatives=root / "derivatives" / "fmriprep", progress=False)
    assert len(table) == 3 * 4 * 4  # subjects x states x readings
    runs = table[table.kind == "time series"].set_index(["subject", "state"])["runs"]
    assert runs[("03CB", "awake")] == 2 and (runs.drop(("03CB", "awake")) == 1).all()
    assert (table.kept < 1).all() and (table.mean_fd_mm > 0).all()  # the planted jumps were censored
    # the planted order survives fMRIPrep's confounds: 2 sources in deep against 20 awake, in every subject (the fixture's
    # white-matter and CSF signals once carried the sources, and their regression left deep the highest-rank state)
    rank = table[(table.kind == "time series") & (table["quantile"] == 0.5)].pivot_table(index="subject", columns="state", values="rank")
    assert (rank["deep"] < rank["awake"]).all() and (rank["deep"] == rank.min(axis=1)).all(), rank
    placed = table["floor"] < table["phase"]
    assert placed.mean() > 0.8 and table["position"][~placed].isna().all()
    np.testing.assert_allclose(table["position"][placed], ((table["rank"] - table["floor"]) / (table["phase"] - table["floor"]))[placed])
    with pytest.raises(ValueError, match="derivatives folder"):
        sedation_rank_table(root, n_parcels=12, motion="fmriprep", progress=False)


def test_parallel_runs_equal_serial_runs(connectome, tmp_path):
    serial = insilico.run_inductions(connectome, ["global"], [1, 2], TINY, cache_dir=tmp_path / "serial", progress=False)
    parallel = insilico.run_inductions(connectome, ["global"], [1, 2], TINY, cache_dir=tmp_path / "parallel", n_jobs=2, progress=False)
    for key in serial:
        assert np.array_equal(serial[key]["Kuramoto order"], parallel[key]["Kuramoto order"])


def test_the_sign_flip_test_can_fail_and_is_calibrated():
    from tgnlib.brain.stats import min_attainable_p, minimum_detectable_effect, sign_flip_test

    assert min_attainable_p(5) == 0.0625 and min_attainable_p(7) == pytest.approx(0.015625)
    assert sign_flip_test([1.0, 2.0, 1.5, 0.5, 2.5, 1.0, 0.8]) == pytest.approx(min_attainable_p(7))  # all positive
    rng = np.random.default_rng(0)
    # true null: rejected at about alpha (exact test, 12 subjects)
    rejections = np.mean([sign_flip_test(rng.standard_normal(12)) <= 0.05 for _ in range(400)])
    assert 0.02 <= rejections <= 0.08
    # a planted effect of d_z = 1.5 with 12 subjects is found nearly always
    found = np.mean([sign_flip_test(1.5 + rng.standard_normal(12)) <= 0.05 for _ in range(100)])
    assert found > 0.9
    assert minimum_detectable_effect(5) == float("inf")  # with 5 subjects nothing can reach 0.05
    mde = minimum_detectable_effect(12, n_sim=200)
    assert 0.5 < mde < 1.5


def test_onset_threshold_set_on_shams_keeps_false_alarms_at_five_percent_and_still_detects():
    from tgnlib.brain.insilico import calibrate_onset_threshold, detection_rate

    rng = np.random.default_rng(0)
    t = np.arange(200.0)
    # shams: autocorrelated noise (a random walk pulled back), the kind that made z = 3 fire on nothing
    def noise():
        x = np.zeros(200)
        for i in range(1, 200):
            x[i] = 0.8 * x[i - 1] + rng.standard_normal()
        return x

    shams = [(t, noise()) for _ in range(60)]
    naive = detection_rate(shams, 60.0, -1, z=3.0, persist=2)
    cal = calibrate_onset_threshold(shams, 60.0, -1, persist=2)
    assert naive > 0.05 and cal["false_alarm_rate"] <= 0.05 and cal["z"] > 3.0
    fresh = [(t, noise()) for _ in range(60)]  # held-out shams: about the calibrated rate
    assert detection_rate(fresh, 60.0, -1, z=cal["z"], persist=2) <= 0.15
    inductions = [(t, noise() - 12.0 * (t > 120)) for _ in range(30)]  # a real fall after the ramp
    assert detection_rate(inductions, 60.0, -1, z=cal["z"], persist=2) > 0.9


def test_reading_floor_and_ceilings_bracket_a_structured_reading():
    from tgnlib.brain.geometry import (connectivity_rank, distance_matrix, functional_connectivity, geometric_ranks,
                                       phase_randomise, place_between, reading_bounds, split_by_distance)

    rng = np.random.default_rng(0)
    d = distance_matrix(rng.uniform(0, 100, (40, 3)))
    long_mask, _ = split_by_distance(d, np.median(d[np.triu_indices(40, 1)]))
    # signals with strong shared structure: three latent sources, slow (smoothed) like BOLD
    ts = rng.standard_normal((200, 3)) @ rng.standard_normal((3, 40)) + 0.3 * rng.standard_normal((200, 40))
    bounds = reading_bounds(ts, d, window=100, n_surrogates=4)
    # equal correlations on the kept connections give exactly the mask's rank: the floor
    assert connectivity_rank(np.where(long_mask, 0.5, 0.0), long_mask) == pytest.approx(bounds["long-range"]["floor"])
    assert bounds["long-range"]["floor"] > 5  # a mask's own rank is far above 1: why the floor matters
    assert bounds["time series"]["floor"] == pytest.approx(1.0) and bounds["connectivity"]["floor"] == pytest.approx(1.0)
    reading = geometric_ranks(ts, d, window=100)
    for kind, b in bounds.items():
        assert b["floor"] < reading[kind] < b["phase"] < b["noise"] + 1.0, kind
        assert 0 < place_between(reading[kind], b["floor"], b["phase"]) < 1
    # a phase-randomised surrogate keeps each region's spectrum and loses the shared sources
    sur = phase_randomise(ts, seed=1)
    assert np.allclose(np.abs(np.fft.rfft(sur - sur.mean(0), axis=0)), np.abs(np.fft.rfft(ts - ts.mean(0), axis=0)))
    fc_real, fc_sur = (np.abs(functional_connectivity(x[None])[0][~np.eye(40, dtype=bool)]).mean() for x in (ts, sur))
    assert fc_sur < 0.5 * fc_real


def test_place_between_is_zero_at_the_floor_one_at_the_ceiling_and_undefined_for_an_inverted_pair():
    assert geo.place_between(33.0, 33.0, 53.0) == 0.0
    assert geo.place_between(53.0, 33.0, 53.0) == 1.0
    assert geo.place_between(38.0, 33.0, 53.0) == pytest.approx(0.25)
    np.testing.assert_allclose(geo.place_between(np.array([1.0, 3.0]), 1.0, 3.0), [0.0, 1.0])
    assert np.isnan(geo.place_between(1.0, 2.0, 2.0)) and np.isnan(geo.place_between(1.0, 3.0, 2.0))
    np.testing.assert_allclose(geo.place_between(np.array([1.0, 1.0]), np.array([0.0, 3.0]), 2.0), [0.5, np.nan])


def test_awake_bounds_split_by_fibre_length_uses_the_fibre_matrix(connectome):
    from dataclasses import replace

    from tgnlib.brain import analysis

    small = replace(connectome, bold=[b[:400] for b in connectome.bold[:2]])
    # fibre lengths that order pairs exactly opposite to centroid distance: long and short swap
    d = geo.distance_matrix(small.centroids)
    flipped = replace(small, fibre_length_mm=d.max() + 1.0 - d)
    table = analysis.awake_bounds_table(flipped, window=200, estimators=("entropy",), n_surrogates=2)
    rank = table.set_index(["split", "kind", "subject"])["rank"]
    ties = np.isclose(d[np.triu_indices(len(d), 1)], np.median(d[np.triu_indices(len(d), 1)])).sum()
    assert ties <= 1
    for s in (1, 2):
        assert rank[("fibre length", "long-range", s)] == pytest.approx(rank[("centroid distance", "short-range", s)], rel=1e-3)
        assert rank[("fibre length", "time series", s)] == pytest.approx(rank[("centroid distance", "time series", s)])
    assert table["position"].between(-0.5, 1.5).all() and len(table) == 2 * 4 * 2
    summary = analysis.summarise_bounds(table)
    assert (summary.rank_low <= summary["rank"]).all() and (summary["rank"] <= summary.rank_high).all()
    assert (summary.subjects == 2).all()
    with pytest.raises(ValueError, match="not among"):
        analysis.awake_bounds_table(small, splits=("tract count",))


def test_bold_phase_synchrony_reads_shared_phases_and_never_looks_ahead():
    rng = np.random.default_rng(0)
    t = np.arange(300) * 2.0
    shared = np.sin(2 * np.pi * 0.05 * t)[:, None] + 0.05 * rng.standard_normal((300, 40))
    independent = np.column_stack([np.sin(2 * np.pi * 0.05 * t + rng.uniform(0, 2 * np.pi)) for _ in range(40)])
    r_shared = insilico.bold_phase_synchrony(shared, 2.0, 20)
    r_indep = insilico.bold_phase_synchrony(independent, 2.0, 20)
    assert r_shared.shape == (281,) and r_shared[50:].min() > 0.9
    assert r_indep[50:].mean() < 0.35  # 40 uniform phases: about 1/sqrt(40) = 0.16, not 1
    # causal: changing volumes after a window leaves that window's value unchanged
    later = shared.copy()
    later[150:] = rng.standard_normal((150, 40))
    assert np.array_equal(insilico.bold_phase_synchrony(later, 2.0, 20)[:131], r_shared[:131])
    assert not np.allclose(insilico.bold_phase_synchrony(later, 2.0, 20)[131:], r_shared[131:])
    with pytest.raises(ValueError, match="window"):
        insilico.bold_phase_synchrony(shared[:10], 2.0, 20)


def test_up_ramp_and_calibration_couplings_get_a_stable_euler_step(connectome):
    from dataclasses import replace

    assert insilico.stable_dt(connectome, 0.2) == 1.0
    assert insilico.stable_dt(connectome, 0.6) == 0.5  # K lambda_max ~ 2.95: the 1-ms step would be near its bound
    with pytest.raises(ValueError, match="Euler step"):
        insilico.stable_dt(connectome, 1000.0)
    config = replace(TINY, coupling=0.3, global_up_final=2.0)
    assert insilico.peak_coupling(config, "global-up") == pytest.approx(0.6)
    insilico.check_stability(connectome, config, "global")  # 0.3 at 1 ms: fine
    with pytest.raises(ValueError, match="'global-up'"):
        insilico.check_stability(connectome, config, "global-up")  # 0.6 at 1 ms diverges
    up = insilico.simulate_induction(connectome, "global-up", 5, replace(config, dt_ms=0.5, baseline_s=4.0, ramp_s=2.0, hold_s=2.0))
    assert np.isfinite(up.bold).all()


def _synthetic_results(n=30):
    # long-range rank falls at 200 s and synchrony rises at 240 s in the inductions; shams are noise
    rng = np.random.default_rng(1)
    t = np.arange(60.0, 500.0, 2.0)
    config = insilico.InductionConfig(baseline_s=160.0, ramp_s=200.0, hold_s=80.0)

    def noise():
        x = np.zeros(len(t))
        for i in range(1, len(t)):
            x[i] = 0.7 * x[i - 1] + rng.standard_normal()
        return x

    out = {}
    for s in range(n):
        fall, rise = (t > 200) * (t - 200) / 10, (t > 240) * (t - 240) / 10
        for name, rank, sync in (("long-range", 30 + noise() - fall, noise() + rise), ("none", 30 + noise(), noise())):
            out[(name, s)] = {"t_s": t, "long-range rank": rank, "BOLD phase synchrony": sync, "mean FC": sync.copy(),
                              "Kuramoto order": noise()}
    return out, config


def test_sham_calibrated_onsets_and_lags_find_a_planted_order_and_nothing_in_the_shams():
    from tgnlib.brain.analysis import calibrate_onsets, calibrated_lags, summarise_lags

    results, config = _synthetic_results()
    cal = calibrate_onsets(results, config).set_index(["measure", "induction"])
    assert (cal.xs("none", level="induction")["sham_rate"] <= 0.05).all()
    assert cal.loc[("long-range rank", "long-range"), "beats_sham"] and cal.loc[("mean FC", "long-range"), "rate"] > 0.9
    assert not cal.loc[("Kuramoto order", "long-range"), "beats_sham"]  # pure noise in both
    assert not cal.xs("none", level="induction")["beats_sham"].any()
    lags = calibrated_lags(results, config, cal.reset_index())
    summary = summarise_lags(lags).set_index(["induction", "synchrony"])
    row = summary.loc[("long-range", "BOLD phase synchrony")]
    assert row.detected >= 25 and 20 < row.median_lag_s < 60 and row.lag_low_s > 0
    with pytest.raises(ValueError, match="sham"):
        calibrate_onsets({k: v for k, v in results.items() if k[0] != "none"}, config)


def test_coupling_grid_is_widened_until_the_best_fit_is_inside(connectome, monkeypatch):
    # a planted fit curve peaking at K = 0.5: the grid 0.1-0.3 must grow past it
    monkeypatch.setattr(insilico, "fit_coupling", lambda c, ks, fc, *a, **k: {float(x): -(float(x) - 0.5) ** 2 for x in ks})
    out = insilico.bracket_coupling(connectome, [0.1, 0.2, 0.3], None)
    assert out["bracketed"] and out["added"] == pytest.approx([0.45, 0.675]) and out["best"] == pytest.approx(0.45)
    capped = insilico.bracket_coupling(connectome, [0.1, 0.2, 0.3], None, max_extensions=1)
    assert not capped["bracketed"]
    with pytest.raises(ValueError, match="two couplings"):
        insilico.bracket_coupling(connectome, [0.3], None)


def test_the_null_comparison_can_fail_and_finds_a_planted_change():
    import pandas as pd

    from tgnlib.brain.analysis import null_comparison

    rng = np.random.default_rng(3)

    def table(shift):
        rows = []
        for subject in range(7):
            base = rng.normal(20, 2)
            for kind in geo.RANK_KINDS:
                for half in ("first", "second"):
                    rank = base + (shift if half == "second" else 0) + 0.3 * rng.standard_normal()
                    rows.append(dict(subject=subject, half=half, gsr=False, quantile=0.5, kind=kind, rank=rank))
        return pd.DataFrame(rows)

    out, summary = null_comparison(table(0.0))
    assert len(out) == len(geo.RANK_KINDS) and out.primary.sum() == 1
    assert summary["can_reject"] and summary["min_attainable_p"] == pytest.approx(2 / 128)
    assert 0.5 < summary["minimum_detectable_dz"] < 2.5
    planted, found = null_comparison(table(2.0))  # every subject's second half 2 ranks up (d_z ~ 5)
    assert found["primary_rejected"] and found["primary_p"] == pytest.approx(2 / 128)
    with pytest.raises(ValueError, match="matches 0 rows"):
        null_comparison(table(0.0), primary={"gsr": True, "quantile": 0.5, "kind": "time series"})
