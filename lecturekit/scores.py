"""How real do generated sprites look? Scores computed from the pictures alone, for any model.

Generation is hard to evaluate (the lecture says so), so the kit uses two simple, explainable
scores on RGB sprites (N, 20, 20, 3) uint8, each blurred a little (2x2 average) so that a one-pixel
shift does not count as a whole new sprite:

- `nearest_real_ratio`: how far each generated sprite is from its nearest training sprite, divided
  by how far a real held-out sprite is from its nearest training sprite. 1 means "as close to the
  training set as new real sprites are"; above 1 is worse. It measures quality, not variety.
- `two_sample_1nn_accuracy` (the `random_decode_score`): mix n generated and n real sprites; for
  each, find its nearest other sprite in the mix and ask whether it has the same label (real or
  generated). When the two sets are alike the answer is a coin toss, 0.5; when they are easy to tell
  apart it is 1.0. Bad pictures and too little variety both push it up. Lower is better.
"""

from __future__ import annotations

import numpy as np


def _check_rgb(rgb: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(
            f"{name} must be RGB sprites of shape (N, H, W, 3), got shape {arr.shape}; "
            "turn palette indices into colours first (sprites.rgb() or palette[indices])."
        )
    if len(arr) == 0:
        raise ValueError(f"{name} holds no sprites")
    return arr


def sprite_features(rgb: np.ndarray, pool: int = 2) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, H/pool * W/pool * 3) float32 in [0, 1], averaged over pool x pool blocks."""
    arr = _check_rgb(rgb, "rgb").astype(np.float32) / 255.0
    n, h, w, c = arr.shape
    if pool > 1:
        h2, w2 = h // pool, w // pool
        arr = arr[:, : h2 * pool, : w2 * pool].reshape(n, h2, pool, w2, pool, c).mean(axis=(2, 4))
    return arr.reshape(n, -1)


def _pairwise_sq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def nearest_distances(queries: np.ndarray, references: np.ndarray, pool: int = 2) -> np.ndarray:
    """For each query sprite, the RMS colour distance (0..1) to its nearest reference sprite."""
    q, r = sprite_features(queries, pool), sprite_features(references, pool)
    return np.sqrt(_pairwise_sq(q, r).min(axis=1) / q.shape[1])


def nearest_real_ratio(generated: np.ndarray, train: np.ndarray, held_out: np.ndarray, pool: int = 2) -> float:
    """Mean nearest-training-sprite distance of the generated sprites over that of real held-out sprites."""
    return float(nearest_distances(generated, train, pool).mean() / nearest_distances(held_out, train, pool).mean())


def two_sample_1nn_accuracy(generated: np.ndarray, real: np.ndarray, seed: int = 0, pool: int = 2) -> float:
    """Leave-one-out 1-nearest-neighbour accuracy at telling generated from real (0.5 ideal, 1.0 worst).

    Both sets are cut to the same size n (a seeded random subset of the larger one)."""
    gen, real = _check_rgb(generated, "generated"), _check_rgb(real, "real")
    n = min(len(gen), len(real))
    if n < 2:
        raise ValueError(f"need at least 2 sprites in each set, got {len(gen)} generated and {len(real)} real")
    rng = np.random.default_rng(seed)
    gen = gen[np.sort(rng.permutation(len(gen))[:n])]
    real = real[np.sort(rng.permutation(len(real))[:n])]
    feats = np.concatenate([sprite_features(gen, pool), sprite_features(real, pool)])
    labels = np.repeat([1, 0], n)
    d = _pairwise_sq(feats, feats)
    np.fill_diagonal(d, np.inf)
    return float((labels[d.argmin(axis=1)] == labels).mean())


def random_decode_score(generated: np.ndarray, real: np.ndarray, seed: int = 0) -> float:
    """The kit's score for sprites generated from random codes (notebooks 04 and 05): the 1-NN two-sample
    accuracy against real sprites (0.5: indistinguishable; 1.0: every sprite gives itself away)."""
    return two_sample_1nn_accuracy(generated, real, seed=seed)
