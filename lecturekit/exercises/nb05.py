"""Exercises of notebook 05 (GAN): the discriminator's loss, the non-saturating generator loss, and one
training step of both networks (graded by the losses and by the two networks' parameters after the step)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lecturekit.exercises import Args, Exercise, Mistake, _fresh, answer_of, compare_values, register, to_numpy
from lecturekit.i18n import N_, _
from lecturekit.models.gan import discriminator_loss, gan_step, generator_loss

Variant = tuple[Callable[..., torch.Tensor], str]


def _close(a: Any, b: Any) -> bool:
    a, b = np.asarray(to_numpy(a), dtype=np.float64), np.asarray(to_numpy(b), dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-5))


def _scalar_compare(variants: list[Variant]) -> Callable[[Any, Any, Args], str | None]:
    """A loss's compare: one number, equal to the reference; else which typical mistake it equals."""

    def compare(got: Any, want: Any, args: Args) -> str | None:
        g = to_numpy(got)
        if isinstance(g, np.ndarray) and g.size > 1:
            return Mistake(_("expected one number (the loss averaged over the batch), got an array: take the .mean()"))
        if isinstance(g, np.ndarray) and g.shape == (1,):
            g = g.reshape(())
        problem = compare_values(g, want, atol=1e-5, rtol=1e-4)
        if problem is None:
            return None
        with torch.no_grad():
            found = next((message for fn, message in variants if _close(g, fn(*args))), None)
        return Mistake(_(found)) if found else problem

    return compare


_DISCRIMINATOR_MISTAKES: list[Variant] = [
    (
        lambda r, f: F.softplus(r).mean() + F.softplus(-f).mean(),
        N_("the labels are swapped: real sprites have label 1, generated ones label 0"),
    ),
    (
        lambda r, f: torch.cat([F.softplus(-r), F.softplus(f)]).mean(),
        N_("you took one mean over real and generated together: average each term over its own batch, then add"),
    ),
    (
        lambda r, f: (F.softplus(-r).mean() + F.softplus(f).mean()) / 2,
        N_("you averaged the two terms: the loss is their sum"),
    ),
    (
        lambda r, f: F.softplus(-r).sum() + F.softplus(f).sum(),
        N_("you summed over the batch: average each term over its sprites"),
    ),
    (lambda r, f: F.softplus(-r).mean(), N_("the term of the generated sprites is missing")),
    (lambda r, f: F.softplus(f).mean(), N_("the term of the real sprites is missing")),
    (
        lambda r, f: -(F.softplus(-r).mean() + F.softplus(f).mean()),
        N_("the sign is flipped: the loss to minimise is -log σ(real) - log(1 - σ(fake)), never negative"),
    ),
]

_GENERATOR_MISTAKES: list[Variant] = [
    (
        lambda f: -F.softplus(f).mean(),
        N_("that is the minimax (saturating) loss, mean log(1 - σ(fake)): use mean(-log σ(fake))"),
    ),
    (
        lambda f: F.softplus(f).mean(),
        N_("that is D's loss on the fakes (label 0): G wants D to call them real, label 1"),
    ),
    (lambda f: -F.softplus(-f).mean(), N_("the sign is flipped: the loss is mean(-log σ(fake)), never negative")),
    (lambda f: F.softplus(-f).sum(), N_("you summed over the batch: take the mean")),
]


def _logits(g: torch.Generator, n: int, scale: float) -> torch.Tensor:
    return torch.randn(n, generator=g) * scale


def _disc_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed)
    cases = []
    for scale in (1.0, 4.0, 30.0):
        n_real = int(torch.randint(1, 65, (1,), generator=g))
        n_fake = int(torch.randint(1, 65, (1,), generator=g))
        if n_fake == n_real:  # different sizes: one mean over both is then not the sum of two means
            n_fake = n_real + 3
        cases.append((_logits(g, n_real, scale) + 1.0, _logits(g, n_fake, scale) - 1.0))
    return cases


def _gen_cases(seed: int) -> list[Args]:
    g = torch.Generator().manual_seed(seed + 7)
    return [
        (_logits(g, int(torch.randint(2, 65, (1,), generator=g)), scale) + shift,)
        for scale, shift in ((1.0, 0.0), (3.0, -5.0), (60.0, -30.0))
    ]


register(
    Exercise(
        name="nb05.discriminator_loss",
        function="discriminator_loss",
        reference=discriminator_loss,
        cases=_disc_cases,
        compare=_scalar_compare(_DISCRIMINATOR_MISTAKES),
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
        compare=_scalar_compare(_GENERATOR_MISTAKES),
        hint=N_(
            "the non-saturating loss asks the discriminator to call the fakes real: mean(-log sigmoid(fake_logits)) "
            "= F.softplus(-fake_logits).mean() (not log(1 - sigmoid), which is the saturating one)."
        ),
    )
)


# ----------------------------------------------------------------------------- one GAN step
def _gan_cases(seed: int) -> list[Args]:
    """Small networks on flat "sprites" (vectors in -1..1): G maps codes to them, D scores them (one logit each)."""
    g = torch.Generator().manual_seed(seed + 13)
    cases = []
    for n, z_dim, size, lr in ((8, 3, 6, 0.1), (5 + seed % 7, 4, 10, 0.3), (16, 2 + seed % 4, 8, 0.05)):
        generator = nn.Sequential(nn.Linear(z_dim, 16), nn.LeakyReLU(0.2), nn.Linear(16, size), nn.Tanh())
        discriminator = nn.Sequential(nn.Linear(size, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Flatten(0))
        with torch.no_grad():
            for p in [*generator.parameters(), *discriminator.parameters()]:
                p.copy_(torch.randn(p.shape, generator=g) * 0.6)
        real = torch.tanh(torch.randn(n, size, generator=g) + 0.5)
        z = torch.randn(n, z_dim, generator=g)
        cases.append((generator, discriminator, real, z, lr))
    return cases


def _grads(loss: torch.Tensor, model: nn.Module, retain: bool = False) -> list[torch.Tensor]:
    return list(torch.autograd.grad(loss, list(model.parameters()), retain_graph=retain))


def _move(model: nn.Module, grads: list[torch.Tensor], lr: float) -> None:
    with torch.no_grad():
        for p, grad in zip(model.parameters(), grads):
            p -= lr * grad


def gan_step_with_mistake(
    generator: nn.Module, discriminator: nn.Module, real: torch.Tensor, z: torch.Tensor, lr: float, mistake: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """`gan_step` with one typical mistake made (`GAN_STEP_MISTAKES` names them): what a student's step that
    makes it returns and leaves in the two networks, so the compare can name it."""
    fake = generator(z)
    shown = fake if mistake == "no detach" else fake.detach()
    d_loss = discriminator_loss(discriminator(real), discriminator(shown))
    if mistake == "labels swapped":
        d_loss = discriminator_loss(discriminator(shown), discriminator(real))
    leak = (
        torch.autograd.grad(d_loss, list(generator.parameters()), retain_graph=True) if mistake == "no detach" else ()
    )
    before = copy.deepcopy(discriminator)
    d_grads = _grads(d_loss, discriminator, retain=mistake == "no detach")
    if mistake != "D not moved":
        _move(discriminator, d_grads, -lr if mistake == "D ascends" else lr)
    judge = before if mistake == "G sees the old D" else discriminator
    g_loss = (-F.softplus(judge(fake)).mean()) if mistake == "saturating" else generator_loss(judge(fake))
    g_grads = _grads(g_loss, generator, retain=mistake == "G moves D")
    if mistake == "G moves D":
        _move(discriminator, _grads(g_loss, discriminator), lr)
    if mistake == "no detach":
        g_grads = [a + b for a, b in zip(g_grads, leak)]
    if mistake != "G not moved":
        _move(generator, g_grads, -lr if mistake == "G ascends" else lr)
    return d_loss.detach(), g_loss.detach()


GAN_STEP_MISTAKES = {
    "no detach": N_(
        "G's step also followed D's loss: detach the fakes in D's step (fake.detach()), so its gradient stops "
        "there, or clear G's gradients before G's step"
    ),
    "labels swapped": N_("D's step has the labels swapped: real sprites are labelled 1, generated ones 0"),
    "D ascends": N_("D moved uphill: subtract lr * gradient from its parameters"),
    "G ascends": N_("G moved uphill: subtract lr * gradient from its parameters"),
    "D not moved": N_("the discriminator's parameters did not change: D's step must update them"),
    "G not moved": N_("the generator's parameters did not change: G's step must update them"),
    "G sees the old D": N_("G's step used D from before its update: compute G's loss with the updated D"),
    "saturating": N_("G's step used the minimax (saturating) loss: use the non-saturating mean(-log σ(D(G(z))))"),
    "G moves D": N_("G's step changed the discriminator too: in G's step move only G's parameters"),
}


def _gan_step_compare(got: Any, want: Any, args: Args) -> str | None:
    """Right when both losses and every parameter after the step match; else the typical mistake whose step
    gives the same losses and parameters (or the same parameters of one network), if any."""
    problem = compare_values(got, want)
    if problem is None:
        return None
    got_np = to_numpy(got)
    if not (isinstance(got_np, tuple) and len(got_np) == 3 and isinstance(got_np[0], tuple)):
        return problem
    if len(got_np[0]) != 2:
        return Mistake(_("return two numbers: (D's loss, G's loss), each before its own step"))
    outcomes = {}
    for mistake in GAN_STEP_MISTAKES:
        variant = to_numpy(answer_of(_STEP_EXERCISE, _variant(mistake), _fresh(args)))
        outcomes[mistake] = variant
        if compare_values(got_np, variant) is None:
            return Mistake(_(GAN_STEP_MISTAKES[mistake]))
    for part in (1, 2):  # the generator's parameters, then the discriminator's
        if compare_values(got_np[part], to_numpy(want)[part]) is None:
            continue
        for mistake, variant in outcomes.items():
            if compare_values(got_np[part], variant[part]) is None:
                return Mistake(_(GAN_STEP_MISTAKES[mistake]))
    return problem


def _variant(mistake: str) -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    def step(g: nn.Module, d: nn.Module, real: torch.Tensor, z: torch.Tensor, lr: float) -> Any:
        return gan_step_with_mistake(g, d, real, z, lr, mistake)

    return step


_STEP_EXERCISE = register(
    Exercise(
        name="nb05.gan_step",
        function="gan_step",
        reference=gan_step,
        twins=(gan_step_with_mistake,),
        cases=_gan_cases,
        compare=_gan_step_compare,
        after_call=(0, 1),
        hint=N_(
            "fake = generator(z); D's loss on discriminator(real) and discriminator(fake.detach()); gradients of "
            "D's parameters only (torch.autograd.grad(d_loss, list(discriminator.parameters()))), p -= lr * grad "
            "under torch.no_grad(); then G's loss on discriminator(fake) with the updated D, and the same step for "
            "G's parameters. Return (d_loss, g_loss)."
        ),
    )
)
