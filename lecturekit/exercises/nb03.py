"""Notebook 03 (PixelRNN): the teacher-forcing shift, the temperature softmax, bits per pixel."""

from __future__ import annotations

from typing import Any

import torch

from lecturekit.exercises import Args, Exercise, register
from lecturekit.i18n import N_, _
from lecturekit.models.pixelrnn import bits_per_pixel_from_logits, teacher_forcing_inputs, temperature_probabilities


def _shift_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for _i in range(3):
        n = int(torch.randint(1, 6, (1,), generator=g))
        length = int(torch.randint(2, 30, (1,), generator=g))
        k = int(torch.randint(3, 200, (1,), generator=g))
        cases.append((torch.randint(0, k, (n, length), generator=g), k))
    cases.append((torch.tensor([[2]]), 3))  # one pixel: only the start token remains
    return cases


def _temperature_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for temperature in (1.0, 0.5, 2.5, 0.1):
        n = int(torch.randint(1, 5, (1,), generator=g))
        k = int(torch.randint(2, 170, (1,), generator=g))
        cases.append((torch.randn(n, k, generator=g) * 3, temperature))
    cases.append((torch.randn(3, 40, generator=g) * 60, 0.5))  # large logits: exp() overflows unless shifted
    return cases


def _bits_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for scale in (1.0, 4.0, 0.0):
        n = int(torch.randint(1, 5, (1,), generator=g))
        length = int(torch.randint(1, 50, (1,), generator=g))
        k = int(torch.randint(2, 170, (1,), generator=g))
        logits = torch.randn(n, length, k, generator=g) * scale
        cases.append((logits, torch.randint(0, k, (n, length), generator=g)))
    return cases


def _scalar_compare(got: Any, want: Any, args: Args) -> str | None:
    if isinstance(got, torch.Tensor) and got.numel() != 1:
        return _("expected one number (the mean over all pixels), got a tensor of shape {shape}").format(
            shape=tuple(got.shape)
        )
    try:
        value = float(got)
    except (TypeError, ValueError):
        return _("expected a number, got {kind}").format(kind=type(got).__name__)
    expected = float(want)
    if abs(value - expected) > 1e-4 * max(1.0, abs(expected)):
        k = args[0].shape[-1]
        nats = expected * 0.6931471805599453
        if abs(value - nats) < 1e-3 * max(1.0, nats):
            return _("got {value}: that is in nats (natural log); divide by ln 2 for bits ({expected})").format(
                value=f"{value:.4f}", expected=f"{expected:.4f}"
            )
        return _(
            "got {value}, expected {expected} bits per pixel (a uniform guess over {k} colours is log2({k}))"
        ).format(value=f"{value:.4f}", expected=f"{expected:.4f}", k=k)
    return None


register(
    Exercise(
        name="nb03.shift",
        function="shift_right",
        reference=teacher_forcing_inputs,
        cases=_shift_cases,
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
        compare=_scalar_compare,
        hint=N_(
            "log-softmax over the colours, pick the true colour's log-probability (gather, or F.cross_entropy on "
            "logits.reshape(-1, K) and targets.reshape(-1)), average over all pixels, and divide by ln 2."
        ),
    )
)
