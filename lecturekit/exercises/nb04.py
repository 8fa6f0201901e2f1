"""Notebook 04's exercises: the reparameterization, the KL term, the VAE's loss, the codes of a latent grid."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from lecturekit.exercises import Args, Exercise, Mistake, _fresh, compare_values, register, to_numpy
from lecturekit.i18n import N_, _
from lecturekit.models.common import reparameterize
from lecturekit.models.sentence_vae import gaussian_kl
from lecturekit.models.vae import kl_divergence, latent_grid_codes, negative_elbo


def _tensor(value: Any) -> torch.Tensor:
    """Tensors, arrays and numbers alike as a float64 tensor (the grader sends arrays back)."""
    value = to_numpy(value)
    if isinstance(value, tuple):
        return torch.full((1,), float("nan"), dtype=torch.float64)  # a tuple is never right here
    return torch.as_tensor(np.asarray(value, dtype=np.float64))


def _close(a: Any, b: Any) -> bool:
    """Same shape and values within the exercises' tolerance (rtol 1e-4, atol 1e-5)."""
    a, b = _tensor(a), _tensor(b)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=1e-4, atol=1e-5))


# ----------------------------------------------------------------------------- 1. the reparameterization
def reference_reparameterize(mean: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """c = mean + exp(log_var / 2) * eps (sigma read as the log-variance): the models' own function."""
    return reparameterize(mean, log_var, eps)


def _gaussian_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for batch, dim in ((1, 10), (4, 10), (3 + seed % 5, 2 + seed % 7)):
        mean = torch.randn(batch, dim, generator=g) * 1.5
        log_var = torch.randn(batch, dim, generator=g) * 2.0
        eps = torch.randn(batch, dim, generator=g)
        cases.append((mean, log_var, eps))
    return cases


def _reparam_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    mean, log_var, eps = (_tensor(a) for a in args)
    std = torch.exp(log_var / 2)
    mistakes = (
        (
            mean + torch.exp(log_var) * eps,
            N_(
                "you used exp(log_var) as the standard deviation (the lecture's shorthand); the std is exp(log_var / 2)"
            ),
        ),
        (
            mean + log_var * eps,
            N_("log_var is the log of the variance: the standard deviation is exp(log_var / 2), not log_var"),
        ),
        (mean + torch.exp(-log_var / 2) * eps, N_("the standard deviation is exp(+log_var / 2): the sign is flipped")),
        (mean + std, N_("the noise is missing: multiply the standard deviation by eps")),
        (std * eps, N_("the mean is missing: the code is mean + std * eps")),
    )
    for value, message in mistakes:
        if _close(got, value):
            return Mistake(_(message))
    return problem


register(
    Exercise(
        name="nb04.reparameterize",
        function="reparameterize",
        reference=reference_reparameterize,
        twins=(reparameterize,),
        cases=lambda seed: _gaussian_cases(seed),
        compare=_reparam_compare,
        hint=N_("std = exp(log_var / 2); the code is mean + std * eps, element by element, same shape as mean."),
    )
)


# ----------------------------------------------------------------------------- 2. the KL term
def reference_kl_divergence(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per row: 1/2 sum(exp(log_var) - 1 - log_var + mean^2)."""
    return kl_divergence(mean, log_var)


def _kl_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    mean, log_var = (_tensor(a) for a in args)
    got_t, want_t = _tensor(got), _tensor(want)
    if got_t.shape != want_t.shape:
        if got_t.numel() == 1 or got_t.ndim == 0:
            return _("expected one KL value per row, shape {shape}: sum over the last dimension only").format(
                shape=tuple(want_t.shape)
            )
        return problem
    mistakes = (
        (2 * want_t, N_("your values are twice the KL: that is the lecture's penalty; multiply by 1/2")),
        (-want_t, N_("your values have the wrong sign: the KL is never negative (the notes' sign is flipped)")),
        (want_t / mean.shape[-1], N_("you averaged over the code dimensions: the KL sums over them")),
        (want_t + mean.shape[-1] / 2, N_("the −1 in exp(log_var) − 1 − log_var + mean² is missing")),
        (
            gaussian_kl(mean, log_var),
            N_("that is the KL for a standard deviation exp(log_var): here log_var is the log of the variance"),
        ),
    )
    for value, message in mistakes:
        if _close(got_t, value):
            return Mistake(_(message))
    return problem


register(
    Exercise(
        name="nb04.kl_divergence",
        function="kl_divergence",
        reference=reference_kl_divergence,
        twins=(kl_divergence, gaussian_kl),
        cases=lambda seed: [(m, lv) for m, lv, _ in _gaussian_cases(seed)],
        compare=_kl_compare,
        hint=N_("0.5 * (exp(log_var) - 1 - log_var + mean**2), summed over the last dimension (one value per row)."),
    )
)


# ----------------------------------------------------------------------------- 3. the VAE's loss
def reference_vae_loss(
    decoder: Any, sprites: torch.Tensor, mean: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor, beta: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, reconstruction, KL) in bits per pixel: the kit's `negative_elbo`, which the VAE trains with."""
    return negative_elbo(decoder, sprites, mean, log_var, eps, beta)


def _loss_cases(seed: int) -> list[Args]:
    """Small decoders (a linear map from codes to palette logits) on sprites of several sizes, none 20 x 20."""
    g = torch.Generator().manual_seed(seed + 4)
    cases = []
    sizes = ((4, 3, 5, 4, 4, 1.0), (3, 10, 8, 6, 5, 0.4), (2 + seed % 4, 2 + seed % 5, 3 + seed % 6, 3, 7, 2.0))
    for n, dim, colours, height, width, beta in sizes:
        decoder = nn.Sequential(nn.Linear(dim, colours * height * width), nn.Unflatten(1, (colours, height, width)))
        with torch.no_grad():
            for p in decoder.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.7)
        sprites = torch.randint(0, colours, (n, height, width), generator=g)
        mean = torch.randn(n, dim, generator=g)
        log_var = torch.randn(n, dim, generator=g) - 0.5
        eps = torch.randn(n, dim, generator=g)
        cases.append((decoder, sprites, mean, log_var, eps, beta))
    return cases


def _three_numbers(got: Any) -> list[float] | str:
    """The answer as three floats (loss, reconstruction, KL), or what is wrong with its form."""
    values = to_numpy(got)
    if not isinstance(values, tuple) or len(values) != 3:
        return Mistake(_("return three values: (loss, reconstruction, KL), each one number in bits per pixel"))
    out = []
    for v in values:
        arr = np.asarray(v)
        if arr.size != 1:
            return Mistake(
                _(
                    "each of the three values is one number (a 0-d tensor): sum over the pixels and code "
                    "dimensions, average over the sprites"
                )
            )
        if arr.dtype.kind != "f":
            return Mistake(_("expected floating-point values, got integers or booleans: compute in floats"))
        out.append(float(arr.reshape(())))
    return out


def _scale_mistakes(got: list[float], want: list[float], args: Args) -> str | None:
    """A mistake of units shared by all three values (nats, per sprite, 400 pixels), or None."""
    _decoder, sprites, *_rest = args
    pixels = sprites.shape[-1] * sprites.shape[-2]
    for factor, message in (
        (400 / pixels, N_("you divided by 400 pixels: divide by the number of pixels of the sprites given (H × W)")),
        (math.log(2), N_("your values are in nats: divide by ln 2 to get bits")),
        (pixels, N_("your values are per sprite: divide by the number of pixels (H × W) to get bits per pixel")),
    ):
        if factor != 1 and all(_close(g, w / factor) for g, w in zip(got, want)):
            return _(message)
    return None


def _kl_term_mistake(kl: float, want_kl: float, args: Args) -> str | None:
    decoder, sprites, mean, log_var, eps, beta = args
    pixels = sprites.shape[-1] * sprites.shape[-2]
    with torch.no_grad():
        std_exp = float(reference_vae_loss(decoder, sprites, mean, 2 * log_var, eps, beta)[2])
    mistakes = (
        (want_kl * math.log(2), N_("the KL term is in nats: divide it by ln 2 as well")),
        (want_kl * pixels, N_("the KL term is per sprite: divide it by the number of pixels (H × W) as well")),
        (
            want_kl * pixels * math.log(2),
            N_("the KL term is in nats per sprite: divide it by H × W × ln 2, as the reconstruction"),
        ),
        (want_kl * len(sprites), N_("the KL term is summed over the sprites: average it over them")),
        (-want_kl, N_("the KL term has the wrong sign: the KL is never negative")),
        (2 * want_kl, N_("the KL term is twice the KL (the lecture's penalty): multiply by 1/2")),
        (want_kl / mean.shape[-1], N_("the KL term averages over the code dimensions: sum over them")),
        (
            std_exp,
            N_("the KL term reads exp(log_var) as the standard deviation: log_var is the log of the variance"),
        ),
    )
    return next((_(m) for value, m in mistakes if _close(kl, value)), None)


def _reconstruction_mistake(recon: float, want_recon: float, args: Args) -> str | None:
    decoder, sprites, mean, log_var, eps, beta = args
    pixels = sprites.shape[-1] * sprites.shape[-2]
    with torch.no_grad():
        at_mean = float(reference_vae_loss(decoder, sprites, mean, log_var, torch.zeros_like(eps), beta)[1])
        std_exp = float(reference_vae_loss(decoder, sprites, mean, 2 * log_var, eps, beta)[1])
    mistakes = (
        (want_recon * math.log(2), N_("the reconstruction is in nats: divide it by ln 2 as well")),
        (want_recon * pixels, N_("the reconstruction is per sprite: divide it by the number of pixels (H × W)")),
        (want_recon * len(sprites), N_("the reconstruction is summed over the sprites: average it over them")),
        (
            at_mean,
            N_("the reconstruction decodes the mean code: decode the sampled code, mean + exp(log_var / 2) * eps"),
        ),
        (
            std_exp,
            N_("the sampled code uses exp(log_var) as the standard deviation: the std is exp(log_var / 2)"),
        ),
        (-want_recon, N_("the reconstruction has the wrong sign: the cross-entropy -log p is positive")),
    )
    return next((_(m) for value, m in mistakes if _close(recon, value)), None)


def _total_mistake(loss: float, recon: float, kl: float, beta: float) -> str | None:
    mistakes = (
        (beta * recon + kl, N_("beta weighs the KL term, not the reconstruction: loss = recon + beta * KL")),
        (recon + kl, N_("the loss leaves out beta: loss = recon + beta * KL")),
        (recon - beta * kl, N_("the loss subtracts the KL term: the negative ELBO adds it")),
        (beta * (recon + kl), N_("beta multiplies the KL term only: loss = recon + beta * KL")),
    )
    return next((_(m) for value, m in mistakes if _close(loss, value)), None)


def _vae_loss_compare(got: Any, want: Any, args: Args) -> str | None:
    """Right when all three values match; else the first mistake found: units of all three, then the KL term,
    the reconstruction, the total."""
    problem = compare_values(got, want)
    if problem is None:
        return None
    values = _three_numbers(got)
    if isinstance(values, str):
        return values
    wanted = [float(np.asarray(v)) for v in to_numpy(want)]
    (loss, recon, kl), (_, want_recon, want_kl) = values, wanted
    found = _scale_mistakes(values, wanted, args)
    if found is None and not _close(kl, want_kl):
        found = _kl_term_mistake(kl, want_kl, args)
    if found is None and not _close(recon, want_recon):
        found = _reconstruction_mistake(recon, want_recon, _fresh(args))
    if found is None and _close(kl, want_kl) and _close(recon, want_recon):
        found = _total_mistake(loss, want_recon, want_kl, float(args[5]))
    return Mistake(found) if found else problem


register(
    Exercise(
        name="nb04.vae_loss",
        function="vae_loss",
        reference=reference_vae_loss,
        twins=(negative_elbo,),
        cases=_loss_cases,
        compare=_vae_loss_compare,
        hint=N_(
            "codes = mean + exp(log_var / 2) * eps; logits = decoder(codes), shape (N, K, H, W); reconstruction = "
            "F.cross_entropy(logits, sprites, reduction='sum') / N (nats per sprite); KL = your kl_divergence, "
            "averaged over the sprites; divide both by H * W * ln 2; loss = reconstruction + beta * KL."
        ),
    )
)


# ----------------------------------------------------------------------------- 4. the codes of a latent grid
def reference_grid_codes(base: torch.Tensor, dim_x: int, dim_y: int, values: torch.Tensor) -> torch.Tensor:
    """(len(values)**2, D) codes: row r, column c of the grid is base with [dim_y] = values[r], [dim_x] = values[c]."""
    return latent_grid_codes(base, dim_x, dim_y, values)


def _grid_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for dim, steps in ((10, 3), (10, 5), (4 + seed % 7, 2 + seed % 4)):
        base = torch.randn(dim, generator=g)
        pair = torch.randperm(dim, generator=g)[:2]
        values = torch.linspace(-2.0, 2.0, steps) + torch.rand(1, generator=g)  # never symmetric around 0
        cases.append((base, int(pair[0]), int(pair[1]), values))
    return cases


def _grid_compare(got: Any, want: Any, args: Args) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    base, dim_x, dim_y, values = args
    base, values = _tensor(base), _tensor(values)
    n = len(values)
    got_t = _tensor(got)
    if got_t.shape == (n, n, base.numel()):
        return Mistake(_("return the n × n codes as one list of rows, shape (n², D): reshape(-1, D)"))
    mistakes = (
        (
            latent_grid_codes(base, dim_y, dim_x, values),
            N_("dim_x and dim_y are swapped: dim_x changes along a row (column index), dim_y down the rows"),
        ),
        (
            latent_grid_codes(base, dim_x, dim_y, values.flip(0)),
            N_("the values run backwards: row r and column c take values[r] and values[c]"),
        ),
        (
            _diagonal_grid(base, dim_x, dim_y, values),
            N_("both dimensions take the same value in each code: dim_y follows the row, dim_x the column"),
        ),
    )
    for value, message in mistakes:
        if _close(got_t, value):
            return Mistake(_(message))
    return problem


def _diagonal_grid(base: torch.Tensor, dim_x: int, dim_y: int, values: torch.Tensor) -> torch.Tensor:
    """The grid a student gets who gives both dimensions the column's value (values.repeat for both)."""
    codes = latent_grid_codes(base, dim_x, dim_y, values)
    codes[:, dim_y] = codes[:, dim_x]
    return codes


register(
    Exercise(
        name="nb04.grid_codes",
        function="grid_codes",
        reference=reference_grid_codes,
        twins=(latent_grid_codes,),
        cases=_grid_cases,
        compare=_grid_compare,
        hint=N_(
            "start from base repeated n*n times (base.repeat(n * n, 1)); code number r * n + c gets "
            "[dim_y] = values[r] and [dim_x] = values[c] (torch.repeat_interleave / .repeat help)."
        ),
    )
)
