"""Numbers for comparing generated sprites, shared by the notebooks and the benchmarks.

Generated images are hard to evaluate (the lecture says so), so we measure several simple things on
RGB images (N, H, W, 3) — uint8 0..255 or floats 0..1 — and always beside the same number for real
sprites:

- sharpness: `palette_share` (pixels whose colour is a palette colour: a blurred pixel is a mix of
  colours and is in no palette), `edge_contrast` (colour change between neighbouring pixels: blur lowers
  it, but speckle raises it as much as crisp edges do) and `speckle_share` (pixels unlike all four of
  their neighbours: speckle raises it, crisp edges do not, blur far less), each beside the real sprites' value;
- variety: `mean_pairwise_distance` and `distinct_count` (near-identical samples count once);
- nearness to the training data: `nearest_distances` and `copy_share` (a memorisation check);
- `saturation` (how vivid the colours are); likelihoods in bits per pixel come from `lecturekit.units`.

Distances are root-mean-square differences of RGB scaled to 0..1: 0 for equal images, 1 for black vs
white everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def as_float_rgb(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) images as float32 in 0..1 (uint8 is divided by 255; floats must already be 0..1)."""
    images = np.asarray(images)
    if images.ndim == 3 and images.shape[-1] == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"expected RGB images of shape (N, H, W, 3), got shape {images.shape}: convert palette "
            "indices with palette[indices] first."
        )
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    images = images.astype(np.float32)
    if images.size and (images.min() < -1e-3 or images.max() > 1 + 1e-3):
        raise ValueError(
            f"float images must lie in 0..1, found {images.min():.3g}..{images.max():.3g}: pass uint8 "
            "0..255 images, or divide by 255 (a -1..1 generator output: (x + 1) / 2)."
        )
    return images


def _flat(images: np.ndarray) -> np.ndarray:
    x = as_float_rgb(images)
    return x.reshape(len(x), -1).astype(np.float64)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """RMS distance between every image of `a` and every image of `b`: an (len(a), len(b)) array."""
    fa, fb = _flat(a), _flat(b)
    if fa.shape[1] != fb.shape[1]:
        raise ValueError(f"images of different sizes cannot be compared: {np.shape(a)[1:]} vs {np.shape(b)[1:]}")
    sq = (fa**2).sum(1)[:, None] + (fb**2).sum(1)[None, :] - 2 * fa @ fb.T
    return np.sqrt(np.maximum(sq, 0.0) / fa.shape[1])


# ----------------------------------------------------------------------------- sharpness
def nearest_palette_distance(images: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """For every pixel, the RMS (over R, G, B) distance to the nearest palette colour: (N, H, W) in 0..1."""
    x = as_float_rgb(images)
    pal = np.asarray(palette, dtype=np.float32) / 255.0
    flat = x.reshape(-1, 3)
    best = np.empty(len(flat), dtype=np.float32)
    for start in range(0, len(flat), 65536):
        chunk = flat[start : start + 65536]
        d = ((chunk[:, None, :] - pal[None, :, :]) ** 2).sum(-1)
        best[start : start + 65536] = d.min(1)
    return np.sqrt(best / 3.0).reshape(x.shape[:3])


def palette_share(images: np.ndarray, palette: np.ndarray, tol: float = 0.04) -> float:
    """Share of pixels within `tol` (RMS, 0..1; 0.04 is about 10 of 255 per channel) of a palette colour.

    A crisp palette image scores 1; a blurred one lower, because a mix of two colours is in no palette.
    (Images snapped to the palette score 1 by construction: read edge_contrast for them.)"""
    return float((nearest_palette_distance(images, palette) <= tol).mean())


def edge_contrast(images: np.ndarray) -> float:
    """Root-mean-square colour change between horizontally and vertically neighbouring pixels (0..1).

    Blur lowers it: a step edge becomes a ramp of small steps, and squares of small steps add up to
    less. Noise raises it: compare with the real sprites' value."""
    x = as_float_rgb(images).astype(np.float64)
    dx = ((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean(-1)
    dy = ((x[:, 1:] - x[:, :-1]) ** 2).mean(-1)
    return float(np.sqrt((dx.sum() + dy.sum()) / (dx.size + dy.size)))


def speckle_share(images: np.ndarray, tol: float = 0.1) -> float:
    """Share of pixels whose colour differs (RMS over R, G, B, by more than `tol` in 0..1) from each of their
    four neighbours (a pixel on the border: from each neighbour it has).

    This tells edges from speckle, which edge contrast cannot: along a crisp edge a pixel still agrees with
    the neighbour on its own side, while a pixel drawn with no regard for its neighbours (noise, fragments)
    agrees with none. Blur raises it far less than noise: most steps of a blurred ramp are smaller than `tol`.
    Real pixel art has some (eyes, one-pixel details): compare with the real sprites' value."""
    x = as_float_rgb(images).astype(np.float64)
    unlike = np.ones(x.shape[:3], dtype=bool)
    step = np.sqrt(((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean(-1)) > tol  # pixel vs its right-hand neighbour
    unlike[:, :, :-1] &= step
    unlike[:, :, 1:] &= step
    step = np.sqrt(((x[:, 1:] - x[:, :-1]) ** 2).mean(-1)) > tol  # pixel vs the one below it
    unlike[:, :-1] &= step
    unlike[:, 1:] &= step
    return float(unlike.mean()) if unlike.size else 0.0


def saturation(images: np.ndarray, skip_white: bool = False) -> float:
    """Mean HSV saturation (max - min) / max of the pixels: 0 for greys, 1 for pure colours.

    `skip_white=True` leaves out pure-white (background) pixels."""
    x = as_float_rgb(images).reshape(-1, 3)
    if skip_white:
        x = x[~np.all(x >= 1.0 - 1e-6, axis=1)]
    if len(x) == 0:
        return 0.0
    hi, lo = x.max(1), x.min(1)
    s = np.where(hi > 0, (hi - lo) / np.maximum(hi, 1e-12), 0.0)
    return float(s.mean())


# ----------------------------------------------------------------------------- variety
def mean_pairwise_distance(images: np.ndarray) -> float:
    """Mean RMS distance over all pairs of different images: near 0 when a model draws one sprite
    (mode collapse), about the data's own value when it draws as varied a set."""
    n = len(np.asarray(images))
    if n < 2:
        raise ValueError("variety needs at least 2 images")
    d = pairwise_distances(images, images)
    return float(d.sum() / (n * (n - 1)))


def distinct_count(images: np.ndarray, tol: float = 0.05) -> int:
    """How many different images there are, counting images closer than `tol` (RMS) as one (greedy)."""
    d = pairwise_distances(images, images)
    kept: list[int] = []
    for i in range(len(d)):
        if not kept or d[i, kept].min() > tol:
            kept.append(i)
    return len(kept)


# ----------------------------------------------------------------------------- memorisation
def nearest_distances(samples: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """For each sample, the RMS distance to its nearest image in `reference` (e.g. the training set)."""
    out = [pairwise_distances(samples[i : i + 256], reference).min(1) for i in range(0, len(samples), 256)]
    return np.concatenate(out)


def copy_share(samples: np.ndarray, train: np.ndarray, tol: float = 0.05) -> float:
    """Share of samples within `tol` (RMS) of a training sprite: near copies, a sign of memorisation."""
    return float((nearest_distances(samples, train) <= tol).mean())


# ----------------------------------------------------------------------------- all together
SCORE_NAMES = {
    "palette_share": "sharp: share of pixels in the palette",
    "edge_contrast": "sharp: edge contrast",
    "speckle": "sharp: share of pixels unlike all four neighbours (speckle)",
    "variety": "variety: mean pairwise distance",
    "distinct_share": "variety: share of distinct samples",
    "nearest_train": "nearness: median distance to nearest training sprite",
    "copy_share": "memorisation: share of near copies",
}


def sample_scores(
    images: np.ndarray,
    palette: np.ndarray,
    train: np.ndarray,
    *,
    palette_tol: float = 0.04,
    distinct_tol: float = 0.05,
    copy_tol: float = 0.05,
    speckle_tol: float = 0.1,
) -> dict[str, float]:
    """Every score of one set of RGB samples (see SCORE_NAMES), against the palette and the training sprites."""
    return {
        "palette_share": palette_share(images, palette, palette_tol),
        "edge_contrast": edge_contrast(images),
        "speckle": speckle_share(images, speckle_tol),
        "variety": mean_pairwise_distance(images),
        "distinct_share": distinct_count(images, distinct_tol) / len(images),
        "nearest_train": float(np.median(nearest_distances(images, train))),
        "copy_share": copy_share(images, train, copy_tol),
    }


def format_table(rows: dict[str, dict[str, Any]], columns: Sequence[str] | None = None, digits: int = 3) -> str:
    """A Markdown table: one row per name, one column per key (missing values shown as "—")."""
    if not rows:
        return ""
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows.values() for k in r))

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "—"
        if isinstance(v, (float, np.floating)):
            return f"{float(v):.{digits}f}"
        return str(v)

    lines = ["| | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)
