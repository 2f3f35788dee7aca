from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from tgnlib.tgn.mqar import IGNORE, MQARTask
from tgnlib.tgn.probe import mqar_accuracy


def test_sequences_ask_for_every_key_and_score_only_the_values():
    task = MQARTask(seq_len=64, n_pairs=8, vocab_size=64, seed=0)
    b = task.sample(32)
    assert b.inputs.shape == b.targets.shape == (32, 64) and b.query_position.shape == (32, 8)
    for i in range(32):
        pairs = {int(b.inputs[i, 2 * j]): int(b.inputs[i, 2 * j + 1]) for j in range(8)}
        assert len(pairs) == 8 and all(1 <= key < 32 <= v < 64 for key, v in pairs.items())
        for j, q in enumerate(b.query_position[i].tolist()):
            key = int(b.inputs[i, q])
            assert key == int(b.inputs[i, 2 * j]) and int(b.targets[i, q]) == pairs[key]
            assert int(b.distance[i, j]) == q - 2 * j > 0
        assert (b.targets[i] != IGNORE).sum() == 8
    # deterministic for a seed
    assert torch.equal(MQARTask(64, 8, 64, seed=3).sample(4).inputs, MQARTask(64, 8, 64, seed=3).sample(4).inputs)
    with pytest.raises(ValueError, match="4 \\* n_pairs <= seq_len"):
        MQARTask(seq_len=16, n_pairs=5)


def test_an_oracle_scores_one_and_a_blind_model_scores_chance():
    task = MQARTask(seq_len=64, n_pairs=8, vocab_size=64, seed=1)

    class Oracle(torch.nn.Module):  # looks the key up among the first pairs: perfect recall
        def forward(self, x):
            logits = torch.zeros(*x.shape, 64)
            for i in range(x.shape[0]):
                pairs = {int(x[i, 2 * j]): int(x[i, 2 * j + 1]) for j in range(8)}
                for t in range(16, x.shape[1]):
                    if int(x[i, t]) in pairs:
                        logits[i, t, pairs[int(x[i, t])]] = 1.0
            return SimpleNamespace(logits=logits)

    class Blind(torch.nn.Module):  # always the same value
        def forward(self, x):
            return SimpleNamespace(logits=F.one_hot(torch.full(x.shape, 40), 64).float())

    assert mqar_accuracy(Oracle(), task, batches=2, batch_size=16)["accuracy"] == 1.0
    assert mqar_accuracy(Oracle(), task, batches=2, batch_size=16)["long_accuracy"] == 1.0
    assert np.isnan(mqar_accuracy(Oracle(), task, batches=1, batch_size=4, long_from=1000)["long_accuracy"])
    blind = mqar_accuracy(Blind(), task, batches=8, batch_size=64)
    assert blind["accuracy"] < 0.1 and blind["chance"] == pytest.approx(2 / 64)
    assert sum(c for *_, c in blind["by_distance"]) == 8 * 64 * 8


def test_the_training_loop_takes_mqar_as_its_sampler(tmp_path):
    from tgnlib.tgn import TGNConfig
    from tgnlib.tgn.train import TrainConfig, train

    task = MQARTask(seq_len=32, n_pairs=4, vocab_size=32, seed=0)
    history = train(TGNConfig(vocab_size=32, context=32, d_model=16, n_layers=1, n_heads=2, mode="transformer"),
                    TrainConfig(steps=3, batch_size=4, seq_len=32, warmup=1, checkpoint_every=0), task, tmp_path,
                    progress=False)
    assert len(history) == 3 and all(torch.isfinite(torch.tensor(h["ce"])) for h in history)
    assert history[0]["ce"] == pytest.approx(float(torch.log(torch.tensor(32.0))), abs=0.5)  # only values are scored


def test_mqar_accuracy_reads_a_tgn_gate_at_the_queries_and_elsewhere():
    from tgnlib.tgn import TGNConfig, TGNLanguageModel

    task = MQARTask(seq_len=32, n_pairs=4, vocab_size=32, seed=2)
    model = TGNLanguageModel(TGNConfig(vocab_size=32, context=32, d_model=16, n_layers=2, n_heads=2))
    with torch.no_grad():  # a gate that opens exactly on key tokens (ids 1..15), shut elsewhere
        for block in model.blocks:
            block.gate.weight.zero_()
            block.gate.bias.fill_(-8.0)
    is_key = lambda x: (x >= 1) & (x < 16)  # noqa: E731
    original = model.blocks[0].gate.forward
    model.blocks[0].gate.forward = lambda h: original(h) + 16.0 * is_key(current["x"]).unsqueeze(-1)
    current = {}
    real_forward = model.forward

    def forward(x, *a):
        current["x"] = x
        return real_forward(x, *a)

    model.forward = forward
    r = mqar_accuracy(model, MQARTask(32, 4, 32, seed=3), batches=2, batch_size=8, bins=(0, 8, 16, 64))
    assert r["gate_query"].shape == (2, len(r["by_distance"])) and r["gate_other"].shape == (2,)
    assert np.all(r["gate_query"][0] > 0.99) and r["gate_other"][0] < 0.5  # keys open; the other tokens are mostly shut
    assert r["gate_first_key"].shape == r["gate_query"].shape and np.all(r["gate_first_key"][0] > 0.99)  # same tokens, first time
    assert r["gate_position"].shape == r["gate_query"].shape and np.all(r["gate_position"][0] < 0.5)  # fillers at those positions
    assert np.all(r["gate_query"][1] < 0.01)
    transformer = TGNLanguageModel(TGNConfig(vocab_size=32, context=32, d_model=16, n_layers=1, n_heads=2, mode="transformer"))
    assert "gate_query" in mqar_accuracy(transformer, task, batches=1, batch_size=4)  # fixed gates (1) are gates too


def test_with_every_query_slot_taken_the_position_control_has_nothing_to_read():
    from tgnlib.knobs import KnobError
    from tgnlib.knobs.tgn import KNOBS
    from tgnlib.tgn import TGNConfig, TGNLanguageModel

    model = TGNLanguageModel(TGNConfig(vocab_size=32, context=32, d_model=16, n_layers=1, n_heads=2))
    full = mqar_accuracy(model, MQARTask(32, 8, 32, seed=0), batches=1, batch_size=8)  # 8 pairs fill all 8 query slots
    assert np.all(np.isnan(full["gate_position"]))
    spare = mqar_accuracy(model, MQARTask(32, 7, 32, seed=0), batches=1, batch_size=8)  # one slot to spare
    assert np.all(np.isfinite(spare["gate_position"]))
    with pytest.raises(KnobError, match="mqar_pairs"):  # the chapter's 64-token sequences: 16 pairs would fill them
        KNOBS.resolve("ci", {"mqar_pairs": 16})
