"""Colour quantization, as in the lecture: k-means on RGB, then merge rarely used colours.

A model that predicts RGB values regresses to grey; a model that picks one colour out of a palette
(1-of-N, softmax) does not. There are 256^3 colours, so we cluster similar ones (k-means) and fold
the rare ones into frequent ones. White, the background, is always palette index 0.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

WHITE = np.array([255, 255, 255], dtype=np.uint8)


def _pixels(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.shape[-1] != 3:
        raise ValueError(f"expected RGB values with a last axis of 3, got shape {arr.shape}")
    return arr.reshape(-1, 3)


def fit_palette(
    rgb_images_or_pixels: np.ndarray, n_colors: int, seed: int = 0, max_distinct: int = 20_000
) -> np.ndarray:
    """A (K, 3) uint8 palette from k-means on the non-white pixel colours, white prepended at index 0.

    Clustering runs on the distinct colours weighted by their counts (snapped to a coarser RGB grid
    first when there are more than `max_distinct`, so a notebook fit takes seconds); the result
    depends only on the data and `seed`. K <= n_colors (fewer if there are fewer distinct colours).
    """
    if n_colors < 1:
        raise ValueError(f"n_colors must be at least 1 (white), got {n_colors}")
    px = _pixels(rgb_images_or_pixels).astype(np.uint8)
    px = px[~np.all(px == 255, axis=1)]
    colours, counts = np.unique(px, axis=0, return_counts=True)
    step = 1
    while len(colours) > max_distinct and step < 32:
        step *= 2  # snap to the centres of step-sized RGB cells, summing the counts
        snapped = (px.astype(np.int64) // step) * step + step // 2
        cells, inverse = np.unique(snapped, axis=0, return_inverse=True)
        weights = np.bincount(inverse.ravel(), minlength=len(cells))
        # a cell's colour is the mean of its pixels, not the grid centre
        inv = inverse.ravel()
        sums = np.stack([np.bincount(inv, px[:, c].astype(np.float64), len(cells)) for c in range(3)], axis=1)
        colours, counts = sums / weights[:, None], weights
    k = min(n_colors - 1, len(colours))
    if k <= 0:
        return WHITE[None, :].copy()
    if k == len(colours):
        centres = colours.astype(np.float64)
    else:
        km = KMeans(n_clusters=k, n_init=1, random_state=seed, max_iter=100)
        km.fit(colours.astype(np.float64), sample_weight=counts.astype(np.float64))
        centres = km.cluster_centers_
    pal = np.clip(np.round(centres), 0, 255).astype(np.uint8)
    pal = pal[~np.all(pal == 255, axis=1)]  # a cluster centred on white would duplicate index 0
    pal = np.unique(pal, axis=0)
    # a fixed order (dark to light) so that the file does not depend on k-means' label order
    order = np.lexsort((pal[:, 2], pal[:, 1], pal[:, 0], pal.astype(int).sum(axis=1)))
    return np.concatenate([WHITE[None, :], pal[order]], axis=0)


def quantize(images_rgb: np.ndarray, palette: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """The index of the nearest palette colour for every pixel; works for any shape (..., 3)."""
    arr = np.asarray(images_rgb)
    pal = np.asarray(palette, dtype=np.float64)
    px = _pixels(arr).astype(np.float64)
    out = np.empty(len(px), dtype=np.int64)
    pal_sq = (pal**2).sum(axis=1)
    for start in range(0, len(px), chunk):
        block = px[start : start + chunk]
        d = pal_sq[None, :] - 2.0 * block @ pal.T  # |p|^2 is the same for every colour
        out[start : start + chunk] = np.argmin(d, axis=1)
    return out.reshape(arr.shape[:-1])


def dequantize(indices: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Palette indices back to RGB uint8 (shape (..., 3))."""
    pal = np.asarray(palette, dtype=np.uint8)
    idx = np.asarray(indices)
    if idx.size and (idx.min() < 0 or idx.max() >= len(pal)):
        raise ValueError(f"index {int(idx.max())} is out of range for a palette of {len(pal)} colours")
    return pal[idx]


def palette_error(images: np.ndarray, palette: np.ndarray) -> float:
    """Mean Euclidean RGB distance between each pixel and its nearest palette colour (0..441)."""
    px = _pixels(np.asarray(images)).astype(np.float64)
    back = np.asarray(palette, dtype=np.float64)[quantize(px, palette)]
    return float(np.sqrt(((px - back) ** 2).sum(axis=1)).mean())


def merge_rare_colors(indices: np.ndarray, palette: np.ndarray, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Fold colours used fewer than `min_count` times into their nearest frequent colour.

    Rare colours waste softmax outputs the model can hardly learn. Returns re-indexed indices
    (same shape) and the smaller palette; white stays index 0 and is never merged away.
    """
    idx = np.asarray(indices, dtype=np.int64)
    pal = np.asarray(palette, dtype=np.uint8)
    counts = np.bincount(idx.ravel(), minlength=len(pal))
    frequent = counts >= min_count
    frequent[0] = True
    keep = np.nonzero(frequent)[0]
    palf = pal.astype(np.float64)
    target = np.arange(len(pal))
    rare = np.nonzero(~frequent)[0]
    if len(rare):
        d = ((palf[rare, None, :] - palf[None, keep, :]) ** 2).sum(axis=-1)
        target[rare] = keep[np.argmin(d, axis=1)]
    new_pos = np.full(len(pal), -1, dtype=np.int64)
    new_pos[keep] = np.arange(len(keep))
    mapping = new_pos[target]
    return mapping[idx], pal[keep].copy()


def colors_for_share(indices: np.ndarray, share: float = 0.9) -> int:
    """How many colours (most used first) carry `share` of all pixels: few carry most."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    counts = np.sort(np.bincount(np.asarray(indices).ravel()))[::-1]
    counts = counts[counts > 0]
    cum = np.cumsum(counts) / counts.sum()
    return int(np.searchsorted(cum, share - 1e-12) + 1)
