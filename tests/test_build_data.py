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
