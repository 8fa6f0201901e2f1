"""Exercises of notebook 01 (autoregressive pixels): zero padding, the chain rule, drawing a colour."""

from __future__ import annotations

import torch

from lecturekit.exercises import Args, Exercise, register
from lecturekit.i18n import N_
from lecturekit.models.tiny import draw_colour, pad_prefix


def image_log_prob(step_probs: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """log p(image) by the chain rule: the sum over steps of log p(pixel t | pixels before t).

    step_probs (B, T, K): at step t, the model's probabilities of each colour for pixel t;
    images (B, T): the colours the images really have. Returns (B,) natural logs."""
    picked = step_probs.gather(-1, images.unsqueeze(-1)).squeeze(-1)  # (B, T)
    return torch.log(picked).sum(dim=1)


def _pad_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases: list[Args] = []
    for t in (0, 3, 8) if seed == 0 else (int(torch.randint(0, 9, (1,), generator=g)), 1, 7):
        batch = int(torch.randint(1, 5, (1,), generator=g))
        cases.append((torch.rand(batch, t, 3, generator=g) * 0.9 + 0.1, 8))
    # another number of slots (a 2x2 or 4x4 world): nothing in the function should say 8
    slots = int(torch.randint(3, 16, (1,), generator=g))
    cases.append((torch.rand(2, slots - 2, 3, generator=g) * 0.9 + 0.1, slots))
    return cases


def _chain_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases: list[Args] = []
    for _i in range(3):
        batch = int(torch.randint(1, 6, (1,), generator=g))
        steps = int(torch.randint(2, 10, (1,), generator=g))
        k = int(torch.randint(2, 14, (1,), generator=g))
        probs = torch.softmax(torch.randn(batch, steps, k, generator=g) * 2, dim=-1)
        images = torch.randint(0, k, (batch, steps), generator=g)
        cases.append((probs, images))
    return cases


def _draw_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases: list[Args] = []
    for _i in range(3):
        batch = int(torch.randint(1, 40, (1,), generator=g))
        k = int(torch.randint(2, 14, (1,), generator=g))
        probs = torch.softmax(torch.randn(batch, k, generator=g) * 2, dim=-1)
        u = torch.rand(batch, generator=g) * 0.999
        cases.append((probs, u))
    # a certain colour: probability 1 on one colour must always give that colour
    k = 5
    probs = torch.zeros(4, k)
    probs[torch.arange(4), torch.tensor([0, 2, 4, 1])] = 1.0
    cases.append((probs, torch.tensor([0.0, 0.3, 0.6, 0.99])))
    return cases


register(
    Exercise(
        name="nb01.pad_prefix",
        function="pad_prefix",
        reference=pad_prefix,
        cases=_pad_cases,
        hint=N_(
            "flatten the (B, t, 3) prefix to (B, t*3) and append (n_slots - t)*3 zeros per row with torch.cat "
            "(prefix_rgb.new_zeros(...) makes zeros of the right dtype); t can be 0."
        ),
    )
)

register(
    Exercise(
        name="nb01.image_log_prob",
        function="image_log_prob",
        reference=image_log_prob,
        cases=_chain_cases,
        hint=N_(
            "pick the probability of the true colour at every step (step_probs.gather(-1, images.unsqueeze(-1)) or "
            "fancy indexing), take torch.log, and sum over the steps (dim=1): log of a product = sum of logs."
        ),
    )
)

register(
    Exercise(
        name="nb01.draw_colour",
        function="draw_colour",
        reference=draw_colour,
        cases=_draw_cases,
        hint=N_(
            "cdf = torch.cumsum(probs, dim=-1); the colour is the number of cdf entries <= u "
            "((cdf <= u[:, None]).sum(-1)), i.e. the first colour whose cumulative probability exceeds u."
        ),
    )
)
