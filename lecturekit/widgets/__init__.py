"""ipywidgets UIs for the notebooks, built from core widgets only (ipywidgets 7.7 and 8, Colab).

Pictures are sent as PNG bytes already upscaled with nearest-neighbour, so a 20x20 sprite shows
crisp at a fixed size in any front end (no reliance on CSS `image-rendering`). Every widget gets a
CSS class (`lk-...`) so browser tests can find it.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def upscale(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an (H, W, 3) or (H, W) uint8 image."""
    return np.repeat(np.repeat(rgb, scale, axis=0), scale, axis=1)


def png_bytes(rgb: np.ndarray, scale: int = 8) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 image, upscaled `scale` times (fast: no compression)."""
    image = Image.fromarray(np.ascontiguousarray(upscale(np.asarray(rgb, dtype=np.uint8), scale)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


#: the light grey ground between and around sprites in every grid the kit draws: an all-white (empty) sprite
#: shows as a white square on it instead of vanishing into a white page
GROUND = 200


def grid_rgb(images: np.ndarray, columns: int, pad: int = 1, background: int = 255, frame: int = 0) -> np.ndarray:
    """Tile (N, H, W, 3) uint8 images into one picture with `pad` pixels of `background` between them and
    `frame` pixels of it around them."""
    images = np.asarray(images, dtype=np.uint8)
    n, h, w, c = images.shape
    rows = max(1, -(-n // columns))
    out = np.full((rows * (h + pad) - pad, columns * (w + pad) - pad, c), background, dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, columns)
        out[r * (h + pad) : r * (h + pad) + h, col * (w + pad) : col * (w + pad) + w] = images[i]
    return np.pad(out, ((frame, frame), (frame, frame), (0, 0)), constant_values=background) if frame else out


def image_widget(rgb: np.ndarray, scale: int = 8, css_class: str | None = None):  # noqa: ANN201
    """An ipywidgets.Image showing `rgb`, created with its value (Colab renders it reliably)."""
    import ipywidgets as widgets

    height, width = np.asarray(rgb).shape[:2]
    image = widgets.Image(value=png_bytes(rgb, scale), format="png", width=width * scale, height=height * scale)
    if css_class:
        image.add_class(css_class)
    return image
