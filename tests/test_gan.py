"""The GAN: shapes and ranges, seeded sampling, the losses, snapping, interpolation, a short training run
that learns, checkpoints, the shipped weights, and the interpolation widget driven from Python."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lecturekit.checkpoints import load_checkpoint, save_checkpoint
from lecturekit.datasets import weights_dir
from lecturekit.models import gan

PALETTE = np.array([[255, 255, 255], [0, 0, 0], [220, 40, 40], [40, 160, 60], [40, 60, 210]], dtype=np.uint8)


def _small() -> gan.GAN:
    torch.manual_seed(0)
    return gan.GAN(z_dim=8, width=8, d_width=8)


def test_generator_draws_rgb_sprites_in_range_and_seeds_repeat() -> None:
    model = _small()
    out = model.generate(model.codes(5, seed=0))
    assert out.shape == (5, 3, 20, 20) and out.min() >= -1 and out.max() <= 1
    a, b, c = model.sample_rgb(6, seed=1), model.sample_rgb(6, seed=1), model.sample_rgb(6, seed=2)
    assert a.shape == (6, 20, 20, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    idx = model.sample_indices(4, PALETTE, seed=3)
    assert idx.shape == (4, 20, 20) and idx.min() >= 0 and idx.max() < len(PALETTE)
    p = model.realness(a)
    assert p.shape == (6,) and np.all((p > 0) & (p < 1))


def test_wrong_code_shape_is_refused_with_the_expected_shape() -> None:
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        _small().generate(torch.zeros(3, 5))


def test_losses_match_binary_cross_entropy_and_the_non_saturating_gradient_is_stronger() -> None:
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(7, generator=g), torch.randn(5, generator=g)
    want = F.binary_cross_entropy_with_logits(real, torch.ones(7)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros(5)
    )
    assert torch.allclose(gan.discriminator_loss(real, fake), want, atol=1e-6)
    assert torch.allclose(gan.generator_loss(fake), F.binary_cross_entropy_with_logits(fake, torch.ones(5)))
    assert torch.isfinite(gan.discriminator_loss(torch.full((3,), 80.0), torch.full((3,), -80.0)))
    # early in training D rejects the fakes (logit -6, D = 0.0025): compare the gradients
    x = torch.tensor([-6.0], requires_grad=True)
    (grad_ns,) = torch.autograd.grad(gan.generator_loss(x), x)
    (grad_sat,) = torch.autograd.grad(gan.saturating_generator_loss(x), x)
    assert abs(grad_ns.item()) > 100 * abs(grad_sat.item())


def test_snapping_picks_the_nearest_palette_colour() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(3, 20, 20, 3)).astype(np.uint8)
    idx = gan.snap_images(rgb, PALETTE)
    d = ((rgb[..., None, :].astype(int) - PALETTE.astype(int)) ** 2).sum(-1)
    assert np.array_equal(idx, d.argmin(-1))
    assert np.array_equal(gan.snap_rgb(PALETTE[idx], PALETTE), PALETTE[idx])  # snapping twice changes nothing


def test_interpolation_keeps_the_ends_and_slerp_keeps_the_length() -> None:
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(32, generator=g), torch.randn(32, generator=g)
    for spherical in (False, True):
        path = gan.interpolate_codes(z0, z1, 7, spherical=spherical)
        assert path.shape == (7, 32)
        assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)
    lin = gan.interpolate_codes(z0, z1, 7, spherical=False).norm(dim=1)
    sph = gan.interpolate_codes(z0, z1, 7, spherical=True).norm(dim=1)
    ends = (z0.norm() + z1.norm()) / 2
    assert lin[3] < 0.85 * ends  # the straight line sags towards the origin
    assert abs(sph[3] - ends) < 0.1 * ends
    with pytest.raises(ValueError, match="at least 2"):
        gan.interpolate_codes(z0, z1, 1)


def _one_sprite_data(n: int = 64) -> np.ndarray:
    sprite = np.full((20, 20, 3), 255, dtype=np.uint8)
    sprite[5:15, 5:15] = [220, 40, 40]
    return np.repeat(sprite[None], n, axis=0)


def test_short_training_moves_the_generator_towards_the_data_and_records_history() -> None:
    data = _one_sprite_data()
    target = data[0].astype(np.float64)
    torch.manual_seed(0)
    model = gan.GAN(z_dim=8, width=8, d_width=8)
    before = np.abs(model.sample_rgb(16).astype(np.float64) - target).mean()
    run = gan.train_gan(
        data,
        epochs=40,
        batch_size=32,
        lr_g=3e-3,
        lr_d=3e-3,
        seed=0,
        n_strip=4,
        strip_every=10,
        device="cpu",
        progress_bar=False,
        model=model,
    )
    after = np.abs(run.model.sample_rgb(16).astype(np.float64) - target).mean()
    assert after < 0.6 * before
    assert len(run.history.epochs) == 40 and len(run.history.steps) == 40 * 2
    assert {"d_loss", "g_loss", "d_real", "d_fake", "variety"} <= set(run.history.epochs[-1])
    assert run.strips.shape == (5, 4, 20, 20, 3) and run.strip_epochs == [0, 10, 20, 30, 39]
    extra = run.extra()
    assert extra["strips"].dtype == torch.uint8 and len(extra["history"]["steps"]) == 80


def test_time_limit_stops_training() -> None:
    run = gan.train_gan(
        _one_sprite_data(),
        epochs=None,
        max_minutes=0.0,
        batch_size=32,
        z_dim=8,
        width=8,
        d_width=8,
        device="cpu",
        progress_bar=False,
    )
    assert run.history.stopped_early and len(run.history.steps) == 1 and len(run.strip_epochs) == 1
    with pytest.raises(ValueError, match="epochs or max_minutes"):
        gan.train_gan(_one_sprite_data(), epochs=None, max_minutes=None)


def test_collapse_is_detected_from_the_variety_history() -> None:
    varieties = [0.02, 0.3, 0.3, 0.3, 0.3, 0.3, 0.05, 0.2]
    history = {"epochs": [{"epoch": i, "variety": v} for i, v in enumerate(varieties)]}
    assert gan.collapse_epochs(history, data_variety=0.4) == [6]  # epoch 0 is the untrained start, not collapse
    # the warm-up ramp ends at the first epoch within 90% of the data's variety (never: the number of epochs)
    assert gan.warmup_epoch([0.1, 0.3, 0.37, 0.2], 0.4) == 2 and gan.warmup_epoch([0.1, 0.2], 0.4) == 2
    same = np.repeat(gan.GAN(z_dim=8, width=8, d_width=8).sample_rgb(1), 8, axis=0)
    assert gan.sample_variety(same) == pytest.approx(0.0, abs=1e-6)


def test_checkpoint_round_trip_gives_the_same_samples(tmp_path) -> None:
    model = _small()
    path = save_checkpoint(tmp_path / "gan.pt", model, fingerprints={"palette": "x"}, half=True)
    loaded, blob = load_checkpoint(path, kind="gan")
    assert blob["meta"]["config"] == model.config
    diff = np.abs(loaded.sample_rgb(4, seed=5).astype(int) - model.sample_rgb(4, seed=5).astype(int))
    assert diff.max() <= 3  # float16 storage


@pytest.mark.skipif(not (weights_dir() / "gan.pt").is_file(), reason="no shipped GAN weights")
def test_shipped_gan_draws_varied_sprites_not_copies() -> None:
    import lecturekit
    from lecturekit import metrics
    from lecturekit.data import load_sprites

    model = lecturekit.load_pretrained("gan")
    sprites, train = load_sprites(), load_sprites("train")
    samples = gan.snap_rgb(model.sample_rgb(64, seed=0), sprites.palette)
    assert metrics.mean_pairwise_distance(samples) > 0.5 * metrics.mean_pairwise_distance(train.rgb()[:64])
    assert metrics.copy_share(samples, train.rgb()) < 0.2
    extra = model.checkpoint["extra"]
    assert extra["strips"].ndim == 5 and len(extra["strip_epochs"]) == extra["strips"].shape[0]
    # CPU time of the shipped run (its wall time depends on how busy the machine was)
    assert model.checkpoint["meta"]["metrics"]["train_cpu_seconds"] <= 600


def test_interpolation_widget_follows_its_controls() -> None:
    from lecturekit.widgets.interpolation import interpolation_widget

    ui = interpolation_widget(_small(), PALETTE, seed_a=0, seed_b=1, steps=5)
    assert "lk-gan-interpolation" in ui._dom_classes
    assert "lk-gan-slider" in ui.slider._dom_classes and "lk-gan-image" in ui.image._dom_classes
    ui.slider.value = 0.0
    at_a = bytes(ui.image.value)
    ui.slider.value = 1.0
    at_b = bytes(ui.image.value)
    assert at_a != at_b
    assert np.array_equal(ui.render(), gan.snap_rgb(ui.model.decode_rgb(ui.z_b[None]), PALETTE)[0])
    ui.snap.value = False
    assert np.array_equal(ui.render(), ui.model.decode_rgb(ui.z_b[None])[0])
    strip = bytes(ui.strip.value)
    ui.new_a.click()
    assert bytes(ui.strip.value) != strip
    ui.slider.value = 0.0
    assert np.array_equal(ui.render(), ui.model.decode_rgb(ui.z_a[None])[0])
    # the slider moves continuously: a point between two of the strip's 5 points is drawn as itself
    assert ui.slider.step <= 0.01
    ui.slider.value = 0.37
    between = ui.render()
    assert np.array_equal(between, ui.model.decode_rgb(ui.code_at(0.37)[None])[0])
    assert not any(np.array_equal(between, ui.model.decode_rgb(ui.code_at(t)[None])[0]) for t in (0.25, 0.5))


@pytest.mark.slow
def test_train_main_writes_a_checkpoint_that_loads(tmp_path, capsys) -> None:
    from lecturekit.data import load_sprites

    out = tmp_path / "gan.pt"
    assert gan.train_main(["--epochs", "1", "--out", str(out)]) == 0
    model, blob = load_checkpoint(out, kind="gan", fingerprints={"palette": load_sprites().palette_fingerprint()})
    meta = blob["meta"]
    assert meta["metrics"]["epochs"] == 1 and 0 <= meta["metrics"]["two_sample_1nn"] <= 1
    assert blob["extra"]["strips"].shape[1:] == (8, 20, 20, 3)
    assert model.sample_rgb(2).shape == (2, 20, 20, 3)
    assert "two_sample_1nn" in capsys.readouterr().out


def test_family_comparison_scores_every_family_on_the_same_columns() -> None:
    from lecturekit.data import load_sprites
    from lecturekit.models.pixelrnn import PixelRNN
    from lecturekit.models.vae import SpriteVAE

    palette = load_sprites().palette
    torch.manual_seed(0)
    rnn = PixelRNN(len(palette), hidden=16, embed=8)
    above = PixelRNN(len(palette), hidden=16, embed=8, see_above=True)
    vae = SpriteVAE(len(palette), width=8, hidden=16)
    vae.set_palette(palette)
    comparison = gan.compare_families(
        n=6, seed=0, gan_model=_small(), pixelrnn_model=rnn, above_model=above, vae_model=vae.eval()
    )
    names = [
        "real sprites (held-out)",
        "PixelRNN",
        "PixelRNN, sees the row above",
        "VAE: expected colour",
        "VAE: most likely colour",
        "GAN: raw RGB",
        "GAN: snapped to palette",
    ]
    assert list(comparison.images) == names and list(comparison.rows) == names
    columns = list(comparison.rows["PixelRNN"])
    assert all(list(row) == columns for row in comparison.rows.values())
    rows = comparison.rows
    # palette models and snapped sprites are in the palette by construction; the expected colour is a mix
    for name in ("real sprites (held-out)", "PixelRNN", "VAE: most likely colour", "GAN: snapped to palette"):
        assert rows[name]["in palette"] == 1.0
    assert rows["VAE: expected colour"]["in palette"] < 1.0
    assert rows["GAN: raw RGB"]["bits/pixel"] is None and rows["PixelRNN"]["bits/pixel"] > 0
    assert rows["real sprites (held-out)"]["sharpness"] == pytest.approx(1.0)
    table = comparison.table().splitlines()
    assert len(table) == 2 + len(names) and "bits/pixel" in table[0] and "speckle" in table[0]
    # a column that is the same in every row tells the rows nothing: the table leaves it out
    constant = comparison.constant_columns()
    assert all(f" {name} |" not in table[0] for name in constant)
    assert all(all(row[k] == v for row in rows.values()) for k, v in constant.items())
    verdict = gan.sharpness_verdict(comparison)
    assert verdict.count("\n") == len(names) - 1 and "sharpest to blurriest" in verdict
    assert all(imgs.dtype == np.uint8 and imgs.shape[1:] == (20, 20, 3) for imgs in comparison.images.values())
    _comparison_is_shown_in_chinese(comparison)


def _comparison_is_shown_in_chinese(comparison: gan.Comparison) -> None:
    """In a Chinese edition the table, the verdict lines and the plot's titles name rows and columns in Chinese;
    the rows keep their English keys (code and claims look them up)."""
    import matplotlib.pyplot as plt

    from lecturekit import i18n

    english = comparison.table().splitlines()
    try:
        for lang, real, sharpness, ranking in (
            ("zh_CN", "真实精灵图（留出）", "清晰度", "从最清晰到"),
            ("zh_TW", "真實精靈圖（留出）", "清晰度", "從最清晰到"),
        ):
            i18n.set_language(lang)
            table = comparison.table().splitlines()
            assert len(table) == len(english) and sharpness in table[0] and "sharpness" not in table[0]
            assert table[2].startswith(f"| {real} |") and gan.shown_name("copies") not in ("copies", "")
            assert not re.search(r"\b(in palette|speckle|variety|seconds|control)\b", table[0]), table[0]
            verdict = gan.sharpness_verdict(comparison)
            assert ranking in verdict and "in the palette" not in verdict and "sharpest" not in verdict
            fig = gan.plot_comparison(comparison)
            titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
            plt.close(fig)
            assert titles[0] == real and "GAN: raw RGB" not in titles
    finally:
        i18n.set_language(None)
    assert comparison.table().splitlines() == english and "real sprites (held-out)" in comparison.rows


def test_sharpness_tells_speckle_from_crisp_edges() -> None:
    """Speckle scores as much edge contrast as crisp edges, but the sharpness score marks it down."""
    real = {"in palette": 1.0, "edge contrast": 0.34, "speckle": 0.06}
    assert gan.sharpness_score(real, real) == pytest.approx(1.0)
    speckled = {"in palette": 1.0, "edge contrast": 0.35, "speckle": 0.24}  # four times the real speckle
    assert gan.sharpness_score(speckled, real) == pytest.approx(0.25)
    blurred = {"in palette": 0.7, "edge contrast": 0.17, "speckle": 0.06}
    assert gan.sharpness_score(blurred, real) == pytest.approx(0.35)
