"""The sentence VAE: its pieces, decoding, training on any sentence file, and the shipped weights."""

from __future__ import annotations

import math

import pytest
import torch

from lecturekit.corpus import Vocab, is_grammar_sentence
from lecturekit.models import sentence_vae as sv

SENTENCES = [
    "i went to the store to buy some milk",
    "she went to the park with her dog",
    "we went to the store to buy some bread",
    "don't worry about it, she said",
    "he bought some apples at the market",
    "they walked to the park after lunch",
    "i'm going to the bank tomorrow",
    "my sister went to the library to read",
] * 4


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return sv.build_vocab(SENTENCES)


@pytest.fixture(scope="module")
def tiny(vocab: Vocab) -> sv.SentenceVAE:
    torch.manual_seed(0)
    model = sv.SentenceVAE(len(vocab), embed_dim=16, hidden_dim=24, latent_dim=4, max_len=12)
    model.vocab = vocab
    return model.eval()


def test_forward_shapes_and_teacher_forcing(tiny: sv.SentenceVAE, vocab: Vocab) -> None:
    ids, lengths = sv.encode_batch(SENTENCES[:3], vocab, tiny.max_len)
    assert ids[0, lengths[0] - 1] == sv.EOS and (ids[0, lengths[0] :] == sv.PAD).all()
    logits, mean, log_var = tiny(ids, lengths)
    assert logits.shape == (3, ids.shape[1], len(vocab))
    assert mean.shape == log_var.shape == (3, 4)
    inputs = sv.decoder_inputs(ids)
    assert (inputs[:, 0] == sv.BOS).all() and torch.equal(inputs[:, 1:], ids[:, :-1])


def test_padding_does_not_change_the_code(tiny: sv.SentenceVAE, vocab: Vocab) -> None:
    short = sv.encode_sentences(tiny, [SENTENCES[0]], vocab)[0]
    padded = sv.encode_sentences(tiny, [SENTENCES[0], "my sister went to the library to read every day"], vocab)[0]
    assert torch.allclose(short[0], padded[0], atol=1e-5)


def test_gaussian_kl_matches_torch_distributions() -> None:
    g = torch.Generator().manual_seed(1)
    mean, log_var = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    q = torch.distributions.Normal(mean, (0.5 * log_var).exp())
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    want = torch.distributions.kl_divergence(q, p).sum(-1)
    assert torch.allclose(sv.gaussian_kl(mean, log_var), want, atol=1e-5)
    assert float(sv.gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)).abs().max()) == 0.0


def test_kl_weight_schedule() -> None:
    assert sv.kl_weight(0, 100) == 0.0
    assert sv.kl_weight(50, 100) == pytest.approx(0.5)
    assert sv.kl_weight(100, 100) == 1.0 and sv.kl_weight(10_000, 100) == 1.0
    assert sv.kl_weight(0, 0) == 1.0  # no annealing


def test_interpolate_codes_includes_both_ends_equally_spaced() -> None:
    a, b = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    path = sv.interpolate_codes(a, b, 5)
    assert path.shape == (5, 2)
    assert torch.equal(path[0], a) and torch.allclose(path[-1], b)
    steps = path[1:] - path[:-1]
    assert torch.allclose(steps, steps[0].expand_as(steps))


def test_greedy_next_tokens_pads_finished_sentences() -> None:
    logits = torch.tensor([[0.1, 3.0, 0.2], [2.0, 0.0, 5.0]])
    out = sv.greedy_next_tokens(logits, torch.tensor([False, True]))
    assert out.dtype == torch.long and out.tolist() == [1, 0]


def test_beam_search_finds_the_sentence_greedy_misses() -> None:
    """Word 3 is the likelier first word, but only word 4 is followed by a sure </s>: greedy takes 3, a beam of
    two finds 4 (its log-probability per word is higher)."""
    after = {(sv.BOS,): [0.6, 0.4], (sv.BOS, 3): [0.5, 0.3, 0.2], (sv.BOS, 4): [0.95, 0.03, 0.02]}

    def next_log_probs(prefixes: torch.Tensor) -> torch.Tensor:
        rows = []
        for prefix in prefixes.tolist():
            p = after.get(tuple(prefix), [0.9, 0.05, 0.05])
            probs = [0.0, 0.0, 0.0, *p] if len(p) == 2 else [0.0, 0.0, *p]
            rows.append(torch.tensor(probs).log())
        return torch.stack(rows)

    assert sv.beam_search(next_log_probs, beam_size=1, max_len=5).tolist() == [3]  # greedy
    assert sv.beam_search(next_log_probs, beam_size=2, max_len=5).tolist() == [4]


def test_log_prob_per_word_is_the_score_beam_search_ranks_by(tiny: sv.SentenceVAE) -> None:
    z = torch.randn(2, 4, generator=torch.Generator().manual_seed(1))
    sentences = sv.decode_codes(tiny, z, method="beam", beam_size=3)
    scores = sv.log_prob_per_word(tiny, z, sentences)
    for i, sentence in enumerate(sentences):
        ids = [*tiny.vocab.encode(sentence), sv.EOS]
        words = sv.NextWords(tiny, z[i])
        total = sum(float(words(torch.tensor([[sv.BOS, *ids[:t]]]))[0, w]) for t, w in enumerate(ids))
        assert float(scores[i]) == pytest.approx(total / len(ids), abs=1e-4)


def test_word_dropout_replaces_words_only() -> None:
    ids = torch.tensor([[sv.BOS, 7, 8, 9, sv.PAD], [sv.BOS, 5, sv.PAD, sv.PAD, sv.PAD]])
    assert torch.equal(sv.apply_word_dropout(ids, 0.0), ids)
    all_unk = sv.apply_word_dropout(ids, 1.0)
    assert all_unk.tolist() == [[sv.BOS, 3, 3, 3, sv.PAD], [sv.BOS, 3, sv.PAD, sv.PAD, sv.PAD]]
    with pytest.raises(sv.SentenceError, match="word dropout rate"):
        sv.apply_word_dropout(ids, 1.5)


def test_decoding_methods(tiny: sv.SentenceVAE) -> None:
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    greedy = tiny.decode(z)
    assert greedy == tiny.decode(z) and len(greedy) == 3
    assert all(len(row) <= tiny.max_len and sv.EOS not in row and sv.PAD not in row for row in greedy)
    assert tiny.decode(z, method="beam", beam_size=1) == greedy  # beam of one is greedy
    assert len(tiny.decode(z, method="beam", beam_size=4)) == 3
    draws = [
        tiny.decode(z, method="sample", temperature=1.5, generator=torch.Generator().manual_seed(s)) for s in range(4)
    ]
    assert len({str(d) for d in draws}) > 1  # samples differ
    assert draws[0] == tiny.decode(z, method="sample", temperature=1.5, generator=torch.Generator().manual_seed(0))
    with pytest.raises(sv.SentenceError, match="unknown decoding method"):
        tiny.decode(z, method="topk")
    with pytest.raises(sv.SentenceError, match="codes must have shape"):
        tiny.decode(torch.zeros(2, 7))


def test_decode_accepts_a_choice_function(tiny: sv.SentenceVAE) -> None:
    z = torch.zeros(2, 4)
    always_end = lambda logits, finished: torch.full((logits.shape[0],), sv.EOS)
    assert tiny.decode(z, choose=always_end) == [[], []]


def test_empty_sentence_and_unknown_words(tiny: sv.SentenceVAE, vocab: Vocab) -> None:
    with pytest.raises(sv.SentenceError, match="empty"):
        sv.encode_sentences(tiny, ["   "], vocab)
    assert sv.check_sentence("i went to the zoo", vocab) == ["zoo"]
    with pytest.raises(sv.SentenceError, match="at least 2"):
        sv.interpolate(tiny, SENTENCES[0], SENTENCES[1], 1, vocab)


@pytest.mark.slow
def test_training_lowers_the_loss_and_logs_kl(vocab: Vocab) -> None:
    model, _, history = sv.train_sentence_vae(
        SENTENCES,
        SENTENCES[:4],
        vocab,
        embed_dim=16,
        hidden_dim=32,
        latent_dim=4,
        max_len=12,
        max_steps=60,
        batch_size=8,
        warmup_steps=30,
        word_dropout=0.0,
        progress_bar=False,
        lr=5e-3,
    )
    recon = [s["recon"] for s in history.steps]
    assert len(recon) == 60
    assert sum(recon[-10:]) / 10 < 0.6 * sum(recon[:10]) / 10
    assert history.steps[0]["kl_weight"] == 0.0 and history.steps[-1]["kl_weight"] == 1.0
    figures = sv.evaluate(model, SENTENCES[:8], vocab)
    assert set(figures) >= {"nll_per_sentence", "kl", "active_units", "token_accuracy"}
    assert math.isfinite(figures["nll_per_sentence"]) and figures["kl"] >= 0


def test_train_main_on_any_sentence_file(tmp_path, capsys) -> None:
    text = tmp_path / "ptb_style.txt"
    text.write_text("\n".join(s.replace("'", " '") for s in SENTENCES) + "\n\n")
    out = tmp_path / "svae.pt"
    code = sv.train_main(
        [
            "--text",
            str(text),
            "--steps",
            "20",
            "--out",
            str(out),
            "--quiet",
            "--hidden-dim",
            "32",
            "--embed-dim",
            "16",
            "--latent-dim",
            "4",
            "--batch-size",
            "8",
            "--threads",
            "1",
        ]
    )
    assert code == 0, capsys.readouterr().err
    from lecturekit.checkpoints import load_checkpoint

    model, blob = load_checkpoint(out, kind="sentence_vae")
    vocab = Vocab.from_dict(blob["extra"]["vocab"])
    assert blob["meta"]["fingerprints"]["vocab"] == vocab.fingerprint()
    assert blob["extra"]["train"]["text"] == str(text)
    model.checkpoint = blob
    assert len(sv.reconstruct(model, ["she went to the park"])) == 1  # vocab comes from the checkpoint


def test_train_main_refuses_a_file_without_sentences(tmp_path, capsys) -> None:
    text = tmp_path / "one.txt"
    text.write_text("just one line\n")
    assert sv.train_main(["--text", str(text), "--steps", "1", "--out", str(tmp_path / "x.pt")]) == 2
    assert "at least 2" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- shipped weights
@pytest.fixture(scope="module")
def shipped() -> sv.SentenceVAE:
    import lecturekit

    return lecturekit.load_pretrained("sentence_vae")


def test_shipped_model_has_its_vocab_and_a_live_code(shipped: sv.SentenceVAE) -> None:
    vocab = shipped.vocab
    assert shipped.checkpoint["meta"]["fingerprints"]["vocab"] == vocab.fingerprint()
    from lecturekit.corpus import LECTURE_SENTENCES

    assert vocab.unknown_words(" ".join(LECTURE_SENTENCES)) == []
    metrics = shipped.checkpoint["meta"]["metrics"]
    assert metrics["kl"] > 2.0 and metrics["active_units"] >= 4  # no posterior collapse


def test_shipped_model_reconstructs_and_interpolates(shipped: sv.SentenceVAE) -> None:
    from lecturekit.corpus import LECTURE_SENTENCES, load_corpus

    test = load_corpus("test")[:100]
    figures = sv.evaluate(shipped, test)
    assert figures["token_accuracy"] > 0.5 and figures["kl"] > 2.0
    path = sv.interpolate(shipped, *LECTURE_SENTENCES, 7)
    assert len(path) == 7 and path[0] != path[-1]
    assert sum(is_grammar_sentence(s) for s in path) >= 4
    prior = sv.sample_prior(shipped, 6, seed=0)
    assert len(set(prior)) > 1 and prior == sv.sample_prior(shipped, 6, seed=0)


# ------------------------------------------------------------------------------------------- exercises
def test_exercises_accept_the_reference_and_catch_mistakes(capsys) -> None:
    from lecturekit.exercises import ExerciseNotDone, WrongAnswer, check, yours_or_reference

    check("nb06.kl_weight", sv.kl_weight, hidden=True)
    check("nb06.interpolate_codes", sv.interpolate_codes, hidden=True)
    check("nb06.greedy_next_tokens", sv.greedy_next_tokens, hidden=True)
    with pytest.raises(WrongAnswer, match="warmup_steps <= 0"):  # forgot the no-annealing case
        check("nb06.kl_weight", lambda step, warm: min(1.0, step / max(warm, 1)) if warm else 0.0)
    with pytest.raises(WrongAnswer, match="shape"):  # left out the end point
        check("nb06.interpolate_codes", lambda a, b, n: a + torch.arange(n - 1)[:, None] / n * (b - a))
    with pytest.raises(WrongAnswer, match="padding id"):  # forgot the padding of finished sentences
        check("nb06.greedy_next_tokens", lambda logits, finished: logits.argmax(-1))

    def not_done(*args):
        raise NotImplementedError()

    with pytest.raises(ExerciseNotDone):
        check("nb06.kl_weight", not_done)
    assert yours_or_reference("nb06.kl_weight", not_done) is sv.kl_weight
    assert "not written yet" in capsys.readouterr().out
    assert yours_or_reference("nb06.kl_weight", sv.kl_weight) is sv.kl_weight
