"""Regenerate the kit's data files in `data/` (deterministic: same bytes on every run).

sprites: draw RGB creatures (lecturekit.sprites), record the factors each was drawn from
(factors.json), save their sheet, centre-crop 40 -> 20, fit a k-means palette, merge rare colours
(about 150-180 colours remain, like the lecture's 167), write the lecture's `pixel_color.txt` /
`colormap.txt` and a seeded 5% test split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lecturekit import paths
from lecturekit.data import SpriteSet, split_indices, write_lecture_files
from lecturekit.palette import colors_for_share, fit_palette, merge_rare_colors, quantize
from lecturekit.splits import write_split
from lecturekit.sprites import FACTOR_NAMES, center_crop, generate_sprites_with_factors, sprite_sheet

KMEANS_COLORS = 200
TARGET_COLORS = 168
SHEET_PER_ROW = 30


def _save_png(rgb: np.ndarray, path: Path) -> None:
    from PIL import Image

    # no timestamps or other metadata: the file is the same bytes on every run
    Image.fromarray(rgb).save(path, format="PNG", optimize=False, compress_level=9)


@dataclass
class PaletteRecipe:
    """Every stage of the kit's palette, as `build_sprites` makes it (notebook 02 replays it live).

    `kmeans_palette`: k-means at KMEANS_COLORS; `keep`: the first n sprites still distinct after
    quantizing with it; `min_count`: the smallest "used fewer than this many times" threshold at which
    merging rare colours leaves at most TARGET_COLORS; `palette`, `indices`: the result, what
    colormap.txt and pixel_color.txt hold; `counts_by_min_count`: palette size after merging at each
    threshold tried (2 .. min_count), to show how the merge shrinks the palette.
    """

    kmeans_palette: np.ndarray
    keep: np.ndarray
    min_count: int
    palette: np.ndarray
    indices: np.ndarray
    counts_by_min_count: dict[int, int]


def draw_sprites(n: int = 900, seed: int = 0) -> tuple[np.ndarray, list[dict]]:
    """The kit's creatures before any quantization: n plus a few spares, (40x40 RGB, their factors)."""
    extra = max(8, n // 50)  # spares, in case two sprites coincide after quantization
    return generate_sprites_with_factors(n + extra, seed=seed)


def palette_recipe(crops: np.ndarray, n: int = 900, seed: int = 0, target: int = TARGET_COLORS) -> PaletteRecipe:
    """k-means at KMEANS_COLORS on all crops, keep the first `n` sprites that stay distinct, then merge
    rare colours, raising the threshold one pixel at a time until at most `target` colours are left."""
    palette = fit_palette(crops, KMEANS_COLORS, seed=seed)
    idx = quantize(crops, palette)
    # keep the first n sprites that are still distinct after quantization
    seen: set[bytes] = set()
    keep = []
    for i in range(len(idx)):
        key = idx[i].tobytes()
        if key not in seen:
            seen.add(key)
            keep.append(i)
        if len(keep) == n:
            break
    if len(keep) < n:
        raise RuntimeError(f"only {len(keep)} distinct sprites after quantization, wanted {n}")
    keep_arr = np.asarray(keep)
    idx = idx[keep_arr]
    # merge rare colours: raise the threshold until the palette is down to `target`
    min_count = 1
    new_idx, new_pal = idx, palette
    sizes: dict[int, int] = {}
    while len(new_pal) > target:
        min_count += 1
        new_idx, new_pal = merge_rare_colors(idx, palette, min_count)
        sizes[min_count] = len(new_pal)
    return PaletteRecipe(palette, keep_arr, min_count, new_pal, new_idx, sizes)


def build_sprites(out_dir: Path | None = None, n: int = 900, seed: int = 0, verbose: bool = True) -> SpriteSet:
    """Write sprites_rgb.png, pixel_color.txt, colormap.txt, split.json and factors.json into `out_dir`."""
    out_dir = Path(out_dir) if out_dir is not None else paths.data_dir() / "sprites"
    out_dir.mkdir(parents=True, exist_ok=True)
    rgb40, factors = draw_sprites(n, seed)
    recipe = palette_recipe(center_crop(rgb40), n, seed)
    palette, keep, min_count = recipe.kmeans_palette, recipe.keep, recipe.min_count
    new_idx, new_pal = recipe.indices, recipe.palette
    rgb40 = rgb40[keep]
    factors = [factors[i] for i in keep]
    sprites = SpriteSet(new_idx, new_pal)
    n_distinct = len({s.tobytes() for s in sprites.indices})
    if n_distinct != n:
        raise RuntimeError(f"{n - n_distinct} sprites coincide after merging rare colours")
    _save_png(sprite_sheet(rgb40, per_row=SHEET_PER_ROW), out_dir / "sprites_rgb.png")
    write_lecture_files(sprites, out_dir / "pixel_color.txt", out_dir / "colormap.txt")
    _, test = split_indices(n, test_share=0.05, seed=seed)
    write_split(out_dir / "split.json", test)
    write_factors(factors, out_dir / "factors.json")
    if verbose:
        n_rgb = len(np.unique(center_crop(rgb40).reshape(-1, 3), axis=0))
        print(
            f"sprites: {n} ({len(test)} test), {n_rgb} distinct RGB colours in the crops, k-means "
            f"{len(palette)} -> {len(new_pal)} colours after merging those used < {min_count} times; "
            f"{colors_for_share(new_idx, 0.9)} colours carry 90% of the pixels -> {out_dir}"
        )
    return sprites


def write_factors(factors: list[dict], path: Path) -> None:
    """factors.json: the generator's factors of every sprite, one per line of pixel_color.txt.

    Stored column-wise (one list per factor, in line order) so the file stays small and a reader needs
    only `json`; the sprites themselves do not depend on it (the pixels are drawn the same either way).
    """
    columns = {name: [f[name] for f in factors] for name in FACTOR_NAMES}
    doc = {
        "about": "generator factors of each sprite, in the line order of pixel_color.txt "
        "(lecturekit.sprites.generate_creature_with_factors)",
        "factors": columns,
    }
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")


def main(out_dir: Path | None = None) -> None:
    """Rebuild everything in `data/`: the sprites, and the sentence corpus when corpus.py can."""
    root = Path(out_dir) if out_dir is not None else paths.data_dir()
    build_sprites(root / "sprites")
    try:
        from lecturekit import corpus
    except ImportError:
        corpus = None
    if corpus is not None and hasattr(corpus, "build_corpus"):
        corpus.build_corpus(root / "corpus")


if __name__ == "__main__":
    main()
