"""Sentence VAE rows (notebook 06): held-out NLL and KL, active units, reconstruction accuracy,
grammaticality of interpolations and prior samples, and the notebook's run time.

All figures use the shipped weights (data/weights/sentence_vae.pt) and the corpus's held-out split.
- sentence_vae_test_nll_per_sentence: negative ELBO (reconstruction NLL with one sampled code + KL),
  nats per sentence, an upper bound on -log p(sentence); seeded.
- sentence_vae_test_kl: mean KL(q(z|x) || N(0, I)) per held-out sentence, nats (0 would be collapse).
- sentence_vae_active_units: code dimensions whose posterior mean varies across held-out sentences
  (variance > 0.01).
- sentence_vae_reconstruction_token_accuracy: greedy decoding from the posterior mean, compared
  word by word with the sentence (</s> included; a shorter output is wrong from where it stops).
- interpolation_grammatical_share: share of all decoded sentences (greedy, 7 equally spaced codes,
  both ends included) on the paths of the lecture pair and 50 seeded random held-out pairs that the
  kit's grammar derives (lecturekit.corpus.is_grammar_sentence: a parse, not a lookup).
"""

from __future__ import annotations

from notebook_timing import notebook_seconds


def _figures() -> dict[str, tuple[float, str]]:
    import torch

    import lecturekit
    from lecturekit.corpus import LECTURE_SENTENCES, load_corpus
    from lecturekit.models import sentence_vae as sv

    torch.set_num_threads(1)  # small batches, word by word: one thread is fastest (and fair on a shared CPU)
    model = lecturekit.load_pretrained("sentence_vae")
    test = load_corpus("test")
    train = set(load_corpus("train"))
    figures = sv.evaluate(model, test, seed=0)
    paths = sv.interpolation_sentences(model, test, n_pairs=50, n_steps=7, seed=0)
    flat = [s for path in paths for s in path]
    lecture = sv.interpolate(model, *LECTURE_SENTENCES, 7)
    prior = sv.sample_prior(model, 200, seed=0)
    history = model.checkpoint["extra"].get("history", {})
    return {
        "sentence_vae_test_nll_per_sentence": (figures["nll_per_sentence"], "nats"),
        "sentence_vae_test_nll_per_word": (figures["nll_per_word"], "nats"),
        "sentence_vae_test_kl": (figures["kl"], "nats"),
        "sentence_vae_active_units": (figures["active_units"], "dims"),
        "sentence_vae_reconstruction_token_accuracy": (figures["token_accuracy"], "share"),
        "interpolation_grammatical_share": (sv.grammatical_share(flat), "share"),
        "interpolation_grammatical_share_lecture_pair": (sv.grammatical_share(lecture), "share"),
        "sentence_vae_prior_sample_grammatical_share": (sv.grammatical_share(prior), "share"),
        "sentence_vae_prior_sample_novel_share": (sum(s not in train for s in prior) / len(prior), "share"),
        "sentence_vae_train_seconds": (float(history.get("seconds", float("nan"))), "s"),
    }


BENCHMARKS = [
    (
        (
            "sentence_vae_test_nll_per_sentence",
            "sentence_vae_test_nll_per_word",
            "sentence_vae_test_kl",
            "sentence_vae_active_units",
            "sentence_vae_reconstruction_token_accuracy",
            "interpolation_grammatical_share",
            "interpolation_grammatical_share_lecture_pair",
            "sentence_vae_prior_sample_grammatical_share",
            "sentence_vae_prior_sample_novel_share",
            "sentence_vae_train_seconds",
        ),
        _figures,
    ),
    (("notebook_seconds_06",), lambda: {"notebook_seconds_06": (notebook_seconds("06_sentence_vae"), "s")}),
]
