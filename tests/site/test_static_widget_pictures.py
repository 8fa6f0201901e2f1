"""Every course widget's display bundle carries a static picture of what it shows, a line on how to get the
live widget, and the description the course site reads; the widget view stays first for front ends that
run widgets. Named "widget": tests/run_widgets_ipywidgets7.sh runs it again under ipywidgets 7.7 (Colab)."""

from __future__ import annotations

import base64
from typing import Any
from unittest import mock

import numpy as np
import pytest
from site_reference import png_rgb

import lecturekit
from lecturekit.data import load_sprites
from lecturekit.i18n import set_language
from lecturekit.site.figures import figure_spec
from lecturekit.site.onnx_export import weights_fingerprint
from lecturekit.widgets.static import FIGURE_METADATA, LIVE_LINE, WIDGET_VIEW, stacked_png

ipywidgets = pytest.importorskip("ipywidgets")


def bundle(widget: Any) -> tuple[dict, dict]:
    """(data, metadata) a front end receives when the widget is displayed, under ipywidgets 8 or 7.7."""
    if ipywidgets.__version__.startswith("7."):
        with mock.patch("IPython.display.display") as shown:
            widget._ipython_display_()
        (data,), kwargs = shown.call_args
        assert kwargs["raw"] is True
        return data, kwargs.get("metadata", {})
    out = widget._repr_mimebundle_()
    return out if isinstance(out, tuple) else (out, {})


@pytest.fixture(scope="module")
def vae() -> Any:
    return lecturekit.load_pretrained("vae")


def test_latent_slider_widget_bundle_has_its_picture_and_the_site_description(vae: Any) -> None:
    from lecturekit.widgets.latent import latent_slider_widget

    sprites = load_sprites("test").indices[:3]
    ui = latent_slider_widget(vae, sprites)
    ui.set_code(np.linspace(-1, 1, 10))
    data, metadata = bundle(ui.widget)
    assert WIDGET_VIEW in data and data[WIDGET_VIEW]["model_id"] == ui.widget.model_id
    picture = png_rgb(base64.b64decode(data["image/png"]))
    # the decoded sprite (shown 10x) heads the static picture, the sprite picker's picture under it
    assert np.array_equal(picture[: 20 * ui.scale], png_rgb(ui.image.value))
    assert data["text/plain"] == LIVE_LINE
    assert data["image/png"] in data["text/html"] and "JupyterLab or Colab" in data["text/html"]
    spec = metadata[FIGURE_METADATA]
    assert spec["figure"] == "latent-sliders"
    assert spec["model"] == {"kind": "vae", "fingerprint": weights_fingerprint(vae)}
    assert spec["code"] == pytest.approx(ui.code.tolist(), abs=1e-6)
    assert np.allclose(spec["sprite_codes"], vae.codes_of(sprites).numpy(), atol=1e-5)


def test_latent_grid_widget_description_follows_its_controls(vae: Any) -> None:
    from lecturekit.widgets.latent import latent_grid_widget

    ui = latent_grid_widget(vae, load_sprites("test").indices[:2], steps=5, dims=(3, 4))
    ui.span.value = 1.5
    data, metadata = bundle(ui.widget)
    spec = metadata[FIGURE_METADATA]
    assert (spec["figure"], spec["steps"], spec["dims"], spec["span"]) == ("latent-grid", 5, [3, 4], 1.5)
    assert np.array_equal(png_rgb(base64.b64decode(data["image/png"])), png_rgb(ui.image.value))


def test_sentence_widget_shows_its_sentences_as_text_in_chinese_too() -> None:
    from lecturekit.widgets.sentences import sentence_interpolation_widget

    model = lecturekit.load_pretrained("sentence_vae")
    set_language("zh_CN")
    try:
        w = sentence_interpolation_widget(model, steps=3)
        data, metadata = bundle(w)
    finally:
        set_language(None)
    assert "image/png" not in data
    assert all(row.replace("'", "&#x27;") in data["text/html"] or row in data["text/html"] for row in w.rows)
    assert "JupyterLab" in data["text/plain"] and "笔记本" in data["text/plain"] and "控件" in data["text/plain"]
    spec = metadata[FIGURE_METADATA]
    assert spec["figure"] == "sentence-interpolation" and spec["steps"] == 3


def test_widget_bundle_keeps_the_live_view_when_the_picture_fails(vae: Any) -> None:
    from lecturekit.widgets.latent import latent_slider_widget

    ui = latent_slider_widget(vae)
    with mock.patch.object(type(ui.widget), "static_picture_png", side_effect=RuntimeError("no picture")):
        data, metadata = bundle(ui.widget)
    assert WIDGET_VIEW in data and "image/png" not in data and FIGURE_METADATA not in metadata


def test_widget_bundle_keeps_its_picture_when_the_description_fails(vae: Any) -> None:
    from lecturekit.widgets.latent import latent_slider_widget

    ui = latent_slider_widget(vae)
    with mock.patch("lecturekit.site.figures.figure_spec", side_effect=AttributeError("renamed")):
        data, metadata = bundle(ui.widget)
    assert WIDGET_VIEW in data and "image/png" in data and FIGURE_METADATA not in metadata


def test_stacked_png_puts_pictures_under_each_other_for_widget_fallbacks() -> None:
    from lecturekit.widgets import png_bytes

    a = np.zeros((2, 3, 3), np.uint8)
    b = np.full((4, 2, 3), 7, np.uint8)
    out = png_rgb(stacked_png([png_bytes(a, 1), png_bytes(b, 1)], gap=1))
    assert out.shape == (7, 3, 3)
    assert (out[:2] == 0).all() and (out[2] == 255).all() and (out[3:, :2] == 7).all() and (out[3:, 2] == 255).all()


def test_widgets_without_a_live_figure_are_not_described() -> None:
    assert figure_spec(ipywidgets.VBox([])) is None
