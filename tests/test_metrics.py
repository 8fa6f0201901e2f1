"""The comparison metrics: each one moves the right way on images built to differ in that one respect."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lecturekit import metrics
from lecturekit.units import nats_per_sprite_to_bits_per_pixel, nats_to_bits

PALETTE = np.array([[255, 255, 255], [0, 0, 0], [200, 30, 40], [30, 160, 60], [40, 60, 200]], dtype=np.uint8)


def _palette_images(n: int = 24, seed: int = 0) -> np.ndarray:
    """Blocky random palette images: (n, 20, 20, 3) uint8 with sharp edges."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, len(PALETTE), size=(n, 5, 5))
    return PALETTE[np.repeat(np.repeat(small, 4, axis=1), 4, axis=2)]


def _blur(images: np.ndarray) -> np.ndarray:
    """A 3x3 box blur (edge pixels repeated): what averaging over colours does to a palette image."""
    x = images.astype(np.float64)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    out = sum(padded[:, i : i + 20, j : j + 20] for i in range(3) for j in range(3)) / 9
    return np.round(out).astype(np.uint8)


def test_palette_images_are_fully_in_the_palette_and_blur_lowers_the_share() -> None:
    sharp = _palette_images()
    assert metrics.palette_share(sharp, PALETTE) == 1.0
    blurred = _blur(sharp)
    assert metrics.palette_share(blurred, PALETTE) < 0.8
    # floats in 0..1 give the same answer as uint8
    assert metrics.palette_share(sharp.astype(np.float32) / 255, PALETTE) == 1.0


def test_blur_lowers_edge_contrast_and_flat_images_have_none() -> None:
    sharp = _palette_images()
    assert metrics.edge_contrast(_blur(sharp)) < 0.8 * metrics.edge_contrast(sharp)
    flat = np.full((3, 20, 20, 3), 128, dtype=np.uint8)
    assert metrics.edge_contrast(flat) == 0.0


def test_speckle_tells_noise_from_edges_and_blur() -> None:
    sharp = _palette_images()  # blocks of 4x4 pixels: crisp edges, no pixel unlike all its neighbours
    assert metrics.speckle_share(sharp) == 0.0
    rng = np.random.default_rng(1)
    noisy = PALETTE[rng.integers(0, len(PALETTE), size=(24, 20, 20))]  # every pixel drawn on its own
    assert metrics.speckle_share(noisy) > 0.4
    assert metrics.speckle_share(_blur(sharp)) < 0.25 * metrics.speckle_share(noisy)  # blur: far less
    # edge contrast cannot tell them apart: the noise has more of it than the crisp blocks
    assert metrics.edge_contrast(noisy) > metrics.edge_contrast(sharp)
    one = np.full((1, 5, 5, 3), 255, dtype=np.uint8)
    one[0, 2, 2] = 0  # a single dark pixel on white: it and only it is unlike all four neighbours
    assert metrics.speckle_share(one) == pytest.approx(1 / 25)


def test_variety_is_zero_for_copies_and_distinct_count_merges_near_copies() -> None:
    images = _palette_images(10)
    same = np.repeat(images[:1], 10, axis=0)
    assert metrics.mean_pairwise_distance(same) == pytest.approx(0.0, abs=1e-6)
    assert metrics.mean_pairwise_distance(images) > 0.2
    assert metrics.distinct_count(same) == 1
    assert metrics.distinct_count(images) == 10
    nudged = np.concatenate([images, np.clip(images.astype(int) + 3, 0, 255).astype(np.uint8)])
    assert metrics.distinct_count(nudged) == 10  # a 3/255 change is the same sprite


def test_pairwise_distance_is_rms_in_unit_rgb() -> None:
    black = np.zeros((1, 20, 20, 3), dtype=np.uint8)
    white = np.full((1, 20, 20, 3), 255, dtype=np.uint8)
    half = black.copy()
    half[:, :10] = 255
    d = metrics.pairwise_distances(np.concatenate([black, white]), np.concatenate([black, white, half]))
    assert d[0, 1] == pytest.approx(1.0) and d[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert d[0, 2] == pytest.approx(math.sqrt(0.5))


def test_copies_of_training_images_are_flagged_and_new_ones_are_not() -> None:
    train = _palette_images(30, seed=1)
    fresh = _palette_images(10, seed=2)
    copies = train[:5]
    assert metrics.copy_share(copies, train) == 1.0
    assert metrics.copy_share(fresh, train) == 0.0
    near = metrics.nearest_distances(np.concatenate([copies, fresh]), train)
    assert near.shape == (15,)
    assert np.all(near[:5] < 1e-6) and np.all(near[5:] > 0.1)


def test_saturation_greys_are_zero_pure_colours_one() -> None:
    grey = np.full((1, 4, 4, 3), 90, dtype=np.uint8)
    red = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    red[..., 0] = 255
    assert metrics.saturation(grey) == 0.0
    assert metrics.saturation(red) == pytest.approx(1.0)
    mixed = np.concatenate([red, np.full((1, 4, 4, 3), 255, dtype=np.uint8)])
    assert metrics.saturation(mixed) == pytest.approx(0.5)
    assert metrics.saturation(mixed, skip_white=True) == pytest.approx(1.0)


def test_sample_scores_and_table() -> None:
    train = _palette_images(30, seed=3)
    scores = metrics.sample_scores(_palette_images(12, seed=4), PALETTE, train)
    assert set(scores) == set(metrics.SCORE_NAMES)
    assert scores["palette_share"] == 1.0 and scores["distinct_share"] == 1.0
    table = metrics.format_table({"real": scores, "model": {"variety": 0.5, "bits": None}})
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].startswith("| |") and "—" in lines[3]
    assert nats_to_bits(math.log(2)) == pytest.approx(1.0)
    assert nats_per_sprite_to_bits_per_pixel(400 * math.log(2)) == pytest.approx(1.0)


def test_bad_images_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="palette\\[indices\\]"):
        metrics.edge_contrast(np.zeros((4, 20, 20), dtype=np.int64))
    with pytest.raises(ValueError, match="0..1"):
        metrics.edge_contrast(np.full((2, 20, 20, 3), 200.0))
    with pytest.raises(ValueError, match="at least 2"):
        metrics.mean_pairwise_distance(_palette_images(1))
