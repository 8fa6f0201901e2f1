"""The temperature sampler widget, driven from Python: each control changes the picture it should."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lecturekit.models.pixelrnn import PixelRNN
from lecturekit.widgets.sampler import temperature_sampler

PALETTE = np.array([[255, 255, 255]] + [[i * 20, 255 - i * 20, (i * 70) % 256] for i in range(1, 12)], dtype=np.uint8)


@pytest.fixture
def model() -> PixelRNN:
    torch.manual_seed(0)
    m = PixelRNN(len(PALETTE), hidden=32, embed=8)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(3)
    return m.eval()


def test_controls_change_the_picture(model: PixelRNN) -> None:
    w = temperature_sampler(model, PALETTE, n=6, columns=3, seed=0)
    first = w.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    w.temperature.value = 0.3
    assert w.image.value != first and "T = 0.30" in w.status.value
    cold = w.image.value
    w.draw.click()  # a new batch at the same temperature
    assert w.image.value != cold and w.batch == 1
    w.mode.value = "argmax"
    assert "1 different sprite(s) of 6" in w.status.value and w.temperature.disabled
    argmax = w.image.value
    w.draw.click()  # argmax draws the same sprites whatever the batch
    assert w.image.value == argmax
    w.mode.value = "sample"
    assert w.image.value != argmax and not w.temperature.disabled


def test_same_settings_same_picture_and_css_classes(model: PixelRNN) -> None:
    a = temperature_sampler(model, PALETTE, n=4, seed=3)
    b = temperature_sampler(model, PALETTE, n=4, seed=3)
    assert a.image.value == b.image.value
    assert a.sprites.shape == (4, 20, 20)
    for control, name in ((a.temperature, "temperature"), (a.mode, "mode"), (a.draw, "draw"), (a.image, "image")):
        assert f"lk-sampler-{name}" in control._dom_classes


def test_wrong_palette_is_refused(model: PixelRNN) -> None:
    with pytest.raises(ValueError, match="palette has 3 colours"):
        temperature_sampler(model, PALETTE[:3])


def test_empty_sprites_show_on_the_grey_ground(model: PixelRNN) -> None:
    """A model that draws only white (argmax on the kit's sprites does) still shows its sprites: white squares
    on the kit's grey ground, not a blank picture."""
    import io

    from PIL import Image

    from lecturekit.widgets import GROUND

    with torch.no_grad():
        model.out.bias.fill_(0.0)
        model.out.bias[0] = 100.0  # white wins at every pixel
    w = temperature_sampler(model, PALETTE, n=4, columns=2, seed=0, scale=1)
    w.mode.value = "argmax"
    assert (w.sprites == 0).all()
    picture = np.asarray(Image.open(io.BytesIO(w.image.value)).convert("RGB"))
    assert picture.shape == (2 * 20 + 3, 2 * 20 + 3, 3)  # two rows and columns, a pixel between and around
    assert (picture[0] == GROUND).all() and (picture[:, 21] == GROUND).all()
    assert (picture[1:21, 1:21] == 255).all()  # the first sprite: a white square inside the grey
