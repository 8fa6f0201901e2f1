"""The procedural creature generator: deterministic, varied, colourful, mostly symmetric, centred."""

from __future__ import annotations

import numpy as np
import pytest

from lecturekit.sprites import center_crop, generate_creature, generate_sprites


@pytest.fixture(scope="module")
def sheet() -> np.ndarray:
    return generate_sprites(120, seed=3)


def test_same_seed_same_bytes() -> None:
    assert generate_creature(42).tobytes() == generate_creature(42).tobytes()
    assert generate_creature(42).tobytes() != generate_creature(43).tobytes()
    a, b = generate_sprites(5, seed=1), generate_sprites(5, seed=1)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, generate_sprites(5, seed=2))


def test_shape_dtype_and_white_background(sheet: np.ndarray) -> None:
    assert sheet.shape == (120, 40, 40, 3) and sheet.dtype == np.uint8
    corners = sheet[:, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert np.all(corners == 255)


def test_all_distinct_even_after_crop(sheet: np.ndarray) -> None:
    crops = center_crop(sheet)
    assert len({c.tobytes() for c in crops}) == len(crops)


def test_many_colours(sheet: np.ndarray) -> None:
    colours = np.unique(sheet.reshape(-1, 3), axis=0)
    assert len(colours) >= 500
    # and each creature on its own already has many shades
    per_sprite = [len(np.unique(s.reshape(-1, 3), axis=0)) for s in sheet[:20]]
    assert min(per_sprite) >= 30


def test_creature_fits_the_centre_crop(sheet: np.ndarray) -> None:
    ink = np.any(sheet != 255, axis=-1)  # (N, 40, 40)
    inside = ink[:, 10:30, 10:30].sum(axis=(1, 2))
    share = inside / ink.sum(axis=(1, 2))
    assert np.median(share) >= 0.9
    assert share.min() >= 0.7
    # and it is not a speck: it fills a good part of the crop
    assert np.median(inside) >= 120


def test_mostly_symmetric_not_always(sheet: np.ndarray) -> None:
    ink = np.any(sheet != 255, axis=-1)
    mismatch = (ink != ink[:, :, ::-1]).sum(axis=(1, 2)) / np.maximum(ink.sum(axis=(1, 2)), 1)
    symmetric = mismatch <= 0.02
    assert symmetric.mean() >= 0.6
    assert symmetric.mean() <= 0.98  # some asymmetric poses


def test_variety_of_sizes_and_hues(sheet: np.ndarray) -> None:
    ink = np.any(sheet != 255, axis=-1)
    areas = ink.sum(axis=(1, 2))
    assert areas.max() >= 1.4 * areas.min()
    # the mean colour of the creatures spreads over the colour wheel
    means = np.array([s[m].mean(axis=0) for s, m in zip(sheet, ink)])
    assert means.std(axis=0).min() >= 20


def test_center_crop_shapes() -> None:
    x = np.zeros((2, 40, 40, 3), dtype=np.uint8)
    assert center_crop(x).shape == (2, 20, 20, 3)
    assert center_crop(np.zeros((40, 40, 3))).shape == (20, 20, 3)
    assert center_crop(np.zeros((5, 40, 40), dtype=np.int64), size=20).shape == (5, 20, 20)
    y = np.arange(40 * 40).reshape(40, 40)
    assert center_crop(y)[0, 0] == y[10, 10]
