import pytest

from tgnlib.tokens import load_token_splits, split_documents, train_bpe


def test_document_split_is_disjoint_complete_and_seeded():
    docs = [f"document {i}" for i in range(100)]
    train, val, test = split_documents(docs, seed=1)
    assert (len(train), len(val), len(test)) == (90, 5, 5)
    assert sorted(train + val + test) == sorted(docs) and not set(train) & set(test)
    assert split_documents(docs, seed=1) == (train, val, test) != split_documents(docs, seed=2)
    with pytest.raises(ValueError, match="fractions"):
        split_documents(docs, (0.5, 0.5, 0.0))


def test_bpe_round_trips_and_is_trained_on_train_only():
    tok = train_bpe(["the cat sat on the mat"] * 20 + ["a dog barked"] * 20, vocab_size=300)
    text = "the cat barked"
    assert tok.decode(tok.encode(text).ids) == text
    assert len(tok.encode("the cat sat on the mat").ids) < len("the cat sat on the mat")


def test_offline_splits_bytes_and_bpe():
    byte_splits = load_token_splits("wiki-offline", tokenizer="bytes", max_docs=200)
    assert byte_splits.vocab_size == 256 and byte_splits.train.max() < 256
    assert "UTF-8 bytes" in byte_splits.description and "200 documents" in byte_splits.description
    bpe = load_token_splits("shakespeare", tokenizer="bpe", vocab_size=512)
    assert bpe.vocab_size <= 512 and bpe.train.max() < bpe.vocab_size and len(bpe.test) > 0
    assert len(bpe.train) > 10 * len(bpe.test)  # 90/5/5 by play
    with pytest.raises(ValueError, match="validation split is empty"):
        load_token_splits("shakespeare", tokenizer="bytes", max_docs=6)  # 5% of 6 plays rounds to none
    with pytest.raises(ValueError, match="'words'"):
        load_token_splits(tokenizer="words")
