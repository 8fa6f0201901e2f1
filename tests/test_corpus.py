"""Behaviour of the sentence corpus: grammar, recogniser, tokens, vocabulary, files and splits."""

from __future__ import annotations

import json
import random

import pytest

from lecturekit import corpus
from lecturekit.corpus import (
    LECTURE_SENTENCES,
    CorpusFormatError,
    Vocab,
    build_corpus,
    detokenize,
    generate_sentences,
    is_grammar_sentence,
    load_corpus,
    read_sentence_file,
    tokenize,
)
from lecturekit.paths import data_dir


@pytest.fixture(scope="module")
def shipped() -> list[str]:
    return load_corpus("all")


def test_generation_is_deterministic_and_distinct():
    a = generate_sentences(500, seed=3)
    assert a == generate_sentences(500, seed=3)
    assert a != generate_sentences(500, seed=4)
    assert len(set(a)) == 500


def test_build_corpus_reproduces_the_shipped_files(tmp_path):
    build_corpus(tmp_path)
    shipped_dir = data_dir() / "corpus"
    for name in ("sentences.txt", "split.json"):
        assert (tmp_path / name).read_bytes() == (shipped_dir / name).read_bytes(), name


def test_shipped_corpus_size_vocab_and_lengths(shipped):
    assert len(shipped) >= 20_000
    assert len(set(shipped)) == len(shipped)
    vocab = Vocab.build(shipped)
    assert len(vocab) - 4 >= 1_000
    lengths = [len(tokenize(s)) for s in shipped]
    assert min(lengths) >= 3 and max(lengths) <= 20
    assert all(s == s.lower() and s == s.strip() for s in shipped)
    # the file is small enough to ship
    assert (data_dir() / "corpus" / "sentences.txt").stat().st_size < 3_000_000


def test_lecture_words_are_in_the_corpus(shipped):
    vocab = Vocab.build(shipped)
    for sentence in LECTURE_SENTENCES:
        assert vocab.unknown_words(sentence) == []


def test_lecture_sentences_are_recognised():
    for sentence in LECTURE_SENTENCES:
        assert is_grammar_sentence(sentence)
    # spacing and case do not matter
    assert is_grammar_sentence("Don't worry about it , she said")


def test_shuffled_word_orders_are_rejected():
    rng = random.Random(0)
    for sentence in LECTURE_SENTENCES:
        tokens = tokenize(sentence)
        for _ in range(30):
            shuffled = tokens[:]
            while shuffled == tokens:
                rng.shuffle(shuffled)
            assert not is_grammar_sentence(detokenize(shuffled)), shuffled
    assert not is_grammar_sentence("i went to the store to buy some")
    assert not is_grammar_sentence("i store to buy some groceries")
    assert not is_grammar_sentence("she go to the store to buy some groceries")  # agreement
    assert not is_grammar_sentence("")
    assert not is_grammar_sentence("zzz qqq xxx")


def test_recogniser_accepts_generated_and_unsampled_sentences(shipped):
    for s in random.Random(1).sample(shipped, 200):
        assert is_grammar_sentence(s), s
    # derivable sentences the shipped sample need not contain (not a membership test)
    fresh = generate_sentences(300, seed=12345)
    assert all(is_grammar_sentence(s) for s in fresh)
    assert is_grammar_sentence("my grandma went to the bakery to buy a birthday cake on the way home")
    assert is_grammar_sentence("where are you going? he asked")


def test_agreement_in_generated_sentences():
    sents = generate_sentences(3000, seed=7)
    bad = (
        "she go ",
        "he go ",
        "i goes",
        "we was ",
        "they was ",
        "i is ",
        "he are ",
        " a apple",
        " a umbrella",
        " an teacher",
        "she have ",
        "he have ",
    )
    for s in sents:
        padded = " " + s + " "
        assert not any(b in padded for b in bad), s


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("don't worry about it, she said", ["don't", "worry", "about", "it", ",", "she", "said"]),
        ("Where are you going? he asked", ["where", "are", "you", "going", "?", "he", "asked"]),
        ("I'm home! It's late.", ["i'm", "home", "!", "it's", "late", "."]),
        ("the company 's <unk> rose N %", ["the", "company", "'s", "<unk>", "rose", "n", "%"]),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_tokenize_detokenize_round_trip(shipped):
    for s in shipped[:2000]:
        assert detokenize(tokenize(s)) == s
    assert detokenize(["i'm", "home", "!", "it's", "late", "."]) == "i'm home! it's late."


def test_vocab_round_trip_and_unknown_words(shipped):
    vocab = Vocab.build(shipped[:5000])
    assert vocab.itos[:4] == ["<pad>", "<s>", "</s>", "<unk>"]
    s = shipped[0]
    ids = vocab.encode(s)
    assert detokenize(vocab.decode(ids)) == s
    assert vocab.encode(tokenize(s)) == ids
    wrapped = vocab.encode(s, add_special=True)
    assert wrapped[0] == 1 and wrapped[-1] == 2
    assert vocab.decode(wrapped + [0, 0]) == tokenize(s)
    assert vocab.decode([1, 5, 2, 6], strip_special=False)[:3] == ["<s>", vocab.itos[5], "</s>"]
    unknown = vocab.unknown_words("i saw a flibbertigibbet and a zorblax, zorblax")
    assert unknown == ["flibbertigibbet", "zorblax"]
    assert vocab.unknown_words("it's late!") == ["!"]  # the corpus has no "!", so it would become <unk>
    assert vocab.encode("flibbertigibbet")[0] == vocab.unk_id
    assert vocab.encode("a <unk> here")[1] == vocab.unk_id
    assert "store" in vocab and "zorblax" not in vocab
    with pytest.raises(ValueError):
        vocab.decode([len(vocab)])


def test_vocab_build_options_and_checkpoint_dict():
    sents = ["a b c", "a b", "a"]
    v = Vocab.build(sents)
    assert v.itos[4:] == ["a", "b", "c"]
    assert Vocab.build(sents, min_count=2).itos[4:] == ["a", "b"]
    assert len(Vocab.build(sents, max_size=5)) == 5
    d = json.loads(json.dumps(v.to_dict()))
    v2 = Vocab.from_dict(d)
    assert v2 == v and v2.fingerprint() == v.fingerprint() and len(v.fingerprint()) == 12
    assert Vocab.build(["a b d"]).fingerprint() != v.fingerprint()
    with pytest.raises(ValueError):
        Vocab.from_dict({"itos": v.itos, "fingerprint": "000000000000"})


def test_read_penn_treebank_style_file(tmp_path):
    path = tmp_path / "ptb.train.txt"
    text = " aer banknote berlitz calloway \n\n the <unk> company 's shares rose N \n"
    path.write_text(text, encoding="utf-8")
    sents = read_sentence_file(path)
    assert sents == ["aer banknote berlitz calloway", "the <unk> company 's shares rose N"]
    vocab = Vocab.build(sents)
    assert "<unk>" in vocab and vocab.itos.count("<unk>") == 1
    assert vocab.encode(sents[1])[1] == vocab.unk_id


@pytest.mark.parametrize(
    "content, line",
    [
        (b"fine line\nanother\n\x00\x01\x02binary", 3),
        (b"ok\nalso ok\n\xff\xfe bad bytes\n", 3),
        (b"", 1),
        (b"\n \n\n", 1),
    ],
)
def test_bad_files_are_refused_with_file_and_line(tmp_path, content, line):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusFormatError) as err:
        read_sentence_file(path)
    assert isinstance(err.value, ValueError)
    assert str(path) in str(err.value) and f"line {line}" in str(err.value)


def test_splits_are_disjoint_and_cover_the_corpus(shipped):
    train, test = load_corpus("train"), load_corpus("test")
    assert len(train) + len(test) == len(shipped)
    assert not set(train) & set(test)
    assert 400 <= len(test) <= 600
    idx = json.loads((data_dir() / "corpus" / "split.json").read_text())["test"]
    assert idx == sorted(set(idx)) and [shipped[i] for i in idx] == test
    with pytest.raises(ValueError, match="split"):
        load_corpus("validation")


def test_module_exports():
    for name in corpus.__all__:
        assert hasattr(corpus, name)
