"""Runs as data (tgnlib.runs, tgnlib.tgn.plan): listed before running, the same cache keys as the notebook used,
identical results in this process, on a Dask LocalCluster and through submitit, a killed worker's run resumed."""

import os
import signal
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from tgnlib import runs
from tgnlib.knobs import KnobError, knobs_of
from tgnlib.tgn import experiment, plan
from tgnlib.tgn.experiment import run_dir, with_steps
from tgnlib.tgn.recall import RecallTask

# the smallest chapter 2.5 that still has every kind of run: 2 seeds, 2 learning rates, a 1-point lambda sweep
MICRO = dict(d_model=16, n_layers=1, context=16, steps=40, search_steps=40, sweep_steps=40, batch_size=2, learning_rates=[3e-3, 6e-3],
             n_seeds=2, lambdas=[0.1], eval_windows=2, recall_steps=8, mqar_steps=8, mqar_pairs=4)


def micro(tmp_path, name="out", **extra):
    return runs.prepare("tgn", "ci", output_dir=tmp_path / name, device="cpu", **{**MICRO, **extra})


@contextmanager
def one_thread():
    # workers run torch on one thread (processes:2 on this machine, Dask's OMP_NUM_THREADS=1): the same result bit for bit
    # needs the same thread count here, since a 2-thread matmul sums in another order (differences of 1e-8 after 8 steps)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def folders(training):
    return sorted(p.name for p in training.runs_root.iterdir() if p.is_dir()) if training.runs_root.is_dir() else []


def weights(training):
    return {p.name: torch.load(p / "model.pt", weights_only=True) for p in training.runs_root.iterdir() if (p / "model.pt").is_file()}


def same_weights(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        assert sorted(a[key]) == sorted(b[key])
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), (key, name)


def test_the_search_stage_lists_every_model_lr_and_probe_without_training(tmp_path):
    training = micro(tmp_path)
    specs = training.specs()
    assert folders(training) == []  # listing trains nothing
    assert {s.stage for s in specs} == {"search"}  # the main stage waits for the search
    text = [s for s in specs if s.kwargs["data"][0] == "text"]
    assert len(text) == len(plan.MODEL_SLUGS) * len(MICRO["learning_rates"])
    probes = [s for s in specs if s.kwargs["data"][0] != "text"]
    assert len(probes) == 2 * (len(plan.PROBE_MODELS) + MICRO["n_seeds"] - 1)
    assert len({s.key for s in specs}) == len(specs)
    with pytest.raises(ValueError, match="search finished first"):
        training.specs("main")


def test_keys_are_the_ones_the_notebook_computed_before_the_fan_out(tmp_path):
    # the folders chapter 2.5 trained into before tgnlib.tgn.plan existed, written out the old way: a user's cache stays valid
    training = micro(tmp_path)
    keys = {s.key for s in training.specs("search")}
    for name, cfg in training.configs.items():
        for lr in MICRO["learning_rates"]:
            out = run_dir(training.runs_root, plan.MODEL_SLUGS[name], cfg, replace(with_steps(training.train_cfg, 40), lr=lr),
                          training.splits.train, eval_every=max(MICRO["steps"] // 20, 1))
            assert out.name in keys
    task = RecallTask(64, [1, 2, 4, 8, 16, 32, 56], p_local=0.9, seed=0)
    recall_train = replace(with_steps(training.train_cfg, MICRO["recall_steps"]), batch_size=32, seq_len=64, lr=3e-3)
    old = run_dir(training.runs_root, "recall-transformer", replace(training.base, vocab_size=task.vocab_size, context=64,
                                                                   mode="transformer"), recall_train, task)
    assert old.name in keys


def test_local_execution_fills_the_cache_and_reading_back_trains_nothing_more(tmp_path, monkeypatch):
    training = micro(tmp_path)
    done = runs.execute(training.specs("search"), progress=False)
    assert done["cached"] == [] and len(done["ran"]) == len(training.specs("search"))
    assert runs.execute(training.specs("search"), progress=False)["ran"] == []  # a finished run is never rerun
    with monkeypatch.context() as m:  # the workers evaluated every text run on both splits: reading back only reads
        m.setattr(experiment, "evaluate", lambda *a, **k: pytest.fail("the notebook evaluated a run its worker had evaluated"))
        best, searched = training.search()
    assert set(searched) == set(plan.MODEL_SLUGS) and all(len(v) == 2 for v in searched.values())
    main = training.specs("main")
    runs.execute(main, progress=False)
    before = folders(training)
    result = training.main({name: r.train_cfg.lr for name, r in best.items()})
    training.probe("recall"), training.probe("mqar")
    assert folders(training) == before  # every run the chapter reads was listed
    assert all(len(v) == 2 for v in result.seeds.values()) and sorted(result.sweep) == [0.0, 0.1]
    runs.require_complete(training.specs())
    (Path(main[-1].done)).unlink()
    with pytest.raises(runs.RunsMissing, match=main[-1].key):
        runs.require_complete(training.specs())


def test_a_run_that_raises_is_reported_with_its_key_and_the_rest_finish(tmp_path):
    training = micro(tmp_path)
    specs = training.specs("search")[:3]
    bad = replace(specs[1], kwargs={**specs[1].kwargs, "data": ("no-such-data",)})
    with pytest.raises(runs.RunsFailed, match="unknown data reference") as err:
        runs.execute([specs[0], bad, specs[2]], progress=False)
    assert list(err.value.failures) == [bad.key]
    assert specs[0].finished and specs[2].finished and not bad.finished


def test_executor_forms_are_checked_and_the_knob_refuses_a_bad_one():
    for form in ("local", "processes:2", "dask-local:1", "dask:tcp://host:8786", "submitit:/tmp/logs"):
        runs.check_executor_form(form)
    for form in ("", "local:2", "processes", "processes:0", "dask:", "slurm:4"):
        with pytest.raises(ValueError, match="is not allowed"):
            runs.check_executor_form(form)
    with pytest.raises(KnobError, match="executor='threads:2'"):
        knobs_of("tgn").resolve("ci", {"executor": "threads:2"})
    assert runs.make_executor("local") is None


def test_a_process_pool_gives_the_same_weights_as_this_process(tmp_path):
    here, pool = micro(tmp_path, "here"), micro(tmp_path, "pool")
    specs_here = [s for s in here.specs("search") if s.kwargs["data"][0] != "text"][:3]
    with one_thread():
        runs.execute(specs_here, progress=False)
    keys = {s.key for s in specs_here}
    with runs.make_executor("processes:2") as executor:
        runs.execute([s for s in pool.specs("search") if s.key in keys], executor, progress=False)
    same_weights(weights(here), weights(pool))


def test_a_dask_local_cluster_gives_the_same_results_and_recovers_a_killed_worker(tmp_path):
    distributed = pytest.importorskip("distributed")
    here, dask = micro(tmp_path, "here"), micro(tmp_path, "dask")
    pick = lambda t: [s for s in t.specs("search") if s.kwargs["data"][0] == "text"][:4]  # noqa: E731
    with one_thread():
        runs.execute(pick(here), progress=False)
    with distributed.Client(distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)) as client:
        runs.execute(pick(dask), client, progress=False)
        same_weights(weights(here), weights(dask))

        # a longer run, killed mid-way once its first checkpoint is written: the scheduler resubmits it, it resumes
        long_here = micro(tmp_path, "long-here", steps=400, search_steps=400)
        long_dask = micro(tmp_path, "long-dask", steps=400, search_steps=400)
        spec = [s for s in long_dask.specs("search") if s.kwargs["data"][0] == "text"][0]
        future = client.submit(runs.do, spec, pure=False)
        folder, lock = Path(spec.done).parent, Path(f"{Path(spec.done).parent}.lock")
        deadline = time.time() + 120
        while not (folder / "checkpoint.pt").is_file() and time.time() < deadline:
            time.sleep(0.05)
        assert (folder / "checkpoint.pt").is_file() and lock.is_file()
        os.kill(int(lock.read_text().rpartition(":")[2]), signal.SIGKILL)
        assert future.result(timeout=300) == spec.key
        log = (folder / "log.jsonl").read_text().splitlines()
        assert len(log) == 400
    with one_thread():
        runs.execute([s for s in long_here.specs("search") if s.key == spec.key], progress=False)
    same_weights({k: v for k, v in weights(long_here).items() if k == spec.key}, {k: v for k, v in weights(long_dask).items()
                                                                                   if k == spec.key})


def test_submitit_local_executor_runs_the_same_list(tmp_path, monkeypatch):
    submitit = pytest.importorskip("submitit")
    here, sub = micro(tmp_path, "here"), micro(tmp_path, "sub")
    pick = lambda t: [s for s in t.specs("search") if s.kwargs["data"][0] == "mqar"][:2]  # noqa: E731
    with one_thread():
        runs.execute(pick(here), progress=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # submitit's jobs inherit this process's environment
    executor = submitit.LocalExecutor(folder=tmp_path / "submitit")
    executor.update_parameters(timeout_min=10)
    runs.execute(pick(sub), executor, progress=False)
    same_weights(weights(here), weights(sub))


def test_list_and_do_from_the_command_line(tmp_path, capsys):
    args = ["--chapter", "tgn", "--scale", "ci", "--output-dir", str(tmp_path / "cli")]
    args += [f"--set={k}={v}" for k, v in MICRO.items()]
    with pytest.raises(SystemExit):  # neither a key nor --all
        runs.main(["do", *args])
    assert runs.main(["list", *args]) == 0
    listed = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert listed and all(stage == "search" and state == "to do" for _, stage, state, _ in listed)
    assert np.all([float(cost) > 0 for *_, cost in listed])
    with pytest.raises(SystemExit):
        runs.main(["do", *args, "--key", "no-such-key"])
    key = listed[0][0]
    assert runs.main(["do", *args, "--key", key]) == 0
    assert capsys.readouterr().out.strip() == "ran 1, found finished 0"
    runs.main(["list", *args])
    states = {k: state for k, _, state, _ in (line.split("\t") for line in capsys.readouterr().out.splitlines())}
    assert states[key] == "finished" and sum(v == "finished" for v in states.values()) == 1
    with pytest.raises(KnobError, match="d_model"):
        runs.main(["list", *args, "--set", "d_model=-3"])


# ---- chapter 2.2: references, tuning and measurement batches -------------------------------------------------------

SG_MICRO = dict(sizes=[4], instances=2, runs=2, lengths=[16, 32], solvers=["simulated annealing", "attention (c)"], dense_attention_max_L=4,
                tune_size=4, tune_length=16, tune_trials=1, reference_sweeps={4: 400})


def sg_micro(tmp_path, name="out"):
    return runs.prepare("spinglass", "ci", output_dir=tmp_path / name, device="cpu", **SG_MICRO)


def cache_files(measurement):
    return sorted(p.name for p in measurement.cache.glob("*.npz")) if measurement.cache.is_dir() else []


def test_spinglass_batches_are_the_ones_the_notebook_reads(tmp_path):
    from tgnlib.spinglass.experiment import measure_tts
    from tgnlib.spinglass.solvers import SOLVERS

    m = sg_micro(tmp_path)
    search = m.specs()
    assert cache_files(m) == [] and {s.stage for s in search} == {"search"}
    assert len(search) == 2 + len(SG_MICRO["solvers"]) * (1 + SG_MICRO["tune_trials"])  # tuning + measured references, candidates
    with pytest.raises(ValueError, match="tuning"):
        m.specs("main")
    runs.execute(search, progress=False)
    listed = cache_files(m)
    tuned = m.tuned()  # what the notebook's tuning cell computes
    assert cache_files(m) == listed  # every batch it read was listed
    main = m.specs("main")
    assert len(main) == len(SG_MICRO["solvers"]) * len(SG_MICRO["lengths"])
    runs.execute(main, progress=False)
    listed = cache_files(m)
    L = 4
    J = m.instances(L)
    ref = np.full(SG_MICRO["instances"], -10.0)  # unreachable: every length is tried, as in a fanned-out list
    for name in m.solvers_at(L):
        measure_tts(SOLVERS[name], J, ref, SG_MICRO["lengths"], SG_MICRO["runs"], SOLVERS[name].settings(L, **tuned[name]), seed=m.seed,
                    cache_dir=m.cache)
    assert cache_files(m) == listed
    assert sorted(s.key for s in m.specs()) == sorted(Path(f).stem for f in listed)


def test_spinglass_batches_on_a_dask_local_cluster_match_this_process(tmp_path):
    distributed = pytest.importorskip("distributed")
    here, dask = sg_micro(tmp_path, "here"), sg_micro(tmp_path, "dask")
    with one_thread():
        runs.execute(here.specs("search"), progress=False)
    with distributed.Client(distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)) as client:
        runs.execute(dask.specs("search"), client, progress=False)
    assert cache_files(here) == cache_files(dask)
    for name in cache_files(here):
        a, b = np.load(here.cache / name), np.load(dask.cache / name)
        for field in a.files:
            if field != "seconds":  # wall time, the one thing that may differ
                np.testing.assert_array_equal(a[field], b[field], err_msg=f"{name}:{field}")


def test_spinglass_list_from_the_command_line_counts_batches_and_spin_updates(tmp_path, capsys):
    args = ["--chapter", "spinglass", "--scale", "ci", "--output-dir", str(tmp_path / "cli")] + [
        f"--set={k}={v}" for k, v in SG_MICRO.items()]
    assert runs.main(["list", *args]) == 0
    out = capsys.readouterr()
    rows = [line.split("\t") for line in out.out.splitlines()]
    assert len(rows) == 6 and all(state == "to do" for _, _, state, _ in rows)
    assert "6 runs listed, 6 to do (cost: spin updates)" in out.err
    tuning_reference = rows[0]  # listed first: the 4 tuning instances
    assert tuning_reference[0].startswith("reference_")
    assert float(tuning_reference[3]) == pytest.approx(2 * 400 * 4 * 4**3, rel=5e-3)  # two algorithms x sweeps x instances x spins
    with pytest.raises(KnobError, match="executor"):
        runs.main(["list", *args, "--set", "executor=threads:2"])


def test_chapters_with_runs_are_found_by_their_plan_module():
    found = runs.chapters_with_runs()
    assert {"spinglass", "tgn"} <= set(found) and "theory" not in found and "llm_rank" not in found
    assert runs.cost_unit("tgn") == "training tokens" and runs.cost_unit("spinglass") == "spin updates"
    with pytest.raises(ValueError, match="chapter='theory' has no run list"):
        runs.prepare("theory", "ci")
    with pytest.raises(SystemExit):  # the CLI offers only chapters with a plan
        runs.main(["list", "--chapter", "theory", "--scale", "ci"])


# ---- chapter 2.4: realignments, the calibration, the simulations ---------------------------------------------------

def brain_micro(tmp_path, monkeypatch):
    from tgnlib.brain import insilico
    from tgnlib.brain import plan as brain_plan
    from tgnlib.brain.fixture import make_bids_fixture

    tiny = insilico.InductionConfig(baseline_s=20.0, ramp_s=10.0, hold_s=4.0, window_tr=5, discard_s=4.0)  # 34 simulated s a run
    # a calibration that peaks at K = 0.3 without simulating (workers never calibrate: it runs in this process)
    monkeypatch.setattr(insilico, "fit_coupling", lambda c, ks, fc, *a, **k: {float(x): -(float(x) - 0.3) ** 2 for x in ks})
    monkeypatch.setattr(brain_plan.Pipeline, "base_config", property(lambda self: replace(tiny, ramp_s=self.P.ramp_s)))
    pipeline = runs.prepare("brain", "ci", output_dir=tmp_path / "out", n_seeds=2, inductions=["global"], ramp_s=10.0,
                            couplings=[0.2, 0.3, 0.4])
    bids = make_bids_fixture(tmp_path / "bids", n_volumes=25, shape=(8, 8, 6), motion_mm=1.5)  # 3 subjects x 4 states
    pipeline.__dict__["_data"] = (bids, "a 25-volume fixture")  # instead of the ci fixture's 200 volumes x 5 subjects
    return pipeline


def test_brain_runs_are_the_ones_the_notebook_reads(tmp_path, monkeypatch):
    from tgnlib.brain import insilico, preprocess

    pipeline = brain_micro(tmp_path, monkeypatch)
    listed = pipeline.specs()
    assert [s.stage for s in listed] == ["realign"] * 12 + ["calibrate"]  # main: only once the calibration exists
    assert all(s.cost == 25 * 2.0 for s in listed[:12])  # 25 volumes x TR 2 s of scanned BOLD
    with pytest.raises(runs.RunsMissing, match="calibration"):
        pipeline.specs("main")
    assert runs.execute(pipeline.specs("calibrate"), progress=False)["ran"] == [listed[-1].key]
    assert pipeline.calibration()["best"] == 0.3 and pipeline.calibration()["bracketed"]
    main = pipeline.specs("main")
    assert [(s.kwargs["induction"], s.kwargs["seed"]) for s in main] == [("global", 0), ("global", 1), ("none", 0), ("none", 1)]
    # simulations on two spawned processes land where the chapter's own call finds them, with the same numbers
    pool = runs.make_executor("processes:2")
    with pool:
        runs.execute(main + listed[:2], pool, progress=False)  # two realignments stand for the twelve
    direct = insilico.run_inductions(pipeline.hcp, pipeline.kinds, pipeline.seeds, pipeline.config(), cache_dir=tmp_path / "direct",
                                     progress=False)

    def fail(*args, **kwargs):
        raise AssertionError("a finished run was computed again")

    monkeypatch.setattr(insilico, "simulate_and_save", fail)
    read = pipeline.inductions()
    assert sorted(read) == sorted(direct)
    for key in read:
        for name in direct[key]:
            np.testing.assert_array_equal(read[key][name], direct[key][name], err_msg=f"{key} {name}")
    # the realignments are read back too, never redone
    import dipy.align
    monkeypatch.setattr(dipy.align, "register_series", fail)
    run = listed[0].kwargs["run_path"]
    image, parameters = preprocess.realign_run(run, pipeline.realigned_dir)
    assert parameters.shape == (25, 6) and image.shape[-1] == 25
    assert all(s.finished for s in pipeline.specs("main")) and [s.finished for s in pipeline.specs("realign")] == [True] * 2 + [False] * 10


def test_brain_in_silico_stages_list_without_touching_the_data(tmp_path, capsys):
    args = ["--chapter", "brain", "--scale", "ci", "--output-dir", str(tmp_path / "cli"), "--set", "n_seeds=2"]
    assert runs.main(["list", *args, "--stage", "calibrate"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("calibration-") and "1 runs listed, 1 to do (cost: seconds of BOLD" in out.err
    assert not (tmp_path / "cli" / "data").exists()  # the sedation fixture is made only when the realignments are listed
    with pytest.raises(KnobError, match="executor"):
        runs.main(["list", *args, "--set", "executor=threads:2"])
