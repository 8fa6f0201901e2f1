"""K-means palette, rare-colour merge, quantize / dequantize."""

from __future__ import annotations

import numpy as np
import pytest

from lecturekit.palette import (
    colors_for_share,
    dequantize,
    fit_palette,
    merge_rare_colors,
    palette_error,
    quantize,
)
from lecturekit.sprites import center_crop, generate_sprites


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    return center_crop(generate_sprites(24, seed=7))


def test_white_is_index_zero_and_dtype(crops: np.ndarray) -> None:
    pal = fit_palette(crops, 32, seed=0)
    assert pal.dtype == np.uint8 and pal.shape[1] == 3
    assert len(pal) <= 32
    assert tuple(pal[0]) == (255, 255, 255)
    assert not np.any(np.all(pal[1:] == 255, axis=1))  # white only once


def test_fit_is_deterministic(crops: np.ndarray) -> None:
    assert np.array_equal(fit_palette(crops, 24, seed=1), fit_palette(crops, 24, seed=1))


def test_error_falls_with_more_colours(crops: np.ndarray) -> None:
    errors = [palette_error(crops, fit_palette(crops, k, seed=0)) for k in (4, 16, 64)]
    assert errors[0] > errors[1] > errors[2] > 0


def test_quantize_any_shape_and_round_trip(crops: np.ndarray) -> None:
    pal = fit_palette(crops, 16, seed=0)
    idx = quantize(crops, pal)
    assert idx.shape == crops.shape[:-1] and idx.dtype == np.int64
    assert quantize(crops[0, 0, 0], pal).shape == ()
    back = dequantize(idx, pal)
    assert back.shape == crops.shape and back.dtype == np.uint8
    # quantizing palette colours gives them back exactly
    assert np.array_equal(quantize(back, pal), idx)
    assert np.array_equal(dequantize(quantize(pal, pal), pal), pal)
    # white background stays white
    assert np.all(idx[crops.sum(-1) == 765] == 0)


def test_quantize_picks_nearest() -> None:
    pal = np.array([[255, 255, 255], [0, 0, 0], [250, 0, 0]], dtype=np.uint8)
    px = np.array([[[10, 10, 10], [200, 30, 20]], [[240, 250, 245], [140, 0, 0]]], dtype=np.uint8)
    assert quantize(px, pal).tolist() == [[1, 2], [0, 2]]


def test_merge_rare_colours(crops: np.ndarray) -> None:
    pal = fit_palette(crops, 64, seed=0)
    idx = quantize(crops, pal)
    counts = np.bincount(idx.ravel(), minlength=len(pal))
    min_count = int(np.median(counts[counts > 0]))
    new_idx, new_pal = merge_rare_colors(idx, pal, min_count)
    assert len(new_pal) < len(pal)
    assert tuple(new_pal[0]) == (255, 255, 255)
    assert new_idx.shape == idx.shape
    assert new_idx.min() >= 0 and new_idx.max() < len(new_pal)
    new_counts = np.bincount(new_idx.ravel(), minlength=len(new_pal))
    assert np.all(new_counts[1:] >= min_count)
    # frequent colours keep their pixels and their colour
    frequent = counts[idx] >= min_count
    assert np.array_equal(new_pal[new_idx][frequent], pal[idx][frequent])
    # a rare colour goes to its nearest frequent colour
    assert palette_error(crops, new_pal) >= palette_error(crops, pal)


def test_merge_never_drops_white() -> None:
    pal = np.array([[255, 255, 255], [0, 0, 0], [10, 0, 0]], dtype=np.uint8)
    idx = np.array([1, 1, 1, 2, 0])
    new_idx, new_pal = merge_rare_colors(idx, pal, min_count=2)
    assert new_pal.tolist() == [[255, 255, 255], [0, 0, 0]]
    assert new_idx.tolist() == [1, 1, 1, 1, 0]


def test_colors_for_share() -> None:
    idx = np.array([0] * 90 + [1] * 5 + [2] * 3 + [3] * 2)
    assert colors_for_share(idx, 0.9) == 1
    assert colors_for_share(idx, 0.95) == 2
    assert colors_for_share(idx, 1.0) == 4
    with pytest.raises(ValueError):
        colors_for_share(idx, 0.0)
