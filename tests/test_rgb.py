"""Notebook 02's models and helpers: the causal window, RGB regression vs 1-of-N, saturation, median cut."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecturekit.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from lecturekit.data import SpriteSet, load_sprites, write_lecture_files
from lecturekit.models import rgb


def test_saturation_of_known_colours() -> None:
    colours = np.array([[255, 0, 0], [255, 255, 255], [128, 128, 128], [0, 0, 0], [200, 100, 100]], dtype=np.uint8)
    assert rgb.saturation(colours) == pytest.approx([1.0, 0.0, 0.0, 0.0, 0.5])
    assert rgb.saturation(colours / 255.0) == pytest.approx(rgb.saturation(colours))
    assert rgb.mean_saturation(colours, mask=np.array([1, 0, 0, 0, 1], bool)) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="last axis of 3"):
        rgb.saturation(np.zeros((4, 4)))


def test_window_features_see_only_pixels_drawn_before() -> None:
    torch.manual_seed(0)
    images = torch.rand(2, 6, 5, 3)
    feats = rgb.window_features(images)
    assert feats.shape == (2, 30, len(rgb.WINDOW) * 4 + 2)
    changed = images.clone()
    changed[:, 3, 2] = 1 - changed[:, 3, 2]  # change pixel (3, 2) = raster position 17
    diff = (rgb.window_features(changed) - feats).abs().sum(dim=(0, 2))
    assert torch.all(diff[:18] == 0), "a pixel's input must not depend on itself or later pixels"
    assert diff[18:].sum() > 0
    # the top-left pixel sees only padding (flags 0) and its position
    assert torch.all(feats[:, 0, :-2] == 0)


@pytest.mark.parametrize("output", ["rgb", "palette"])
def test_draw_matches_teacher_forcing_and_keeps_the_given_pixels(output: str) -> None:
    torch.manual_seed(0)
    palette = np.array([[255, 255, 255], [200, 20, 20], [20, 20, 200], [10, 10, 10]], dtype=np.uint8)
    model = rgb.WindowNextPixel(output, n_colors=4, hidden=16).set_palette(palette).eval()
    given = torch.as_tensor(palette[np.random.default_rng(0).integers(0, 4, (3, 8, 8))] / 255.0, dtype=torch.float32)
    drawn = model.draw(3, prefix_rgb01=given, n_given=20, size=8, seed=1)
    assert drawn.shape == (3, 8, 8, 3)
    assert np.allclose(drawn.reshape(3, 64, 3)[:, :20], given.numpy().reshape(3, 64, 3)[:, :20])
    with torch.no_grad():
        out = model(rgb.window_features(torch.as_tensor(drawn)))
    if output == "rgb":  # every drawn pixel is the model's output for its (drawn) context
        assert np.allclose(out.numpy()[:, 20:], drawn.reshape(3, 64, 3)[:, 20:], atol=1e-5)
    else:  # every drawn pixel is a palette colour
        flat = rgb.to_uint8(drawn).reshape(-1, 3)
        assert all((palette == px).all(axis=1).any() for px in flat)
    with pytest.raises(ValueError, match="prefix_rgb01 must be"):
        model.draw(2, n_given=5, size=8)


def test_bad_configurations_are_refused() -> None:
    with pytest.raises(ValueError, match="'rgb' or 'palette'"):
        rgb.WindowNextPixel("hsv")
    with pytest.raises(ValueError, match="n_colors"):
        rgb.WindowNextPixel("palette", n_colors=0)
    with pytest.raises(ValueError, match="n_colors=len"):
        rgb.WindowNextPixel("palette", n_colors=3).set_palette(np.zeros((5, 3), np.uint8))


def test_median_cut_uses_pillow_and_returns_a_small_palette() -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 20, 20, 3), dtype=np.uint8)
    indices, palette = rgb.median_cut(images, 16)
    assert indices.shape == (10, 20, 20) and palette.shape[1] == 3 and len(palette) <= 16
    err16 = np.linalg.norm(palette[indices].astype(float) - images, axis=-1).mean()
    indices, palette = rgb.median_cut(images, 64)
    err64 = np.linalg.norm(palette[indices].astype(float) - images, axis=-1).mean()
    assert err64 < err16


def test_load_sprite_data_reads_lecture_files(tmp_path) -> None:
    rng = np.random.default_rng(0)
    palette = np.array([[255, 255, 255], [10, 200, 10], [200, 10, 10]], dtype=np.uint8)
    sprites = SpriteSet(rng.integers(0, 3, (40, 20, 20)), palette)
    write_lecture_files(sprites, tmp_path / "p.txt", tmp_path / "c.txt")
    data = rgb.load_sprite_data((tmp_path / "p.txt", tmp_path / "c.txt"))
    assert np.array_equal(data.sprites.indices, sprites.indices)
    assert data.rgb.shape == (40, 20, 20, 3)
    assert len(data.test) == 2 and len(data.train) == 38 and not set(data.test) & set(data.train)


def test_kit_rgb_crops_match_the_quantized_sprites() -> None:
    sprites = load_sprites()
    crops = rgb.load_rgb_crops(30)
    assert crops.shape == (30, 20, 20, 3) and crops.dtype == np.uint8
    # quantization moves colours a little, never a whole sprite: the crops are the same pictures
    err = np.linalg.norm(sprites.rgb()[:30].astype(float) - crops, axis=-1).mean()
    assert err < 20


@pytest.mark.slow
def test_rgb_regression_is_greyer_than_one_of_n(tmp_path) -> None:
    """The lecture's claim, on a short training run: regression outputs hug the middle."""
    sprites = load_sprites()
    train = sprites.indices[:300]
    real = torch.as_tensor(sprites.rgb()[300:316] / 255.0, dtype=torch.float32)
    models = {}
    for output in ("rgb", "palette"):
        model = rgb.WindowNextPixel(output, n_colors=sprites.n_colors, hidden=64)
        history = rgb.train_window_model(model, train, sprites.palette, epochs=2, progress_bar=False)
        assert history.losses[-1] < history.losses[0]
        models[output] = model
    region = np.zeros((16, 20, 20), dtype=bool)
    region[:, 5:] = True
    sat_real = rgb.mean_saturation(real.numpy(), region)
    sat_reg = rgb.mean_saturation(models["rgb"].draw(16, prefix_rgb01=real, n_given=100), region)
    sat_1n = rgb.mean_saturation(models["palette"].draw(16, prefix_rgb01=real, n_given=100), region)
    assert sat_reg < 0.7 * sat_real
    assert sat_1n > sat_reg
    # checkpoints round-trip; the palette model refuses another palette
    fingerprint = {"palette": sprites.palette_fingerprint()}
    path = save_checkpoint(tmp_path / "p.pt", models["palette"], fingerprints=fingerprint)
    loaded, _ = load_checkpoint(path, fingerprints=fingerprint)
    assert torch.equal(loaded.palette01, models["palette"].palette01)
    with pytest.raises(CheckpointError, match="palette fingerprint"):
        load_checkpoint(path, fingerprints={"palette": "0123456789abcdef"})
    path = save_checkpoint(tmp_path / "r.pt", models["rgb"])
    loaded, _ = load_checkpoint(path, kind="window_next_pixel")
    assert loaded.output == "rgb"


def test_cli_trains_both_models_on_lecture_files(tmp_path, capsys) -> None:
    from lecturekit.checkpoints import read_checkpoint
    from lecturekit.cli import main

    rng = np.random.default_rng(1)
    palette = np.array([[255, 255, 255], [10, 200, 10], [200, 10, 10], [20, 20, 20]], dtype=np.uint8)
    write_lecture_files(SpriteSet(rng.integers(0, 4, (24, 20, 20)), palette), tmp_path / "p.txt", tmp_path / "c.txt")
    files = ["--lecture-files", str(tmp_path / "p.txt"), str(tmp_path / "c.txt")]
    code = main(["train", "rgb", *files, "--epochs", "1", "--hidden", "8", "--out", str(tmp_path / "w")])
    assert code == 0
    out = capsys.readouterr().out
    assert "rgb_regression:" in out and "rgb_palette:" in out
    blob = read_checkpoint(tmp_path / "w" / "rgb_palette.pt")
    assert blob["meta"]["config"] == {"output": "palette", "n_colors": 4, "hidden": 8}
    assert set(blob["meta"]["metrics"]) >= {"test_loss", "drawn_saturation", "real_saturation"}
    # the same seed trains the same models, starting weights included
    torch.manual_seed(12345)  # whatever the global generator holds before the run
    assert main(["train", "rgb", *files, "--epochs", "1", "--hidden", "8", "--out", str(tmp_path / "w2")]) == 0
    for name in ("rgb_regression", "rgb_palette"):
        first, second = (read_checkpoint(tmp_path / w / f"{name}.pt")["state_dict"] for w in ("w", "w2"))
        assert all(torch.equal(first[k], second[k]) for k in first), name
