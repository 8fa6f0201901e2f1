"""The shipped sprite data is exactly what the kit's own generator makes (nothing copied in)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lecturekit.build_data import build_sprites
from lecturekit.paths import data_dir


@pytest.mark.slow
def test_build_sprites_reproduces_the_shipped_files(tmp_path: Path) -> None:
    build_sprites(tmp_path, verbose=False)
    shipped = data_dir() / "sprites"
    for name in ("pixel_color.txt", "colormap.txt", "split.json", "sprites_rgb.png", "factors.json"):
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name


def test_palette_recipe_stops_at_the_first_threshold_under_the_target() -> None:
    import numpy as np

    from lecturekit.build_data import draw_sprites, palette_recipe
    from lecturekit.sprites import center_crop

    rgb40, factors = draw_sprites(n=40, seed=3)
    assert len(rgb40) == len(factors) == 48  # 40 plus max(8, 40 // 50) spares
    recipe = palette_recipe(center_crop(rgb40), n=40, seed=3, target=60)
    assert len(recipe.keep) == 40 and len(recipe.indices) == 40
    assert len(recipe.palette) <= 60 < recipe.counts_by_min_count.get(recipe.min_count - 1, 201)
    sizes = [recipe.counts_by_min_count[m] for m in sorted(recipe.counts_by_min_count)]
    assert sizes == sorted(sizes, reverse=True)  # a higher threshold never leaves more colours
    assert recipe.indices.max() < len(recipe.palette) and np.all(recipe.palette[0] == 255)
