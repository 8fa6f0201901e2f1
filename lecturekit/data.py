"""The kit's data: quantized sprites in the lecture's file format, their palette, splits and readers.

`pixel_color.txt` holds one sprite per line, 400 palette indices (20x20, row by row) separated by
spaces; `colormap.txt` holds one `R G B` line per index, index 0 white. Readers refuse bad files
with a `DataFormatError` that names the file, the line, what is wrong and how to fix it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lecturekit.i18n import _
from lecturekit.splits import read_test_mask
from lecturekit.units import SPRITE_SIZE  # one home for the sizes; re-exported here for data readers

_SPLITS = ("all", "train", "test")
_IMAGE_SUFFIXES = {".png", ".gif"}


class DataFormatError(ValueError):
    """A data file is malformed; the message names the file, the line and the fix."""


@dataclass
class SpriteSet:
    """Sprites as palette indices `(N, 20, 20)` int64 plus their palette `(K, 3)` uint8 (index 0 white)."""

    indices: np.ndarray
    palette: np.ndarray

    def __post_init__(self) -> None:
        self.indices = np.asarray(self.indices, dtype=np.int64)
        self.palette = np.asarray(self.palette, dtype=np.uint8)
        if self.indices.ndim != 3:
            raise ValueError(f"indices must be (N, H, W), got shape {self.indices.shape}")
        if self.palette.ndim != 2 or self.palette.shape[1] != 3:
            raise ValueError(f"palette must be (K, 3), got shape {self.palette.shape}")
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= len(self.palette)):
            raise ValueError(
                f"indices must lie in 0..{len(self.palette) - 1} (the palette has "
                f"{len(self.palette)} colours), found {int(self.indices.min())}..{int(self.indices.max())}"
            )

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def n_colors(self) -> int:
        return len(self.palette)

    def rgb(self) -> np.ndarray:
        """The sprites in colour, (N, 20, 20, 3) uint8."""
        return self.palette[self.indices]

    def subset(self, idx) -> SpriteSet:
        """The sprites at `idx` (array of positions, slice or boolean mask), sharing the palette."""
        sel = self.indices[idx]
        if sel.ndim == 2:
            sel = sel[None]
        return SpriteSet(sel.copy(), self.palette.copy())

    def palette_fingerprint(self) -> str:
        """A short hash of the palette: models trained on another palette are not interchangeable."""
        return hashlib.sha256(self.palette.tobytes()).hexdigest()[:16]

    def fingerprint(self) -> str:
        """A short hash of palette and indices: which data a checkpoint was trained on."""
        h = hashlib.sha256(self.palette.tobytes())
        h.update(np.asarray(self.indices.shape, dtype=np.int64).tobytes())
        h.update(self.indices.astype(np.int64).tobytes())
        return h.hexdigest()[:16]


# ----------------------------------------------------------------------------- lecture format
def _read_lines(path: Path, what: str) -> list[str]:
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(
            _(
                "{path}: no such file ({what}); check the path, or rebuild the data with "
                "`python -m lecturekit build-data`."
            ).format(path=path, what=what)
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataFormatError(
            _("{path}: not a text file ({error}); {what} must be plain text.").format(path=path, error=err, what=what)
        ) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataFormatError(_("{path}: the file is empty; it should hold {what}.").format(path=path, what=what))
    return lines


def _ints(path: Path, lineno: int, line: str, what: str) -> list[int]:
    out = []
    for tok in line.split():
        try:
            out.append(int(tok))
        except ValueError:
            raise DataFormatError(
                _(
                    "{path}, line {line}: {token} is not an integer; {what} must be whole numbers separated by "
                    "spaces (fix or delete that line)."
                ).format(path=path, line=lineno, token=repr(tok), what=what)
            ) from None
    return out


def read_palette_file(colormap_path: str | Path) -> np.ndarray:
    """The lecture's `colormap.txt`: one `R G B` line (0-255) per colour index."""
    path = Path(colormap_path)
    rows = []
    for i, line in enumerate(_read_lines(path, _("one `R G B` line per colour")), start=1):
        vals = _ints(path, i, line, _("palette entries"))
        if len(vals) != 3:
            raise DataFormatError(
                _(
                    "{path}, line {line}: expected 3 values `R G B`, found {n}; each palette line must be exactly "
                    "three integers 0-255."
                ).format(path=path, line=i, n=len(vals))
            )
        bad = [v for v in vals if not 0 <= v <= 255]
        if bad:
            raise DataFormatError(
                _(
                    "{path}, line {line}: RGB value {value} is out of range 0..255; use 0-255 integers (not 0-1 "
                    "floats, not 16-bit)."
                ).format(path=path, line=i, value=bad[0])
            )
        rows.append(vals)
    return np.asarray(rows, dtype=np.uint8)


def read_lecture_files(pixel_path: str | Path, colormap_path: str | Path) -> SpriteSet:
    """Read the lecture's `pixel_color.txt` + `colormap.txt` into a `SpriteSet` (checked line by line)."""
    palette = read_palette_file(colormap_path)
    path = Path(pixel_path)
    n_px = SPRITE_SIZE * SPRITE_SIZE
    rows = []
    for i, line in enumerate(_read_lines(path, _("one sprite per line, {n} colour indices").format(n=n_px)), start=1):
        vals = _ints(path, i, line, _("colour indices"))
        if len(vals) != n_px:
            raise DataFormatError(
                _(
                    "{path}, line {line}: expected {n} values ({size}x{size} pixels), found {found}; every line must "
                    "hold one whole sprite (a ragged or wrapped line?)."
                ).format(path=path, line=i, n=n_px, size=SPRITE_SIZE, found=len(vals))
            )
        lo, hi = min(vals), max(vals)
        if lo < 0:
            raise DataFormatError(
                _("{path}, line {line}: colour index {index} is negative; indices count from 0.").format(
                    path=path, line=i, index=lo
                )
            )
        if hi >= len(palette):
            raise DataFormatError(
                _(
                    "{path}, line {line}: colour index {index} but the palette {palette} has only {n} colours "
                    "(0..{top}): palette too short; use the colormap.txt that belongs to this pixel file."
                ).format(path=path, line=i, index=hi, palette=Path(colormap_path), n=len(palette), top=len(palette) - 1)
            )
        rows.append(vals)
    indices = np.asarray(rows, dtype=np.int64).reshape(-1, SPRITE_SIZE, SPRITE_SIZE)
    return SpriteSet(indices, palette)


def write_lecture_files(sprites: SpriteSet, pixel_path: str | Path, colormap_path: str | Path) -> None:
    """Write `sprites` in the lecture's format (reads back with `read_lecture_files`, byte for byte)."""
    idx = np.asarray(sprites.indices, dtype=np.int64)
    if idx.shape[1:] != (SPRITE_SIZE, SPRITE_SIZE):
        raise ValueError(f"the lecture format holds {SPRITE_SIZE}x{SPRITE_SIZE} sprites, got {idx.shape[1:]}")
    pixel_path, colormap_path = Path(pixel_path), Path(colormap_path)
    pixel_path.parent.mkdir(parents=True, exist_ok=True)
    colormap_path.parent.mkdir(parents=True, exist_ok=True)
    flat = idx.reshape(len(idx), -1)
    pixel_path.write_text("".join(" ".join(map(str, row)) + "\n" for row in flat.tolist()), encoding="utf-8")
    colormap_path.write_text("".join(f"{r} {g} {b}\n" for r, g, b in sprites.palette.tolist()), encoding="utf-8")


# ----------------------------------------------------------------------------- the kit's sprites
def sprites_dir() -> Path:
    """The sprites in force: the kit's (`data/sprites`) or the course data set's that the switch selects
    (`LECTUREKIT_DATA`, `lecturekit.use_data`)."""
    from lecturekit import datasets

    return datasets.root() / "sprites"


def split_indices(n: int, test_share: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed, seeded train/test split of `n` items: (sorted train positions, sorted test positions)."""
    if not 0 <= test_share < 1:
        raise ValueError(f"test_share must be in [0, 1), got {test_share}")
    n_test = int(round(n * test_share))
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def load_sprites(split: str = "all") -> SpriteSet:
    """The sprites in force (the kit's, or the course data set selected by `LECTUREKIT_DATA` /
    `lecturekit.use_data`): `split="all"`, `"train"` or `"test"` (the held-out sprites in split.json)."""
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {', '.join(repr(s) for s in _SPLITS)}, got {split!r}")
    folder = sprites_dir()
    sprites = read_lecture_files(folder / "pixel_color.txt", folder / "colormap.txt")
    if split == "all":
        return sprites
    is_test = read_sprite_split(folder / "split.json", len(sprites))
    return sprites.subset(np.nonzero(is_test if split == "test" else ~is_test)[0])


def read_sprite_split(path: Path, n: int) -> np.ndarray:
    """Which of the `n` sprites of a sprites folder are held out, from its split.json (a bool array)."""
    return read_test_mask(path, n, DataFormatError, "rebuild with `python -m lecturekit build-data`")


def has_sprite_factors() -> bool:
    """Whether the sprites in force come with their generator's factors: the kit's own creatures do; a
    course's own sprites (`course-data`, the LECTUREKIT_DATA switch) do not, since nobody recorded how
    they were drawn."""
    return (sprites_dir() / "factors.json").is_file()


def load_sprite_factors(split: str = "all") -> dict[str, np.ndarray]:
    """The generator's factors of the sprites of `split` (same order as `load_sprites(split)`).

    `{"body type": str array, "hue": ..., "saturation": ..., "brightness": ..., "size": float arrays,
    "asymmetric": bool array}`, from data/sprites/factors.json (written by `build-data` with the same
    seeds as the sprites). The models never see these; notebook 04 uses them to read the VAE's code.
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {', '.join(repr(s) for s in _SPLITS)}, got {split!r}")
    path = sprites_dir() / "factors.json"
    if not path.is_file() and path.parent.is_dir():
        raise DataFormatError(
            f"{path.parent} holds sprites without generator factors (a course's own sprites): "
            "only the kit's creatures have them; check `has_sprite_factors()` first."
        )
    try:
        columns = json.loads(path.read_text(encoding="utf-8"))["factors"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataFormatError(
            f"{path}: cannot read the sprite factors ({err}); rebuild with `python -m lecturekit build-data`."
        ) from None
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    n = len(load_sprites("all"))
    if any(len(a) != n for a in arrays.values()):
        raise DataFormatError(
            f"{path}: factors for {len(next(iter(arrays.values())))} sprites, "
            f"pixel_color.txt has {n}; rebuild with `python -m lecturekit build-data`."
        )
    if split == "all":
        return arrays
    is_test = read_sprite_split(sprites_dir() / "split.json", n)
    keep = np.nonzero(is_test if split == "test" else ~is_test)[0]
    return {name: a[keep] for name, a in arrays.items()}


# ----------------------------------------------------------------------------- a folder of sprite images
def read_sprite_images(folder: str | Path) -> np.ndarray:
    """The RGB (N, 20, 20, 3) of a folder of PNG/GIF sprites, in file-name order: transparent pixels become
    white, and 40x40 to 48x48 sprites keep their centre 20x20, as the lecture did. Every image's size is
    checked before any is decoded, so that one wrong file costs no long read."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(_("{folder}: not a folder; pass a folder of .png/.gif sprites.").format(folder=folder))
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataFormatError(
            _("{folder}: no .png or .gif files in this folder; put your sprites there (one sprite per file).").format(
                folder=folder
            )
        )
    for path in files:
        _check_sprite_size(path)
    return np.stack([_read_image_rgb(path) for path in files])


def _open_image(path: Path) -> Any:
    from PIL import Image

    try:
        return Image.open(path)
    except Exception as err:  # noqa: BLE001 - Pillow raises many kinds
        raise DataFormatError(
            f"{path}: cannot read this image ({type(err).__name__}: {err}); remove it "
            "from the folder or re-save it as PNG."
        ) from None


def _check_sprite_size(path: Path) -> None:
    big = 2 * SPRITE_SIZE
    with _open_image(path) as im:
        w, h = im.size
    if (w, h) != (SPRITE_SIZE, SPRITE_SIZE) and not (w == h and big <= w <= big + 8):
        raise DataFormatError(
            f"{path}: the image is {w}x{h} pixels, but the lecture's sprites are {SPRITE_SIZE}x{SPRITE_SIZE} "
            f"(or {big}x{big}, centre-cropped to {SPRITE_SIZE}x{SPRITE_SIZE} as the lecture did); scaling "
            f"larger images down would blur the pixel art: crop or redraw them at {SPRITE_SIZE}x{SPRITE_SIZE}."
        )


def _read_image_rgb(path: Path) -> np.ndarray:
    with _open_image(path) as im:
        im.seek(0)
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float64)
    alpha = rgba[..., 3:4] / 255.0
    rgb = np.round(rgba[..., :3] * alpha + 255.0 * (1 - alpha)).astype(np.uint8)  # transparent -> white
    top = (len(rgb) - SPRITE_SIZE) // 2
    return rgb[top : top + SPRITE_SIZE, top : top + SPRITE_SIZE]


from lecturekit.corpus import Vocab, load_corpus, read_sentence_file, tokenize  # noqa: E402,F401
