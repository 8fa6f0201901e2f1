"""PixelRNN rows (notebook 03): held-out bits per pixel against the baselines, training and sampling time."""

from __future__ import annotations

import time

from notebook_timing import notebook_seconds


def _bits() -> dict[str, tuple[float, str]]:
    from lecturekit import load_pretrained
    from lecturekit.baselines import position_bits_per_pixel, unigram_bits_per_pixel
    from lecturekit.data import load_sprites
    from lecturekit.models.pixelrnn import model_bits_per_pixel

    train, test = load_sprites("train"), load_sprites("test")
    k = train.n_colors
    return {
        "pixelrnn_test_bits_per_pixel": (model_bits_per_pixel(load_pretrained("pixelrnn"), test.indices), "bits/pixel"),
        "pixelrnn_above_test_bits_per_pixel": (
            model_bits_per_pixel(load_pretrained("pixelrnn_above"), test.indices),
            "bits/pixel",
        ),
        "unigram_test_bits_per_pixel": (unigram_bits_per_pixel(train.indices, test.indices, k), "bits/pixel"),
        "position_test_bits_per_pixel": (position_bits_per_pixel(train.indices, test.indices, k), "bits/pixel"),
    }


def _train_epoch() -> dict[str, tuple[float, str]]:
    import torch

    from lecturekit.data import load_sprites
    from lecturekit.models.pixelrnn import train_pixelrnn

    train = load_sprites("train")
    threads = torch.get_num_threads()
    cpu = time.process_time()
    _, history = train_pixelrnn(train.indices, train.n_colors, epochs=1, device="cpu", progress_bar=False)
    return {
        "pixelrnn_train_seconds_per_epoch": (history.seconds, f"s (CPU, {threads} threads)"),
        "pixelrnn_train_cpu_seconds_per_epoch": (time.process_time() - cpu, "CPU s (all threads)"),
    }


def _sample_seconds() -> dict[str, tuple[float, str]]:
    import torch

    from lecturekit import load_pretrained
    from lecturekit.models.pixelrnn import PixelRNN, sample

    rows: dict[str, tuple[float, str]] = {}
    model = load_pretrained("pixelrnn", device="cpu")
    sample(model, 64, seed=0)  # warm-up
    wall, cpu = _timed(lambda: sample(model, 64, seed=1))
    rows["pixelrnn_sample_seconds_64"] = (wall, "s (64 sprites, CPU)")
    rows["pixelrnn_sample_cpu_seconds_64"] = (cpu, "CPU s (process time; steady on a busy machine)")
    for size in (10, 20, 40):  # same LSTM, other image sizes: the time grows with the pixel count
        torch.manual_seed(0)
        sized = PixelRNN(model.n_colors, height=size, width=size).eval()
        sample(sized, 64, seed=0)
        runs = [_timed(lambda m=sized, seed=seed: sample(m, 64, seed=seed)) for seed in range(2)]
        rows[f"pixelrnn_sample_seconds_{size}x{size}"] = (
            min(r[0] for r in runs),
            f"s (64 sprites, {size * size} pixels)",
        )
        rows[f"pixelrnn_sample_cpu_seconds_{size}x{size}"] = (min(r[1] for r in runs), "CPU s (process time)")
    return rows


def _timed(fn) -> tuple[float, float]:  # noqa: ANN001
    """(wall seconds, CPU seconds of this process): on a shared machine the second is the steadier one."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


BENCHMARKS = [
    (
        (
            "pixelrnn_test_bits_per_pixel",
            "pixelrnn_above_test_bits_per_pixel",
            "unigram_test_bits_per_pixel",
            "position_test_bits_per_pixel",
        ),
        _bits,
    ),
    (("pixelrnn_train_seconds_per_epoch", "pixelrnn_train_cpu_seconds_per_epoch"), _train_epoch),
    (
        (
            "pixelrnn_sample_seconds_64",
            "pixelrnn_sample_seconds_10x10",
            "pixelrnn_sample_seconds_20x20",
            "pixelrnn_sample_seconds_40x40",
            "pixelrnn_sample_cpu_seconds_64",
            "pixelrnn_sample_cpu_seconds_10x10",
            "pixelrnn_sample_cpu_seconds_20x20",
            "pixelrnn_sample_cpu_seconds_40x40",
        ),
        _sample_seconds,
    ),
    (("notebook_seconds_03",), lambda: {"notebook_seconds_03": (notebook_seconds("03_pixelrnn"), "s")}),
]
