"""GAN rows: training time to the shipped quality, the comparison table's numbers, notebook 05's run time."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from notebook_timing import notebook_seconds


def _train() -> dict[str, tuple[float, str]]:
    """Retrain with the shipped settings (as `python -m lecturekit train gan` does, 1 thread) and score it."""
    from lecturekit.checkpoints import read_checkpoint
    from lecturekit.models.gan import train_main

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gan.pt"
        train_main(["--out", str(out)])
        meta = read_checkpoint(out)["meta"]
    m = meta["metrics"]
    return {
        "gan_train_seconds": (m["train_seconds"], "s"),
        "gan_train_cpu_seconds": (m["train_cpu_seconds"], "s"),
        "gan_nearest_real_ratio": (m["nearest_real_ratio"], "ratio (1 = as near as held-out real)"),
        "gan_two_sample_1nn": (m["two_sample_1nn"], "accuracy (0.5 ideal)"),
        "gan_variety_ratio": (m["variety_ratio"], "ratio to real"),
        "gan_copy_share": (m["copy_share"], "share"),
    }


# table column -> (row suffix, unit)
_COLUMNS = {
    "in palette": ("in_palette", "share of pixels"),
    "edge contrast": ("edge_contrast", "RMS 0..1"),
    "speckle": ("speckle", "share of pixels unlike all four neighbours"),
    "sharpness": ("sharpness", "score (real = 1)"),
    "variety": ("variety", "RMS distance 0..1"),
    "distinct": ("distinct", "share of samples"),
    "to nearest train": ("nearest_train", "RMS distance 0..1"),
    "copies": ("copies", "share of samples"),
    "1-NN real vs drawn": ("1nn", "accuracy (0.5 ideal)"),
    "bits/pixel": ("bits_per_pixel", "bits/pixel (VAE: bound)"),
    "seconds": ("sample_seconds_64", "s"),
}
_FAMILIES = [
    "real",
    "pixelrnn",
    "pixelrnn_sees_the_row_above",
    "vae_expected_colour",
    "vae_most_likely_colour",
    "gan_raw_rgb",
    "gan_snapped_to_palette",
]


def _row_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower().replace("real sprites (held-out)", "real")).strip("_")


def _compare() -> dict[str, tuple[float, str]]:
    """The notebook's comparison table, one row per family and metric: compare_<family>_<metric>."""
    from lecturekit.models.gan import compare_families

    comparison = compare_families(n=64, seed=0)
    out: dict[str, tuple[float, str]] = {}
    for name, row in comparison.rows.items():
        for column, (short, unit) in _COLUMNS.items():
            value = row.get(column)
            if isinstance(value, (int, float)) and value == value:  # skip None and NaN
                out[f"compare_{_row_key(name)}_{short}"] = (float(value), unit)
    return out


def _names() -> tuple[str, ...]:
    names = []
    for family in _FAMILIES:
        for short, _ in _COLUMNS.values():
            undefined = (family == "real" and short in {"bits_per_pixel", "sample_seconds_64"}) or (
                family.startswith("gan") and short == "bits_per_pixel"
            )
            if not undefined:
                names.append(f"compare_{family}_{short}")
    return tuple(names)


BENCHMARKS = [
    (
        (
            "gan_train_seconds",
            "gan_train_cpu_seconds",
            "gan_nearest_real_ratio",
            "gan_two_sample_1nn",
            "gan_variety_ratio",
            "gan_copy_share",
        ),
        _train,
    ),
    (_names(), _compare),
    (("notebook_seconds_05",), lambda: {"notebook_seconds_05": (notebook_seconds("05_gan"), "s")}),
]
