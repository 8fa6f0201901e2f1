"""Sprite factors (the generator's truth behind each sprite) and the measurement that reads a code with them."""

from __future__ import annotations

import numpy as np
import pytest

from lecturekit import factors as F
from lecturekit.data import DataFormatError, load_sprite_factors, load_sprites
from lecturekit.sprites import FACTOR_NAMES, creature_seed, generate_creature, generate_creature_with_factors


def test_recording_factors_does_not_change_a_single_pixel() -> None:
    for i in range(5):
        seed = creature_seed(0, i)
        img, factors = generate_creature_with_factors(seed)
        assert np.array_equal(img, generate_creature(seed))
        assert set(factors) == set(FACTOR_NAMES)


def test_shipped_factors_line_up_with_the_shipped_sprites() -> None:
    sprites, factors = load_sprites("all"), load_sprite_factors("all")
    assert all(len(v) == len(sprites) for v in factors.values())
    # the recorded hue is the hue one sees: compare with the measured main hue of every sprite
    seen = F.image_hue(sprites.rgb())
    gap = np.abs((seen - factors["hue"] + 0.5) % 1.0 - 0.5)
    vivid = factors["saturation"] > 0.5
    assert np.mean(gap[vivid] < 0.08) > 0.9
    # and the splits follow load_sprites' splits
    for split in ("train", "test"):
        assert len(load_sprite_factors(split)["hue"]) == len(load_sprites(split))
    assert set(load_sprite_factors("all")["body type"]) <= {
        "blob",
        "biped",
        "quadruped",
        "bird",
        "fish",
        "serpent",
        "bug",
        "ghost",
        "mushroom",
        "bat",
    }


def test_unknown_split_and_broken_file_are_explained(tmp_path, monkeypatch) -> None:
    with pytest.raises(ValueError, match="split"):
        load_sprite_factors("validation")
    import lecturekit.data as data

    (tmp_path / "factors.json").write_text("{}")
    monkeypatch.setattr(data, "sprites_dir", lambda: tmp_path)
    with pytest.raises(DataFormatError, match="build-data"):
        load_sprite_factors("all")


def _synthetic(n: int = 600, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(["a", "b", "c"], n)
    hue = rng.random(n)
    size = rng.random(n)
    z = np.stack(
        [
            (kinds == "a") * 2.0 + rng.normal(0, 0.1, n),  # body type
            np.cos(2 * np.pi * hue) + rng.normal(0, 0.1, n),  # hue, as an angle: 0.02 and 0.98 are close
            rng.normal(0, 1, n),  # nothing
            size + 0.6 * (kinds == "b") + rng.normal(0, 0.05, n),  # a mix of two factors
        ],
        axis=1,
    )
    return z, {"body type": kinds, "hue": hue, "size": size}


def test_explained_variance_finds_the_factor_behind_each_dimension() -> None:
    z, factors = _synthetic()
    r2 = F.explained_variance(z, factors)
    assert r2["body type"][0] > 0.95 and r2["hue"][0] < 0.05
    assert r2["hue"][1] > 0.9 and r2["body type"][1] < 0.05
    assert max(r2[n][2] for n in r2) < 0.05
    rows = F.read_dimensions(r2)
    assert [r["clean"] for r in rows] == [True, True, False, False]
    assert rows[0]["factor"] == "body type" and rows[1]["factor"] == "hue"


def test_check_reading_confirms_and_corrects() -> None:
    z, factors = _synthetic()
    r2 = F.explained_variance(z, factors)
    lines = F.check_reading({"hue": [1, 0]}, r2)
    assert "confirmed" in lines[0] and "z[1]" in lines[0]
    assert "corrected" in lines[1] and "body type" in lines[1]
    assert "named no dimension" in F.check_reading({"hue": []}, r2)[0]
    assert "not one of the factors" in F.check_reading({"colour": [0]}, r2)[0]
    from lecturekit import i18n

    try:  # a Chinese edition reads the verdicts and the factors' names in Chinese; the keys stay English
        i18n.set_language("zh_CN")
        zh = F.check_reading({"hue": [1, 0]}, r2)
        assert "确认" in zh[0] and "色相" in zh[0] and "需要更正" in zh[1] and "体型" in zh[1], zh
        assert not any(word in " ".join(zh) for word in ("confirmed", "corrected", "hue", "body type")), zh
        assert "hue" in F.check_reading({"colour": [0]}, r2)[0]  # the names to type are the keys
    finally:
        i18n.set_language(None)


def test_image_hue_reads_pure_colours() -> None:
    img = np.full((3, 4, 4, 3), 255, dtype=np.uint8)
    img[0, 1:3, 1:3] = (255, 0, 0)
    img[1, 1:3, 1:3] = (0, 255, 0)
    img[2, 1:3, 1:3] = (0, 0, 255)
    h = F.image_hue(img)
    assert np.allclose(np.minimum(h, 1 - h)[0], 0, atol=1e-6)
    assert np.allclose(h[1:], [1 / 3, 2 / 3], atol=1e-6)


def test_hue_difference_is_the_angle_between_main_hues() -> None:
    img = np.full((3, 4, 4, 3), 255, dtype=np.uint8)
    img[0, 1:3, 1:3] = (255, 0, 0)  # red, 0 degrees
    img[1, 1:3, 1:3] = (0, 255, 0)  # green, 120
    img[2, 1:3, 1:3] = (255, 0, 255)  # magenta, 300: 60 degrees from red the short way round
    red = np.repeat(img[:1], 3, axis=0)
    assert np.allclose(F.hue_difference(red, img), [0, 120, 60], atol=1e-6)


def test_labelled_grid_names_its_rows_and_columns() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from lecturekit.plotting import show_labelled_grid

    images = np.full((6, 20, 20, 3), 255, dtype=np.uint8)
    ax = show_labelled_grid(images, ["-1", "0", "+1"], ["z[0]", "z[1]"], xlabel="z[3]", ylabel="dim")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["-1", "0", "+1"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["z[0]", "z[1]"]
    assert ax.get_xlabel() == "z[3]"
    with pytest.raises(ValueError, match="needs 9 images"):
        show_labelled_grid(images, ["a", "b", "c"], ["a", "b", "c"])
