"""SpriteSet, the shipped sprites, the lecture's file format and the sprite-folder reader."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from lecturekit import paths
from lecturekit.data import (
    DataFormatError,
    SpriteSet,
    load_sprites,
    read_lecture_files,
    read_sprite_images,
    split_indices,
    write_lecture_files,
)

PALETTE = np.array([[255, 255, 255], [0, 0, 0], [200, 30, 40], [20, 180, 60]], dtype=np.uint8)


def _small_set(n: int = 5, seed: int = 0) -> SpriteSet:
    rng = np.random.default_rng(seed)
    return SpriteSet(rng.integers(0, len(PALETTE), (n, 20, 20)), PALETTE)


def _write(tmp_path, pixel_lines: list[str], palette_lines: list[str] | None = None):
    px, cm = tmp_path / "pixel_color.txt", tmp_path / "colormap.txt"
    px.write_text("".join(line + "\n" for line in pixel_lines))
    lines = palette_lines if palette_lines is not None else [" ".join(map(str, c)) for c in PALETTE.tolist()]
    cm.write_text("".join(line + "\n" for line in lines))
    return px, cm


ROW = " ".join(["1"] * 400)


# ----------------------------------------------------------------------------- shipped data
@pytest.fixture(scope="module")
def shipped() -> SpriteSet:
    return load_sprites()


def test_shipped_sprites(shipped: SpriteSet) -> None:
    assert shipped.indices.shape[1:] == (20, 20) and shipped.indices.dtype == np.int64
    assert len(shipped) >= 800
    assert len({s.tobytes() for s in shipped.indices}) == len(shipped)  # all distinct
    assert shipped.palette.dtype == np.uint8 and tuple(shipped.palette[0]) == (255, 255, 255)
    assert 140 <= len(shipped.palette) <= 190
    assert len(np.unique(shipped.indices)) == len(shipped.palette)  # every colour is used
    rgb = shipped.rgb()
    assert rgb.shape == (len(shipped), 20, 20, 3) and rgb.dtype == np.uint8
    assert (paths.data_dir() / "sprites" / "sprites_rgb.png").is_file()


def test_shipped_rgb_sheet_has_many_colours() -> None:
    sheet = np.asarray(Image.open(paths.data_dir() / "sprites" / "sprites_rgb.png").convert("RGB"))
    assert sheet.shape[0] % 40 == 0 and sheet.shape[1] == 30 * 40
    packed = sheet.reshape(-1, 3).astype(np.int64) @ np.array([65536, 256, 1])
    assert len(np.unique(packed)) >= 1000


def test_splits_disjoint_and_covering(shipped: SpriteSet) -> None:
    train, test = load_sprites("train"), load_sprites("test")
    assert len(train) + len(test) == len(shipped)
    assert 0.03 * len(shipped) <= len(test) <= 0.07 * len(shipped)
    split = json.loads((paths.data_dir() / "sprites" / "split.json").read_text())
    assert np.array_equal(test.indices, shipped.indices[split["test"]])
    keys_train = {s.tobytes() for s in train.indices}
    keys_test = {s.tobytes() for s in test.indices}
    assert not keys_train & keys_test
    assert keys_train | keys_test == {s.tobytes() for s in shipped.indices}
    assert train.palette_fingerprint() == test.palette_fingerprint() == shipped.palette_fingerprint()


def test_bad_split_name() -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        load_sprites("validation")


def test_split_indices_seeded() -> None:
    tr, te = split_indices(100, 0.05, seed=0)
    assert len(te) == 5 and len(tr) == 95
    assert sorted(np.concatenate([tr, te]).tolist()) == list(range(100))
    assert np.array_equal(te, split_indices(100, 0.05, seed=0)[1])
    assert not np.array_equal(te, split_indices(100, 0.05, seed=1)[1])


# ----------------------------------------------------------------------------- SpriteSet
def test_spriteset_basics() -> None:
    s = _small_set(6)
    assert len(s) == 6
    sub = s.subset([0, 2])
    assert len(sub) == 2 and np.array_equal(sub.indices[1], s.indices[2])
    assert len(s.subset(3)) == 1
    assert np.array_equal(s.rgb()[0, 0, 0], PALETTE[s.indices[0, 0, 0]])
    assert len(s.palette_fingerprint()) == 16 and len(s.fingerprint()) == 16
    assert s.fingerprint() != s.subset([0, 1]).fingerprint()
    assert s.palette_fingerprint() == s.subset([0, 1]).palette_fingerprint()
    with pytest.raises(ValueError, match="palette has 4 colours"):
        SpriteSet(np.full((1, 20, 20), 9), PALETTE)


# ----------------------------------------------------------------------------- lecture format
def test_lecture_files_round_trip_byte_exact(tmp_path) -> None:
    s = _small_set(7)
    px, cm = tmp_path / "a" / "pixel_color.txt", tmp_path / "a" / "colormap.txt"
    write_lecture_files(s, px, cm)
    back = read_lecture_files(px, cm)
    assert np.array_equal(back.indices, s.indices) and np.array_equal(back.palette, s.palette)
    px2, cm2 = tmp_path / "pixel2.txt", tmp_path / "colormap2.txt"
    write_lecture_files(back, px2, cm2)
    assert px.read_bytes() == px2.read_bytes() and cm.read_bytes() == cm2.read_bytes()
    first = px.read_text().splitlines()[0].split(" ")
    assert len(first) == 400
    assert cm.read_text().splitlines()[0] == "255 255 255"


def test_shipped_files_round_trip(tmp_path, shipped: SpriteSet) -> None:
    folder = paths.data_dir() / "sprites"
    write_lecture_files(shipped, tmp_path / "p.txt", tmp_path / "c.txt")
    assert (tmp_path / "p.txt").read_bytes() == (folder / "pixel_color.txt").read_bytes()
    assert (tmp_path / "c.txt").read_bytes() == (folder / "colormap.txt").read_bytes()


def test_trailing_whitespace_and_blank_final_line(tmp_path) -> None:
    px, cm = _write(tmp_path, [ROW + "  ", ROW, "", ""], ["255 255 255 ", "0 0 0", "1 2 3", "4 5 6", ""])
    s = read_lecture_files(px, cm)
    assert len(s) == 2 and len(s.palette) == 4


def test_ragged_line(tmp_path) -> None:
    px, cm = _write(tmp_path, [ROW, " ".join(["1"] * 399)])
    with pytest.raises(DataFormatError, match=r"pixel_color\.txt, line 2: expected 400 values .*found 399"):
        read_lecture_files(px, cm)


def test_non_integer(tmp_path) -> None:
    px, cm = _write(tmp_path, [ROW, ROW, " ".join(["1"] * 399 + ["1.5"])])
    with pytest.raises(DataFormatError, match=r"pixel_color\.txt, line 3: '1\.5' is not an integer"):
        read_lecture_files(px, cm)


def test_index_out_of_palette(tmp_path) -> None:
    px, cm = _write(tmp_path, [ROW, " ".join(["1"] * 399 + ["7"])])
    with pytest.raises(DataFormatError, match=r"pixel_color\.txt, line 2: colour index 7 .*only 4 colours.*too short"):
        read_lecture_files(px, cm)


def test_negative_index(tmp_path) -> None:
    px, cm = _write(tmp_path, [" ".join(["-1"] + ["1"] * 399)])
    with pytest.raises(DataFormatError, match=r"pixel_color\.txt, line 1: colour index -1 is negative"):
        read_lecture_files(px, cm)


def test_rgb_out_of_range(tmp_path) -> None:
    px, cm = _write(tmp_path, [ROW], ["255 255 255", "0 0 0", "256 0 0", "1 2 3"])
    with pytest.raises(DataFormatError, match=r"colormap\.txt, line 3: RGB value 256 is out of range 0\.\.255"):
        read_lecture_files(px, cm)


def test_palette_line_not_three_values(tmp_path) -> None:
    px, cm = _write(tmp_path, [ROW], ["255 255 255", "0 0", "1 2 3"])
    with pytest.raises(DataFormatError, match=r"colormap\.txt, line 2: expected 3 values .*found 2"):
        read_lecture_files(px, cm)


def test_palette_float(tmp_path) -> None:
    px, cm = _write(tmp_path, [ROW], ["255 255 255", "0.5 0 0"])
    with pytest.raises(DataFormatError, match=r"colormap\.txt, line 2: '0\.5' is not an integer"):
        read_lecture_files(px, cm)


def test_empty_files(tmp_path) -> None:
    px, cm = _write(tmp_path, [])
    with pytest.raises(DataFormatError, match=r"pixel_color\.txt: the file is empty"):
        read_lecture_files(px, cm)
    px, cm = _write(tmp_path, [ROW], ["", " "])
    with pytest.raises(DataFormatError, match=r"colormap\.txt: the file is empty"):
        read_lecture_files(px, cm)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(DataFormatError, match="no such file"):
        read_lecture_files(tmp_path / "nope.txt", tmp_path / "colormap.txt")


# ----------------------------------------------------------------------------- sprite folders
def test_read_sprite_images_png_gif_alpha(tmp_path) -> None:
    a = np.zeros((20, 20, 4), dtype=np.uint8)  # fully transparent -> white
    a[5:15, 5:15] = (200, 30, 40, 255)
    Image.fromarray(a, "RGBA").save(tmp_path / "a.png")
    b = np.full((40, 40, 3), 255, dtype=np.uint8)  # a 40x40 sprite: its centre 20x20 is kept
    b[10:30, 10:30] = (20, 180, 60)
    b[19, 19] = (0, 0, 0)
    Image.fromarray(b).save(tmp_path / "b.gif")
    c = np.full((44, 44, 3), 255, dtype=np.uint8)  # up to 48x48: still its centre
    c[12:32, 12:32] = (0, 0, 255)
    c[22, 22] = (0, 0, 0)
    Image.fromarray(c).save(tmp_path / "c.png")
    (tmp_path / "notes.txt").write_text("ignored")
    rgb = read_sprite_images(tmp_path)
    assert rgb.shape == (3, 20, 20, 3) and rgb.dtype == np.uint8
    assert tuple(rgb[0, 0, 0]) == (255, 255, 255) and tuple(rgb[0, 10, 10]) == (200, 30, 40)
    assert tuple(rgb[1, 0, 0]) == (20, 180, 60) and tuple(rgb[1, 9, 9]) == (0, 0, 0)
    assert tuple(rgb[2, 0, 0]) == (0, 0, 255) and tuple(rgb[2, 10, 10]) == (0, 0, 0)


def test_read_sprite_images_errors(tmp_path) -> None:
    with pytest.raises(DataFormatError, match="not a folder"):
        read_sprite_images(tmp_path / "nope")
    with pytest.raises(DataFormatError, match="no .png or .gif files"):
        read_sprite_images(tmp_path)
    Image.fromarray(np.zeros((64, 80, 3), dtype=np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(DataFormatError, match=r"big\.png: the image is 80x64 pixels"):
        read_sprite_images(tmp_path)
    (tmp_path / "big.png").unlink()
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(DataFormatError, match=r"broken\.png: cannot read this image"):
        read_sprite_images(tmp_path)
