"""The widget building blocks (lecturekit.widgets): crisp PNG bytes and an Image widget driven by a slider.

Run under ipywidgets 8 (the venv) and again under ipywidgets 7.7 (Colab) by tests/run_widgets_ipywidgets7.sh.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
from PIL import Image

from lecturekit.widgets import grid_rgb, image_widget, png_bytes, upscale


def _picture(seed: int = 0, h: int = 20, w: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_png_bytes_are_an_exact_nearest_neighbour_upscale() -> None:
    rgb = _picture(1, 20, 12)
    shown = _decode(png_bytes(rgb, scale=8))
    assert shown.shape == (160, 96, 3)
    assert np.array_equal(shown, upscale(rgb, 8))
    assert np.array_equal(shown[::8, ::8], rgb)  # every 8x8 block is one flat source pixel: no blur
    assert np.array_equal(shown[7::8, 7::8], rgb)


def test_grid_rgb_places_tiles_with_background_padding() -> None:
    tiles = np.stack([_picture(i, 4, 5) for i in range(5)])
    grid = grid_rgb(tiles, columns=3, pad=1, background=255)
    assert grid.shape == (2 * 4 + 1, 3 * 5 + 2, 3)
    assert np.array_equal(grid[5:9, 6:11], tiles[4])
    assert (grid[4] == 255).all() and (grid[:, 5] == 255).all()
    assert (grid[5:, 12:] == 255).all()  # the empty sixth cell


def test_image_widget_has_its_value_size_and_css_class_from_the_start() -> None:
    rgb = _picture(2)
    image = image_widget(rgb, scale=6, css_class="lk-test-image")
    assert isinstance(image, widgets.Image)
    assert np.array_equal(_decode(image.value), upscale(rgb, 6))
    assert (str(image.width), str(image.height), image.format) == ("120", "120", "png")
    assert "lk-test-image" in image._dom_classes


def test_a_slider_observe_callback_changes_the_image_bytes() -> None:
    pictures = [_picture(i) for i in range(4)]
    image = image_widget(pictures[0], scale=4)
    slider = widgets.IntSlider(value=0, min=0, max=3)
    slider.observe(lambda change: setattr(image, "value", png_bytes(pictures[change["new"]], 4)), names="value")
    before = image.value
    slider.value = 2
    assert image.value != before
    assert np.array_equal(_decode(image.value)[::4, ::4], pictures[2])


def test_sprite_grids_lie_on_a_grey_ground_so_empty_sprites_show() -> None:
    from lecturekit.plotting import sprite_sheet
    from lecturekit.widgets import GROUND

    white = np.full((3, 4, 4, 3), 255, dtype=np.uint8)
    sheet = sprite_sheet(white, columns=3)
    assert sheet.shape == (4 + 2, 3 * 4 + 4, 3)  # a pixel of ground between the sprites and around them
    assert (sheet[0] == GROUND).all() and (sheet[:, 5] == GROUND).all()
    assert (sheet[1:5, 1:5] == 255).all()
    assert GROUND < 255


def test_colour_bars_paint_each_bar_and_its_swatch_in_its_colour() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.patches import Rectangle

    from lecturekit.plotting import show_colour_bars

    colours = np.array([[255, 0, 0], [128, 128, 128], [255, 255, 255]], dtype=np.uint8)
    ax = show_colour_bars(colours, [0.5, 0.0, 0.25], labels=["red", "grey", "white"], ylabel="probability")
    patches = [p for p in ax.patches if isinstance(p, Rectangle)]
    bars, swatches = patches[:3], patches[3:]
    assert [b.get_height() for b in bars] == [0.5, 0.0, 0.25]
    assert len(swatches) == 3  # a zero bar still has its swatch
    assert np.allclose(swatches[1].get_facecolor()[:3], 128 / 255)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["red", "grey", "white"]
