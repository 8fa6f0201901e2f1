"""Rows of notebooks 01 (3x3 world: MLP vs RNN) and 02 (RGB regression vs 1-of-N; palettes)."""

from __future__ import annotations

import time

import numpy as np
import torch
from notebook_timing import notebook_seconds


def _tiny() -> dict[str, tuple[float, str]]:
    """The two tiny models trained exactly as notebook 01 trains them (15 passes, seed 0, one thread)."""
    from lecturekit.models import tiny

    torch.set_num_threads(1)
    train, test = tiny.make_tiny_world(4000, seed=0), tiny.make_tiny_world(1000, seed=1)
    rows: dict[str, tuple[float, str]] = {
        "tiny_world_entropy_bits": (tiny.world_entropy_bits(), "bits/image"),
        "tiny_independent_pixels_test_nll": (tiny.independent_pixels_bits(train, test), "bits/image"),
    }
    for name, model in (("mlp", tiny.TinyMLP(hidden=128)), ("rnn", tiny.TinyRNN(hidden=64))):
        start = time.perf_counter()
        tiny.train_tiny(model, train, test_images=test, epochs=15, seed=0, progress_bar=False)
        rows[f"tiny_{name}_train_seconds"] = (time.perf_counter() - start, "s")
        rows[f"tiny_{name}_test_nll"] = (tiny.test_bits_per_image(model, test), "bits/image")
        samples = tiny.sample_images(model, 1000, seed=2)
        rows[f"tiny_{name}_valid_sample_share"] = (float(tiny.is_world_image(samples).mean()), "share")
    return rows


def _rgb() -> dict[str, tuple[float, str]]:
    """Notebook 02's measurement with the shipped weights: the held-out sprites' lower 3/4 drawn by each model."""
    from lecturekit import load_pretrained
    from lecturekit.models import rgb

    torch.set_num_threads(1)
    data = rgb.load_sprite_data()
    sprites = data.sprites
    real = torch.tensor(sprites.rgb()[data.test] / 255.0, dtype=torch.float32)
    region = np.zeros((len(real), 20, 20), dtype=bool)
    region.reshape(len(region), -1)[:, 100:] = True
    regression, one_of_n = load_pretrained("rgb_regression"), load_pretrained("rgb_palette")
    start = time.perf_counter()
    drawn_regression = regression.draw(len(real), prefix_rgb01=real, n_given=100, seed=0)
    seconds = time.perf_counter() - start
    drawn_1n = one_of_n.draw(len(real), prefix_rgb01=real, n_given=100, seed=0)
    return {
        "real_saturation": (rgb.coloured_saturation(real.numpy(), region).mean(), "saturation"),
        "rgb_generated_saturation": (rgb.coloured_saturation(drawn_regression, region).mean(), "saturation"),
        "palette_generated_saturation": (rgb.coloured_saturation(drawn_1n, region).mean(), "saturation"),
        "real_saturation_all_pixels": (rgb.mean_saturation(real.numpy(), region), "saturation"),
        "rgb_generated_saturation_all_pixels": (rgb.mean_saturation(drawn_regression, region), "saturation"),
        "rgb_palette_test_bits_per_pixel": (
            rgb.test_loss(one_of_n, sprites.indices[data.test], sprites.palette),
            "bits/pixel",
        ),
        "rgb_regression_test_mse": (rgb.test_loss(regression, sprites.indices[data.test], sprites.palette), "mse"),
        "rgb_regression_draw_seconds_45": (seconds, "s"),
    }


def _palettes() -> dict[str, tuple[float, str]]:
    """k-means (fitted on every 4th sprite, as notebook 02 does) vs Pillow's median cut, mean RGB error."""
    from lecturekit.models import rgb
    from lecturekit.palette import colors_for_share, fit_palette, quantize

    crops = rgb.load_rgb_crops()
    rows: dict[str, tuple[float, str]] = {}
    for k in (16, 64, 128):
        palette = fit_palette(crops[::4], k, seed=0)
        indices = quantize(crops, palette)
        rows[f"kmeans_{k}_rgb_error"] = (np.linalg.norm(palette[indices].astype(float) - crops, axis=-1).mean(), "rgb")
        mc_indices, mc_palette = rgb.median_cut(crops, k)
        rows[f"median_cut_{k}_rgb_error"] = (
            np.linalg.norm(mc_palette[mc_indices].astype(float) - crops, axis=-1).mean(),
            "rgb",
        )
        if k == 128:
            rows["kmeans_128_colours_for_90_percent"] = (colors_for_share(indices, 0.9), "colours")
    return rows


BENCHMARKS = [
    (
        (
            "tiny_world_entropy_bits",
            "tiny_independent_pixels_test_nll",
            "tiny_mlp_train_seconds",
            "tiny_mlp_test_nll",
            "tiny_mlp_valid_sample_share",
            "tiny_rnn_train_seconds",
            "tiny_rnn_test_nll",
            "tiny_rnn_valid_sample_share",
        ),
        _tiny,
    ),
    (
        (
            "real_saturation",
            "rgb_generated_saturation",
            "palette_generated_saturation",
            "real_saturation_all_pixels",
            "rgb_generated_saturation_all_pixels",
            "rgb_palette_test_bits_per_pixel",
            "rgb_regression_test_mse",
            "rgb_regression_draw_seconds_45",
        ),
        _rgb,
    ),
    (
        (
            "kmeans_16_rgb_error",
            "median_cut_16_rgb_error",
            "kmeans_64_rgb_error",
            "median_cut_64_rgb_error",
            "kmeans_128_rgb_error",
            "median_cut_128_rgb_error",
            "kmeans_128_colours_for_90_percent",
        ),
        _palettes,
    ),
    (("notebook_seconds_01",), lambda: {"notebook_seconds_01": (notebook_seconds("01_autoregressive_pixels"), "s")}),
    (("notebook_seconds_02",), lambda: {"notebook_seconds_02": (notebook_seconds("02_colour_quantization"), "s")}),
]
