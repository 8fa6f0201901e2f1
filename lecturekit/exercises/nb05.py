"""Exercises of notebook 05 (GAN): the discriminator's loss, the non-saturating generator loss, and
snapping generated RGB pixels to the palette."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lecturekit.exercises import Args, Exercise, compare_values, register, to_numpy
from lecturekit.i18n import N_, _
from lecturekit.models.gan import discriminator_loss, generator_loss, snap_to_palette


def _scalar_compare(what: str) -> Any:
    def compare(got: Any, want: Any, args: Args) -> str | None:
        g = to_numpy(got)
        if isinstance(g, np.ndarray) and g.shape not in {(), (1,)} and g.size > 1:
            return _(
                "expected one number (the {what} averaged over the batch), got an array of shape {shape}: "
                "take the .mean()"
            ).format(what=what, shape=g.shape)
        if isinstance(g, np.ndarray) and g.shape == (1,):
            g = g.reshape(())
        if isinstance(g, np.ndarray) and not np.all(np.isfinite(g.astype(np.float64))):
            return _(
                "your result is NaN or inf: for large scores sigmoid() rounds to exactly 0 or 1 and "
                "log(0) = -inf; use F.softplus or F.binary_cross_entropy_with_logits, which work on the logits "
                "directly"
            )
        problem = compare_values(g, want, atol=1e-5, rtol=1e-4)
        if problem and isinstance(g, np.ndarray) and g.size == 1 and g.dtype.kind == "f":  # values differ
            problem += _(" (expected {want}, got {got})").format(
                want=f"{float(to_numpy(want)):.5f}", got=f"{float(np.asarray(g, dtype=np.float64)):.5f}"
            )
        return problem

    return compare


def _snap_compare(got: Any, want: Any, args: Args) -> str | None:
    """Right when every pixel got *a* nearest colour (ties and rounding may pick another equally near one)."""
    g, w = to_numpy(got), to_numpy(want)
    if not isinstance(g, np.ndarray):
        return _("expected a tensor of colour indices, got {kind}").format(kind=type(got).__name__)
    if g.shape != w.shape:
        return _("expected shape {want} (the image shape without the RGB axis), got {got}").format(
            want=w.shape, got=g.shape
        )
    if g.dtype.kind not in "iu":
        return _("expected integer colour indices (e.g. .argmin() gives int64), got {dtype}").format(dtype=g.dtype)
    rgb, palette = (to_numpy(a).astype(np.float64) for a in args)
    if g.size and (g.min() < 0 or g.max() >= len(palette)):
        return _("indices must lie in 0..{top} (the palette has {n} colours)").format(
            top=len(palette) - 1, n=len(palette)
        )
    d = ((rgb.reshape(-1, 1, 3) - palette[None]) ** 2).sum(-1)
    chosen = d[np.arange(len(d)), g.reshape(-1)]
    wrong = int((chosen > d.min(1) + 1e-3).sum())
    return (
        None
        if wrong == 0
        else _("{wrong} of {n} pixels did not get their nearest palette colour").format(wrong=wrong, n=len(d))
    )


def _logits(g: torch.Generator, n: int, scale: float) -> torch.Tensor:
    return torch.randn(n, generator=g) * scale


def _disc_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for scale in (1.0, 4.0, 30.0):
        n_real = int(torch.randint(1, 65, (1,), generator=g))
        n_fake = int(torch.randint(1, 65, (1,), generator=g))
        cases.append((_logits(g, n_real, scale) + 1.0, _logits(g, n_fake, scale) - 1.0))
    return cases


def _gen_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed + 7)
    return [
        (_logits(g, int(torch.randint(1, 65, (1,), generator=g)), scale) + shift,)
        for scale, shift in ((1.0, 0.0), (3.0, -5.0), (30.0, 0.0))
    ]


def _snap_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed + 11)
    cases = []
    for shape in ((5, 3), (2, 4, 4, 3), (int(torch.randint(1, 4, (1,), generator=g)), 20, 20, 3)):
        k = int(torch.randint(2, 40, (1,), generator=g))
        palette = torch.rand(k, 3, generator=g) * 255
        rgb = torch.rand(shape, generator=g) * 255
        cases.append((rgb, palette))
    return cases


register(
    Exercise(
        name="nb05.discriminator_loss",
        function="discriminator_loss",
        reference=discriminator_loss,
        cases=_disc_cases,
        compare=_scalar_compare("loss"),
        hint=N_(
            "real sprites should get label 1 and generated ones label 0: the loss is "
            "mean(-log sigmoid(real_logits)) + mean(-log(1 - sigmoid(fake_logits))). "
            "-log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x) stay finite for any x."
        ),
    )
)

register(
    Exercise(
        name="nb05.generator_loss",
        function="generator_loss",
        reference=generator_loss,
        cases=_gen_cases,
        compare=_scalar_compare("loss"),
        hint=N_(
            "the non-saturating loss asks the discriminator to call the fakes real: mean(-log sigmoid(fake_logits)) "
            "= F.softplus(-fake_logits).mean() (not log(1 - sigmoid), which is the saturating one)."
        ),
    )
)

register(
    Exercise(
        name="nb05.snap_to_palette",
        function="snap_to_palette",
        reference=snap_to_palette,
        cases=_snap_cases,
        compare=_snap_compare,
        hint=N_(
            "for each pixel compute the squared distance to every palette colour (broadcast (P, 1, 3) against "
            "(1, K, 3)), take argmin over the colours, and reshape to rgb.shape[:-1]; return integer indices."
        ),
    )
)
