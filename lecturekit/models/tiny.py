"""Notebook 01: a tiny 3x3 image world and two next-pixel models that draw it one pixel at a time.

The world is small enough that its exact distribution is known (`world_distribution`), so the
best possible held-out loss (the world's entropy) can be printed beside the models' losses.
A pixel enters a model as an RGB vector (3 numbers in 0..1, as in the lecture) and leaves it as a
softmax over the world's 13 colours (1-of-N: notebook 02 shows why regression on RGB goes grey).

- `TinyMLP` has a fixed-size input: the 8 slots for the pixels before the last one, holding the
  pixels drawn so far and zeros for the rest (the lecture's "zero padding"). The world has no
  pure black, so an all-zero slot always means "not drawn yet".
- `TinyRNN` reads the prefix as a sequence of any length (a GRU), starting from a zero vector.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lecturekit.checkpoints import register_model, save_checkpoint
from lecturekit.training import History

N_PIXELS = 9
SIDE = 3

# index 0 is white, as in the sprites; then four colour families, each light / mid / dark. No black:
# a pixel (0, 0, 0) would look exactly like a zero-padded "not drawn yet" slot.
FAMILIES = ("red", "green", "blue", "yellow")
TINY_PALETTE = np.array(
    [
        [255, 255, 255],
        [255, 160, 160],
        [225, 40, 40],
        [130, 0, 0],
        [165, 230, 160],
        [40, 170, 40],
        [0, 90, 20],
        [165, 195, 255],
        [40, 90, 230],
        [10, 30, 130],
        [255, 235, 140],
        [240, 185, 0],
        [160, 100, 0],
    ],
    dtype=np.uint8,
)
N_COLORS = len(TINY_PALETTE)
PATTERNS = ("horizontal stripes", "vertical stripes", "gradient", "corner", "diagonal", "frame")


def family_color(family: int, shade: int) -> int:
    """Palette index of `shade` (0 light, 1 mid, 2 dark) of colour family `family` (0..3)."""
    return 1 + 3 * family + shade


def _pattern_images() -> dict[str, list[np.ndarray]]:
    """Every image of every pattern, as (9,) colour indices in raster order."""
    out: dict[str, list[np.ndarray]] = {p: [] for p in PATTERNS}
    for f in range(len(FAMILIES)):
        for s in range(3):
            a = family_color(f, s)
            for b in [0] + [family_color(f, t) for t in range(3) if t != s]:
                rows = np.array([[a] * 3, [b] * 3, [a] * 3])
                out["horizontal stripes"].append(rows.ravel())
                out["vertical stripes"].append(rows.T.ravel())
        shades = np.array([family_color(f, s) for s in range(3)])
        grad = np.repeat(shades[:, None], 3, axis=1)  # light -> dark, top to bottom
        for img in (grad, grad[::-1], grad.T, grad.T[:, ::-1]):
            out["gradient"].append(np.ascontiguousarray(img).ravel())
        for dark in (1, 2):
            eye = np.where(np.eye(3, dtype=bool), family_color(f, dark), family_color(f, 0))
            out["diagonal"].append(eye.ravel())
            out["diagonal"].append(eye[:, ::-1].ravel())
    for c in range(1, N_COLORS):
        for r0, c0 in ((0, 0), (0, 1), (1, 0), (1, 1)):
            img = np.zeros((3, 3), dtype=np.int64)
            img[r0 : r0 + 2, c0 : c0 + 2] = c
            out["corner"].append(img.ravel())
        ring_family = (c - 1) // 3
        for centre in [0] + [family_color(g, 1) for g in range(len(FAMILIES)) if g != ring_family]:
            img = np.full((3, 3), c, dtype=np.int64)
            img[1, 1] = centre
            out["frame"].append(img.ravel())
    return {k: [np.asarray(v, dtype=np.int64) for v in vs] for k, vs in out.items()}


def world_distribution() -> tuple[np.ndarray, np.ndarray]:
    """The world's exact distribution: (M, 9) distinct images and their (M,) probabilities.

    A pattern is chosen uniformly, then one of its images uniformly.
    """
    probs: dict[bytes, float] = {}
    images: dict[bytes, np.ndarray] = {}
    patterns = _pattern_images()
    for imgs in patterns.values():
        for img in imgs:
            key = img.tobytes()
            images[key] = img
            probs[key] = probs.get(key, 0.0) + 1.0 / (len(patterns) * len(imgs))
    keys = sorted(images)
    return np.stack([images[k] for k in keys]), np.array([probs[k] for k in keys])


def world_entropy_bits() -> float:
    """Bits per image of the world itself: the lowest held-out loss any model can reach on average."""
    _, p = world_distribution()
    return float(-(p * np.log2(p)).sum())


def make_tiny_world(n: int, seed: int = 0) -> np.ndarray:
    """`n` images drawn from the world, (n, 9) int64 colour indices (same seed, same images)."""
    images, probs = world_distribution()
    rng = np.random.default_rng(seed)
    return images[rng.choice(len(images), size=n, p=probs)]


def world_log2_prob(images: np.ndarray) -> np.ndarray:
    """log2 p(image) under the true world (-inf for images the world never makes)."""
    table, probs = world_distribution()
    lookup = {row.tobytes(): p for row, p in zip(table, probs)}
    flat = np.asarray(images, dtype=np.int64).reshape(-1, N_PIXELS)
    return np.array([math.log2(lookup[r.tobytes()]) if r.tobytes() in lookup else -math.inf for r in flat])


def is_world_image(images: np.ndarray) -> np.ndarray:
    """True for each image that the world can make (a sample that follows one of its patterns)."""
    return np.isfinite(world_log2_prob(images))


def world_patterns(images: np.ndarray | torch.Tensor) -> list[str | None]:
    """The kind of picture (one of PATTERNS) each (..., 9) image is, None where the world never makes it:
    what a drawing shows, in words (a figure's title)."""
    kinds: dict[bytes, str] = {}
    for kind, imgs in _pattern_images().items():
        for img in imgs:
            kinds.setdefault(img.tobytes(), kind)
    flat = np.asarray(images.cpu() if isinstance(images, torch.Tensor) else images, dtype=np.int64)
    return [kinds.get(row.tobytes()) for row in flat.reshape(-1, N_PIXELS)]


def to_rgb(indices: np.ndarray | torch.Tensor) -> np.ndarray:
    """Colour indices (..., 9) or (..., 3, 3) -> uint8 RGB (..., 3, 3, 3)."""
    idx = np.asarray(indices.cpu() if isinstance(indices, torch.Tensor) else indices, dtype=np.int64)
    return TINY_PALETTE[idx.reshape(*idx.shape[:-1], SIDE, SIDE) if idx.shape[-1] == N_PIXELS else idx]


def pixel_by_pixel_frames(image: np.ndarray, scale: int = 12, gap: int = 4) -> np.ndarray:
    """A strip of 10 frames (0..9 pixels drawn) of one image; pixels not drawn yet are a grey checkerboard, and
    each frame has a grey border, so a drawn white pixel shows against both."""
    from lecturekit.widgets import GROUND

    rgb = to_rgb(np.asarray(image).reshape(N_PIXELS))
    big = rgb.repeat(scale, axis=0).repeat(scale, axis=1)
    yy, xx = np.mgrid[0 : SIDE * scale, 0 : SIDE * scale]
    checker = np.where(((yy // 4 + xx // 4) % 2 == 0)[..., None], 165, 195).astype(np.uint8).repeat(3, axis=2)
    border = 2
    width = SIDE * scale + 2 * border
    strip = np.full((width, (N_PIXELS + 1) * (width + gap) - gap, 3), 255, dtype=np.uint8)
    for k in range(N_PIXELS + 1):
        frame = checker.copy()
        for p in range(k):
            r, c = divmod(p, SIDE)
            frame[r * scale : (r + 1) * scale, c * scale : (c + 1) * scale] = big[
                r * scale : (r + 1) * scale, c * scale : (c + 1) * scale
            ]
        framed = np.pad(frame, ((border, border), (border, border), (0, 0)), constant_values=GROUND)
        strip[:, k * (width + gap) : k * (width + gap) + width] = framed
    return strip


# ----------------------------------------------------------------------------- the two models
def pad_prefix(prefix_rgb: torch.Tensor, n_slots: int = N_PIXELS - 1) -> torch.Tensor:
    """The MLP's fixed-size input: (B, t, 3) RGB of the pixels drawn so far -> (B, n_slots * 3),
    the drawn pixels first (in drawing order), then zeros for the slots not drawn yet."""
    if prefix_rgb.ndim != 3 or prefix_rgb.shape[-1] != 3:
        raise ValueError(f"prefix_rgb must be (batch, pixels drawn, 3), got shape {tuple(prefix_rgb.shape)}")
    batch, t, _ = prefix_rgb.shape
    if t > n_slots:
        raise ValueError(f"{t} pixels do not fit in {n_slots} slots")
    zeros = prefix_rgb.new_zeros(batch, (n_slots - t) * 3)
    return torch.cat([prefix_rgb.reshape(batch, t * 3), zeros], dim=1)


class _NextPixelModel(nn.Module):
    """What both tiny models share: the palette (as RGB in 0..1) and the sampling interface."""

    palette01: torch.Tensor

    def __init__(self, n_colors: int) -> None:
        super().__init__()
        if n_colors != N_COLORS:
            raise ValueError(f"the tiny world has {N_COLORS} colours, got n_colors={n_colors}")
        self.register_buffer("palette01", torch.tensor(TINY_PALETTE, dtype=torch.float32) / 255.0)

    def rgb(self, indices: torch.Tensor) -> torch.Tensor:
        """Colour indices (B, t) -> RGB vectors (B, t, 3) in 0..1: how a pixel enters the model."""
        return self.palette01[indices]

    def next_pixel_logits(self, prefix: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def all_step_logits(self, images: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def nll_bits(self, images: torch.Tensor) -> torch.Tensor:
        """-log2 p(image) for each (B, 9) image: the chain rule, a sum over the 9 next-pixel losses."""
        logits = self.all_step_logits(images)
        logp = torch.log_softmax(logits, dim=-1).gather(-1, images.unsqueeze(-1)).squeeze(-1)
        return -logp.sum(dim=1) / math.log(2)


@register_model("tiny_mlp")
class TinyMLP(_NextPixelModel):
    """Next pixel from a fixed-size input: 8 RGB slots, zero-padded where nothing is drawn yet."""

    def __init__(self, n_colors: int = N_COLORS, hidden: int = 128) -> None:
        super().__init__(n_colors)
        self.config = {"n_colors": n_colors, "hidden": hidden}
        self.net = nn.Sequential(
            nn.Linear((N_PIXELS - 1) * 3, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_colors),
        )

    def next_pixel_logits(self, prefix: torch.Tensor) -> torch.Tensor:
        """(B, t) colour indices drawn so far -> (B, n_colors) logits of the next pixel."""
        return self.net(pad_prefix(self.rgb(prefix)))

    def all_step_logits(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 9) images -> (B, 9, K): the logits of pixel t from the true pixels before it, all t at once."""
        rgb = self.rgb(images[:, : N_PIXELS - 1])  # (B, 8, 3)
        # step t sees slots 0..t-1: a lower-triangular mask over the 8 slots
        mask = torch.tril(torch.ones(N_PIXELS, N_PIXELS - 1, device=images.device), diagonal=-1)
        padded = rgb.unsqueeze(1) * mask[None, :, :, None]  # (B, 9, 8, 3)
        return self.net(padded.reshape(len(images), N_PIXELS, -1))


@register_model("tiny_rnn")
class TinyRNN(_NextPixelModel):
    """Next pixel from a variable-length prefix: a GRU reads the drawn pixels one by one."""

    def __init__(self, n_colors: int = N_COLORS, hidden: int = 64) -> None:
        super().__init__(n_colors)
        self.config = {"n_colors": n_colors, "hidden": hidden}
        self.gru = nn.GRU(3, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_colors)

    def _inputs(self, prefix: torch.Tensor) -> torch.Tensor:
        start = self.palette01.new_zeros(len(prefix), 1, 3)  # "nothing drawn yet"
        return torch.cat([start, self.rgb(prefix)], dim=1)

    def next_pixel_logits(self, prefix: torch.Tensor) -> torch.Tensor:
        """(B, t) colour indices drawn so far -> (B, n_colors) logits of the next pixel.
        (It re-reads the prefix each time: for 9 pixels that costs nothing; notebook 03 keeps the state.)"""
        out, _ = self.gru(self._inputs(prefix))
        return self.head(out[:, -1])

    def all_step_logits(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 9) images -> (B, 9, K) in one pass (teacher forcing: the input is the image shifted by one)."""
        out, _ = self.gru(self._inputs(images[:, : N_PIXELS - 1]))
        return self.head(out)


# ----------------------------------------------------------------------------- sampling
def draw_colour(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Sample one colour per row of `probs` (B, K) from uniform numbers `u` (B,) in [0, 1):
    the first colour whose cumulative probability exceeds u (inverse-CDF sampling)."""
    cdf = torch.cumsum(probs, dim=-1)
    idx = (cdf <= u.unsqueeze(-1)).sum(dim=-1)
    return idx.clamp(max=probs.shape[-1] - 1).to(torch.int64)


def draw_pictures(
    model: _NextPixelModel, prefix: torch.Tensor, temperature: float, generator: torch.Generator
) -> torch.Tensor:
    """Finish every picture of `prefix` (B, t) pixel by pixel until it has 9 pixels: at each step the model
    reads the pixels so far, its logits divided by `temperature` go through a softmax, and `draw_colour`
    picks the colour with one uniform number per picture (`torch.rand(B, generator=generator)`), which is
    appended before the next step. Returns (B, 9) colour indices, the prefix first. (Notebook 01's exercise.)"""
    drawn = prefix.clone()
    with torch.no_grad():
        while drawn.shape[1] < N_PIXELS:
            probs = torch.softmax(model.next_pixel_logits(drawn) / temperature, dim=-1)
            u = torch.rand(len(drawn), generator=generator).to(probs.device)
            drawn = torch.cat([drawn, draw_colour(probs, u)[:, None]], dim=1)
    return drawn


def sample_images(
    model: _NextPixelModel,
    n: int,
    *,
    prefix: torch.Tensor | np.ndarray | None = None,
    seed: int = 0,
    temperature: float = 1.0,
) -> np.ndarray:
    """Draw `n` images pixel by pixel (n, 9) with `draw_pictures`. `prefix` (t,) or (n, t) fixes the first
    pixels (image completion); the same seed gives the same images."""
    model.eval()
    device = model.palette01.device
    if prefix is None:
        drawn = torch.zeros(n, 0, dtype=torch.int64)
    else:
        drawn = torch.as_tensor(np.asarray(prefix), dtype=torch.int64)
        drawn = drawn.expand(n, -1).clone() if drawn.ndim == 1 else drawn.clone()
        if drawn.shape[0] != n or drawn.shape[1] > N_PIXELS:
            raise ValueError(f"prefix must be (t,) or ({n}, t) with t <= {N_PIXELS}, got {tuple(drawn.shape)}")
    generator = torch.Generator().manual_seed(seed)
    return draw_pictures(model, drawn.to(device), temperature, generator).cpu().numpy()


# ----------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TinyConfig:
    """One home for the tiny models' training recipe (notebook 01's, and `train tiny`'s defaults)."""

    epochs: int = 15
    lr: float = 2e-2
    batch_size: int = 64
    seed: int = 0
    train_images: int = field(default=4000, metadata={"help": "pictures drawn from the world to train on"})
    test_images: int = field(default=1000, metadata={"help": "held-out pictures (drawn with seed + 1)"})


def train_tiny(
    model: _NextPixelModel,
    train_images: np.ndarray,
    *,
    epochs: int = TinyConfig.epochs,
    lr: float = TinyConfig.lr,
    batch_size: int = TinyConfig.batch_size,
    seed: int = TinyConfig.seed,
    test_images: np.ndarray | None = None,
    progress_bar: bool = True,
    max_minutes: float | None = None,
) -> History:
    """Fit a tiny model by minimising -log p(image) (the sum of the 9 next-pixel losses); returns the History.

    A high learning rate that decays linearly to zero gets the most out of a few seconds of CPU."""
    from lecturekit.training import fit

    torch.manual_seed(seed)
    data = torch.as_tensor(np.asarray(train_images), dtype=torch.int64)
    test = None if test_images is None else torch.as_tensor(np.asarray(test_images), dtype=torch.int64)

    def loss_fn(m: _NextPixelModel, batch: torch.Tensor) -> torch.Tensor:
        return m.nll_bits(batch).mean() / N_PIXELS  # bits per pixel

    def eval_fn(m: _NextPixelModel) -> dict[str, float]:
        return {"test_bits_per_image": float(m.nll_bits(test.to(m.palette01.device)).mean())}

    total_steps = epochs * math.ceil(len(data) / batch_size)
    return fit(
        model,
        data,
        loss_fn,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        clip_grad=None,
        schedule=lambda step: max(0.0, 1.0 - step / total_steps),
        eval_fn=eval_fn if test is not None else None,
        progress_bar=progress_bar,
        desc=type(model).__name__,
        max_minutes=max_minutes,
        device="cpu",
    )


@torch.inference_mode()
def test_bits_per_image(model: _NextPixelModel, images: np.ndarray) -> float:
    """Mean -log2 p(image) over held-out images (the world's entropy is the floor)."""
    model.eval()
    return float(model.nll_bits(torch.as_tensor(np.asarray(images), dtype=torch.int64)).mean())


def independent_pixels_bits(train_images: np.ndarray, test_images: np.ndarray) -> float:
    """The baseline without any chain: each pixel's colour frequencies at its position (add-one smoothed)."""
    train = np.asarray(train_images)
    counts = np.stack([np.bincount(train[:, t], minlength=N_COLORS) + 1 for t in range(N_PIXELS)])
    probs = counts / counts.sum(axis=1, keepdims=True)
    test = np.asarray(test_images)
    return float(-np.log2(probs[np.arange(N_PIXELS)[None, :], test]).sum(axis=1).mean())


def train_main(argv: list[str]) -> int:
    """`python -m lecturekit train tiny`: train both tiny models as notebook 01 does and save them."""
    from lecturekit.datasets import weights_dir
    from lecturekit.settings import add_config_options, config_from_args

    parser = argparse.ArgumentParser(prog="lecturekit train tiny", description=train_main.__doc__)
    parser.add_argument("--out", default=None, help="folder for tiny_mlp.pt and tiny_rnn.pt (default: data/weights)")
    add_config_options(parser, TinyConfig())
    parser.add_argument("--minutes", type=float, default=None, help="stop each model after this wall time")
    args = parser.parse_args(argv)
    config = config_from_args(TinyConfig(), args)
    out = Path(args.out) if args.out else weights_dir()
    torch.set_num_threads(1)  # tiny networks: more threads only wait on each other
    train = make_tiny_world(config.train_images, seed=config.seed)
    test = make_tiny_world(config.test_images, seed=config.seed + 1)
    print(
        f"world entropy {world_entropy_bits():.3f} bits/image; independent pixels "
        f"{independent_pixels_bits(train, test):.3f}"
    )
    for model in (TinyMLP(), TinyRNN()):
        history = train_tiny(
            model,
            train,
            epochs=config.epochs,
            lr=config.lr,
            batch_size=config.batch_size,
            seed=config.seed,
            test_images=test,
            max_minutes=args.minutes,
        )
        bits = test_bits_per_image(model, test)
        path = save_checkpoint(
            out / f"{model.kind}.pt",
            model,
            metrics={"test_bits_per_image": bits},
            extra={"history": history.epochs, "settings": asdict(config)},
        )
        print(f"{model.kind}: test {bits:.3f} bits/image -> {path}")
    return 0
