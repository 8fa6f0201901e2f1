"""What the site's pages compute, computed again in Python with the kit's own models: the references
the browser tests hold the live figures to.

The page draws its random numbers from a counter-based generator (web/lk-live.js: `uniform(key,
index)`), so the same numbers can be drawn here; a colour is then the first whose cumulative
probability exceeds the number. `sample_with_uniforms` is `lecturekit.models.pixelrnn.sample` with that
rule instead of torch.multinomial (the kit's own LSTM step, in torch).
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from lecturekit.models.pixelrnn import temperature_probabilities

MASK = 0xFFFFFFFF


def mix32(x: int) -> int:
    x &= MASK
    x ^= x >> 16
    x = (x * 0x7FEB352D) & MASK
    x ^= x >> 15
    x = (x * 0x846CA68B) & MASK
    return x ^ (x >> 16)


def uniform(key: int, index: int) -> float:
    return mix32(mix32((key + 0x9E3779B9) & MASK) ^ index) / 4294967296


def pick(probabilities: np.ndarray, u: float) -> int:
    """The first colour whose cumulative probability exceeds u (the last possible one if rounding leaves u above)."""
    cumulative = np.cumsum(probabilities)
    above = np.nonzero(u < cumulative)[0]
    return int(above[0]) if len(above) else int(np.nonzero(probabilities > 0)[0][-1])


@torch.inference_mode()
def sample_with_uniforms(model, n: int, temperature: float, key: int) -> np.ndarray:  # noqa: ANN001
    """(n, H, W) colour indices drawn by the kit's PixelRNN with the page's random numbers."""
    model.eval()
    length = model.n_pixels
    canvas = torch.zeros((n, length), dtype=torch.long)
    tables, pos, w_hh_t = model._step_tables()
    h = torch.zeros((n, model.lstm.hidden_size))
    c = torch.zeros_like(h)
    w_out, b_out = model.out.weight.T.contiguous(), model.out.bias
    for t in range(length):
        gates = pos[t].expand(n, -1)
        for table, tok in zip(tables, model._step_tokens(canvas, t)):
            gates = gates + table[tok]
        gates = torch.addmm(gates, h, w_hh_t)
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        logits = torch.addmm(b_out, h, w_out)
        probabilities = temperature_probabilities(logits.double(), temperature).numpy()
        for s in range(n):
            canvas[s, t] = pick(probabilities[s], uniform(key, s * length + t))
    return canvas.reshape(n, model.height, model.width).numpy()


def png_rgb(png: bytes, scale: int = 1) -> np.ndarray:
    """An (H, W, 3) picture from PNG bytes, shrunk back by `scale` (the widgets upscale by repeating pixels)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return rgb[::scale, ::scale]


def page_rgb(picture: dict) -> np.ndarray:
    """The {width, height, rgb} a page's figure returns (`picture_rgb()`) as an (H, W, 3) array."""
    return np.asarray(picture["rgb"], dtype=np.uint8).reshape(picture["height"], picture["width"], 3)


def differing_share(a: np.ndarray, b: np.ndarray) -> float:
    """The share of pixels whose colours differ (the pictures must have one shape)."""
    assert a.shape == b.shape, f"the page's picture is {a.shape}, the kernel's {b.shape}"
    return float(np.any(a != b, axis=-1).mean())
