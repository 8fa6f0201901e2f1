"""Simple baselines for held-out bits per pixel, so that a model's number means something.

- Colour frequencies (unigram): every pixel is drawn from how often each colour occurs in training.
- Per-position frequencies: each of the 400 positions has its own colour frequencies (a corner is
  almost always white, the centre rarely), backed off to the unigram where a position saw few sprites.

Neither looks at the other pixels of the sprite; an autoregressive model that does should beat both
by a wide margin. Probabilities are smoothed so that a colour unseen in training costs finite bits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _indices(indices: Any, what: str = "indices") -> np.ndarray:
    arr = np.asarray(getattr(indices, "indices", indices))
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{what} must be integer colour indices, got {arr.dtype}: pass sprites.indices.")
    if arr.ndim != 3:
        raise ValueError(f"{what} must be (N, H, W) colour indices, got shape {arr.shape}.")
    return arr.astype(np.int64)


def colour_frequencies(indices: Any, n_colors: int, alpha: float = 0.5) -> np.ndarray:
    """(K,) probabilities: how often each colour occurs in `indices`, plus `alpha` for every colour."""
    idx = _indices(indices)
    if idx.size and idx.max() >= n_colors:
        raise ValueError(f"colour index {int(idx.max())} but n_colors={n_colors}: pass the palette's size.")
    counts = np.bincount(idx.ravel(), minlength=n_colors).astype(np.float64) + alpha
    return counts / counts.sum()


def position_frequencies(indices: Any, n_colors: int, alpha: float = 0.5, prior_weight: float = 50.0) -> np.ndarray:
    """(H, W, K) probabilities: colour frequencies at each position, mixed with the colour frequencies
    as `prior_weight` pseudo-sprites (p = (count + w * unigram) / (N + w))."""
    idx = _indices(indices)
    n, h, w = idx.shape
    unigram = colour_frequencies(idx, n_colors, alpha)
    counts = np.zeros((h * w, n_colors), dtype=np.float64)
    flat = idx.reshape(n, h * w)
    np.add.at(counts, (np.broadcast_to(np.arange(h * w), flat.shape), flat), 1.0)
    probs = (counts + prior_weight * unigram[None, :]) / (n + prior_weight)
    return probs.reshape(h, w, n_colors)


def bits_per_pixel_under(probabilities: np.ndarray, indices: Any) -> float:
    """Mean -log2 p(colour) of `indices` (N, H, W) under (K,) or (H, W, K) per-pixel probabilities."""
    idx = _indices(indices)
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim == 1:
        p = probs[idx]
    elif probs.ndim == 3 and probs.shape[:2] == idx.shape[1:]:
        h, w = idx.shape[1:]
        p = probs[np.arange(h)[None, :, None], np.arange(w)[None, None, :], idx]
    else:
        raise ValueError(
            f"probabilities of shape {probs.shape} do not fit sprites of shape {idx.shape[1:]}: pass (K,) or (H, W, K)."
        )
    return float(-np.log(p).mean() / math.log(2.0))


def unigram_bits_per_pixel(train: Any, test: Any, n_colors: int) -> float:
    """Held-out bits per pixel of the colour-frequency baseline fitted on `train`."""
    return bits_per_pixel_under(colour_frequencies(train, n_colors), test)


def position_bits_per_pixel(train: Any, test: Any, n_colors: int) -> float:
    """Held-out bits per pixel of the per-position colour-frequency baseline fitted on `train`."""
    return bits_per_pixel_under(position_frequencies(train, n_colors), test)


def sample_baseline(probabilities: np.ndarray, n: int, height: int = 20, width: int = 20, seed: int = 0) -> np.ndarray:
    """(n, H, W) sprites with every pixel drawn on its own from the baseline: what "no context" draws."""
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim == 1:
        probs = np.broadcast_to(probs, (height, width, len(probs)))
    rng = np.random.default_rng(seed)
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random((n, *probs.shape[:2], 1))
    out = (u > cdf[None]).sum(axis=-1)
    return np.minimum(out, probs.shape[-1] - 1).astype(np.int64)
