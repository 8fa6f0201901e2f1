"""Sprite files in the image of the course's own (which the kit must never ship), made from the kit's
sprites: their RGB originals scaled, recoloured and shaded, placed at a seeded offset, then re-quantized with
the lecture's recipe (k-means, then rare colours merged) to the course files' palette size, written in the
lecture's format.

Why: the kit's generator paints small flat creatures, so re-quantizing its sprites as they are gives a set far
easier than the course's (the kit's PixelRNN recipe reaches 1.52 held-out bits/pixel in 5 minutes on it,
against about 2.56 on the course's files), and learning-speed figures on it say nothing about the course.
Real game sprites fill more of the frame, come in every hue, are shaded (a light direction and blotches a
few pixels wide) and not always centred; each of these spends k-means colours on shades and hues, shrinks the
white background and makes the next pixel harder to guess, while the shapes stay crisp: the row above still
tells much about the next pixel.

`SHADING` holds the strengths, calibrated on two figures of the course's files for the kit's PixelRNN recipe
of 2026-11 (fp32, batch 32, Adam 3e-3, 5 idle 2-core minutes): the plain LSTM 2.56 and the see-above model
2.14 held-out bits/pixel. On this set the same recipe reaches 2.60 (best epoch, 17 of 31) and 2.14 (8 of 25).
The shading comes in smooth blotches, not independent per-pixel noise: noise would hide what the row above
tells (the see-above model is 16% better than the plain one on the course's files), and a set must keep that
for the see-above model's figures on it to mean anything.

The course's `pixel_color.txt` holds 792 sprites on 167 colours; `lecture_like_files()` makes files
of that shape (the benchmarks' test set for `course-data` and the PixelRNN learning speed), and, with
other sizes, the small data sets the tests push through `course-data`. Everything is seeded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lecturekit.data import SpriteSet, write_lecture_files
from lecturekit.units import SPRITE_SIZE

COURSE_SPRITES = 792
COURSE_COLORS = 167
# the texture's strengths: the range of scale factors, the largest hue turn (a fraction of the colour
# wheel, one per sprite), a light gradient across the sprite (brightness +-light), blotches (std of a
# smooth field), dithering (std per pixel), and the largest offset of the crop from the centre (pixels);
# calibrated as the module's docstring says
SHADING: dict[str, Any] = {"scale": (1.0, 1.5), "hue": 0.5, "light": 0.3, "blotches": 0.6, "dither": 0.0, "shift": 3}
_CELL = 2 * SPRITE_SIZE


def _kit_cells(n: int, start: int) -> np.ndarray:
    """The kit's sprites as drawn, (n, 40, 40, 3) uint8 cells of `sprites_rgb.png` from position `start`."""
    from PIL import Image

    from lecturekit import paths

    sheet = np.asarray(Image.open(paths.data_dir() / "sprites" / "sprites_rgb.png").convert("RGB"))
    per_row = sheet.shape[1] // _CELL
    rows, cols = np.divmod(np.arange(start, start + n), per_row)
    return np.stack([sheet[r * _CELL : (r + 1) * _CELL, c * _CELL : (c + 1) * _CELL] for r, c in zip(rows, cols)])


def _smooth_field(rng: np.random.Generator, n: int, size: int, knots: int = 5) -> np.ndarray:
    """(n, size, size) smooth noise: a (knots+1)^2 grid of normal values, bilinearly interpolated."""
    grid = rng.standard_normal((n, knots + 1, knots + 1))
    x = np.linspace(0, knots, size)
    i0 = np.minimum(x.astype(int), knots - 1)
    f = x - i0
    rows = grid[:, i0] * (1 - f)[None, :, None] + grid[:, i0 + 1] * f[None, :, None]
    return rows[:, :, i0] * (1 - f)[None, None, :] + rows[:, :, i0 + 1] * f[None, None, :]


def _rescale(cells: np.ndarray, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """Each (40, 40, 3) cell scaled about its centre by a factor drawn in [low, high] (nearest neighbour,
    so the pixel art stays crisp; white where the source falls outside)."""
    n, size = len(cells), cells.shape[1]
    out = np.full_like(cells, 255)
    centre = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size]
    for cell, target, factor in zip(cells, out, rng.uniform(low, high, n)):
        sy = np.round(centre + (ys - centre) / factor).astype(int)
        sx = np.round(centre + (xs - centre) / factor).astype(int)
        ok = (sy >= 0) & (sy < size) & (sx >= 0) & (sx < size)
        target[ok] = cell[sy[ok], sx[ok]]
    return out


def _turn_hues(cells: np.ndarray, turns: np.ndarray) -> np.ndarray:
    """Each (40, 40, 3) cell with its hues turned by its fraction of the colour wheel (white stays white):
    a creature may come in any colour."""
    from PIL import Image

    out = np.empty_like(cells)
    for cell, target, turn in zip(cells, out, turns):
        hsv = np.asarray(Image.fromarray(cell).convert("HSV")).copy()
        hsv[..., 0] = (hsv[..., 0].astype(int) + int(round(turn * 256))) % 256
        target[:] = np.asarray(Image.fromarray(hsv, "HSV").convert("RGB"))
        target[np.all(cell == 255, axis=-1)] = 255
    return out


def shade_sprites(cells: np.ndarray, seed: int = 0, **strengths: Any) -> np.ndarray:
    """Scale (`scale`: the range of factors), turn the hues of (`hue`), shade, texture and dither the non-white
    pixels of (N, 40, 40, 3) cells, then crop 20x20 at a seeded offset of up to `shift` pixels from the centre; returns
    (N, 20, 20, 3) uint8 (white stays white)."""
    s: dict[str, Any] = {**SHADING, **strengths}
    low, high = s["scale"]
    if (low, high) != (1.0, 1.0):
        cells = _rescale(cells, np.random.default_rng(seed + 7), low, high)
    if s["hue"]:
        cells = _turn_hues(cells, np.random.default_rng(seed + 17).uniform(-s["hue"], s["hue"], len(cells)))
    rng = np.random.default_rng(seed)
    n, size = len(cells), cells.shape[1]
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
    angle = rng.uniform(0, 2 * np.pi, n)[:, None, None]
    shade = 1 + 2 * s["light"] * (np.cos(angle) * xx + np.sin(angle) * yy)
    shade = shade + s["blotches"] * _smooth_field(rng, n, size) + s["dither"] * rng.standard_normal((n, size, size))
    ink = ~np.all(cells == 255, axis=-1)
    shaded = np.where(ink[..., None], np.clip(cells * shade[..., None], 0, 254), 255).astype(np.uint8)
    shift = int(s["shift"])
    offsets = rng.integers(-shift, shift + 1, size=(n, 2))
    top = (size - SPRITE_SIZE) // 2
    return np.stack(
        [
            img[top + dy : top + dy + SPRITE_SIZE, top + dx : top + dx + SPRITE_SIZE]
            for img, (dy, dx) in zip(shaded, offsets)
        ]
    )


def lecture_like_sprites(
    n: int = COURSE_SPRITES, n_colors: int = COURSE_COLORS, start: int = 0, seed: int = 0, **strengths: Any
) -> SpriteSet:
    """`n` of the kit's sprites (from position `start`), shaded (`shade_sprites`, `strengths` replacing
    `SHADING`'s) and re-quantized to at most `n_colors` colours with the lecture's k-means-plus-merge recipe
    (palette fitted on them alone)."""
    from lecturekit.course_data import fit_lecture_palette

    rgb = shade_sprites(_kit_cells(n, start), seed=seed, **strengths)
    best = None
    for extra in range(8):  # the merge can overshoot by a colour or two: a few k-means sizes, the first exact one
        indices, palette = fit_lecture_palette(rgb, n_colors, kmeans_colors=max(200, n_colors + 33) + extra, seed=seed)
        if best is None or len(palette) > len(best[1]):
            best = (indices, palette)
        if len(palette) == n_colors:
            break
    return SpriteSet(*best)


def lecture_like_files(
    folder: str | Path, n: int = COURSE_SPRITES, n_colors: int = COURSE_COLORS, start: int = 0
) -> tuple[Path, Path]:
    """Write `pixel_color.txt` and `colormap.txt` of `lecture_like_sprites(...)` into `folder`."""
    folder = Path(folder)
    sprites = lecture_like_sprites(n, n_colors, start)
    pixels, colormap = folder / "pixel_color.txt", folder / "colormap.txt"
    write_lecture_files(sprites, pixels, colormap)
    return pixels, colormap


def _main() -> None:  # pragma: no cover - a helper for instructors and benchmarks
    import argparse

    p = argparse.ArgumentParser(description="write lecture-like pixel_color.txt + colormap.txt")
    p.add_argument("folder")
    p.add_argument("--n", type=int, default=COURSE_SPRITES)
    p.add_argument("--colors", type=int, default=COURSE_COLORS)
    args = p.parse_args()
    pixels, colormap = lecture_like_files(args.folder, args.n, args.colors)
    sprites = np.loadtxt(colormap, dtype=int)
    print(f"wrote {pixels} and {colormap} ({len(sprites)} colours)")


if __name__ == "__main__":  # pragma: no cover
    _main()
