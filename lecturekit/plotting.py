"""Figures the notebooks share: sprite grids, palette swatches, loss curves.

Functions draw into a matplotlib Axes (made for you when not given) and return it, so a notebook
cell is one line and a test can check what was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from lecturekit.fonts import use_language_font
from lecturekit.i18n import _
from lecturekit.widgets import GROUND, grid_rgb

use_language_font()  # LECTUREKIT_LANG=zh_CN: Chinese labels drawn from the start


def indices_to_rgb(indices: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Palette indices (..., H, W) -> RGB uint8 (..., H, W, 3), with a clear error for a wrong index."""
    indices = np.asarray(indices)
    palette = np.asarray(palette, dtype=np.uint8)
    if indices.size and (indices.min() < 0 or indices.max() >= len(palette)):
        raise ValueError(
            f"colour index {int(indices.max())} is outside the palette of {len(palette)} colours: "
            "use the palette the indices were made with."
        )
    return palette[indices]


def sprite_sheet(images: np.ndarray, columns: int = 10, pad: int = 1) -> np.ndarray:
    """One RGB picture of many (N, H, W, 3) sprites on a light grey ground (between and around them), so an
    empty, all-white sprite is still seen as a sprite."""
    return grid_rgb(images, columns=columns, pad=pad, background=GROUND, frame=pad)


def show_sprites(
    images: np.ndarray,
    palette: np.ndarray | None = None,
    columns: int = 10,
    title: str | None = None,
    ax: Axes | None = None,
    scale: float = 0.5,
) -> Axes:
    """Show sprites as a grid: RGB (N, H, W, 3) uint8, or indices (N, H, W) with their palette."""
    images = np.asarray(images)
    if palette is not None:
        images = indices_to_rgb(images, palette)
    if images.ndim == 3 and palette is None and images.shape[-1] == 3:
        images = images[None]
    if images.dtype != np.uint8:
        images = np.clip(np.asarray(images, dtype=np.float64) * 255 + 0.5, 0, 255).astype(np.uint8)
    columns = max(1, min(columns, len(images)))
    sheet = sprite_sheet(images, columns=columns)
    if ax is None:
        rows = -(-len(images) // columns)
        ax = plt.subplots(figsize=(max(2.0, columns * scale * 1.1), max(1.2, rows * scale * 1.1)))[1]
    ax.imshow(sheet, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def show_palette(
    palette: np.ndarray,
    counts: np.ndarray | None = None,
    ax: Axes | None = None,
    columns: int = 32,
    title: str | None = None,
) -> Axes:
    """Palette swatches, most used first when `counts` (pixels per colour) is given."""
    palette = np.asarray(palette, dtype=np.uint8)
    order = np.argsort(-np.asarray(counts), kind="stable") if counts is not None else np.arange(len(palette))
    swatches = palette[order][:, None, None, :].repeat(4, 1).repeat(4, 2)
    if ax is None:
        rows = -(-len(palette) // columns)
        ax = plt.subplots(figsize=(columns * 0.25, rows * 0.25 + 0.4))[1]
    ax.imshow(sprite_sheet(swatches, columns=min(columns, len(palette))), interpolation="nearest")
    ax.set_axis_off()
    default = _("{n} colours (most used first)") if counts is not None else _("{n} colours")
    ax.set_title(title or default.format(n=len(palette)))
    return ax


def show_colour_bars(
    colours: np.ndarray,
    values: Sequence[float],
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str = "",
) -> Axes:
    """Bars painted in the colours they measure (RGB uint8 (n, 3)), each with its swatch under the axis (so a
    colour whose value is 0 still shows), outlined in grey so white shows: a few colours and their
    probabilities or shares, readable at a glance where RGB tuples are not."""
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import blended_transform_factory

    colours = np.asarray(colours, dtype=np.float64).reshape(-1, 3) / 255.0
    if ax is None:
        ax = plt.subplots(figsize=(max(3.0, 1.1 * len(colours) + 1), 2.8))[1]
    x = np.arange(len(colours))
    ax.bar(x, values, color=colours, edgecolor="0.45", linewidth=1.0)
    below = blended_transform_factory(ax.transData, ax.transAxes)  # x in bars, y in axes fractions
    for xi, colour in zip(x, colours):
        ax.add_patch(
            Rectangle((xi - 0.4, -0.17), 0.8, 0.12, transform=below, facecolor=colour, edgecolor="0.45", clip_on=False)
        )
    ax.set_xticks(x, list(labels) if labels is not None else [str(i) for i in x])
    ax.tick_params(axis="x", length=0, pad=34)
    ax.set_facecolor("0.93")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def plot_losses(
    curves: dict[str, Sequence[float]] | Sequence[float],
    ax: Axes | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    smooth: int = 1,
    title: str | None = None,
) -> Axes:
    """Loss curves (one or several named), optionally smoothed by a running mean of `smooth` points; the axes
    are "step" and "loss" (in the language in force) unless named."""
    xlabel = _("step") if xlabel is None else xlabel
    ylabel = _("loss") if ylabel is None else ylabel
    if not isinstance(curves, dict):
        curves = {ylabel: curves}
    if ax is None:
        ax = plt.subplots(figsize=(6, 3))[1]
    for name, values in curves.items():
        values = np.asarray(values, dtype=np.float64)
        if smooth > 1 and len(values) >= smooth:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        ax.plot(values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(curves) > 1:
        ax.legend()
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax


def show_labelled_grid(
    images: np.ndarray,
    columns: Sequence[str],
    rows: Sequence[str],
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Sprites in a table whose columns and rows are labelled (code values, dimension names), so a
    latent grid or a traversal can be read, not only looked at.

    `images` holds len(rows) * len(columns) RGB sprites, row by row (the layout of notebook 04's
    `grid_codes`: row r, column c is image r * len(columns) + c).
    """
    images = np.asarray(images)
    n_cols, n_rows = len(columns), len(rows)
    if len(images) != n_cols * n_rows:
        raise ValueError(f"a {n_rows}x{n_cols} table needs {n_rows * n_cols} images, got {len(images)}")
    sheet = sprite_sheet(images, columns=n_cols)
    if ax is None:
        ax = plt.subplots(figsize=(0.6 * n_cols + 1.5, 0.6 * n_rows + 1))[1]
    ax.imshow(sheet, interpolation="nearest")
    w, h = sheet.shape[1] / n_cols, sheet.shape[0] / n_rows
    ax.set_xticks([w * (i + 0.5) for i in range(n_cols)], list(columns))
    ax.set_yticks([h * (i + 0.5) for i in range(n_rows)], list(rows))
    ax.tick_params(length=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title)
    return ax
