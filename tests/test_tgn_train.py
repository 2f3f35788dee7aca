import json
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch

from tgnlib.tgn import TGNConfig
from tgnlib.tgn.train import TokenSampler, TrainConfig, learning_rate, train

TOKENS = np.random.default_rng(0).integers(0, 40, 4000)
MODEL = dict(vocab_size=40, context=16, d_model=32, n_layers=2, n_heads=4, inertial="mamba")
TRAIN = dict(steps=8, batch_size=4, seq_len=16, warmup=2, checkpoint_every=4)


def test_killed_run_resumes_with_bit_identical_steps(tmp_path):
    whole = train(TGNConfig(**MODEL), TrainConfig(**TRAIN), TOKENS, tmp_path / "whole", progress=False)
    first = train(TGNConfig(**MODEL), TrainConfig(**TRAIN), TOKENS, tmp_path / "split", progress=False, max_steps_this_call=3)
    assert len(first) == 3 and not (tmp_path / "split" / "model.pt").exists()
    resumed = train(TGNConfig(**MODEL), TrainConfig(**TRAIN), TOKENS, tmp_path / "split", progress=False)
    assert [r["loss"] for r in resumed] == [r["loss"] for r in whole]
    a = torch.load(tmp_path / "whole" / "model.pt")
    b = torch.load(tmp_path / "split" / "model.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    log = [json.loads(line) for line in (tmp_path / "split" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == list(range(1, 9)) and len(log[0]["gate_open"]) == 2


def test_periodic_validation_is_logged_and_leaves_training_and_resuming_exact(tmp_path):
    from tgnlib.tgn.evaluate import evaluate

    held_out = np.random.default_rng(1).integers(0, 40, 600)
    plain = train(TGNConfig(**MODEL), TrainConfig(**TRAIN), TOKENS, tmp_path / "plain", progress=False)
    kw = dict(progress=False, validation=held_out, eval_every=3, eval_windows=4)
    first = train(TGNConfig(**MODEL), TrainConfig(**TRAIN), TOKENS, tmp_path / "val", max_steps_this_call=4, **kw)
    logged = train(TGNConfig(**MODEL), TrainConfig(**TRAIN), TOKENS, tmp_path / "val", **kw)
    assert [r["loss"] for r in logged] == [r["loss"] for r in plain]  # evaluating does not move training
    assert [r["step"] for r in logged if "val_ce" in r] == [3, 6, 8] and len(first) == 4
    from tgnlib.tgn.evaluate import load_run

    model, _ = load_run(tmp_path / "val")
    assert logged[-1]["val_ce"] == pytest.approx(evaluate(model, held_out, 16, max_windows=4)["ce"], rel=1e-5)
    with pytest.raises(ValueError, match="needs validation"):
        train(TGNConfig(**MODEL), TrainConfig(**TRAIN), TOKENS, tmp_path / "bad", progress=False, eval_every=3)


def test_a_checkpoint_of_another_configuration_is_refused(tmp_path):
    train(TGNConfig(**MODEL), TrainConfig(**TRAIN), TOKENS, tmp_path, progress=False, max_steps_this_call=1)
    with pytest.raises(ValueError, match="another configuration"):
        train(TGNConfig(**{**MODEL, "lam": 0.5}), TrainConfig(**TRAIN), TOKENS, tmp_path, progress=False)


def test_schedule_and_sampler():
    cfg = TrainConfig(steps=100, warmup=10, lr=1.0, min_lr_ratio=0.1)
    assert learning_rate(0, cfg) == pytest.approx(0.1) and learning_rate(9, cfg) == pytest.approx(1.0)
    assert learning_rate(100, cfg) == pytest.approx(0.1) and learning_rate(55, cfg) == pytest.approx(0.55)
    x, y = TokenSampler(np.arange(100), 8, seed=1).batch(3)
    assert torch.equal(x[:, 1:], y[:, :-1]) and x.shape == (3, 8)
    with pytest.raises(ValueError, match="longer than seq_len"):
        TokenSampler(np.arange(5), 8)
    with pytest.raises(ValueError, match="TrainConfig.steps"):
        TrainConfig(steps=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_ddp_matches_one_process_on_the_same_global_batch(tmp_path):
    np.save(tmp_path / "tokens.npy", TOKENS)
    model, train_cfg = json.dumps(MODEL), json.dumps({**TRAIN, "steps": 4})
    single = train(TGNConfig(**MODEL), TrainConfig(**{**TRAIN, "steps": 4}), TOKENS, tmp_path / "one", progress=False)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(free_port()), "-m", "tgnlib.tgn.train", "--tokens", str(tmp_path / "tokens.npy"),
           "--out", str(tmp_path / "two"), "--model", model, "--train", train_cfg, "--device", "cpu"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    log = [json.loads(line) for line in (tmp_path / "two" / "log.jsonl").read_text().splitlines()]
    np.testing.assert_allclose([r["ce"] for r in log], [r["ce"] for r in single], rtol=1e-4)
    a, b = torch.load(tmp_path / "one" / "model.pt"), torch.load(tmp_path / "two" / "model.pt")
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)


def test_weight_decay_spares_biases_norms_the_recurrence_and_the_gate():
    from tgnlib.tgn import TGNConfig, TGNLanguageModel
    from tgnlib.tgn.train import parameter_groups

    model = TGNLanguageModel(TGNConfig(vocab_size=30, context=16, d_model=16, n_layers=1, n_heads=2, inertial="mamba"))
    decay, no_decay = parameter_groups(model, 0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    spared = {names[id(p)] for p in no_decay["params"]}
    assert decayed.isdisjoint(spared) and decayed | spared == set(names.values())
    assert {"tok.weight", "pos.weight", "blocks.0.attn.qkv.weight"} <= decayed
    for part in ("gate.weight", "gate.bias", "log_a", "skip", "ln1.weight", "attn.qkv.bias"):
        assert any(n.endswith(part) for n in spared), part
        assert not any(n.endswith(part) for n in decayed), part


@pytest.mark.parametrize("tokens, extra, match", [
    (np.linspace(0, 5, 100), [], "non-negative integer token ids; got dtype float64"),
    (np.arange(100), ["--device", "tpu"], "invalid choice: 'tpu'"),
    (np.arange(100), ["--model", '{"lam": NaN}'], "lam=nan must be a finite number"),
])
def test_the_cli_refuses_float_tokens_nan_lambda_and_unknown_devices(tmp_path, capsys, tokens, extra, match):
    from tgnlib.tgn.train import main

    np.save(tmp_path / "t.npy", tokens)
    args = ["--tokens", str(tmp_path / "t.npy"), "--out", str(tmp_path / "out"), "--train", '{"steps": 2}'] + extra
    with pytest.raises((SystemExit, ValueError)) as err:
        main(args)
    assert match in capsys.readouterr().err + str(err.value)
    assert not (tmp_path / "out" / "checkpoint.pt").exists()


def test_a_detached_gate_keeps_the_penalty_out_of_the_inertial_stream():
    from tgnlib.tgn import TGNLanguageModel

    x = torch.randint(0, 30, (2, 16), generator=torch.Generator().manual_seed(0))
    grads = {}
    for gate_input in ("inertial", "detached"):
        torch.manual_seed(0)
        model = TGNLanguageModel(TGNConfig(vocab_size=30, context=16, d_model=16, n_layers=1, n_heads=2, gate_input=gate_input))
        model.blocks[0].gate.weight.data.normal_()  # the gate reads its input (its weight starts at zero)
        out = model(x)
        torch.stack([s.gate_soft.mean() for s in out.gates]).mean().backward()  # the lambda penalty's term alone
        grads[gate_input] = model.blocks[0].inertial.net.weight_ih_l0.grad
    assert grads["inertial"] is not None and grads["inertial"].abs().sum() > 0
    assert grads["detached"] is None or grads["detached"].abs().sum() == 0
    with pytest.raises(ValueError, match="gate_input='sideways'"):
        TGNConfig(gate_input="sideways")
