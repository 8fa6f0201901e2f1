"""Exercises of notebook 06 (sentence VAE): the KL annealing schedule, one greedy decoding step,
and the lecture's interpolation between two codes."""

from __future__ import annotations

import random

import torch

from lecturekit.exercises import Exercise, register
from lecturekit.i18n import N_
from lecturekit.models.sentence_vae import greedy_next_tokens, interpolate_codes, kl_weight


def _kl_weight_cases(seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    warm = rng.choice([100, 250, 1000, 2500])
    steps = [0, 1, warm // 3, warm // 2, warm - 1, warm, warm + 1, 3 * warm, rng.randrange(0, 2 * warm)]
    cases = [(s, warm) for s in steps]
    cases += [(rng.randrange(0, 500), 0), (0, 0)]  # no annealing: the weight is always 1
    return cases


def _interp_cases(seed: int) -> list[tuple[torch.Tensor, torch.Tensor, int]]:
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    cases = []
    for n_steps in (2, rng.choice([5, 7, 9]), rng.choice([3, 4, 6, 11])):
        d = rng.choice([2, 8, 16, 32])
        cases.append((torch.randn(d, generator=g), torch.randn(d, generator=g), n_steps))
    return cases


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
    return cases


register(
    Exercise(
        name="nb06.kl_weight",
        function="kl_weight",
        reference=kl_weight,
        cases=_kl_weight_cases,
        hint=N_(
            "return min(1, step / warmup_steps) as a float; when warmup_steps <= 0 there is no annealing: return 1.0."
        ),
    )
)

register(
    Exercise(
        name="nb06.interpolate_codes",
        function="interpolate_codes",
        reference=interpolate_codes,
        cases=_interp_cases,
        hint=N_(
            "t = torch.linspace(0, 1, n_steps) gives both ends; row i is z_a + t[i] * (z_b - z_a), "
            "shape (n_steps, d). Broadcasting: t[:, None] times (z_b - z_a)[None, :]."
        ),
    )
)

register(
    Exercise(
        name="nb06.greedy_next_tokens",
        function="greedy_next_tokens",
        reference=greedy_next_tokens,
        cases=_greedy_cases,
        hint=N_(
            "logits.argmax(dim=-1) picks each row's most likely word; torch.where(finished, pad_id, ...) "
            "puts the padding id 0 where the sentence has already ended. Return int64 (torch.long)."
        ),
    )
)
