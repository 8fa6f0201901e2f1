"""Notebook 04's exercises: the reparameterization, the KL term, the codes of a latent grid."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lecturekit.exercises import Exercise, compare_values, register, to_numpy
from lecturekit.i18n import N_, _
from lecturekit.models.common import reparameterize
from lecturekit.models.sentence_vae import gaussian_kl
from lecturekit.models.vae import kl_divergence, latent_grid_codes


def _tensor(value: Any) -> torch.Tensor:
    """Tensors, arrays and numbers alike as a float64 tensor (the grader sends arrays back)."""
    value = to_numpy(value)
    if isinstance(value, tuple):
        return torch.full((1,), float("nan"), dtype=torch.float64)  # a tuple is never right here
    return torch.as_tensor(np.asarray(value, dtype=np.float64))


def reference_reparameterize(mean: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """c = mean + exp(log_var / 2) * eps (sigma read as the log-variance): the models' own function."""
    return reparameterize(mean, log_var, eps)


def _gaussian_cases(seed: int) -> list[tuple[Any, ...]]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for batch, dim in ((1, 10), (4, 10), (3 + seed % 5, 2 + seed % 7)):
        mean = torch.randn(batch, dim, generator=g) * 1.5
        log_var = torch.randn(batch, dim, generator=g) * 2.0
        eps = torch.randn(batch, dim, generator=g)
        cases.append((mean, log_var, eps))
    return cases


def _reparam_compare(got: Any, want: Any, args: tuple[Any, ...]) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    mean, log_var, eps = (_tensor(a) for a in args)
    got_t, want = _tensor(got), _tensor(want)
    if got_t.shape == want.shape:
        if torch.allclose(got_t, mean + torch.exp(log_var) * eps, atol=1e-5):
            return _(
                "you used exp(log_var) as the standard deviation (the lecture's shorthand); the std is exp(log_var / 2)"
            )
        if torch.allclose(got_t, mean + log_var * eps, atol=1e-5):
            return _("log_var is the log of the variance: the standard deviation is exp(log_var / 2), not log_var")
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


def reference_kl_divergence(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per row: 1/2 sum(exp(log_var) - 1 - log_var + mean^2)."""
    return kl_divergence(mean, log_var)


def _kl_compare(got: Any, want: Any, args: tuple[Any, ...]) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    got_t, want = _tensor(got), _tensor(want)
    if got_t.shape == want.shape:
        if torch.allclose(got_t, 2 * want, rtol=1e-4, atol=1e-5):
            return _("your values are twice the KL: that is the lecture's penalty; multiply by 1/2")
        if torch.allclose(got_t, -want, rtol=1e-4, atol=1e-5):
            return _("your values have the wrong sign: the KL is never negative (the notes' sign is flipped)")
    elif got_t.numel() == 1 or got_t.ndim == 0:
        return _("expected one KL value per row, shape {shape}: sum over the last dimension only").format(
            shape=tuple(want.shape)
        )
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


def reference_grid_codes(base: torch.Tensor, dim_x: int, dim_y: int, values: torch.Tensor) -> torch.Tensor:
    """(len(values)**2, D) codes: row r, column c of the grid is base with [dim_y] = values[r], [dim_x] = values[c]."""
    return latent_grid_codes(base, dim_x, dim_y, values)


def _grid_cases(seed: int) -> list[tuple[Any, ...]]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for dim, steps in ((10, 3), (10, 5), (4 + seed % 7, 2 + seed % 4)):
        base = torch.randn(dim, generator=g)
        pair = torch.randperm(dim, generator=g)[:2]
        values = torch.linspace(-2.0, 2.0, steps)
        cases.append((base, int(pair[0]), int(pair[1]), values))
    return cases


def _grid_compare(got: Any, want: Any, args: tuple[Any, ...]) -> str | None:
    problem = compare_values(got, want)
    if problem is None:
        return None
    base, dim_x, dim_y, values = args
    base, values = _tensor(base), _tensor(values)
    got_t, want = _tensor(got), _tensor(want)
    if got_t.shape == want.shape and torch.allclose(got_t, latent_grid_codes(base, dim_y, dim_x, values)):
        return _("dim_x and dim_y are swapped: dim_x changes along a row (column index), dim_y down the rows")
    return problem


register(
    Exercise(
        name="nb04.grid_codes",
        function="grid_codes",
        reference=reference_grid_codes,
        cases=_grid_cases,
        compare=_grid_compare,
        hint=N_(
            "start from base repeated n*n times (base.repeat(n * n, 1)); code number r * n + c gets "
            "[dim_y] = values[r] and [dim_x] = values[c] (torch.repeat_interleave / .repeat help)."
        ),
    )
)
