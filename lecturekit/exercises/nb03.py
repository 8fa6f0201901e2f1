"""Notebook 03 (PixelRNN): the teacher-forcing shift, the temperature softmax, bits per pixel, and one training
step of the PixelRNN (`training_step`, the substantial one: teacher forcing, the loss in bits, a gradient step,
graded by the model's parameters after the call). Each compare names the typical mistakes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lecturekit.exercises import (
    Args,
    Exercise,
    Mistake,
    argument_state,
    compare_values,
    fresh_copy,
    kind_name,
    named_mistake,
    real_number,
    register,
    to_numpy,
)
from lecturekit.i18n import N_, _
from lecturekit.models.pixelrnn import (
    PixelRNN,
    bits_per_pixel_from_logits,
    teacher_forcing_inputs,
    temperature_probabilities,
)
from lecturekit.units import LN2


def training_step(model: PixelRNN, pixels: torch.Tensor, lr: float) -> torch.Tensor:
    """One step of plain gradient descent on the lecture's PixelRNN (embedding, one LSTM, a linear layer):
    teacher forcing (the input is the sprite shifted right behind the start token), the mean cross-entropy in
    bits per pixel, and every parameter moved by -lr * gradient. Returns the loss before the step."""
    inputs = teacher_forcing_inputs(pixels, model.start_token)
    hidden, _ = model.lstm(model.embedding(inputs))
    logits = model.out(hidden)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), pixels.reshape(-1)) / LN2
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.detach()


# ----------------------------------------------------------------------------- cases
def _shift_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for _i in range(3):
        n = int(torch.randint(1, 6, (1,), generator=g))
        length = int(torch.randint(2, 30, (1,), generator=g))
        k = int(torch.randint(3, 200, (1,), generator=g))
        cases.append((torch.randint(1, k, (n, length), generator=g), k))
    cases.append((torch.tensor([[2]]), 3))  # one pixel: only the start token remains
    return cases


def _temperature_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for temperature in (1.0, 0.5, 2.5, 0.1):
        n = int(torch.randint(2, 5, (1,), generator=g))
        k = int(torch.randint(2, 170, (1,), generator=g))
        cases.append((torch.randn(n, k, generator=g) * 3, temperature))
    cases.append((torch.randn(3, 40, generator=g) * 60, 0.5))  # large logits: exp() overflows unless shifted
    return cases


def _bits_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for scale in (1.0, 4.0, 0.0):
        n = int(torch.randint(1, 5, (1,), generator=g))
        length = int(torch.randint(2, 50, (1,), generator=g))
        k = int(torch.randint(2, 170, (1,), generator=g))
        logits = torch.randn(n, length, k, generator=g) * scale
        cases.append((logits, torch.randint(0, k, (n, length), generator=g)))
    return cases


def _step_cases(seed: int) -> list[Args]:
    """Small PixelRNNs (seeded random weights) on random 3x4 or 4x4 sprites, flattened, with a few rates."""
    g = torch.Generator().manual_seed(seed)
    cases: list[Args] = []
    for height, lr in ((3, 0.5), (4, 1.0), (3 + seed % 2, 2.0)):
        k = int(torch.randint(4, 9, (1,), generator=g))
        with torch.random.fork_rng(devices=[]):
            model = PixelRNN(k, hidden=12, embed=6, height=height, width=4)
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.4)
        n = int(torch.randint(2, 5, (1,), generator=g))
        cases.append((model.train(), torch.randint(0, k, (n, height * 4), generator=g), lr))
    return cases


# ----------------------------------------------------------------------------- compares (naming the mistakes)
def _shift_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    pixels, start_token = args
    arr = to_numpy(got)
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "f":
        return Mistake(_("the inputs are token ids: keep them integers, not floats"))
    start = torch.full_like(pixels[:, :1], start_token)
    known = [
        (lambda: pixels, N_("no shift: at step t the input must be pixel t - 1, or the model sees the answer")),
        (lambda: torch.cat([pixels[:, 1:], start], dim=1), N_("shifted the wrong way: the start token goes FIRST")),
        (
            lambda: torch.cat([torch.zeros_like(start), pixels[:, :-1]], dim=1),
            N_("the first input must be the start token (index K, not a colour), not 0"),
        ),
    ]
    mistake = named_mistake(got, known)
    if mistake is None and isinstance(arr, np.ndarray) and arr.shape == (pixels.shape[0], pixels.shape[1] - 1):
        mistake = Mistake(_("the inputs must be as long as the pixels: the start token, then every pixel but the last"))
    return mistake or problem


def _temperature_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want, atol=1e-6)
    if problem is None:
        return None
    logits, temperature = args
    known = [
        (
            lambda: temperature_probabilities(logits, 1.0 / temperature),
            N_("you multiplied the logits by the temperature: divide them by it"),
        ),
        (
            lambda: torch.softmax(logits / temperature, dim=0),
            N_("each ROW must sum to 1: the softmax runs along dim=-1"),
        ),
        (lambda: torch.softmax(logits, dim=-1), N_("the temperature was not used: divide the logits by it")),
    ]
    mistake = named_mistake(got, known, atol=1e-6)
    arr = to_numpy(got)
    if mistake is None and isinstance(arr, np.ndarray) and arr.shape == tuple(logits.shape):
        if not np.allclose(arr.sum(axis=-1), 1.0, atol=1e-4):
            mistake = Mistake(_("the rows do not sum to 1: divide by each row's sum"))
    return mistake or problem


def _bits_compare(got: Any, want: Any, args: Args) -> str | None:
    if isinstance(got, torch.Tensor) and got.numel() != 1:
        return _("expected one number (the mean over all pixels), got a tensor of shape {shape}").format(
            shape=tuple(got.shape)
        )
    value = real_number(got)  # never float(got): float("nan") parses, and NaN passes any tolerance test
    if value is None:
        return Mistake(_("expected a number, got {kind}").format(kind=kind_name(got)))
    if not math.isfinite(value):
        return Mistake(_("your result contains NaN or inf where the expected result has a number"))
    expected = float(want)
    if abs(value - expected) <= 1e-4 * max(1.0, abs(expected)):
        return None
    logits, targets = args
    known = [
        (lambda: expected * LN2, N_("that is in nats (natural log): divide by ln 2 for bits")),
        (lambda: -expected, N_("the sign is flipped: bits per pixel are -log2 p, a positive number")),
        (lambda: expected * targets.numel(), N_("you summed over the pixels: take the mean")),
        (
            lambda: -logits.gather(-1, targets.unsqueeze(-1)).mean() / LN2,
            N_("the logits are not log-probabilities: take log_softmax first"),
        ),
    ]
    mistake = named_mistake(value, known, rtol=1e-4, atol=1e-4)
    return mistake or _(
        "got {value}, expected {expected} bits per pixel (a uniform guess over {k} colours is log2({k}))"
    ).format(value=f"{value:.4f}", expected=f"{expected:.4f}", k=logits.shape[-1])


def _wrong_step(model: PixelRNN, pixels: torch.Tensor, lr: float, mistake: str) -> tuple[torch.Tensor, Any]:
    """What a training step with one typical mistake leaves (for naming it; withheld in grading kernels)."""
    if mistake == "no shift":
        inputs, targets = pixels, pixels
    else:  # "no start token": the first pixel is never predicted
        inputs, targets = pixels[:, :-1], pixels[:, 1:]
    logits = model.out(model.lstm(model.embedding(inputs))[0])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)) / LN2
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.detach(), argument_state(model)


def _scaled_step(before: dict[str, Any], after: dict[str, Any], factor: float) -> dict[str, Any]:
    """The parameters a step `factor` times the right one would leave (0: no step, -1: uphill, ln 2: nats)."""
    return {name: before[name] + factor * (after[name] - before[name]) for name in after}


def _step_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    model, pixels, lr = args
    arr = to_numpy(got)
    if not (isinstance(arr, tuple) and len(arr) == 2 and isinstance(arr[1], dict)):
        return problem
    got_loss, got_state = arr
    want_loss, want_state = want
    before = argument_state(model)
    if compare_values(got_state, want_state) is None:
        return Mistake(_("the step is right but the returned loss is not: return the bits per pixel before the step"))
    known = [
        (
            lambda: _scaled_step(before, want_state, 0.0),
            N_("the model did not change: subtract lr * gradient from every parameter"),
        ),
        (
            lambda: _scaled_step(before, want_state, -1.0),
            N_("you stepped uphill: subtract lr * gradient, do not add it"),
        ),
        (
            lambda: _scaled_step(before, want_state, LN2),
            N_("the step used the loss in nats: divide the cross-entropy by ln 2"),
        ),
        (
            lambda: _scaled_step(before, want_state, pixels.numel()),
            N_("the loss is a sum over the pixels: take the mean"),
        ),
        (
            lambda: _wrong_step(fresh_copy(model), pixels, lr, "no shift")[1],
            N_("no teacher-forcing shift: the model saw the pixel it must predict"),
        ),
        (
            lambda: _wrong_step(fresh_copy(model), pixels, lr, "no start token")[1],
            N_("the first pixel must be predicted too, from the start token"),
        ),
    ]
    return named_mistake(got_state, known) or problem


# ----------------------------------------------------------------------------- the exercises
register(
    Exercise(
        name="nb03.shift",
        function="shift_right",
        reference=teacher_forcing_inputs,
        cases=_shift_cases,
        compare=_shift_compare,
        hint=N_(
            "out[:, 0] is the start token and out[:, t] = pixels[:, t - 1]; torch.cat a column of start tokens "
            "(torch.full_like(pixels[:, :1], start_token)) before pixels[:, :-1]. Keep the dtype (integers)."
        ),
    )
)

register(
    Exercise(
        name="nb03.temperature",
        function="softmax_with_temperature",
        reference=temperature_probabilities,
        cases=_temperature_cases,
        compare=_temperature_compare,
        atol=1e-6,
        hint=N_(
            "divide the logits by the temperature, subtract the row's maximum (so exp() cannot overflow), "
            "exponentiate and divide by the row's sum; work along the last axis (dim=-1, keepdim=True)."
        ),
    )
)

register(
    Exercise(
        name="nb03.bits",
        function="bits_per_pixel_from_logits",
        reference=bits_per_pixel_from_logits,
        cases=_bits_cases,
        compare=_bits_compare,
        hint=N_(
            "log-softmax over the colours, pick the true colour's log-probability (gather, or F.cross_entropy on "
            "logits.reshape(-1, K) and targets.reshape(-1)), average over all pixels, and divide by ln 2."
        ),
    )
)

register(
    Exercise(
        name="nb03.training_step",
        function="training_step",
        reference=training_step,
        twins=(_wrong_step,),
        cases=_step_cases,
        compare=_step_compare,
        after_call=(0,),
        hint=N_(
            "inputs = shift_right(pixels, model.start_token); logits = model.out(model.lstm(model.embedding("
            "inputs))[0]); loss = F.cross_entropy(logits.reshape(-1, K), pixels.reshape(-1)) / ln 2; "
            "model.zero_grad(); loss.backward(); then under torch.no_grad(): p -= lr * p.grad for every parameter."
        ),
    )
)
