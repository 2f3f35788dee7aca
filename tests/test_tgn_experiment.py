from dataclasses import replace

import numpy as np
import pytest

from tgnlib.tgn import TGNConfig
from tgnlib.tgn import experiment
from tgnlib.tgn.experiment import (best_learning_rate, describe_gate_trajectory, rates_at_grid_edge, run, run_dir, smooth,
                                   transition_lambda)
from tgnlib.tgn.train import TrainConfig

TOKENS = np.random.default_rng(0).integers(0, 30, 3000)
MODEL = TGNConfig(vocab_size=30, context=16, d_model=16, n_layers=1, n_heads=2)
TRAIN = TrainConfig(steps=4, batch_size=2, seq_len=16, warmup=1, checkpoint_every=0)


def test_run_folders_fingerprint_both_configurations(tmp_path):
    a = run_dir(tmp_path, "tgn", MODEL, TRAIN)
    assert a == run_dir(tmp_path, "tgn", TGNConfig(**MODEL.to_dict()), TrainConfig(**vars(TRAIN)))
    assert a != run_dir(tmp_path, "tgn", MODEL, TrainConfig(**{**vars(TRAIN), "lr": 1e-3}))
    assert a != run_dir(tmp_path, "tgn", TGNConfig(**{**MODEL.to_dict(), "lam": 0.5}), TRAIN)


def test_run_folders_fingerprint_the_data_so_a_run_never_resumes_on_another_corpus(tmp_path):
    a = run_dir(tmp_path, "tgn", MODEL, TRAIN, TOKENS)
    assert a == run_dir(tmp_path, "tgn", MODEL, TRAIN, TOKENS.copy())
    other = TOKENS.copy()
    other[7] += 1
    assert a != run_dir(tmp_path, "tgn", MODEL, TRAIN, other)
    assert a != run_dir(tmp_path, "tgn", MODEL, TRAIN, TOKENS.astype(np.int32))
    assert a != run_dir(tmp_path, "tgn", MODEL, TRAIN)


def test_a_task_sampler_is_keyed_by_its_settings_so_its_runs_are_found_again(tmp_path):
    from tgnlib.tgn.mqar import MQARTask
    from tgnlib.tgn.recall import RecallTask

    a = run_dir(tmp_path, "recall", MODEL, TRAIN, RecallTask(16, [1, 4], seed=0))
    assert a == run_dir(tmp_path, "recall", MODEL, TRAIN, RecallTask(16, [1, 4], seed=0))  # another object, same sequences
    assert a != run_dir(tmp_path, "recall", MODEL, TRAIN, RecallTask(16, [1, 4], seed=1))
    assert a != run_dir(tmp_path, "recall", MODEL, TRAIN, RecallTask(16, [1, 5], seed=0))
    m = run_dir(tmp_path, "mqar", MODEL, TRAIN, MQARTask(16, 2, 32, seed=0))
    assert m == run_dir(tmp_path, "mqar", MODEL, TRAIN, MQARTask(16, 2, 32, seed=0))
    assert m != run_dir(tmp_path, "mqar", MODEL, TRAIN, MQARTask(16, 3, 32, seed=0))


def test_run_folders_key_on_the_training_code_not_the_analysis(tmp_path, monkeypatch):
    a = run_dir(tmp_path, "tgn", MODEL, TRAIN, TOKENS)
    names = {p.name for p in experiment.TRAINING_CODE}
    assert {"model.py", "train.py", "training.py", "attention.py", "inertial.py", "gru_kernel.py"} <= names
    assert not names & {"evaluate.py", "experiment.py", "probe.py"}
    monkeypatch.setattr(experiment, "TRAINING_CODE", experiment.TRAINING_CODE[1:])
    assert a != run_dir(tmp_path, "tgn", MODEL, TRAIN, TOKENS)


def test_loss_drop_last_quarter_reads_a_plateau():
    steps = np.arange(400)
    falling, flat = 5 * np.exp(-steps / 300) + 3, 5 * np.exp(-steps / 20) + 3
    assert experiment.loss_drop_last_quarter(falling) > 0.3
    assert abs(experiment.loss_drop_last_quarter(flat)) < 1e-3
    with pytest.raises(ValueError, match="too few"):
        experiment.loss_drop_last_quarter(falling[:30])


def test_a_finished_run_is_reused_not_retrained(tmp_path, monkeypatch):
    first = run("tgn", MODEL, TRAIN, TOKENS, tmp_path, {"validation": TOKENS[:500]}, progress=False)
    assert len(first.history) == 4 and first.tokens == 4 * 2 * 16 and first.wall_seconds > 0
    monkeypatch.setattr(experiment, "train", lambda *a, **k: pytest.fail("a finished run was trained again"))
    again = run("tgn", MODEL, TRAIN, TOKENS, tmp_path, {"validation": TOKENS[:500]}, progress=False)
    assert again.scores == first.scores and np.array_equal(again.series("ce"), first.series("ce"))


def test_an_evaluation_is_kept_in_the_run_folder_and_redone_only_for_other_windows(tmp_path, monkeypatch):
    first = run("tgn", MODEL, TRAIN, TOKENS, tmp_path, {"validation": TOKENS[:500]}, eval_windows=3, progress=False)
    assert len(list(first.out_dir.glob("scores-validation-*.json"))) == 1
    monkeypatch.setattr(experiment, "evaluate", lambda *a, **k: pytest.fail("a kept evaluation was computed again"))
    again = run("tgn", MODEL, TRAIN, TOKENS, tmp_path, {"validation": TOKENS[:500]}, eval_windows=3, progress=False)
    assert again.scores == first.scores  # read back exactly (JSON keeps every float)
    calls = []
    monkeypatch.setattr(experiment, "evaluate", lambda *a, **k: calls.append(k) or {"ce": 1.0})
    other = run("tgn", MODEL, TRAIN, TOKENS, tmp_path, {"validation": TOKENS[:500]}, eval_windows=2, progress=False)
    run("tgn", MODEL, TRAIN, TOKENS, tmp_path, {"validation": TOKENS[:400]}, eval_windows=3, progress=False)
    assert other.scores["validation"] == {"ce": 1.0} and [c["max_windows"] for c in calls] == [2, 3]


def test_learning_rate_search_keeps_the_lowest_validation_loss(tmp_path):
    best, searched = best_learning_rate("tgn", MODEL, TRAIN, [1e-5, 3e-2], TOKENS, tmp_path, {"validation": TOKENS[:500]},
                                        progress=False)
    assert set(searched) == {1e-5, 3e-2} and best.scores["validation"]["perplexity"] == min(searched.values())
    assert best.train_cfg.lr == min(searched, key=searched.get)
    with pytest.raises(ValueError, match="'validation'"):
        best_learning_rate("tgn", MODEL, TRAIN, [1e-3], TOKENS, tmp_path, {"test": TOKENS})


def test_a_rate_chosen_at_either_end_of_the_grid_is_named():
    chosen = {"a": 8e-3, "b": 4e-3, "c": 1e-3}
    assert rates_at_grid_edge(chosen, [4e-3, 1e-3, 8e-3, 2e-3]) == {"a": "top", "c": "bottom"}
    assert rates_at_grid_edge({"a": 2e-3, "b": 4e-3}, [1e-3, 2e-3, 4e-3, 8e-3]) == {}
    assert rates_at_grid_edge({"a": 3e-3}, [3e-3]) == {}


def test_smoothing_and_gate_trajectory_of_a_u_shape():
    assert np.allclose(smooth([1, 3, 5, 7], 2), [1, 2, 4, 6])
    steps = np.arange(300)
    u = 0.5 * np.exp(-steps / 20) + 0.002 + 0.09 * (1 - np.exp(-np.clip(steps - 100, 0, None) / 40))
    d = describe_gate_trajectory(u, window=5)
    assert d["start"] == pytest.approx(0.502) and d["minimum"] < 0.01 and 60 < d["min_step"] < 110
    assert d["final"] == pytest.approx(0.092, abs=0.002) and d["rebound_ratio"] > 9
    mono = describe_gate_trajectory(0.5 * np.exp(-steps / 20), window=5)
    assert mono["min_step"] == 300 and mono["rebound"] == 0


def test_transition_lambda_finds_a_logistic_drop():
    lam = np.logspace(-3, 1, 9)
    rates = 0.6 / (1 + (lam / 0.05) ** 3)
    t = transition_lambda(lam, rates)
    assert t["lambda_half"] == pytest.approx(0.05, rel=0.2) and t["decades_10_90"] < 1.5 and t["max_slope"] > 0.3
    flat = transition_lambda(lam, np.full(9, 0.3))
    assert np.isnan(flat["lambda_half"]) or flat["max_slope"] == 0
    with pytest.raises(ValueError, match="increasing"):
        transition_lambda([0.1, 0.01], [0.2, 0.1])


def test_sweep_finals_reads_each_lambda_in_the_order_asked():
    def fake(rate, open_fraction, ppl):
        history = [{"gate_rate": rate, "gate_open": [open_fraction, open_fraction]} for _ in range(20)]
        return experiment.Run("x", MODEL, TRAIN, None, history, 1, {"validation": {"perplexity": ppl}})

    by_lambda = {0.0: fake(0.6, 0.7, 100.0), 0.1: fake(0.2, 0.1, 120.0), 1.0: fake(0.01, 0.0, 300.0)}
    out = experiment.sweep_finals(by_lambda, [1.0, 0.1])
    np.testing.assert_allclose(out["gate_rate"], [0.01, 0.2])
    np.testing.assert_allclose(out["open_fraction"], [0.0, 0.1])
    np.testing.assert_allclose(out["perplexity"], [300.0, 120.0])
    with pytest.raises(KeyError):
        experiment.sweep_finals(by_lambda, [0.3])


def test_summarise_seeds_averages_the_loss_not_the_perplexity():
    scores = [{"test": {"ce": ce, "gate_rate": g, "open_fraction": [g, 0.0], "attention_flops_per_token": 10.0 * g,
                        "forward_flops_per_token": 100.0}} for ce, g in ((4.0, 0.2), (5.0, 0.4))]
    s = experiment.summarise_seeds(scores, "test")
    assert s["ce"] == 4.5 and s["perplexity"] == pytest.approx(np.exp(4.5)) and s["n"] == 2
    assert s["ce_sd"] == pytest.approx(np.std([4.0, 5.0], ddof=1))
    assert s["gate_rate"] == pytest.approx(0.3) and s["open_fraction"] == pytest.approx(0.15)
    assert s["attention_flops_per_token"] == pytest.approx(3.0)
    assert np.isnan(experiment.summarise_seeds(scores[:1], "test")["ce_sd"])
    with pytest.raises(ValueError, match="at least one"):
        experiment.summarise_seeds([], "test")


def test_a_run_logs_periodic_validation_when_asked_and_keys_on_it(tmp_path):
    splits = {"validation": TOKENS[:600]}
    plain = run("tgn", MODEL, TRAIN, TOKENS, tmp_path, eval_splits=splits, progress=False)
    logged = run("tgn", MODEL, TRAIN, TOKENS, tmp_path, eval_splits=splits, progress=False, eval_every=2)
    assert plain.out_dir != logged.out_dir and plain.validation_curve()[0].size == 0
    steps, ce = logged.validation_curve()
    assert steps.tolist() == [2, 4] and np.all(np.isfinite(ce))
    with pytest.raises(ValueError, match="'validation' split"):
        run("tgn", MODEL, replace(TRAIN, lr=1e-4), TOKENS, tmp_path, progress=False, eval_every=2)


def test_with_steps_gives_the_chapter_schedule_and_is_its_own_fixed_point():
    cfg = experiment.with_steps(TRAIN, 300)
    assert (cfg.steps, cfg.warmup, cfg.checkpoint_every) == (300, 20, 75) and cfg.lr == TRAIN.lr
    assert experiment.with_steps(cfg, 300) == cfg  # the full-budget run is found again whichever path asks for it
    assert experiment.with_steps(cfg, 10).warmup == 1
    with pytest.raises(ValueError, match="steps=0"):
        experiment.with_steps(cfg, 0)


def test_a_held_run_waits_for_its_owner_then_is_reused_not_retrained(tmp_path, monkeypatch):
    import subprocess
    import sys
    import threading

    out = run_dir(tmp_path, "tgn", MODEL, TRAIN, TOKENS)
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = tmp_path / f"{out.name}.lock"
        lock.write_text(f"{experiment.socket.gethostname()}:{owner.pid}")  # another live process trains this run
        assert not experiment.run_is_free("tgn", MODEL, TRAIN, TOKENS, tmp_path)
        done = threading.Event()
        threading.Thread(target=lambda: (run("tgn", MODEL, TRAIN, TOKENS, tmp_path, progress=False), done.set()),
                         daemon=True).start()
        assert not done.wait(1.0)  # it waits while the owner lives
        experiment.train(MODEL, TRAIN, TOKENS, out, progress=False)  # the owner finishes the run...
        monkeypatch.setattr(experiment, "train", lambda *a, **k: pytest.fail("a run finished by its owner was trained again"))
        lock.unlink()  # ...and releases it
        assert done.wait(30)
        assert not lock.exists() and not experiment.run_is_free("tgn", MODEL, TRAIN, TOKENS, tmp_path)
    finally:
        owner.kill()
        owner.wait()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    import subprocess
    import sys

    out = run_dir(tmp_path, "tgn", MODEL, TRAIN, TOKENS)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / f"{out.name}.lock"
    lock.write_text(f"{experiment.socket.gethostname()}:{dead.pid}")
    assert experiment.run_is_free("tgn", MODEL, TRAIN, TOKENS, tmp_path) is False
    r = run("tgn", MODEL, TRAIN, TOKENS, tmp_path, progress=False)
    assert len(r.history) == 4 and (out / "model.pt").is_file() and not lock.exists()


def test_another_hosts_lock_is_waited_on_while_its_heartbeat_is_fresh_and_taken_over_when_stale(tmp_path):
    import os
    import threading
    import time

    out = run_dir(tmp_path, "tgn", MODEL, TRAIN, TOKENS)
    lock = tmp_path / f"{out.name}.lock"
    lock.write_text("node-17.cluster:4242")  # a worker on another machine (its process cannot be asked)
    assert experiment._alive(lock.read_text(), lock, expires_s=600)
    done, release = threading.Event(), threading.Event()

    def take():
        with experiment.hold_run(out, poll_s=0.05, expires_s=600):
            done.set()
            release.wait(10)

    threading.Thread(target=take, daemon=True).start()
    assert not done.wait(0.5)  # a fresh heartbeat: waited on
    old = time.time() - 3600
    os.utime(lock, (old, old))  # the node died an hour ago
    assert done.wait(5)  # taken over
    assert lock.read_text() == f"{experiment.socket.gethostname()}:{os.getpid()}"
    release.set()


def test_a_held_lock_is_refreshed_while_its_run_trains(tmp_path):
    import os
    import time

    out = tmp_path / "run"
    lock = tmp_path / "run.lock"
    with experiment.hold_run(out, heartbeat_s=0.05):
        old = time.time() - 3600
        os.utime(lock, (old, old))
        time.sleep(0.3)
        assert time.time() - lock.stat().st_mtime < 60  # the heartbeat brought it back
    assert not lock.exists()
