"""A small DCGAN on the 20x20 sprites: a generator draws RGB sprites from a random code, a discriminator
tells them from real ones, and each learns from the other.

The generator outputs RGB (tanh, -1..1) rather than a palette index per pixel: a discrete output has
no gradient to pass back from the discriminator. For display (and for a fair comparison with the
palette models) its pixels can be snapped to the nearest palette colour (`snap_to_palette`).

Training has its own loop (two optimisers, two losses per step) that records a
`lecturekit.training.History`, the discriminator's view of real and fake sprites, the variety of the
samples (to spot mode collapse), and a strip of samples from fixed codes every few epochs. With only
855 training sprites the discriminator memorises them quickly; an R1 gradient penalty keeps it in
check, and the shipped generator is a moving average (EMA) of the trained weights.

The end of the file compares the three families (PixelRNN, VAE, GAN) on the same metrics.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lecturekit.checkpoints import register_model, save_checkpoint
from lecturekit.device import get_device
from lecturekit.i18n import N_, _
from lecturekit.progress import progress
from lecturekit.training import History


# ----------------------------------------------------------------------------- losses and one step (the exercises)
def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of the discriminator: real sprites labelled 1, generated ones 0.

    Both arguments are raw scores (logits, before the sigmoid); returns the mean over real plus the
    mean over fake, a scalar. Written with softplus so that large logits do not overflow:
    -log(sigmoid(x)) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x).
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss: -mean log D(G(z)) = mean softplus(-logits).

    The minimax form, mean log(1 - D(G(z))), has almost no gradient early in training when the
    discriminator easily rejects the fakes; this one has a strong gradient exactly then.
    """
    return F.softplus(-fake_logits).mean()


def saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The original minimax generator loss, mean log(1 - D(G(z))) = -mean softplus(logits) (to compare)."""
    return -F.softplus(fake_logits).mean()


def gan_step(
    generator: nn.Module, discriminator: nn.Module, real: torch.Tensor, z: torch.Tensor, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """One training step of a GAN with plain gradient descent (notebook 05's exercise; the kit's own loop,
    `_GANTraining.train_step`, takes the same two steps with Adam, the R1 penalty and a moving average):

    1. D step: D's loss on the real batch (label 1) and on G's fakes G(z) (label 0), the fakes detached, so
       the gradient stops at them and this step leaves G alone; D's parameters move by -lr * gradient;
    2. G step: the non-saturating loss of the same fakes under the updated D; only G's parameters move.

    Returns (D's loss, G's loss), each computed before its own step."""
    fake = generator(z)
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    _descend(discriminator, d_loss, lr)
    g_loss = generator_loss(discriminator(fake))
    _descend(generator, g_loss, lr)
    return d_loss.detach(), g_loss.detach()


def _descend(model: nn.Module, loss: torch.Tensor, lr: float) -> None:
    """One step of plain gradient descent on `model`'s own parameters (the others keep their values and their
    .grad: the gradient is taken with autograd.grad, not .backward())."""
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    with torch.no_grad():
        for p, g in zip(params, grads):
            if g is not None:
                p -= lr * g


def snap_to_palette(rgb: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Index of the nearest palette colour (squared RGB distance) for every pixel.

    `rgb` is (..., 3) and `palette` (K, 3), in the same units; returns a long tensor of shape (...).
    """
    flat = rgb.reshape(-1, 3).to(palette.dtype)
    d = (flat[:, None, :] - palette[None, :, :]).pow(2).sum(-1)
    return d.argmin(dim=1).reshape(rgb.shape[:-1])


def path_point(z0: torch.Tensor, z1: torch.Tensor, t: float | torch.Tensor, spherical: bool = True) -> torch.Tensor:
    """The code at position t (0 = z0, 1 = z1) on the straight or the spherical path between two codes.

    `t` is a number or an (S, 1) tensor (then S codes come back)."""
    if not spherical:
        return (1 - t) * z0 + t * z1
    cos = torch.clamp((z0 @ z1) / (z0.norm() * z1.norm() + 1e-12), -1.0, 1.0)
    omega = torch.arccos(cos)
    if float(omega) < 1e-4:  # (almost) the same direction: slerp is the straight line
        return (1 - t) * z0 + t * z1
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def interpolate_codes(z0: torch.Tensor, z1: torch.Tensor, steps: int, spherical: bool = True) -> torch.Tensor:
    """`steps` codes from z0 to z1 (both ends included), shape (steps, dim).

    Spherical interpolation (slerp) keeps the codes at the typical length of a Gaussian code; a straight
    line passes nearer the origin, where the generator has seen few codes.
    """
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (both ends), got {steps}")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)[:, None]
    return path_point(z0, z1, t, spherical)


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class GANConfig:
    """One home for the GAN's settings: its shape (the checkpoint's `config`) and its training recipe.

    The defaults are the recipe of the shipped `gan.pt` (a test holds them to its stored settings);
    `train_gan`, `train_main`'s parser and the checkpoint's `extra["settings"]` all read them from here."""

    # architecture: GAN's constructor arguments
    z_dim: int = 32
    width: int = 48
    d_width: int = 64
    spectral: bool = False
    # training recipe
    epochs: int | None = 180
    batch_size: int = 32
    lr_g: float = 5e-4
    lr_d: float = 5e-4
    betas: tuple[float, float] = (0.5, 0.999)
    ema: float | None = 0.999
    r1: float = 1.0
    seed: int = 0
    # the sample strips recorded while training
    n_strip: int = 8
    strip_every: int = 5

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(self.betas))  # a checkpoint stores them as a list

    def model_args(self) -> dict[str, Any]:
        """The constructor arguments of `GAN` (what a checkpoint stores as its `config`)."""
        return {"z_dim": self.z_dim, "width": self.width, "d_width": self.d_width, "spectral": self.spectral}

    def settings(self) -> dict[str, Any]:
        """The recipe as a checkpoint stores it (`extra["settings"]`) and as `SHIPPED_TRAINING` lists it."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr_g": self.lr_g,
            "lr_d": self.lr_d,
            "betas": self.betas,
            "z_dim": self.z_dim,
            "width": self.width,
            "d_width": self.d_width,
            "ema": self.ema,
            "r1": self.r1,
        }

    def with_overrides(self, **overrides: Any) -> GANConfig:
        """A copy with some fields changed; an unknown name is refused with the names that exist."""
        unknown = sorted(set(overrides) - {f.name for f in fields(self)})
        if unknown:
            raise TypeError(
                f"train_gan() got unknown setting(s) {', '.join(unknown)}; GANConfig has "
                f"{', '.join(f.name for f in fields(self))}"
            )
        return replace(self, **overrides)

    @classmethod
    def from_checkpoint(cls, blob: dict[str, Any]) -> GANConfig:
        """The settings a GAN checkpoint was made with (its stored config and `extra["settings"]`)."""
        stored = {**blob["extra"].get("settings", {}), **blob["meta"]["config"]}
        return cls(**{f.name: stored[f.name] for f in fields(cls) if f.name in stored})


# ----------------------------------------------------------------------------- the networks
class Generator(nn.Module):
    """Code (z_dim) -> (3, 20, 20) RGB in -1..1, DCGAN style: a 5x5 map, doubled twice by transposed
    convolution (5 -> 10) and a nearest-neighbour upsampling + 3x3 convolution (10 -> 20: no checkerboard)."""

    def __init__(self, z_dim: int = 32, width: int = 48) -> None:
        super().__init__()
        self.z_dim, self.width = z_dim, width
        self.project = nn.Sequential(
            nn.Linear(z_dim, 4 * width * 25, bias=False), nn.BatchNorm1d(4 * width * 25), nn.ReLU()
        )
        self.body = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, stride=2, padding=1, bias=False),  # 10x10
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),  # 20x20
            nn.Conv2d(2 * width, 3, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(-1, 4 * self.width, 5, 5)
        return self.body(h)


class Discriminator(nn.Module):
    """(3, 20, 20) RGB -> one logit (real vs generated): 20 -> 10 -> 5 by strided convolutions.
    `spectral=True` bounds each layer's gain (spectral norm) so it cannot overpower the generator;
    otherwise batch norm, as in the original DCGAN."""

    def __init__(self, width: int = 32, spectral: bool = False) -> None:
        super().__init__()
        sn = nn.utils.spectral_norm if spectral else (lambda m: m)
        norm = (lambda c: nn.Identity()) if spectral else nn.BatchNorm2d
        self.features = nn.Sequential(
            sn(nn.Conv2d(3, width, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),  # 10x10
            sn(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=spectral)),
            norm(2 * width),
            nn.LeakyReLU(0.2),  # 5x5
        )
        self.head = sn(nn.Linear(2 * width * 25, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)


@register_model("gan")
class GAN(nn.Module):
    """Generator + discriminator; `sample_rgb`/`sample_indices` draw sprites from random codes."""

    def __init__(
        self,
        z_dim: int = GANConfig.z_dim,
        width: int = GANConfig.width,
        d_width: int = GANConfig.d_width,
        spectral: bool = GANConfig.spectral,
    ) -> None:
        super().__init__()
        self.config = {"z_dim": z_dim, "width": width, "d_width": d_width, "spectral": spectral}
        self.z_dim = z_dim
        self.generator = Generator(z_dim, width)
        self.discriminator = Discriminator(d_width, spectral)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def codes(self, n: int, seed: int | None = 0, generator: torch.Generator | None = None) -> torch.Tensor:
        """n random codes from the standard normal prior (seeded: the same seed gives the same codes)."""
        if generator is None:
            generator = torch.Generator().manual_seed(seed if seed is not None else int(torch.seed() % 2**31))
        return torch.randn(n, self.z_dim, generator=generator).to(self.device)

    @torch.inference_mode()
    def generate(self, z: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Generator output for codes z (N, z_dim): (N, 3, 20, 20) in -1..1, in eval mode."""
        was_training = self.training
        self.eval()
        z = torch.as_tensor(z, dtype=torch.float32, device=self.device)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"codes must have shape (N, {self.z_dim}), got {tuple(z.shape)}")
        out = torch.cat([self.generator(z[i : i + batch_size]) for i in range(0, len(z), batch_size)])
        self.train(was_training)
        return out

    def decode_rgb(self, z: torch.Tensor) -> np.ndarray:
        """Raw RGB sprites for codes z: (N, 20, 20, 3) uint8 (the generator's own colours)."""
        return to_rgb_uint8(self.generate(z))

    def decode_indices(self, z: torch.Tensor, palette: np.ndarray) -> np.ndarray:
        """Sprites for codes z as palette indices (N, 20, 20): every pixel snapped to its nearest colour."""
        return snap_images(self.decode_rgb(z), palette)

    def sample_rgb(self, n: int, seed: int = 0) -> np.ndarray:
        """n raw RGB samples (N, 20, 20, 3) uint8 from seeded random codes."""
        return self.decode_rgb(self.codes(n, seed))

    def sample_indices(self, n: int, palette: np.ndarray, seed: int = 0) -> np.ndarray:
        """n samples snapped to the palette, as indices (N, 20, 20)."""
        return self.decode_indices(self.codes(n, seed), palette)

    @torch.inference_mode()
    def realness(self, rgb: np.ndarray) -> np.ndarray:
        """The discriminator's probability that each (N, 20, 20, 3) uint8 sprite is real."""
        was_training = self.training
        self.eval()
        x = rgb_to_tensor(rgb).to(self.device)
        p = torch.sigmoid(self.discriminator(x)).cpu().numpy()
        self.train(was_training)
        return p


# ----------------------------------------------------------------------------- conversions
def rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(N, 20, 20, 3) uint8 -> (N, 3, 20, 20) float in -1..1 (the generator's range)."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 4 or rgb.shape[-1] != 3:
        raise ValueError(f"expected RGB sprites of shape (N, H, W, 3), got {rgb.shape}")
    return torch.from_numpy(rgb.astype(np.float32) / 127.5 - 1.0).permute(0, 3, 1, 2).contiguous()


def to_rgb_uint8(x: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in -1..1 -> (N, H, W, 3) uint8."""
    x = x.detach().float().cpu().clamp(-1, 1)
    return ((x + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def snap_images(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Palette indices (N, H, W) of the colours nearest to each pixel of (N, H, W, 3) uint8 RGB."""
    rgb_t = torch.from_numpy(np.asarray(rgb, dtype=np.float32))
    pal_t = torch.from_numpy(np.asarray(palette, dtype=np.float32))
    out = [snap_to_palette(rgb_t[i : i + 64], pal_t) for i in range(0, len(rgb_t), 64)]
    return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(rgb.shape[:-1], dtype=np.int64)


def snap_rgb(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """The same images with every pixel replaced by its nearest palette colour, (N, H, W, 3) uint8."""
    return np.asarray(palette, dtype=np.uint8)[snap_images(rgb, palette)]


# ----------------------------------------------------------------------------- training
@dataclass
class GANRun:
    """What `train_gan` returns: the model, its History, and the per-epoch sample strips."""

    model: GAN
    history: History
    strips: np.ndarray  # (S, n_strip, 20, 20, 3) uint8: raw samples from fixed codes
    strip_epochs: list[int] = field(default_factory=list)

    def extra(self) -> dict[str, Any]:
        """Plain data for the checkpoint's `extra` (loads with torch.load(weights_only=True))."""
        return {
            "history": self.history.to_dict(),
            "strips": torch.from_numpy(self.strips),
            "strip_epochs": list(self.strip_epochs),
            "stopped_early": bool(self.history.stopped_early),
        }


def sample_variety(rgb: np.ndarray) -> float:
    """Mean pairwise RMS distance (0..1 RGB) between samples: near 0 when the generator collapses."""
    from lecturekit.metrics import mean_pairwise_distance

    return mean_pairwise_distance(rgb)


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips of real sprites: twice the sprites for D to learn from (creatures look as
    plausible mirrored). (Random shifts, applied to real and generated sprites alike, made this small
    generator draw shifted sprites: they are not used.)"""
    flip = (torch.rand(len(x), generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def train_gan(
    rgb: np.ndarray,
    config: GANConfig | None = None,
    *,
    max_minutes: float | None = None,
    device: torch.device | str | None = None,
    progress_bar: bool = True,
    model: GAN | None = None,
    **overrides: Any,
) -> GANRun:
    """Train a GAN on RGB sprites (N, 20, 20, 3) uint8, alternating one discriminator and one generator
    step per batch. Stops after `config.epochs` or `max_minutes` (whichever first). Returns a GANRun.

    `config` defaults to `GANConfig()`, the shipped recipe; keyword `overrides` change single fields
    (`train_gan(rgb, epochs=10, seed=1)`). With `ema`, the returned generator is an exponential moving
    average of the trained one's weights (samples get smoother and steadier: the trained weights keep
    circling around a good point). `r1` weighs a gradient penalty on real sprites that keeps the
    discriminator from growing overconfident on the few training sprites."""
    cfg = (config or GANConfig()).with_overrides(**overrides)
    if cfg.epochs is None and max_minutes is None:
        raise ValueError("train_gan() needs epochs or max_minutes, or it would never stop.")
    device = torch.device(device) if device is not None else get_device()
    torch.manual_seed(cfg.seed)
    state = _GANTraining.start(cfg, (model or GAN(**cfg.model_args())).to(device), device)
    data = rgb_to_tensor(rgb)
    if len(data) == 0:
        raise ValueError("cannot train a GAN on an empty set of sprites.")
    fixed_z, variety_z = _fixed_codes(cfg, state.model.z_dim, device)
    history = History()
    strips: list[np.ndarray] = []
    strip_epochs: list[int] = []
    start = time.perf_counter()
    deadline = start + max_minutes * 60 if max_minutes is not None else math.inf
    total_epochs = cfg.epochs if cfg.epochs is not None else 10**9
    n_batches = max(1, len(data) // cfg.batch_size)  # drop the ragged last batch: BatchNorm wants full ones
    bar = _gan_progress_bar(None if cfg.epochs is None else total_epochs * n_batches, progress_bar)
    epoch = 0
    while epoch < total_epochs:
        means = state.run_epoch(data, n_batches, history, epoch, deadline, bar)
        history.epochs.append(_gan_epoch_record(state, means, epoch, time.perf_counter() - start, variety_z))
        if epoch % cfg.strip_every == 0 or history.stopped_early or epoch + 1 == total_epochs:
            strips.append(_generate_rgb(state.G_avg, fixed_z))
            strip_epochs.append(epoch)
        _show_epoch_losses(bar, history.epochs[-1])
        epoch += 1
        if history.stopped_early or time.perf_counter() > deadline:
            history.stopped_early = history.stopped_early or epoch < total_epochs
            break
    if hasattr(bar, "close"):
        bar.close()
    if not strip_epochs or strip_epochs[-1] != epoch - 1:
        strips.append(_generate_rgb(state.G_avg, fixed_z))
        strip_epochs.append(epoch - 1)
    state.finish()
    history.seconds = time.perf_counter() - start
    return GANRun(state.model.cpu(), history, np.stack(strips), strip_epochs)


def _fixed_codes(cfg: GANConfig, z_dim: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The codes drawn once per run, from their own seeds (so training's random stream is untouched):
    the sample strip's `n_strip`, and 64 for the variety measured after each epoch."""
    fixed_z = torch.randn(cfg.n_strip, z_dim, generator=torch.Generator().manual_seed(cfg.seed + 1)).to(device)
    variety_z = torch.randn(64, z_dim, generator=torch.Generator().manual_seed(cfg.seed + 2)).to(device)
    return fixed_z, variety_z


def _gan_progress_bar(total_steps: int | None, progress_bar: bool) -> Any:
    """One bar for the whole run, counting steps (no total when only minutes bound the run)."""
    return progress(total=total_steps, desc=_("GAN training"), disable=None if progress_bar else True)


def _gan_epoch_record(
    state: _GANTraining, means: dict[str, float], epoch: int, seconds: float, variety_z: torch.Tensor
) -> dict[str, float]:
    """The epoch's line in `history.epochs`: mean losses ("loss" is D's) and the variety of the samples of fixed
    codes (it falls when the generator collapses)."""
    record = {"epoch": epoch, "seconds": seconds, **means, "loss": means["d_loss"]}
    record["variety"] = sample_variety(_generate_rgb(state.G_avg, variety_z))
    return record


def _show_epoch_losses(bar: Any, record: dict[str, float]) -> None:
    """The epoch's losses and variety beside the progress bar (the plain-text fallback has no postfix)."""
    if hasattr(bar, "set_postfix"):
        bar.set_postfix(d=f"{record['d_loss']:.2f}", g=f"{record['g_loss']:.2f}", variety=f"{record['variety']:.3f}")


@dataclass
class _GANTraining:
    """The moving parts of one `train_gan` run (networks, optimisers, random stream), so each step is a method."""

    cfg: GANConfig
    model: GAN
    G_avg: nn.Module  # the moving average of the generator (the generator itself without EMA)
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    gen: torch.Generator  # batch order, flips and codes, in that order per batch
    device: torch.device
    step: int = 0

    @classmethod
    def start(cls, cfg: GANConfig, model: GAN, device: torch.device) -> _GANTraining:
        """Optimisers and the EMA copy for a model already on `device`."""
        G, D = model.generator, model.discriminator
        return cls(
            cfg,
            model,
            copy.deepcopy(G).eval() if cfg.ema else G,
            torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas),
            torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas),
            torch.Generator().manual_seed(cfg.seed),
            device,
        )

    def run_epoch(
        self, data: torch.Tensor, n_batches: int, history: History, epoch: int, deadline: float, bar: Any
    ) -> dict[str, float]:
        """One pass over the shuffled sprites, a D step then a G step per batch; returns the epoch's mean losses."""
        self.model.train()
        order = torch.randperm(len(data), generator=self.gen)
        sums = {"d_loss": 0.0, "g_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
        count = 0
        size = self.cfg.batch_size
        for b in range(n_batches):
            real = augment(data[order[b * size : (b + 1) * size]].to(self.device), self.gen)
            z = torch.randn(len(real), self.model.z_dim, generator=self.gen).to(self.device)
            rec = self.train_step(real, z, epoch)
            history.steps.append(rec)
            for k in sums:
                sums[k] += rec[k]
            count += 1
            bar.update(1)
            if time.perf_counter() > deadline:
                history.stopped_early = True
                break
        if self.cfg.ema:
            recalibrate_batchnorm(self.G_avg, self.model.z_dim, batches=2, seed=self.cfg.seed + 3)
        return {k: v / count for k, v in sums.items()}

    def state(self) -> dict[str, Any]:
        """Everything a later run needs to go on exactly where this one stopped (course-data's resume file)."""
        cpu = lambda m: {k: v.detach().cpu() for k, v in m.state_dict().items()}  # noqa: E731
        return {
            "model": cpu(self.model),
            "g_avg": cpu(self.G_avg),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "gen": self.gen.get_state(),
            "step": self.step,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Go on from `state()`."""
        self.model.load_state_dict(state["model"])
        self.G_avg.load_state_dict(state["g_avg"])
        self.model.to(self.device)
        self.G_avg.to(self.device)
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.gen.set_state(state["gen"])
        self.step = int(state["step"])

    def train_step(self, real: torch.Tensor, z: torch.Tensor, epoch: int) -> dict[str, float]:
        """One discriminator step then one generator step on the same fakes; returns the step's log record."""
        fake = self.model.generator(z)
        d_loss, real_logits, fake_logits = self._discriminator_step(real, fake)
        g_loss = self._generator_step(fake)
        if self.cfg.ema:
            _ema_update(self.G_avg, self.model.generator, min(self.cfg.ema, (1 + self.step) / (10 + self.step)))
        d_value, g_value = float(d_loss.detach()), float(g_loss.detach())
        rec = {
            "step": self.step,
            "epoch": epoch,
            "loss": d_value,
            "d_loss": d_value,
            "g_loss": g_value,
            "d_real": float(torch.sigmoid(real_logits.detach()).mean()),
            "d_fake": float(torch.sigmoid(fake_logits.detach()).mean()),
        }
        if not (math.isfinite(d_value) and math.isfinite(g_value)):
            raise FloatingPointError(
                f"the GAN losses became non-finite at step {self.step}: lower the learning "
                f"rates (lr_g={self.cfg.lr_g}, lr_d={self.cfg.lr_d})."
            )
        self.step += 1
        return rec

    def _discriminator_step(
        self, real: torch.Tensor, fake: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D learns real -> 1, fake -> 0; the fakes are detached, so G is not updated here."""
        D, r1 = self.model.discriminator, self.cfg.r1
        if r1:
            real.requires_grad_(True)
        real_logits, fake_logits = D(real), D(fake.detach())
        d_loss = discriminator_loss(real_logits, fake_logits)
        penalty = _r1_penalty(real_logits, real) if r1 else torch.zeros(())
        self.opt_d.zero_grad(set_to_none=True)
        (d_loss + 0.5 * r1 * penalty).backward()
        self.opt_d.step()
        return d_loss, real_logits, fake_logits

    def _generator_step(self, fake: torch.Tensor) -> torch.Tensor:
        """G learns to make the (just updated) D call its fakes real: the non-saturating loss."""
        g_loss = generator_loss(self.model.discriminator(fake))
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return g_loss

    def finish(self) -> None:
        """Hand the averaged weights (with fresh batch-norm statistics) to the generator; eval mode."""
        if self.cfg.ema:
            recalibrate_batchnorm(self.G_avg, self.model.z_dim, seed=self.cfg.seed + 3)
            self.model.generator.load_state_dict(self.G_avg.state_dict())
        self.model.eval()


def _r1_penalty(real_logits: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean squared gradient of D's score with respect to the real sprites (R1, Mescheder et al. 2018):
    keeps D's judgement smooth around the data, so it does not grow overconfident."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).sum(dim=(1, 2, 3)).mean()


@torch.inference_mode()
def _generate_rgb(G: nn.Module, z: torch.Tensor) -> np.ndarray:
    was_training = G.training
    G.eval()
    out = to_rgb_uint8(G(z))
    G.train(was_training)
    return out


@torch.no_grad()
def recalibrate_batchnorm(G: nn.Module, z_dim: int, batches: int = 8, batch_size: int = 256, seed: int = 0) -> None:
    """Recompute the generator's batch-norm statistics from fresh random codes.

    The averaged (EMA) weights need their own statistics: the running averages collected while
    training belong to the non-averaged weights, and with them the samples come out washed out."""
    device = next(G.parameters()).device
    norms = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [(m.momentum, m.training) for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over the batches below
    was_training = G.training
    G.train()
    g = torch.Generator().manual_seed(seed)
    for _i in range(batches):
        G(torch.randn(batch_size, z_dim, generator=g).to(device))
    G.train(was_training)
    for m, (momentum, _stats) in zip(norms, saved):
        m.momentum = momentum


@torch.no_grad()
def _ema_update(avg: nn.Module, model: nn.Module, decay: float) -> None:
    for a, p in zip(avg.parameters(), model.parameters()):
        a.lerp_(p, 1.0 - decay)
    for a, b in zip(avg.buffers(), model.buffers()):
        a.copy_(b)


def warmup_epoch(variety: list[float], data_variety: float, share: float = 0.9) -> int:
    """The first epoch whose sample variety reached `share` of the data's: before it, the variety is still
    rising from the untrained generator's one blob (the warm-up ramp), which is not collapse. The number of
    epochs when it never did."""
    return next((i for i, v in enumerate(variety) if v >= share * data_variety), len(variety))


def collapse_epochs(
    history: dict[str, Any] | History, data_variety: float, share: float = 1 / 3, skip: int = 5
) -> list[int]:
    """Epochs whose sample variety fell below `share` of the data's: the signature of mode collapse
    (the generator draws (nearly) the same sprite for every code). The first `skip` epochs are left out:
    an untrained generator draws nearly the same blob for every code too, which is not collapse."""
    epochs = history.epochs if isinstance(history, History) else history["epochs"]
    return [
        int(e["epoch"]) for e in epochs if "variety" in e and e["epoch"] >= skip and e["variety"] < share * data_variety
    ]


def quality_scores(model: GAN, sprites: Any, train: Any, test: Any, n: int = 256, seed: int = 0) -> dict[str, float]:
    """The numbers that define "shipped quality", on `n` samples snapped to the palette:

    - `nearest_real_ratio` (lecturekit.scores): distance to the nearest training sprite over that of real
      held-out sprites (1: as close as new real sprites; higher: less realistic);
    - `two_sample_1nn` (lecturekit.scores): can a 1-nearest-neighbour rule tell samples from real training
      sprites? 0.5: no (ideal), 1.0: always;
    - `variety_ratio`: mean pairwise distance of the samples over that of real sprites (near 0: collapse);
    - `copy_share`: share of samples that are near copies of a training sprite (memorisation)."""
    from lecturekit.metrics import copy_share, mean_pairwise_distance
    from lecturekit.scores import nearest_real_ratio, two_sample_1nn_accuracy

    snapped = snap_rgb(model.sample_rgb(n, seed=seed), sprites.palette)
    train_rgb, test_rgb = train.rgb(), test.rgb()
    return {
        "nearest_real_ratio": nearest_real_ratio(snapped, train_rgb, test_rgb),
        "two_sample_1nn": two_sample_1nn_accuracy(snapped, train_rgb, seed=seed),
        "variety_ratio": mean_pairwise_distance(snapped) / mean_pairwise_distance(train_rgb[:n]),
        "copy_share": copy_share(snapped, train_rgb),
    }


# ----------------------------------------------------------------------------- command line
# the settings of the shipped weights as keyword arguments of train_gan (notebook 05 passes them); from GANConfig
SHIPPED_TRAINING: dict[str, Any] = GANConfig().settings()


def train_main(argv: list[str] | None = None) -> int:
    """`python -m lecturekit train gan [--out PATH] [--minutes M] [--epochs E]`: reproduces data/weights/gan.pt
    (trained on the kit's training sprites; prints the quality scores last)."""
    from lecturekit.data import load_sprites
    from lecturekit.settings import config_from_args

    args = _gan_parser().parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    sprites, train, test = load_sprites(), load_sprites("train"), load_sprites("test")
    config = config_from_args(GANConfig(), args)
    cpu_start = time.process_time()
    run = train_gan(train.rgb(), config, max_minutes=args.minutes)
    cpu_seconds = time.process_time() - cpu_start
    scores = quality_scores(run.model, sprites, train, test)
    scores.update(
        train_seconds=run.history.seconds,
        train_cpu_seconds=cpu_seconds,
        epochs=len(run.history.epochs),
        steps=len(run.history.steps),
        threads=torch.get_num_threads(),
    )
    out = _save_gan_checkpoint(args.out, run, sprites, scores, config)
    print(
        f"trained {len(run.history.epochs)} epochs ({len(run.history.steps)} steps) in {run.history.seconds:.0f} s "
        f"wall, {cpu_seconds:.0f} s CPU -> {out}"
    )
    for k, v in scores.items():
        print(f"{k} {v:.4f}")
    return 0


def _gan_parser() -> argparse.ArgumentParser:
    """`train_main`'s options; their defaults are the shipped recipe's (GANConfig)."""
    from lecturekit.settings import add_config_options

    parser = argparse.ArgumentParser(prog="lecturekit train gan", description=train_main.__doc__)
    parser.add_argument("--out", default=None, help="checkpoint path (default: the shipped data/weights/gan.pt)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this many minutes of training")
    add_config_options(parser, GANConfig())
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: this model is too small to gain from more, and on a "
        "busy machine extra threads wait for each other: 2 threads ran 8x slower on a shared CPU)",
    )
    return parser


def _save_gan_checkpoint(
    out: str | None, run: GANRun, sprites: Any, scores: dict[str, float], config: GANConfig
) -> Path:
    """Save the run (half precision, with its strips, history and settings) where `--out` says, else as the
    shipped gan.pt; return the path."""
    from lecturekit.datasets import weights_dir

    path = Path(out) if out else weights_dir() / "gan.pt"
    save_checkpoint(
        path,
        run.model,
        fingerprints={"palette": sprites.palette_fingerprint(), "data": sprites.fingerprint()},
        metrics=scores,
        extra={
            **run.extra(),
            "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.settings().items()},
        },
        half=True,
    )
    return path


# ----------------------------------------------------------------------------- the three families compared
# Row names, column names and notes are English keys (code and claims look rows up by them), marked N_() so
# that what shows them (table, plot_comparison, sharpness_verdict, shown_name) can put them in the student's
# language; the control texts are written in it when the comparison is made.
REAL = N_("real sprites (held-out)")
ABOVE = N_("PixelRNN, sees the row above")  # the row of the best autoregressive model (checkpoint pixelrnn_above)
VAE_EXPECTED, VAE_LIKELY = N_("VAE: expected colour"), N_("VAE: most likely colour")
GAN_RAW, GAN_SNAPPED = N_("GAN: raw RGB"), N_("GAN: snapped to palette")
CONTROL = {
    REAL: "—",
    "PixelRNN": N_("no code: only a prefix to complete"),
    "VAE": N_("10-d code, and an encoder finds a sprite's code"),
    "GAN": N_("{dim}-d code, but no encoder"),
}


def shown_name(name: str) -> str:
    """A row or column name of the comparison as the student reads it (the rows keep the English keys)."""
    return _(name)


@dataclass
class Comparison:
    """Samples of each family (RGB (N, 20, 20, 3) uint8, by row name) and the table's rows."""

    images: dict[str, np.ndarray]
    rows: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def constant_columns(self) -> dict[str, Any]:
        """The columns whose value is the same in every row (they tell the rows nothing), with that value."""
        rows = list(self.rows.values())
        if len(rows) < 2:
            return {}
        return {k: v for k, v in rows[0].items() if all(_same(r.get(k), v) for r in rows[1:])}

    def table(self, digits: int = 3) -> str:
        """The rows as a Markdown table, without the columns that are the same in every row (see
        `constant_columns`: say them in a line below the table)."""
        from lecturekit.metrics import format_table

        constant = self.constant_columns()
        columns = [k for k in next(iter(self.rows.values()), {}) if k not in constant]
        shown = {_(name): {_(k): row[k] for k in columns} for name, row in self.rows.items()}
        return format_table(shown, columns=[_(k) for k in columns], digits=digits)


def _same(a: Any, b: Any) -> bool:
    """Equal values, two missing ones (None or NaN) counting as equal."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def vae_expected_rgb(vae: Any, codes: torch.Tensor) -> np.ndarray:
    """The VAE's picture of each code as the *expected* colour: the palette averaged with the decoder's
    softmax weights, (N, 20, 20, 3) uint8. Where the decoder is unsure, colours mix: this is the blur."""
    with torch.inference_mode():
        probs = torch.softmax(vae.decode_logits(codes).float(), dim=1)  # (N, K, H, W)
        palette = vae.palette.float().to(probs.device)
        rgb = torch.einsum("nkhw,kc->nhwc", probs, palette)
    return rgb.round().clamp(0, 255).to(torch.uint8).cpu().numpy()


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def compare_families(
    n: int = 64,
    seed: int = 0,
    *,
    gan_model: GAN | None = None,
    pixelrnn_model: Any = None,
    above_model: Any = None,
    vae_model: Any = None,
    temperature: float = 1.0,
) -> Comparison:
    """Draw `n` samples from each family (shipped weights unless models are given) and score them all
    with the same metrics against the same training sprites (lecturekit.metrics, lecturekit.scores).
    PixelRNN has two rows: the plain LSTM ("pixelrnn") and the best autoregressive model, the LSTM that
    also sees the row above ("pixelrnn_above", `above_model`).

    A family whose weights are missing is left out with a note, so the notebook still runs."""
    from lecturekit.data import load_sprites

    sprites, train, test = load_sprites(), load_sprites("train"), load_sprites("test")
    rows = _FamilyRows(sprites.palette)
    rows.add(REAL, test.rgb(), float("nan"), None, CONTROL[REAL])
    for name, row, given in (("pixelrnn", "PixelRNN", pixelrnn_model), ("pixelrnn_above", ABOVE, above_model)):
        rnn = rows.load(name, given)
        if rnn is not None:
            _add_pixelrnn(rows, row, rnn, test, n, seed, temperature)
    vae = rows.load("vae", vae_model)
    if vae is not None:
        _add_vae(rows, vae, test, n, seed)
    g = rows.load("gan", gan_model)
    if g is not None:
        _add_gan(rows, g, n, seed)
    return Comparison(rows.images, rows.score(train.rgb(), seed), rows.notes)


@dataclass
class _FamilyRows:
    """The samples of each row of the comparison and what is known about them before scoring."""

    palette: np.ndarray
    images: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    bpp: dict[str, float | None] = field(default_factory=dict)
    control: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, rgb: np.ndarray, seconds: float, bpp: float | None, control: str) -> None:
        """One row: its samples, the seconds they took, its bits/pixel (None: no likelihood), its control."""
        self.images[name], self.seconds[name], self.bpp[name], self.control[name] = rgb, seconds, bpp, control

    def load(self, name: str, given: Any) -> Any:
        """The given model, else the shipped one; None (and a note) when its weights are missing."""
        import lecturekit
        from lecturekit.checkpoints import CheckpointError

        if given is not None:
            return given
        try:
            return lecturekit.load_pretrained(name)
        except (CheckpointError, ImportError) as err:
            self.notes.append(_("{name}: left out ({error})").format(name=name, error=err))
            return None

    def score(self, train_rgb: np.ndarray, seed: int) -> dict[str, dict[str, Any]]:
        """The table: every row scored with the same metrics, sharpness relative to the real sprites."""
        from lecturekit import metrics
        from lecturekit.scores import two_sample_1nn_accuracy

        rows: dict[str, dict[str, Any]] = {}
        real = metrics.sample_scores(self.images[REAL], self.palette, train_rgb)
        for name, rgb in self.images.items():
            scores = metrics.sample_scores(rgb, self.palette, train_rgb)
            rows[name] = {
                N_("in palette"): scores["palette_share"],
                N_("edge contrast"): scores["edge_contrast"],
                N_("speckle"): scores["speckle"],
                N_("sharpness"): sharpness_score(scores, real),
                N_("variety"): scores["variety"],
                N_("distinct"): scores["distinct_share"],
                N_("to nearest train"): scores["nearest_train"],
                N_("copies"): scores["copy_share"],
                N_("1-NN real vs drawn"): two_sample_1nn_accuracy(rgb, train_rgb, seed=seed),
                N_("bits/pixel"): self.bpp[name],
                N_("seconds"): self.seconds[name],
                N_("control"): self.control[name],
            }
        return rows


def _add_pixelrnn(rows: _FamilyRows, name: str, rnn: Any, test: Any, n: int, seed: int, temperature: float) -> None:
    """A PixelRNN row: samples drawn pixel by pixel, and its exact held-out bits per pixel."""
    from lecturekit.models import pixelrnn

    idx, secs = _timed(lambda: pixelrnn.sample(rnn, n, temperature=temperature, seed=seed))
    bits = pixelrnn.model_bits_per_pixel(rnn, test.indices)
    rows.add(name, rows.palette[idx], secs, bits, _(CONTROL["PixelRNN"]))


def _add_vae(rows: _FamilyRows, vae: Any, test: Any, n: int, seed: int) -> None:
    """The VAE's two rows (expected and most likely colour of the same codes), with its ELBO bound."""
    from lecturekit.models import vae as vae_module

    codes = vae.random_codes(n, seed=seed)
    expected, secs_expected = _timed(lambda: vae_expected_rgb(vae, codes))
    argmax, secs_argmax = _timed(lambda: vae.decode_rgb(codes))
    bound = vae_module.elbo_bits_per_pixel(vae, test.indices, seed=seed)["elbo_bpp"]  # after: it sets eval mode
    rows.add(VAE_EXPECTED, expected, secs_expected, bound, _(CONTROL["VAE"]))
    rows.add(VAE_LIKELY, argmax, secs_argmax, bound, _(CONTROL["VAE"]))
    rows.notes.append(_("VAE bits/pixel is an upper bound (the negative ELBO); PixelRNN's is exact; a GAN has none."))


def _add_gan(rows: _FamilyRows, g: GAN, n: int, seed: int) -> None:
    """The GAN's two rows: its raw RGB samples and the same snapped to the palette (no likelihood)."""
    raw, secs = _timed(lambda: g.sample_rgb(n, seed=seed))
    control = _(CONTROL["GAN"]).format(dim=g.z_dim)
    rows.add(GAN_RAW, raw, secs, None, control)
    snapped, secs2 = _timed(lambda: snap_rgb(raw, rows.palette))
    rows.add(GAN_SNAPPED, snapped, secs + secs2, None, control)


def sharpness_score(row: dict[str, Any], real: dict[str, Any]) -> float:
    """How crisp samples are beside the real sprites, 0..1 (1: as crisp as real): the share of pixels in the
    palette (mixed colours are blur), times edge contrast relative to real (soft edges are blur), times the
    real sprites' speckle relative to the samples' (pixels unlike all their neighbours beyond the real
    sprites' share are noise, not edges). Each factor is capped at 1, so neither extra contrast nor less
    speckle than real is rewarded. `row` and `real` hold either the table's columns or `sample_scores`."""

    def pick(r: dict[str, Any], table_key: str, score_key: str) -> float:
        return float(r[table_key] if table_key in r else r[score_key])

    in_palette = pick(row, "in palette", "palette_share")
    edges = pick(row, "edge contrast", "edge_contrast") / max(pick(real, "edge contrast", "edge_contrast"), 1e-12)
    speckle = pick(real, "speckle", "speckle") / max(pick(row, "speckle", "speckle"), 1e-12)
    return float(in_palette * min(1.0, edges) * min(1.0, speckle))


def sharpness_verdict(comparison: Comparison) -> str:
    """One line per family (computed from the table, not asserted): colours in the palette or mixed, edges
    as strong as the real sprites' or softer (blur), speckle like the real sprites' or more (noise), then the
    ranking by sharpness_score."""
    rows = comparison.rows
    real = rows.get(REAL)
    if real is None:
        return ""
    names = [n for n in rows if n != REAL]
    width = max((_display_width(_(n)) for n in names), default=0)
    lines = []
    for name in names:
        row = rows[name]
        edges = row["edge contrast"] / real["edge contrast"]
        speckle = row["speckle"] / max(real["speckle"], 1e-12)
        shown = _(name)
        lines.append(
            _(
                "{name} {in_palette} in the palette, edge contrast {edges} of real, speckle {speckle}: "
                "{colours}, {edge_word}, {noise}; sharpness {sharpness}"
            ).format(
                name=shown + " " * (width - _display_width(shown)),
                in_palette=f"{row['in palette']:4.0%}",
                edges=f"{edges:4.0%}",
                speckle=f"{row['speckle']:.3f}",
                colours=_("palette colours") if row["in palette"] >= 0.9 else _("mixed colours"),
                edge_word=_("softer edges") if edges < 0.85 else _("edges like real"),
                noise=_("speckle like real")
                if speckle <= 1.25
                else _("{times} times the real speckle").format(times=f"{speckle:.1f}"),
                sharpness=f"{sharpness_score(row, real):.2f}",
            )
        )
    if names:
        ranked = sorted(names, key=lambda n: sharpness_score(rows[n], real), reverse=True)
        lines.append(_("sharpest to blurriest or noisiest: {ranking}").format(ranking=" > ".join(map(_, ranked))))
    return "\n".join(lines)


def _display_width(text: str) -> int:
    """Columns a text takes in a monospaced output: Chinese characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def plot_comparison(comparison: Comparison, columns: int = 12, scale: float = 0.55) -> Any:
    """One row of samples per family, the real held-out sprites first (a matplotlib Figure)."""
    import matplotlib.pyplot as plt

    from lecturekit.plotting import show_sprites

    names = list(comparison.images)
    fig, axes = plt.subplots(len(names), 1, figsize=(columns * scale * 1.1, len(names) * (scale * 1.1 + 0.35)))
    for ax, name in zip(np.atleast_1d(axes), names):
        show_sprites(comparison.images[name][:columns], columns=columns, ax=ax)
        ax.set_title(_(name), fontsize=9, loc="left")
    fig.tight_layout()
    return fig
