"""Notebook 02: why a next-pixel model that regresses RGB draws grey sprites, and the 1-of-N fix.

`WindowNextPixel` predicts a sprite's next pixel (raster order) from the 12 pixels already drawn
around it (two rows above, two pixels to the left: the causal window) and its position. Every
input pixel is an RGB vector in 0..1 plus a flag (1 = inside the image; the flag tells a black
outline pixel from the zero padding at the borders). Only the output differs between the two
variants, so any difference in their drawings comes from the output encoding alone:
- `output="rgb"`: 3 sigmoid outputs, trained with squared error on 0..1 targets (the lecture's
  first try). Where the next colour is uncertain, the best guess under squared error is the mean
  of the possible colours, and a mean of different colours is greyer than any of them.
- `output="palette"`: a softmax over the palette (1-of-N), trained with cross-entropy; drawing
  samples one colour from it, so every drawn pixel is a real palette colour.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lecturekit.checkpoints import register_model, save_checkpoint
from lecturekit.data import SpriteSet
from lecturekit.i18n import _
from lecturekit.training import History

# (row offset, column offset) of the pixels a model sees: all drawn before the current one in raster order
WINDOW = tuple([(-2, dc) for dc in range(-2, 3)] + [(-1, dc) for dc in range(-2, 3)] + [(0, -2), (0, -1)])
_PAD = 2


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class RGBConfig:
    """One home for the two window models' settings (their shape and training recipe): the defaults made the
    shipped rgb_regression.pt and rgb_palette.pt; `train rgb`'s options and course-data's recipe read them."""

    hidden: int = field(default=256, metadata={"help": "units in each of the two hidden layers"})
    epochs: int = 20
    batch_size: int = 16
    lr: float = 3e-3
    seed: int = 0


# ----------------------------------------------------------------------------- colour measures
def saturation(rgb: np.ndarray | torch.Tensor) -> np.ndarray:
    """HSV saturation (max - min) / max of each pixel of an (..., 3) image (uint8 0-255 or float 0..1):
    0 for white, greys and black, 1 for a pure colour."""
    arr = rgb.detach().cpu().numpy() if isinstance(rgb, torch.Tensor) else np.asarray(rgb)
    if arr.shape[-1] != 3:
        raise ValueError(f"expected RGB values with a last axis of 3, got shape {arr.shape}")
    arr = arr.astype(np.float64) / (255.0 if arr.dtype.kind in "ui" else 1.0)
    hi, lo = arr.max(axis=-1), arr.min(axis=-1)
    return np.where(hi > 0, (hi - lo) / np.where(hi > 0, hi, 1.0), 0.0)


def mean_saturation(rgb: np.ndarray | torch.Tensor, mask: np.ndarray | None = None) -> float:
    """Mean HSV saturation over all pixels of (..., 3) images, or over the pixels where `mask` is True."""
    sat = saturation(rgb)
    return float(sat[np.asarray(mask, dtype=bool)].mean() if mask is not None else sat.mean())


def to_uint8(images01: np.ndarray | torch.Tensor) -> np.ndarray:
    """Images in 0..1 (what the models draw) -> uint8 0-255 for display and saturation."""
    arr = images01.detach().cpu().numpy() if isinstance(images01, torch.Tensor) else np.asarray(images01)
    return np.clip(np.round(arr * 255.0), 0, 255).astype(np.uint8)


def not_white(rgb: np.ndarray | torch.Tensor, threshold: float = 0.9) -> np.ndarray:
    """True for pixels that are not (near) white background: some channel below `threshold` (0..1 scale)."""
    arr = rgb.detach().cpu().numpy() if isinstance(rgb, torch.Tensor) else np.asarray(rgb)
    arr = arr.astype(np.float64) / (255.0 if arr.dtype.kind in "ui" else 1.0)
    return arr.min(axis=-1) < threshold


def coloured_saturation(rgb: np.ndarray | torch.Tensor, region: np.ndarray | None = None) -> np.ndarray:
    """The saturation of every pixel that is not near-white (inside `region` if given): the creatures'
    colours without the white background, whose saturation is 0 whatever a model does."""
    keep = not_white(rgb)
    if region is not None:
        keep &= np.broadcast_to(np.asarray(region, dtype=bool), keep.shape)
    return saturation(rgb)[keep]


# ----------------------------------------------------------------------------- data
def load_rgb_crops(n: int | None = None, folder: str | Path | None = None) -> np.ndarray:
    """The sprites before quantization: (N, 20, 20, 3) uint8, cut from `sprites_rgb.png` (40x40 cells,
    centre-cropped to 20x20 as the lecture did), in the order of pixel_color.txt. `folder`: the sprites
    folder to read (default: the data set in force; a course data set made from PNGs has its sheet too)."""
    from PIL import Image

    from lecturekit.data import DataFormatError, load_sprites, sprites_dir
    from lecturekit.sprites import center_crop

    path = Path(folder or sprites_dir()) / "sprites_rgb.png"
    if not path.is_file():
        raise DataFormatError(f"{path}: no RGB sprite sheet; rebuild the data with `python -m lecturekit build-data`.")
    sheet = np.asarray(Image.open(path).convert("RGB"))
    n = len(load_sprites()) if n is None else n
    cell = 40
    per_row = sheet.shape[1] // cell
    if sheet.shape[0] // cell * per_row < n:
        raise DataFormatError(f"{path}: the sheet holds fewer than {n} 40x40 cells; rebuild the data.")
    cells = [
        sheet[(i // per_row) * cell : (i // per_row + 1) * cell, (i % per_row) * cell : (i % per_row + 1) * cell]
        for i in range(n)
    ]
    return center_crop(np.stack(cells))


@dataclass
class SpriteData:
    """What notebook 02 works on: the quantized sprites, their RGB before quantization, the split."""

    sprites: SpriteSet
    rgb: np.ndarray  # (N, 20, 20, 3) uint8: the kit's sprites before quantization, or the files' colours
    train: np.ndarray  # positions of the training sprites
    test: np.ndarray  # positions of the held-out sprites
    source: str
    # True when `rgb` holds the colours before quantization (the kit's sprites, a course set made from PNGs);
    # False when it holds only the palette's colours (lecture files carry no RGB originals)
    original_rgb: bool = True


def load_sprite_data(lecture_files: tuple[str | Path, str | Path] | None = None) -> SpriteData:
    """The sprites in force (the kit's, with their original RGB and split; or the course data set selected
    by `LECTUREKIT_DATA`, with the RGB of its PNGs, or only its palette's colours when it came from
    lecture files), or the course's own files when `lecture_files` = (pixel_color.txt, colormap.txt) is
    given (RGB = palette colours, course-data's held-out 5%)."""
    from lecturekit.data import load_sprites, read_lecture_files

    if lecture_files:
        from lecturekit.course_data import course_split

        pixel_path, colormap_path = lecture_files
        sprites = read_lecture_files(pixel_path, colormap_path)
        train, test = course_split(len(sprites))
        return SpriteData(sprites, sprites.rgb(), train, test, f"{pixel_path} + {colormap_path}", original_rgb=False)
    from lecturekit import datasets
    from lecturekit.data import sprites_dir

    sprites = load_sprites()
    train, test = split_positions(len(sprites))
    current = datasets.active()
    if current.is_kit:
        return SpriteData(sprites, load_rgb_crops(len(sprites)), train, test, "the kit's sprites")
    source = f"the course data set {current.name!r}"
    if (sprites_dir() / "sprites_rgb.png").is_file():  # made from PNGs: their colours before quantization
        return SpriteData(sprites, load_rgb_crops(len(sprites)), train, test, source)
    return SpriteData(sprites, sprites.rgb(), train, test, source, original_rgb=False)  # lecture files: palette only


def median_cut(rgb_images: np.ndarray, n_colors: int) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's own median-cut quantizer on (..., 3) uint8 images: (indices (...), palette (K, 3) uint8)."""
    from PIL import Image

    arr = np.asarray(rgb_images, dtype=np.uint8)
    flat = np.ascontiguousarray(arr.reshape(-1, 1, 3))
    quantized = Image.fromarray(flat).quantize(colors=n_colors, method=Image.Quantize.MEDIANCUT)
    indices = np.asarray(quantized, dtype=np.int64).reshape(arr.shape[:-1])
    palette = np.asarray(quantized.getpalette()[: 3 * n_colors], dtype=np.uint8).reshape(-1, 3)
    return indices, palette[: indices.max() + 1]


def split_positions(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(train positions, test positions) of the kit's sprites, from `data/sprites/split.json`."""
    from lecturekit.data import read_sprite_split, sprites_dir

    is_test = read_sprite_split(sprites_dir() / "split.json", n)
    return np.nonzero(~is_test)[0], np.nonzero(is_test)[0]


# ----------------------------------------------------------------------------- the model
def window_features(rgb01: torch.Tensor) -> torch.Tensor:
    """Inputs for every pixel at once (teacher forcing): (B, H, W, 3) images in 0..1 -> (B, H*W, F),
    the causal window's RGB + inside-flag (zeros outside the image) and the pixel's (row, col) in 0..1."""
    b, h, w, _ = rgb01.shape
    x = torch.cat([rgb01, rgb01.new_ones(b, h, w, 1)], dim=-1).permute(0, 3, 1, 2)  # (B, 4, H, W)
    x = F.pad(x, (_PAD, _PAD, _PAD, 0))
    parts = [x[:, :, _PAD + dr : _PAD + dr + h, _PAD + dc : _PAD + dc + w] for dr, dc in WINDOW]
    feats = torch.cat(parts, dim=1).permute(0, 2, 3, 1).reshape(b, h * w, -1)
    return torch.cat([feats, _positions(h, w, rgb01).expand(b, -1, -1)], dim=-1)


def _positions(h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    rows = torch.arange(h, device=like.device, dtype=like.dtype).repeat_interleave(w) / max(h - 1, 1)
    cols = torch.arange(w, device=like.device, dtype=like.dtype).repeat(h) / max(w - 1, 1)
    return torch.stack([rows, cols], dim=-1)[None]  # (1, H*W, 2)


@register_model("window_next_pixel")
class WindowNextPixel(nn.Module):
    """Next pixel of a sprite from its causal window; `output="rgb"` (sigmoid) or `"palette"` (softmax)."""

    palette01: torch.Tensor

    def __init__(self, output: str = "rgb", n_colors: int = 0, hidden: int = RGBConfig.hidden) -> None:
        super().__init__()
        if output not in ("rgb", "palette"):
            raise ValueError(f"output must be 'rgb' or 'palette', got {output!r}")
        if output == "palette" and n_colors < 2:
            raise ValueError("a palette model needs n_colors >= 2 (the size of the sprites' palette)")
        self.config = {"output": output, "n_colors": int(n_colors), "hidden": int(hidden)}
        self.output = output
        n_in = len(WINDOW) * 4 + 2
        n_out = 3 if output == "rgb" else n_colors
        self.net = nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_out)
        )
        # the palette is part of a palette model's checkpoint; the rgb model only borrows it
        self.register_buffer("palette01", torch.zeros(max(n_colors, 1), 3), persistent=output == "palette")

    def set_palette(self, palette: np.ndarray) -> WindowNextPixel:
        """Store the palette (K, 3) uint8 the model draws with (part of the checkpoint)."""
        pal = torch.as_tensor(np.asarray(palette, dtype=np.float32) / 255.0)
        if self.output == "palette" and len(pal) != self.config["n_colors"]:
            raise ValueError(
                f"this model has {self.config['n_colors']} outputs but the palette has {len(pal)} "
                "colours: build the model with n_colors=len(palette)."
            )
        self.palette01 = pal.to(self.palette01.device)
        return self

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """RGB in 0..1 (sigmoid) for output="rgb", palette logits for output="palette"."""
        out = self.net(features)
        return torch.sigmoid(out) if self.output == "rgb" else out

    def loss(self, rgb01: torch.Tensor, indices: torch.Tensor | None = None) -> torch.Tensor:
        """Squared error per channel (rgb) or cross-entropy in bits per pixel (palette) over all pixels."""
        pred = self(window_features(rgb01))
        if self.output == "rgb":
            return F.mse_loss(pred, rgb01.reshape(len(rgb01), -1, 3))
        if indices is None:
            raise ValueError("a palette model's loss needs the colour indices of the sprites")
        return F.cross_entropy(pred.reshape(-1, pred.shape[-1]), indices.reshape(-1)) / math.log(2)

    @torch.inference_mode()
    def draw(
        self, n: int, *, prefix_rgb01: torch.Tensor | None = None, n_given: int = 0, size: int = 20, seed: int = 0
    ) -> np.ndarray:
        """Draw `n` sprites pixel by pixel, each drawn pixel fed back as input; returns (n, size, size, 3) in 0..1.

        `prefix_rgb01` (n, size, size, 3) with `n_given` > 0 fixes the first `n_given` pixels (completion).
        The rgb model outputs its prediction (nothing random); the palette model samples a colour."""
        self.eval()
        device = self.palette01.device
        generator = torch.Generator().manual_seed(seed)
        canvas = torch.zeros(n, 4, size + _PAD, size + 2 * _PAD, device=device)  # RGB + flag, padded top/left/right
        if n_given:
            if prefix_rgb01 is None or tuple(prefix_rgb01.shape) != (n, size, size, 3):
                raise ValueError(f"prefix_rgb01 must be ({n}, {size}, {size}, 3) when n_given > 0")
            given = torch.cat([prefix_rgb01.to(device), prefix_rgb01.new_ones(n, size, size, 1).to(device)], -1)
            for p in range(n_given):
                r, c = divmod(p, size)
                canvas[:, :, _PAD + r, _PAD + c] = given[:, r, c]
        positions = _positions(size, size, canvas)[0]
        for p in range(n_given, size * size):
            r, c = divmod(p, size)
            feats = torch.cat(
                [canvas[:, :, _PAD + r + dr, _PAD + c + dc] for dr, dc in WINDOW] + [positions[p].expand(n, 2)], dim=1
            )
            out = self(feats)
            if self.output == "rgb":
                colour = out
            else:
                probs = torch.softmax(out, dim=-1).cpu()
                colour = self.palette01[torch.multinomial(probs, 1, generator=generator)[:, 0].to(device)]
            canvas[:, :3, _PAD + r, _PAD + c] = colour
            canvas[:, 3, _PAD + r, _PAD + c] = 1.0
        return canvas[:, :3, _PAD:, _PAD : _PAD + size].permute(0, 2, 3, 1).cpu().numpy()


def train_window_model(
    model: WindowNextPixel,
    indices: np.ndarray,
    palette: np.ndarray,
    *,
    epochs: int = RGBConfig.epochs,
    lr: float = RGBConfig.lr,
    batch_size: int = RGBConfig.batch_size,
    seed: int = RGBConfig.seed,
    progress_bar: bool = True,
    max_minutes: float | None = None,
) -> History:
    """Train on sprites given as palette indices (N, H, W) + palette; returns the History."""
    from lecturekit.training import fit

    torch.manual_seed(seed)
    model.set_palette(palette)
    idx = torch.as_tensor(np.asarray(indices), dtype=torch.int64)
    rgb01 = torch.as_tensor(np.asarray(palette, dtype=np.float32) / 255.0)[idx]
    total_steps = epochs * math.ceil(len(idx) / batch_size)

    def loss_fn(m: WindowNextPixel, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return m.loss(batch[0], batch[1])

    return fit(
        model,
        (rgb01, idx),
        loss_fn,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        schedule=lambda step: max(0.02, 1.0 - step / total_steps),
        progress_bar=progress_bar,
        desc=_("{output} model").format(output=model.output),
        max_minutes=max_minutes,
        device="cpu",
    )


@torch.inference_mode()
def test_loss(model: WindowNextPixel, indices: np.ndarray, palette: np.ndarray) -> float:
    """The model's loss on held-out sprites (squared error per channel, or bits per pixel)."""
    model.eval()
    idx = torch.as_tensor(np.asarray(indices), dtype=torch.int64)
    rgb01 = torch.as_tensor(np.asarray(palette, dtype=np.float32) / 255.0)[idx]
    return float(model.loss(rgb01.to(model.palette01.device), idx.to(model.palette01.device)))


def train_main(argv: list[str]) -> int:
    """`python -m lecturekit train rgb`: train the RGB-regression and the 1-of-N window models on the
    kit's sprites (or on lecture-format files) and save them as rgb_regression.pt and rgb_palette.pt."""
    from lecturekit.datasets import weights_dir
    from lecturekit.settings import config_from_args

    args = _rgb_parser().parse_args(argv)
    config = config_from_args(RGBConfig(), args)
    data = load_sprite_data(args.lecture_files)
    sprites = data.sprites
    out = Path(args.out) if args.out else weights_dir()
    fingerprints = {"palette": sprites.palette_fingerprint(), "data": sprites.fingerprint()}
    for name, output in (("rgb_regression", "rgb"), ("rgb_palette", "palette")):
        torch.manual_seed(config.seed)  # the starting weights too, so that a re-run trains the same model
        n_colors = sprites.n_colors if output == "palette" else 0
        model = WindowNextPixel(output, n_colors=n_colors, hidden=config.hidden)
        history = train_window_model(
            model,
            sprites.indices[data.train],
            sprites.palette,
            epochs=config.epochs,
            lr=config.lr,
            batch_size=config.batch_size,
            seed=config.seed,
            max_minutes=args.minutes,
        )
        metrics = held_out_metrics(model, sprites.subset(data.test), config.seed)
        path = save_checkpoint(
            out / f"{name}.pt",
            model,
            fingerprints=fingerprints,
            metrics=metrics,
            extra={"history": history.epochs, "epochs": config.epochs, "seed": config.seed, "settings": asdict(config)},
            half=True,
        )
        print(f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) + f" -> {path}")
    return 0


def _rgb_parser() -> argparse.ArgumentParser:
    """`train_main`'s options (their defaults, RGBConfig's, made the shipped checkpoints)."""
    from lecturekit.settings import add_config_options

    parser = argparse.ArgumentParser(prog="lecturekit train rgb", description=train_main.__doc__)
    parser.add_argument("--out", default=None, help="folder for the two checkpoints (default: data/weights)")
    parser.add_argument(
        "--lecture-files",
        nargs=2,
        metavar=("PIXELS", "COLORMAP"),
        default=None,
        help="train on these files in the lecture's format instead of the kit's sprites",
    )
    add_config_options(parser, RGBConfig())
    parser.add_argument("--minutes", type=float, default=None, help="stop each model after this wall time")
    return parser


def held_out_metrics(model: WindowNextPixel, test: SpriteSet, seed: int) -> dict[str, float]:
    """A checkpoint's metrics (`train rgb`'s and course-data's): held-out loss, and the saturation of pixels
    drawn after a 100-pixel prefix against the real ones (the RGB regression draws greyish averages)."""
    loss = test_loss(model, test.indices, test.palette)
    real = torch.tensor(test.rgb() / 255.0, dtype=torch.float32)
    region = np.zeros(real.shape[:3], dtype=bool)
    region.reshape(len(region), -1)[:, 100:] = True
    drawn = model.draw(len(real), prefix_rgb01=real, n_given=100, seed=seed)
    drawn_sat, real_sat = coloured_saturation(drawn, region), coloured_saturation(real.numpy(), region)
    return {
        "test_loss": loss,
        "drawn_saturation": float(drawn_sat.mean()) if drawn_sat.size else 0.0,
        "real_saturation": float(real_sat.mean()) if real_sat.size else 0.0,
    }
