"""Exercises of notebook 06 (sentence VAE): the KL annealing schedule, one greedy decoding step, beam search,
and the lecture's interpolation between two codes."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from lecturekit.exercises import Args, Exercise, Mistake, compare_values, register, to_numpy
from lecturekit.i18n import N_, _
from lecturekit.models.sentence_vae import (
    BOS,
    EOS,
    PAD,
    beam_search,
    greedy_next_tokens,
    interpolate_codes,
    kl_weight,
)


def _close(a: Any, b: Any) -> bool:
    a, b = np.asarray(to_numpy(a), dtype=np.float64), np.asarray(to_numpy(b), dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-6))


# ----------------------------------------------------------------------------- 1. KL annealing
def _kl_weight_cases(seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    warm = rng.choice([100, 250, 1000, 2500])
    steps = [0, 1, warm // 3, warm // 2, warm - 1, warm, warm + 1, 3 * warm, rng.randrange(0, 2 * warm)]
    cases = [(s, warm) for s in steps]
    cases += [(rng.randrange(1, 500), 0), (0, 0)]  # no annealing: the weight is always 1
    return cases


def _kl_weight_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    step, warm = args
    if warm <= 0:
        return Mistake(_("with warmup_steps <= 0 there is no annealing: the weight is always 1.0"))
    mistakes = (
        (step / warm, N_("after the warm-up the weight stays 1: cap it with min(1, ...)")),
        (min(1.0, (step + 1) / warm), N_("off by one: the weight is step / warmup_steps, 0 at step 0")),
        (float(min(1, step // warm)), N_("integer division (//) rounds down: use step / warmup_steps")),
        (max(0.0, 1.0 - step / warm), N_("the weight rises from 0 to 1, it does not fall")),
    )
    return next((Mistake(_(m)) for value, m in mistakes if _close(got, value)), problem)


register(
    Exercise(
        name="nb06.kl_weight",
        function="kl_weight",
        reference=kl_weight,
        cases=_kl_weight_cases,
        compare=_kl_weight_compare,
        hint=N_(
            "return min(1, step / warmup_steps) as a float; when warmup_steps <= 0 there is no annealing: return 1.0."
        ),
    )
)


# ----------------------------------------------------------------------------- 2. one greedy step
def _greedy_cases(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    cases = []
    for _i in range(3):
        n, v = rng.choice([1, 4, 7]), rng.choice([5, 12, 50])
        logits = torch.randn(n, v, generator=g) * 3
        finished = torch.rand(n, generator=g) < 0.4
        cases.append((logits, finished))
    cases.append((torch.randn(3, 9, generator=g), torch.zeros(3, dtype=torch.bool)))
    cases.append((torch.randn(2, 6, generator=g), torch.ones(2, dtype=torch.bool)))
    cases.append((torch.randn(4, 7, generator=g), torch.tensor([True, False, True, False])))
    return cases


def _greedy_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    logits, finished = args
    g = to_numpy(got)
    if isinstance(g, np.ndarray) and g.shape == tuple(want.shape) and g.dtype.kind in "iu":
        best, worst = logits.argmax(-1), logits.argmin(-1)
        mistakes = (
            (best, N_("finished sentences get the padding id pad_id: torch.where(finished, pad_id, ...)")),
            (torch.where(finished, best, torch.full_like(best, PAD)), N_("the padding goes where finished is True")),
            (
                torch.where(finished, torch.full_like(worst, PAD), worst),
                N_("the best word has the highest score: argmax"),
            ),
        )
        return next((Mistake(_(m)) for value, m in mistakes if np.array_equal(g, value.numpy())), problem)
    return problem


register(
    Exercise(
        name="nb06.greedy_next_tokens",
        function="greedy_next_tokens",
        reference=greedy_next_tokens,
        cases=_greedy_cases,
        compare=_greedy_compare,
        hint=N_(
            "logits.argmax(dim=-1) picks each row's most likely word; torch.where(finished, pad_id, ...) "
            "puts the padding id 0 where the sentence has already ended. Return int64 (torch.long)."
        ),
    )
)


# ----------------------------------------------------------------------------- 3. beam search
class ToyLanguageModel(nn.Module):
    """A small random language model for beam search's cases: the next word's log-probabilities (B, V) of
    prefixes (B, T) that start with <s> (id 1), as the sentence VAE's decoder gives them for one code. Each
    word's probabilities depend on the two words before it (a random trigram table); padding (id 0) and <s>
    are impossible, </s> (id 2) ends a sentence."""

    def __init__(self, vocab_size: int, seed: int, end_bias: float = 0.0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        scores = torch.randn(vocab_size, vocab_size, vocab_size, generator=g) * 1.5
        scores[..., EOS] += end_bias
        scores[..., [PAD, BOS]] = -math.inf
        self.register_buffer("table", torch.log_softmax(scores, dim=-1))

    def forward(self, prefixes: torch.Tensor) -> torch.Tensor:
        prefixes = torch.as_tensor(prefixes, dtype=torch.long)
        before = prefixes[:, -2] if prefixes.shape[1] > 1 else torch.full_like(prefixes[:, 0], PAD)
        return self.table[before, prefixes[:, -1]].clone()


def _beam_cases(seed: int) -> list[Args]:
    """Four random language models, then more drawn until every typical mistake (`BEAM_MISTAKES`) changes the
    answer of at least one case: on a random model most of them find the same sentence as beam search."""
    rng = random.Random(seed + 5)
    cases: list[Args] = []
    missing = set(BEAM_MISTAKES)
    for tries in range(60):
        vocab, beam = rng.choice([7, 9, 12, 20]), rng.choice([2, 3, 4, 5])
        case = (ToyLanguageModel(vocab, rng.randrange(10**6), rng.uniform(-1.0, 1.5)), beam, rng.choice([6, 8, 10]))
        with torch.no_grad():
            right = beam_search(*case).tolist()
            shows = {m for m in missing if beam_search_with_mistake(*case, m) != right}
        if tries < 4 or shows:
            cases.append(case)
            missing -= shows
        if not missing and len(cases) >= 4:
            break
    return cases


def beam_search_with_mistake(
    next_log_probs: Callable[[torch.Tensor], torch.Tensor], beam_size: int, max_len: int, mistake: str
) -> list[int]:
    """`beam_search` with one typical mistake made (`BEAM_MISTAKES` names them): what a student's search
    that makes it returns, so the compare can name it."""
    if mistake == "greedy":
        return beam_search(next_log_probs, 1, max_len).tolist()
    divide: dict[str, Callable[[int], float]] = {
        "no length division": lambda words: 1.0,
        "divided by the words": lambda words: max(words, 1),
    }
    beams: list[tuple[float, list[int]]] = [(0.0, [BOS])]
    finished: list[tuple[float, list[int]]] = []
    for _step in range(max_len):
        log_p = next_log_probs(torch.tensor([p for _s, p in beams], dtype=torch.long)).float()
        scores = torch.tensor([s for s, _p in beams]).unsqueeze(1) + log_p
        top = torch.topk(scores.flatten(), min(beam_size, scores.numel()))
        live = []
        for score, flat in zip(top.values.tolist(), top.indices.tolist()):
            b, word = divmod(flat, log_p.shape[1])
            words = beams[b][1][1:]
            if word == EOS:
                finished.append((score / divide.get(mistake, lambda n: n + 1)(len(words)), words))
            else:
                live.append((score, beams[b][1] + [word]))
        if not live or len(finished) >= (1 if mistake == "stops at the first" else beam_size):
            break
        beams = live
    if not finished:
        finished = [(s / max(len(p) - 1, 1), p[1:]) for s, p in beams]
    return max(finished, key=lambda f: f[0])[1]


BEAM_MISTAKES = {
    "greedy": N_("that is the greedy sentence: keep the beam_size best candidates at every step, not only the best"),
    "no length division": N_(
        "compare finished sentences by their score divided by their length (words and </s>): the plain sum of "
        "log-probabilities favours short sentences"
    ),
    "divided by the words": N_("divide a finished sentence's score by its words plus one, for its </s>"),
    "stops at the first": N_(
        "a finished sentence leaves the beam and the search goes on: stop when beam_size sentences have finished"
    ),
}


def _beam_compare(got: Any, want: Any, args: Args) -> str | None:
    g, w = to_numpy(got), to_numpy(want)
    if not isinstance(g, np.ndarray) or g.ndim != 1:
        return Mistake(_("return the word ids as a 1-d tensor: torch.tensor(words, dtype=torch.long)"))
    if g.size and g.dtype.kind not in "iu":
        return Mistake(_("expected integer word ids (torch.long), got floating-point numbers"))
    words, wanted = g.tolist(), w.tolist()
    if words == wanted:
        return None
    if words in ([BOS, *wanted], [BOS, *wanted, EOS]):
        return Mistake(_("leave <s> out of the returned sentence (and </s>)"))
    if words == [*wanted, EOS]:
        return Mistake(_("leave </s> out of the returned sentence"))
    lm, beam_size, max_len = args
    with torch.no_grad():
        for mistake, message in BEAM_MISTAKES.items():
            if words == beam_search_with_mistake(lm, beam_size, max_len, mistake):
                return Mistake(_(message))
    return _("not the sentence beam search finds: expected {n} words, got {m}").format(n=len(wanted), m=len(words))


register(
    Exercise(
        name="nb06.beam_search",
        function="beam_search",
        reference=beam_search,
        twins=(beam_search_with_mistake,),
        cases=_beam_cases,
        compare=_beam_compare,
        hint=N_(
            "beams = [(0.0, [1])]; each step: log_p = next_log_probs(torch.tensor([prefix for _, prefix in beams])), "
            "scores = beam scores[:, None] + log_p, torch.topk(scores.flatten(), beam_size); divmod(index, V) gives "
            "the beam and the word; a word 2 (</s>) finishes the sentence with score / (its words + 1), the others "
            "are the next beams. Stop when beam_size have finished, none is live, or after max_len steps."
        ),
    )
)


# ----------------------------------------------------------------------------- 4. interpolation
def _interp_cases(seed: int) -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    cases = []
    for n_steps in (2, rng.choice([5, 7, 9]), rng.choice([3, 4, 6, 11])):
        d = rng.choice([2, 8, 16, 32])
        cases.append((torch.randn(d, generator=g), torch.randn(d, generator=g), n_steps))
    return cases


def _interp_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    z_a, z_b, n = args
    g = np.asarray(to_numpy(got), dtype=np.float64) if isinstance(to_numpy(got), np.ndarray) else None
    if g is None:
        return problem
    if g.shape == (z_a.numel(), n):
        return Mistake(_("one row per step: the result has shape (n_steps, d), transpose yours"))
    t_open = torch.arange(n, dtype=z_a.dtype)[:, None] / n
    mistakes = (
        (
            z_b[None] + torch.linspace(0, 1, n)[:, None] * (z_a - z_b)[None],
            N_("the path runs from z_b to z_a: row 0 is z_a"),
        ),
        (
            z_a[None] + t_open * (z_b - z_a)[None],
            N_("both ends are included: t runs from 0 to 1 (torch.linspace(0, 1, n_steps))"),
        ),
        (z_a[None] + torch.linspace(0, 1, n)[:, None] * z_b[None], N_("the step is t * (z_b - z_a), not t * z_b")),
    )
    return next((Mistake(_(m)) for value, m in mistakes if _close(g, value)), problem)


register(
    Exercise(
        name="nb06.interpolate_codes",
        function="interpolate_codes",
        reference=interpolate_codes,
        cases=_interp_cases,
        compare=_interp_compare,
        hint=N_(
            "t = torch.linspace(0, 1, n_steps) gives both ends; row i is z_a + t[i] * (z_b - z_a), "
            "shape (n_steps, d). Broadcasting: t[:, None] times (z_b - z_a)[None, :]."
        ),
    )
)
