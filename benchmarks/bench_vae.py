"""Notebook 04 rows: the VAE's held-out bits per pixel, random-decode scores of AE and VAE, slider speed."""

from __future__ import annotations

import numpy as np
import torch
from notebook_timing import notebook_seconds

RANDOM_CODES = 400  # the same number and seed as notebook 04


def _bits_and_scores() -> dict[str, tuple[float, str]]:
    from lecturekit import load_pretrained
    from lecturekit.data import load_sprites
    from lecturekit.models.vae import elbo_bits_per_pixel, reconstruction_bits_per_pixel
    from lecturekit.scores import nearest_real_ratio, random_decode_score

    train, test = load_sprites("train"), load_sprites("test")
    ae, vae = load_pretrained("ae"), load_pretrained("vae")
    elbo = elbo_bits_per_pixel(vae, test.indices, samples=16)
    ae_rgb = ae.decode_rgb(ae.random_codes(RANDOM_CODES, seed=1))  # N(0, I): the lecture's experiment
    ae_matched_rgb = ae.decode_rgb(ae.random_codes(RANDOM_CODES, seed=1, matched=True))  # as wide as its own codes
    vae_rgb = vae.decode_rgb(vae.random_codes(RANDOM_CODES, seed=1))
    real = train.rgb()
    unit = "1-NN accuracy (0.5 best, 1 worst)"
    return {
        "vae_test_bits_per_pixel": (elbo["elbo_bpp"], "bits/pixel (negative ELBO, upper bound)"),
        "vae_test_kl_bits_per_pixel": (elbo["kl_bpp"], "bits/pixel"),
        "ae_test_reconstruction_bits_per_pixel": (reconstruction_bits_per_pixel(ae, test.indices), "bits/pixel"),
        "ae_random_decode_score": (random_decode_score(ae_rgb, real, seed=1), unit),
        "ae_matched_random_decode_score": (random_decode_score(ae_matched_rgb, real, seed=1), unit),
        "vae_random_decode_score": (random_decode_score(vae_rgb, real, seed=1), unit),
        "real_heldout_decode_score": (random_decode_score(test.rgb(), real, seed=1), unit),
        "ae_matched_nearest_real_ratio": (nearest_real_ratio(ae_matched_rgb, real, test.rgb()), "x held-out distance"),
        "vae_nearest_real_ratio": (nearest_real_ratio(vae_rgb, real, test.rgb()), "x held-out distance"),
    }


def _slider_ms() -> dict[str, tuple[float, str]]:
    from lecturekit import load_pretrained
    from lecturekit.widgets.latent import latent_slider_widget

    torch.set_num_threads(1)  # one core, like a student's laptop kernel
    ui = latent_slider_widget(load_pretrained("vae"))
    times = []
    for v in np.linspace(-2.5, 2.5, 100):
        ui.sliders[0].value = float(round(v, 2))
        times.append(ui.update_ms[-1])
    return {"slider_update_ms": (float(np.median(times)), "ms (median of 100, decode + PNG, 1 CPU thread)")}


BENCHMARKS = [
    (
        (
            "vae_test_bits_per_pixel",
            "vae_test_kl_bits_per_pixel",
            "ae_test_reconstruction_bits_per_pixel",
            "ae_random_decode_score",
            "ae_matched_random_decode_score",
            "vae_random_decode_score",
            "real_heldout_decode_score",
            "ae_matched_nearest_real_ratio",
            "vae_nearest_real_ratio",
        ),
        _bits_and_scores,
    ),
    (("slider_update_ms",), _slider_ms),
    (("notebook_seconds_04",), lambda: {"notebook_seconds_04": (notebook_seconds("04_autoencoder_vs_vae"), "s")}),
]
