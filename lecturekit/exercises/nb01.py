"""Exercises of notebook 01 (autoregressive pixels): zero padding, the chain rule, drawing a colour, and the
whole drawing loop (`draw_pictures`, the substantial one). Each compare names the typical mistakes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from lecturekit.exercises import (
    Args,
    Exercise,
    Mistake,
    compare_values,
    fresh_copy,
    named_mistake,
    register,
    to_numpy,
)
from lecturekit.i18n import N_, _
from lecturekit.models.tiny import N_COLORS, N_PIXELS, TinyRNN, draw_colour, draw_pictures, pad_prefix


def image_log_prob(step_probs: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """log p(image) by the chain rule: the sum over steps of log p(pixel t | pixels before t).

    step_probs (B, T, K): at step t, the model's probabilities of each colour for pixel t;
    images (B, T): the colours the images really have. Returns (B,) natural logs."""
    picked = step_probs.gather(-1, images.unsqueeze(-1)).squeeze(-1)  # (B, T)
    return torch.log(picked).sum(dim=1)


# ----------------------------------------------------------------------------- cases
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
        batch = int(torch.randint(2, 6, (1,), generator=g))
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
    # u exactly on a cumulative probability: the colour is the first whose cumulative probability EXCEEDS u
    probs = torch.tensor([[0.25, 0.25, 0.5], [0.5, 0.25, 0.25], [0.125, 0.375, 0.5]])
    cases.append((probs, torch.tensor([0.25, 0.5, 0.5])))
    cases.append(_rounding_case(g))
    return cases


def _rounding_case(g: torch.Generator) -> Args:
    """Rows whose float32 cumulative sum ends just below 1, with u on that sum (u < 1, so a possible draw):
    without the final clamp the index comes out as K, a colour that does not exist."""
    k = int(torch.randint(5, 14, (1,), generator=g))
    probs = torch.softmax(torch.randn(256, k, generator=g) * 2, dim=-1)
    total = torch.cumsum(probs, dim=-1)[:, -1]
    short = torch.nonzero(total < 1).squeeze(1)[:6]
    probs = torch.cat([probs[short], probs[:2]])
    u = torch.cat([total[short], torch.rand(2, generator=g)])
    return (probs, u)


def _random_tiny(hidden: int, g: torch.Generator) -> torch.nn.Module:
    """A small tiny-world RNN with seeded random weights (peaked softmaxes, so the temperature matters). Not the
    MLP: its input is made by `pad_prefix`, an exercise's reference, which a grading kernel does not have."""
    with torch.random.fork_rng(devices=[]):
        model = TinyRNN(hidden=hidden)
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.7 if name.startswith("head") else 0.4
            p.copy_(torch.randn(p.shape, generator=g) * scale)
    return model.eval()


def _draw_pictures_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases: list[Args] = []
    lengths = (0, 3, 6) if seed == 0 else tuple(int(v) for v in torch.randint(0, 8, (3,), generator=g))
    for hidden, t, temperature in zip((8, 16, 24), lengths, (1.0, 0.5, 2.0)):
        model = _random_tiny(hidden, g)
        batch = int(torch.randint(6, 12, (1,), generator=g))
        prefix = torch.randint(1, N_COLORS, (batch, t), generator=g)
        cases.append(
            (model, prefix, temperature, torch.Generator().manual_seed(int(torch.randint(0, 10**6, (1,), generator=g))))
        )
    return cases


# ----------------------------------------------------------------------------- compares (naming the mistakes)
def _log_prob_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    step_probs, images = args
    log_picked = torch.log(step_probs.gather(-1, images.unsqueeze(-1)).squeeze(-1))
    known = [
        (lambda: -want, N_("the sign is flipped: log p(picture) is negative (a log of probabilities below 1)")),
        (
            lambda: log_picked.mean(dim=1),
            N_("you averaged over the steps: log p(picture) is the SUM of the steps' logs"),
        ),
        (lambda: want / math.log(2), N_("that is log base 2: return natural logs (torch.log)")),
        (lambda: torch.exp(want), N_("that is p(picture), a product of probabilities: return its log")),
        (
            lambda: torch.log(step_probs).sum(dim=(1, 2)),
            N_("you added the logs of every colour's probability: pick the TRUE colour's probability at each step"),
        ),
    ]
    return named_mistake(got, known) or problem


def _pad_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    prefix, n_slots = args
    batch, t, _three = prefix.shape
    zeros = prefix.new_zeros(batch, (n_slots - t) * 3)
    known = [
        (lambda: torch.cat([zeros, prefix.reshape(batch, -1)], dim=1), N_("the zeros come after the drawn pixels")),
        (
            lambda: torch.cat([prefix.transpose(1, 2).reshape(batch, -1), zeros], dim=1),
            N_("the numbers are in the wrong order: pixel 0's R, G, B first, then pixel 1's (no transpose)"),
        ),
        (lambda: torch.cat([prefix.reshape(batch, -1), zeros + 1], dim=1), N_("the empty slots must hold zeros")),
    ]
    mistake = named_mistake(got, known)
    arr = to_numpy(got)
    if mistake is None and isinstance(arr, np.ndarray) and arr.ndim == 2 and arr.shape[1] == 8 * 3 != n_slots * 3:
        mistake = Mistake(_("the result has 8 slots whatever n_slots says: use n_slots"))
    return mistake or problem


def _draw_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    probs, u = args
    arr = to_numpy(got)
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "iu" and arr.shape == tuple(u.shape):
        if (arr >= probs.shape[-1]).any():
            return Mistake(
                _(
                    "an index equal to K, a colour that does not exist: rounding can leave the last cumulative "
                    "probability just below 1 with u above it; clamp the index to K - 1"
                )
            )
        if (arr < 0).any():
            return Mistake(_("a negative index: the colour is the number of cumulative probabilities <= u (no - 1)"))
    cdf = torch.cumsum(probs, dim=-1)
    known = [
        (lambda: probs.argmax(dim=-1), N_("you took the most likely colour: the colour must be drawn with u")),
        (
            lambda: (cdf < u[:, None]).sum(-1).clamp(max=probs.shape[-1] - 1),
            N_("u exactly on a cumulative probability: take the first colour whose cumulative probability EXCEEDS u"),
        ),
        (lambda: (torch.cumsum(probs, dim=0) <= u[:, None]).sum(-1).clamp(max=probs.shape[-1] - 1), _CDF_AXIS),
    ]
    return named_mistake(got, known) or problem


_CDF_AXIS = N_("the cumulative sum must run over the colours of a row (the last axis), not down the batch")


def _wrong_drawing(
    model: torch.nn.Module, prefix: torch.Tensor, temperature: float, generator: torch.Generator, mistake: str
) -> torch.Tensor:
    """What a drawing loop with one typical mistake returns (for naming it; withheld in grading kernels)."""
    drawn = prefix.clone()
    steps = N_PIXELS - prefix.shape[1]
    if mistake == "u in advance":
        numbers = list(torch.rand(len(prefix), steps, generator=generator).T)
    elif mistake == "one u":
        numbers = [torch.rand(len(prefix), generator=generator)] * steps
    else:
        numbers = [torch.rand(len(prefix), generator=generator) for _step in range(steps)]
    with torch.no_grad():
        for u in numbers:
            probs = torch.softmax(
                model.next_pixel_logits(prefix if mistake == "no feedback" else drawn) / temperature, -1
            )
            colour = probs.argmax(dim=-1) if mistake == "argmax" else draw_colour(probs, u)
            drawn = torch.cat([drawn, colour[:, None]], dim=1)
    return drawn


def _draw_pictures_shape_mistake(arr: np.ndarray, prefix: torch.Tensor) -> Mistake | None:
    """A picture of the wrong length, or one whose given pixels changed, named."""
    t = prefix.shape[1]
    if arr.ndim != 2 or len(arr) != len(prefix):
        return None
    if t and arr.shape[1] == N_PIXELS + t:
        return Mistake(_("the pictures are longer than 9 pixels: the given pixels count, draw only the missing ones"))
    if t and arr.shape[1] == N_PIXELS - t:
        return Mistake(_("return whole pictures: the given pixels first, then the drawn ones"))
    if arr.shape[1] == N_PIXELS and t and not np.array_equal(arr[:, :t], prefix.numpy()):
        return Mistake(_("the first pixels of each picture must be the given ones, unchanged"))
    return None


def _draw_pictures_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    model, prefix, temperature, generator = args
    arr = to_numpy(got)
    if isinstance(arr, np.ndarray) and (shape := _draw_pictures_shape_mistake(arr, prefix)):
        return shape

    def wrong(mistake: str) -> Any:
        return lambda: _wrong_drawing(model, prefix, temperature, fresh_copy(generator), mistake)

    known = [
        (wrong("argmax"), N_("you took the most likely colour (argmax): draw each colour with draw_colour and u")),
        (wrong("no feedback"), N_("each step must see the pixels drawn so far: append the new pixel and ask again")),
        (wrong("one u"), N_("draw a new u at every step (torch.rand inside the loop)")),
        (wrong("u in advance"), N_("draw u inside the loop, one number per picture per step, in drawing order")),
        (
            lambda: draw_pictures(model, prefix, 1.0 / temperature, fresh_copy(generator)),
            N_("you multiplied the logits by the temperature: divide them by it"),
        ),
        (
            lambda: draw_pictures(model, prefix, 1.0, fresh_copy(generator)),
            N_("the temperature was not used: divide the logits by it before the softmax"),
        ),
    ]
    return named_mistake(got, known) or problem


# ----------------------------------------------------------------------------- the exercises
register(
    Exercise(
        name="nb01.pad_prefix",
        function="pad_prefix",
        reference=pad_prefix,
        cases=_pad_cases,
        compare=_pad_compare,
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
        compare=_log_prob_compare,
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
        compare=_draw_compare,
        hint=N_(
            "cdf = torch.cumsum(probs, dim=-1); the colour is the number of cdf entries <= u "
            "((cdf <= u[:, None]).sum(-1)), i.e. the first colour whose cumulative probability exceeds u; "
            "clamp it to K - 1 (.clamp(max=K - 1)) for float rounding."
        ),
    )
)

register(
    Exercise(
        name="nb01.draw_pictures",
        function="draw_pictures",
        reference=draw_pictures,
        twins=(_wrong_drawing,),
        kernel_needs=("lecturekit.models.tiny.TinyRNN.next_pixel_logits",),  # the answer asks the model
        cases=_draw_pictures_cases,
        compare=_draw_pictures_compare,
        hint=N_(
            "start from a copy of the prefix; while it has fewer than 9 pixels: probabilities = softmax of "
            "model.next_pixel_logits(drawn) / temperature, u = torch.rand(B, generator=generator), "
            "colour = draw_colour(probs, u), and torch.cat it to the right of drawn (under torch.no_grad())."
        ),
    )
)
