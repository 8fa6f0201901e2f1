"""Sprite files in the image of the course's own (which the kit must never ship): the kit's sprites,
re-quantized from their RGB originals with the lecture's recipe (k-means, then rare colours merged) to
the course files' palette size, written in the lecture's format.

The course's `pixel_color.txt` holds 792 sprites on 167 colours; `lecture_like_files()` makes files
of that shape (the benchmarks' test set for `course-data` and the PixelRNN learning speed), and, with
other sizes, the small data sets the tests push through `course-data`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lecturekit.data import SpriteSet, write_lecture_files

COURSE_SPRITES = 792
COURSE_COLORS = 167


def lecture_like_sprites(
    n: int = COURSE_SPRITES, n_colors: int = COURSE_COLORS, start: int = 0, seed: int = 0
) -> SpriteSet:
    """`n` of the kit's sprites (from position `start`) re-quantized to at most `n_colors` colours with
    the lecture's k-means-plus-merge recipe (palette fitted on them alone)."""
    from lecturekit import paths
    from lecturekit.course_data import fit_lecture_palette
    from lecturekit.models.rgb import load_rgb_crops

    rgb = load_rgb_crops(start + n, folder=paths.data_dir() / "sprites")[start : start + n]
    indices, palette = fit_lecture_palette(rgb, n_colors, kmeans_colors=max(200, n_colors + 33), seed=seed)
    return SpriteSet(indices, palette)


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
