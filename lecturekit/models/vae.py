"""Autoencoder vs VAE on the sprites (notebook 04): the same encoder and decoder, a 10-d code.

Both decoders predict a palette colour per pixel (a softmax over the K colours), like PixelRNN in
notebook 03, so the VAE's negative ELBO is an upper bound on its bits per pixel, on PixelRNN's scale.

The lecture's KL term (c = exp(sigma) * e + m; minimise sum(exp(sigma) - (1 + sigma) + m^2)) mixes two
readings of sigma; the kit trains with the consistent one: sigma is the log-variance,
c = exp(sigma / 2) * e + m and KL = 1/2 sum(exp(sigma) - 1 - sigma + m^2). `lecture_penalty`,
`lecture_penalty_as_written` and `kl_table` show where the two differ.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lecturekit.checkpoints import register_model
from lecturekit.i18n import _
from lecturekit.models.common import SpriteInput, reparameterize
from lecturekit.units import LN2, SPRITE_SIZE, nats_per_sprite_to_bits_per_pixel


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class SpriteCodecConfig:
    """One home for the sprite AE's and VAE's settings: the shape both share and the training recipe.

    The palette size comes from the data. `train_sprite_model`'s defaults, the CLI and `RECIPE` read them
    from here; a test holds them to the metadata of the shipped ae.pt and vae.pt."""

    # architecture (the constructor arguments besides n_colors)
    latent_dim: int = 10
    width: int = 64
    hidden: int = 256
    # training recipe
    epochs: int | None = 100
    batch_size: int = 32
    lr: float = 2e-3
    warmup_epochs: int = 10
    flip: bool = True
    seed: int = 0

    def model_args(self) -> dict[str, Any]:
        """The constructor arguments besides n_colors (what a checkpoint's config stores with it)."""
        return {"latent_dim": self.latent_dim, "width": self.width, "hidden": self.hidden}

    def recipe(self) -> dict[str, Any]:
        """The recipe as a checkpoint stores it (`extra["recipe"]`) and as `RECIPE` lists it."""
        return {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "warmup_epochs": self.warmup_epochs,
            "seed": self.seed,
        }

    @classmethod
    def from_checkpoint(cls, blob: dict[str, Any]) -> SpriteCodecConfig:
        """The settings an ae.pt or vae.pt was made with (its stored config and `extra["recipe"]`)."""
        stored = {**blob["extra"].get("recipe", {}), **blob["meta"]["config"]}
        return cls(**{f.name: stored[f.name] for f in fields(cls) if f.name in stored})


LATENT_DIM = SpriteCodecConfig.latent_dim


# ----------------------------------------------------------------------------- the KL term
def lecture_sample(m: torch.Tensor, sigma: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """The lecture's sampling, c = exp(sigma) * e + m: it reads exp(sigma) as the standard deviation."""
    return torch.exp(sigma) * eps + m


def kl_divergence(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) in nats, one value per row: 1/2 sum(exp(lv) - 1 - lv + m^2)."""
    return 0.5 * (torch.exp(log_var) - 1.0 - log_var + mean**2).sum(dim=-1)


def negative_elbo(
    decoder: Callable[[torch.Tensor], torch.Tensor],
    sprites: torch.Tensor,
    mean: torch.Tensor,
    log_var: torch.Tensor,
    eps: torch.Tensor,
    beta: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The VAE's loss in bits per pixel, and its two terms: (reconstruction + beta * KL, reconstruction, KL).

    The code is sampled with the reparameterization, c = mean + exp(log_var / 2) * eps; `decoder` turns
    codes (N, D) into palette logits (N, K, H, W); the reconstruction is the cross-entropy of the sprites'
    colours (N, H, W), summed over the pixels and averaged over the sprites (nats per sprite), the KL is
    averaged over the sprites too; both are divided by H * W * ln 2 to be bits per pixel. With beta = 1
    (after the warm-up) this is the negative ELBO, an upper bound on the bits per pixel of the sprites."""
    logits = decoder(reparameterize(mean, log_var, eps))
    n, _colours, height, width = logits.shape
    recon = F.cross_entropy(logits, sprites, reduction="sum") / n
    kl = kl_divergence(mean, log_var).mean()
    to_bits_per_pixel = 1.0 / (height * width * LN2)
    return (recon + beta * kl) * to_bits_per_pixel, recon * to_bits_per_pixel, kl * to_bits_per_pixel


def gaussian_kl(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, std^2) || N(0, I)) in nats per row, from the standard deviation itself."""
    return (0.5 * (std**2 + mean**2 - 1.0) - torch.log(std)).sum(dim=-1)


def lecture_penalty(m: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """The lecture's term to minimise, sum(exp(sigma) - (1 + sigma) + m^2): twice the KL if sigma is the
    log-variance."""
    return (torch.exp(sigma) - (1.0 + sigma) + m**2).sum(dim=-1)


def lecture_penalty_as_written(m: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """The notes' "minimise sum(1 + sigma - m^2 - exp(sigma))": the sign is flipped (it is -penalty, to maximise)."""
    return (1.0 + sigma - m**2 - torch.exp(sigma)).sum(dim=-1)


def kl_table(sigmas: list[float] | np.ndarray, m: float = 0.0) -> list[dict[str, float]]:
    """For one code dimension with mean m: the lecture's penalty, the KL when sigma is the log-variance
    (what the kit trains with) and the KL of what the lecture samples (std = exp(sigma)), in nats."""
    rows = []
    for s in np.asarray(sigmas, dtype=np.float64):
        sig = torch.tensor([[float(s)]], dtype=torch.float64)
        mean = torch.tensor([[float(m)]], dtype=torch.float64)
        rows.append(
            {
                "sigma": float(s),
                "lecture_penalty": float(lecture_penalty(mean, sig)),
                "kl_log_variance": float(kl_divergence(mean, sig)),
                "kl_of_lecture_sampling": float(gaussian_kl(mean, torch.exp(sig))),
                "as_written": float(lecture_penalty_as_written(mean, sig)),
            }
        )
    return rows


def minimise_penalty(
    penalty: Any, steps: int = 50, lr: float = 0.1, start: tuple[float, float] = (1.0, 0.5)
) -> list[tuple[float, float, float]]:
    """Plain gradient descent on (m, sigma) for one dimension: [(m, sigma, penalty)] per step.
    With the lecture's penalty it settles at m=0, sigma=0 (the prior); with the sign as written it runs
    away (the list stops early once the penalty passes -1e6)."""
    m = torch.tensor([[start[0]]], dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor([[start[1]]], dtype=torch.float64, requires_grad=True)
    path = []
    for _i in range(steps):
        value = penalty(m, sigma).sum()
        path.append((float(m.detach()), float(sigma.detach()), float(value.detach())))
        if not math.isfinite(path[-1][2]) or abs(path[-1][2]) > 1e6:
            break
        grad_m, grad_s = torch.autograd.grad(value, (m, sigma))
        with torch.no_grad():
            m -= lr * grad_m
            sigma -= lr * grad_s
    return path


def latent_grid_codes(base: torch.Tensor, dim_x: int, dim_y: int, values: torch.Tensor) -> torch.Tensor:
    """Codes for a latent grid: row r, column c is `base` with dimension dim_y set to values[r] and
    dim_x set to values[c]; shape (len(values) ** 2, D), rows first."""
    n = len(values)
    codes = base.reshape(1, -1).repeat(n * n, 1).clone()
    codes[:, dim_y] = values.repeat_interleave(n)
    codes[:, dim_x] = values.repeat(n)
    return codes


# ----------------------------------------------------------------------------- the networks
def _norm(channels: int) -> nn.Module:
    """Batch normalisation. Without it these networks learnt the sprites' colours far slower (held-out -ELBO
    3.64 instead of 2.90 bits per pixel after the same 60 epochs), and a VAE ignored most of its code."""
    return nn.BatchNorm2d(channels)


class SpriteEncoder(nn.Module):
    """Palette indices (B, 20, 20) -> a feature vector, then `out_dim` numbers (a code, or mean and log-variance)."""

    def __init__(self, n_colors: int, out_dim: int, width: int = 64, hidden: int = 256, embed: int = 8) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_colors, embed)
        self.convs = nn.Sequential(
            nn.Conv2d(embed + 3, width // 2, 3, padding=1),
            _norm(width // 2),
            nn.ReLU(),
            nn.Conv2d(width // 2, width, 4, stride=2, padding=1),
            _norm(width),
            nn.ReLU(),  # 10x10
            nn.Conv2d(width, width, 4, stride=2, padding=1),
            _norm(width),
            nn.ReLU(),  # 5x5
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(width * 25, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, indices: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
        rgb = palette.float()[indices] / 255.0  # the colour itself, so similar colours look similar
        x = torch.cat([self.embed(indices), rgb], dim=-1).permute(0, 3, 1, 2)
        return self.fc(self.convs(x))


class SpriteDecoder(nn.Module):
    """A code (B, D) -> logits (B, K, 20, 20): one softmax over the palette per pixel, all pixels at once
    (given the code, the pixels are independent: unlike PixelRNN, no pixel sees another).

    Each pixel's logits are free per-colour scores plus a colour-space term: the decoder also points at
    an RGB colour `a` with a sharpness `s`, and palette colour c_k gets -s * |a - c_k|^2, so that one
    output (a colour) moves the probability of all the close shades together (the palette has many)."""

    def __init__(self, n_colors: int, latent_dim: int, width: int = 64, hidden: int = 256) -> None:
        super().__init__()
        self.width = width
        self.fc = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, width * 25), nn.ReLU())
        self.deconvs = nn.Sequential(
            nn.ConvTranspose2d(width, width, 4, stride=2, padding=1),
            _norm(width),
            nn.ReLU(),  # 10x10
            nn.ConvTranspose2d(width, width // 2, 4, stride=2, padding=1),
            _norm(width // 2),
            nn.ReLU(),  # 20x20
        )
        self.free = nn.Conv2d(width // 2, n_colors, 1)
        self.colour = nn.Conv2d(width // 2, 4, 3, padding=1)  # an RGB point and a log-sharpness per pixel

    def forward(self, codes: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
        h = self.deconvs(self.fc(codes).view(-1, self.width, 5, 5))
        pal = palette.float() / 255.0  # (K, 3)
        out = self.colour(h)
        point, sharpness = out[:, :3], torch.exp(out[:, 3:].clamp(-6.0, 6.0))
        # -|a - c|^2 without |a|^2, which is the same for every colour and cancels in the softmax
        closeness = 2.0 * torch.einsum("bchw,kc->bkhw", point, pal) - (pal**2).sum(1)[None, :, None, None]
        return self.free(h) + sharpness * closeness


class _SpriteCodec(nn.Module, SpriteInput):
    """What the AE and the VAE share: the decoder, the palette, decoding to pictures."""

    def __init__(self, n_colors: int, latent_dim: int, width: int, hidden: int, enc_out: int) -> None:
        super().__init__()
        if n_colors < 2:
            raise ValueError(f"n_colors must be at least 2 (white and one colour), got {n_colors}")
        self.n_colors = n_colors
        self.latent_dim = latent_dim
        self.encoder = SpriteEncoder(n_colors, enc_out, width=width, hidden=hidden)
        self.decoder = SpriteDecoder(n_colors, latent_dim, width=width, hidden=hidden)
        self.register_buffer("palette", torch.zeros(n_colors, 3, dtype=torch.uint8))

    def set_palette(self, palette: np.ndarray) -> None:
        """Store the palette the model was trained on (decode_rgb uses it; it is saved with the weights)."""
        pal = torch.as_tensor(np.asarray(palette, dtype=np.uint8))
        if pal.shape != (self.n_colors, 3):
            raise ValueError(f"palette must be ({self.n_colors}, 3) for this model, got {tuple(pal.shape)}")
        self.palette.copy_(pal)

    def _check_codes(self, codes: Any) -> torch.Tensor:
        z = torch.as_tensor(codes, dtype=torch.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected codes of shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return z.to(self.palette.device)

    def decode_logits(self, codes: torch.Tensor) -> torch.Tensor:
        """(N, D) codes -> (N, K, 20, 20) logits."""
        return self.decoder(self._check_codes(codes), self.palette)

    @torch.inference_mode()
    def decode_indices(self, codes: Any) -> np.ndarray:
        """The most likely colour of each pixel, (N, 20, 20) int64 (the decoder's picture of each code)."""
        return self.decoder(self._check_codes(codes), self.palette).argmax(dim=1).cpu().numpy()

    @torch.inference_mode()
    def decode_rgb(self, codes: Any) -> np.ndarray:
        """(N, 20, 20, 3) uint8 pictures of the codes, in the model's palette."""
        idx = self.decoder(self._check_codes(codes), self.palette).argmax(dim=1)
        return self.palette[idx].cpu().numpy()

    @torch.inference_mode()
    def decode_mean_rgb(self, codes: Any) -> np.ndarray:
        """(N, 20, 20, 3) uint8: each pixel the probability-weighted average of the palette colours (the
        decoder's mean picture; where it is unsure, colours mix and the picture blurs)."""
        probs = self.decoder(self._check_codes(codes), self.palette).softmax(dim=1)
        rgb = torch.einsum("nkhw,kc->nhwc", probs, self.palette.float())
        return rgb.round().clamp(0, 255).to(torch.uint8).cpu().numpy()

    @torch.inference_mode()
    def sample_indices(self, codes: Any, seed: int = 0) -> np.ndarray:
        """Each pixel's colour drawn from its own softmax, independently of its neighbours: (N, 20, 20) int64."""
        logits = self.decoder(self._check_codes(codes), self.palette)
        probs = logits.softmax(dim=1).permute(0, 2, 3, 1).reshape(-1, self.n_colors)
        g = torch.Generator(device=probs.device).manual_seed(seed)
        return torch.multinomial(probs, 1, generator=g).reshape(len(logits), SPRITE_SIZE, SPRITE_SIZE).cpu().numpy()

    def random_codes(self, n: int, seed: int = 0) -> torch.Tensor:
        """n codes drawn from N(0, I) (the VAE's prior)."""
        g = torch.Generator().manual_seed(seed)
        return torch.randn(n, self.latent_dim, generator=g)

    @torch.no_grad()
    def codes_of(self, indices: Any) -> torch.Tensor:
        """The code of each sprite (the AE's code, the VAE's mean), (N, D)."""
        raise NotImplementedError


@register_model("ae")
class SpriteAutoencoder(_SpriteCodec):
    """image -> 10-d code -> image, trained only to reconstruct (nothing shapes the code space)."""

    def __init__(
        self,
        n_colors: int,
        latent_dim: int = SpriteCodecConfig.latent_dim,
        width: int = SpriteCodecConfig.width,
        hidden: int = SpriteCodecConfig.hidden,
    ) -> None:
        super().__init__(n_colors, latent_dim, width, hidden, enc_out=latent_dim)
        self.config = {"n_colors": n_colors, **SpriteCodecConfig(latent_dim, width, hidden).model_args()}
        # where the training codes lie, per dimension (set after training): random codes can match their scale
        self.register_buffer("code_mean", torch.zeros(latent_dim))
        self.register_buffer("code_std", torch.ones(latent_dim))

    def encode(self, indices: torch.Tensor) -> torch.Tensor:
        return self.encoder(indices, self.palette)

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(indices), self.palette)

    def loss(self, indices: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """Reconstruction cross-entropy in bits per pixel."""
        nll = F.cross_entropy(self(indices), indices, reduction="sum") / len(indices)
        loss = nats_per_sprite_to_bits_per_pixel(nll)
        return loss, {"recon_bpp": float(loss.detach())}

    @torch.no_grad()
    def codes_of(self, indices: Any) -> torch.Tensor:
        return self.encode(self.check_sprites(indices, "sprites")).cpu()

    @torch.no_grad()
    def fit_code_statistics(self, indices: Any) -> None:
        """Remember the mean and spread of the training codes (for `random_codes(..., matched=True)`)."""
        codes = self.codes_of(indices)
        self.code_mean.copy_(codes.mean(0))
        self.code_std.copy_(codes.std(0).clamp_min(1e-6))

    def random_codes(self, n: int, seed: int = 0, matched: bool = False) -> torch.Tensor:
        """n codes from N(0, I), or (matched=True) from a Gaussian with the training codes' mean and spread."""
        z = super().random_codes(n, seed)
        return z * self.code_std.cpu() + self.code_mean.cpu() if matched else z


@register_model("vae")
class SpriteVAE(_SpriteCodec):
    """image -> (mean, log-variance) -> sampled code -> image, trained on the ELBO (reconstruction + KL)."""

    def __init__(
        self,
        n_colors: int,
        latent_dim: int = SpriteCodecConfig.latent_dim,
        width: int = SpriteCodecConfig.width,
        hidden: int = SpriteCodecConfig.hidden,
    ) -> None:
        super().__init__(n_colors, latent_dim, width, hidden, enc_out=2 * latent_dim)
        with torch.no_grad():  # start near the prior: a small first KL
            self.encoder.fc[-1].weight.mul_(0.1)
            self.encoder.fc[-1].bias.zero_()
        self.config = {"n_colors": n_colors, **SpriteCodecConfig(latent_dim, width, hidden).model_args()}

    def encode(self, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, log_var), each (N, D); log_var is clamped to [-12, 6] to keep exp() finite."""
        out = self.encoder(indices, self.palette)
        mean, log_var = out.chunk(2, dim=-1)
        return mean, log_var.clamp(-12.0, 6.0)

    def forward(
        self, indices: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, log_var = self.encode(indices)
        codes = reparameterize(mean, log_var, generator=generator)
        return self.decoder(codes, self.palette), mean, log_var

    def loss(
        self, indices: torch.Tensor, beta: float = 1.0, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Negative ELBO in bits per pixel (beta < 1 only during the warm-up): `negative_elbo` on a code drawn
        from `generator`."""
        mean, log_var = self.encode(indices)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        loss, recon, kl = negative_elbo(
            lambda codes: self.decoder(codes, self.palette), indices, mean, log_var, eps, beta
        )
        return loss, {"recon_bpp": float(recon.detach()), "kl_bpp": float(kl.detach())}

    @torch.no_grad()
    def codes_of(self, indices: Any) -> torch.Tensor:
        return self.encode(self.check_sprites(indices, "sprites"))[0].cpu()


# ----------------------------------------------------------------------------- measuring
@torch.inference_mode()
def elbo_bits_per_pixel(model: SpriteVAE, indices: Any, samples: int = 4, seed: int = 0) -> dict[str, float]:
    """The negative ELBO on `indices` in bits per pixel (an upper bound on the model's true bits per pixel),
    split into reconstruction and KL; `samples` codes per sprite average out the sampling noise."""
    model.eval()
    x = model.check_sprites(indices, "sprites")
    g = torch.Generator(device=x.device).manual_seed(seed)
    mean, log_var = model.encode(x)
    kl = kl_divergence(mean, log_var)
    recon = torch.zeros(len(x), device=x.device)
    for _i in range(samples):
        logits = model.decoder(reparameterize(mean, log_var, generator=g), model.palette)
        recon += F.cross_entropy(logits, x, reduction="none").sum(dim=(1, 2)) / samples
    return {
        "elbo_bpp": float(nats_per_sprite_to_bits_per_pixel((recon + kl).mean())),
        "recon_bpp": float(nats_per_sprite_to_bits_per_pixel(recon.mean())),
        "kl_bpp": float(nats_per_sprite_to_bits_per_pixel(kl.mean())),
    }


@torch.inference_mode()
def kl_per_dimension(model: SpriteVAE, indices: Any) -> np.ndarray:
    """The mean KL of each code dimension over the sprites, in nats (D,): dimensions near 0 carry no
    information (the encoder leaves them at the prior, and the decoder ignores them)."""
    mean, log_var = model.encode(model.check_sprites(indices, "sprites"))
    return (0.5 * (torch.exp(log_var) - 1.0 - log_var + mean**2)).mean(0).cpu().numpy()


@torch.inference_mode()
def reconstruction_bits_per_pixel(model: _SpriteCodec, indices: Any) -> float:
    """Cross-entropy of the reconstructions from the code (the VAE's mean), bits per pixel. For the AE
    this is not a likelihood bound: the AE has no prior over codes."""
    model.eval()
    x = model.check_sprites(indices, "sprites")
    logits = model.decoder(model.codes_of(x).to(x.device), model.palette)
    return float(nats_per_sprite_to_bits_per_pixel(F.cross_entropy(logits, x, reduction="sum") / len(x)))


@torch.inference_mode()
def pixel_accuracy(model: _SpriteCodec, indices: Any) -> float:
    """Share of pixels whose reconstructed colour (argmax) is exactly right."""
    x = model.check_sprites(indices, "sprites")
    return float((torch.as_tensor(model.decode_indices(model.codes_of(x))) == x.cpu()).float().mean())


def latent_grid(
    model: _SpriteCodec, dim_x: int, dim_y: int, base: Any = None, steps: int = 7, span: float = 2.5
) -> np.ndarray:
    """Decode a steps x steps grid of codes: dimensions dim_x (columns) and dim_y (rows) run over
    [-span, span], the other dimensions stay at `base` (zeros by default). (steps, steps, 20, 20, 3) uint8."""
    d = model.latent_dim
    for name, dim in (("dim_x", dim_x), ("dim_y", dim_y)):
        if not 0 <= int(dim) < d:
            raise ValueError(f"{name}={dim} is not a code dimension: choose 0..{d - 1}")
    if dim_x == dim_y:
        raise ValueError(f"dim_x and dim_y are both {dim_x}: choose two different dimensions")
    base_t = torch.zeros(d) if base is None else torch.as_tensor(base, dtype=torch.float32).reshape(-1)
    if base_t.numel() != d:
        raise ValueError(f"base must hold {d} numbers (one per code dimension), got {base_t.numel()}")
    values = torch.linspace(-span, span, steps)
    rgb = model.decode_rgb(latent_grid_codes(base_t, int(dim_x), int(dim_y), values))
    return rgb.reshape(steps, steps, SPRITE_SIZE, SPRITE_SIZE, 3)


# ----------------------------------------------------------------------------- training
RECIPE: dict[str, Any] = SpriteCodecConfig().recipe()
"""How the shipped ae.pt and vae.pt were trained, as keyword arguments of `train_sprite_model` (notebook 04's
RETRAIN passes them); from SpriteCodecConfig."""


def build_model(kind: str, n_colors: int, **config: Any) -> _SpriteCodec:
    """A fresh AE ("ae") or VAE ("vae") for a palette of n_colors."""
    classes = {"ae": SpriteAutoencoder, "vae": SpriteVAE}
    if kind not in classes:
        raise ValueError(f"kind must be 'ae' or 'vae', got {kind!r}")
    return classes[kind](n_colors, **config)


def train_sprite_model(
    kind: str,
    train: Any,
    test: Any = None,
    *,
    epochs: int | None = SpriteCodecConfig.epochs,
    max_minutes: float | None = None,
    batch_size: int = SpriteCodecConfig.batch_size,
    lr: float = SpriteCodecConfig.lr,
    warmup_epochs: int = SpriteCodecConfig.warmup_epochs,
    flip: bool = SpriteCodecConfig.flip,
    seed: int = SpriteCodecConfig.seed,
    device: Any = None,
    progress_bar: bool = True,
    **config: Any,
) -> tuple[_SpriteCodec, Any]:
    """Train an AE or a VAE on a SpriteSet (`train`); return (model, lecturekit.training.History).

    The VAE's KL weight grows from 0 to 1 over `warmup_epochs` (a full KL weight from the start makes the
    decoder ignore the code, "posterior collapse"); from then on the loss is the true negative ELBO.
    `flip` mirrors half the sprites of each batch (more data, creatures are nearly symmetric).
    With `test`, each epoch logs the held-out bits per pixel. The defaults are `SpriteCodecConfig()`'s;
    `config` (latent_dim, width, hidden) shapes the model.
    """
    from lecturekit.device import get_device, seed_everything
    from lecturekit.training import fit

    seed_everything(seed)
    device = torch.device(device) if device is not None else get_device()
    model = build_model(kind, train.n_colors, **config)
    model.set_palette(train.palette)
    data = torch.as_tensor(train.indices, dtype=torch.long)
    steps_per_epoch = max(1, math.ceil(len(data) / batch_size))
    loss_fn = _WarmupLoss(
        flip, warmup_steps=max(1, warmup_epochs * steps_per_epoch), generator=torch.Generator().manual_seed(seed + 1)
    )
    history = fit(
        model,
        data,
        loss_fn,
        epochs=epochs,
        max_minutes=max_minutes,
        batch_size=batch_size,
        lr=lr,
        schedule=_cosine_decay(epochs, steps_per_epoch),
        clip_grad=5.0,
        device=device,
        seed=seed,
        eval_fn=_held_out_bits(test),
        progress_bar=progress_bar,
        desc=_("training the {kind}").format(kind=kind.upper()),
    )
    model.cpu().eval()
    if isinstance(model, SpriteAutoencoder):
        model.fit_code_statistics(train.indices)
    return model, history


def _cosine_decay(epochs: int | None, steps_per_epoch: int) -> Callable[[int], float]:
    """The learning-rate schedule: a cosine decay to 5% over the run, or a constant rate when only minutes
    bound it (the number of steps is then unknown)."""
    total_steps = (epochs or 10**6) * steps_per_epoch

    def schedule(s: int) -> float:
        if epochs is None:
            return 1.0
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total_steps)))

    return schedule


def _held_out_bits(test: Any) -> Callable[[_SpriteCodec], dict[str, float]] | None:
    """`fit`'s eval_fn: held-out bits per pixel each epoch (the ELBO's for a VAE, reconstruction for an AE)."""
    if test is None:
        return None
    test_x = torch.as_tensor(test.indices, dtype=torch.long)

    def eval_fn(m: _SpriteCodec) -> dict[str, float]:
        if isinstance(m, SpriteVAE):
            return {"test_" + k: v for k, v in elbo_bits_per_pixel(m, test_x, samples=1).items()}
        return {"test_recon_bpp": reconstruction_bits_per_pixel(m, test_x)}

    return eval_fn


class _WarmupLoss:
    """`train_sprite_model`'s loss: mirrors half of each batch and, for a VAE, raises the KL weight from 0 to 1
    over the warm-up steps. A class, so the step it has reached is a plain attribute."""

    def __init__(self, flip: bool, warmup_steps: int, generator: torch.Generator) -> None:
        self.flip, self.warmup_steps, self.generator = flip, warmup_steps, generator
        self.steps = 0

    def __call__(self, m: _SpriteCodec, batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        if self.flip:
            mask = torch.rand(len(batch), generator=self.generator) < 0.5
            batch = torch.where(mask.to(batch.device)[:, None, None], batch.flip(-1), batch)
        self.steps += 1
        if isinstance(m, SpriteVAE):
            return m.loss(batch, beta=min(1.0, self.steps / self.warmup_steps))
        return m.loss(batch)


def held_out_metrics(model: _SpriteCodec, test: Any) -> dict[str, float]:
    """A checkpoint's metrics (`train ae|vae`'s and course-data's) on held-out indices: the VAE's ELBO bits (16
    samples) or the AE's reconstruction bits, and the share of pixels reconstructed right."""
    if isinstance(model, SpriteVAE):
        metrics = {"test_" + k: v for k, v in elbo_bits_per_pixel(model, test, samples=16).items()}
    else:
        metrics = {"test_recon_bpp": reconstruction_bits_per_pixel(model, test)}
    metrics["test_pixel_accuracy"] = pixel_accuracy(model, test)
    return metrics


def _train_cli(kind: str, argv: list[str]) -> int:
    """`python -m lecturekit train ae|vae [--out PATH] [--minutes M] [--epochs N] [--seed S] ...`."""
    from lecturekit.settings import add_config_options, config_from_args

    parser = argparse.ArgumentParser(
        prog=f"lecturekit train {kind}",
        description=f"Train the sprite {kind.upper()} of notebook 04 (shipped weights).",
    )
    parser.add_argument("--out", default=None, help=f"where to save (default: data/weights/{kind}.pt)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this many minutes")
    add_config_options(parser, SpriteCodecConfig())
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from lecturekit.checkpoints import save_checkpoint
    from lecturekit.data import load_sprites
    from lecturekit.datasets import weights_dir

    train, test = load_sprites("train"), load_sprites("test")
    start = time.perf_counter()
    config = config_from_args(SpriteCodecConfig(), args)
    recipe = config.recipe()
    model, history = train_sprite_model(
        kind, train, test, max_minutes=args.minutes, flip=config.flip, **recipe, **config.model_args()
    )
    metrics = held_out_metrics(model, test.indices)
    metrics["train_seconds"] = time.perf_counter() - start
    metrics["epochs"] = len(history.epochs)
    out = Path(args.out) if args.out else weights_dir() / f"{kind}.pt"
    everything = load_sprites()
    fingerprints = {"palette": everything.palette_fingerprint(), "data": everything.fingerprint()}
    save_checkpoint(
        out,
        model,
        fingerprints=fingerprints,
        metrics=metrics,
        extra={"history": history.to_dict() | {"steps": []}, "recipe": recipe},
        half=True,
    )
    print(f"saved {out}: " + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
    return 0


def train_main(argv: list[str]) -> int:
    """`python -m lecturekit train vae ...`: reproduce data/weights/vae.pt."""
    return _train_cli("vae", argv)


def train_ae_main(argv: list[str]) -> int:
    """`python -m lecturekit train ae ...`: reproduce data/weights/ae.pt."""
    return _train_cli("ae", argv)
