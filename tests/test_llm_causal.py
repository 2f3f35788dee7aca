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
