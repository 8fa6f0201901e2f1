"""What the course site needs to know about a widget to put a live figure where it was.

A widget's display bundle carries this description in its metadata (`widgets.static`): which figure,
which model (its kind and weights fingerprint: the site runs the shipped model with the same
fingerprint, else it keeps the static picture), and the widget's settings and data (seeds, the codes of
the sprites it offers, the GAN's codes...). The description is made in the kernel from the widget
itself, so the site follows whatever a notebook passes, with nothing copied from the notebooks by hand.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from lecturekit.site.onnx_export import weights_fingerprint

GAN_SPARE_CODES = 16  # codes offered for the "new A" / "new B" buttons (the kernel draws seed after seed)


def model_ref(model: Any) -> dict[str, str]:
    """The model's kind (as its checkpoint says) and its weights' fingerprint."""
    blob = getattr(model, "checkpoint", None) or {}
    kind = blob.get("meta", {}).get("kind") or type(model).__name__.lower()
    return {"kind": str(kind), "fingerprint": weights_fingerprint(model)}


def _floats(values: Any, digits: int = 6) -> list:
    return np.round(np.asarray(values, dtype=np.float64), digits).tolist()


def _png_b64(rgb: np.ndarray) -> str:
    from lecturekit.widgets.static import rgb_png

    return base64.b64encode(rgb_png(rgb)).decode("ascii")


def _sprite_strip(model: Any, sprites: np.ndarray | None) -> tuple[list, str | None]:
    """The codes of the sprites a VAE widget offers, and their pictures side by side (one PNG)."""
    if sprites is None or not len(sprites):
        return [], None
    codes = model.codes_of(sprites).cpu().numpy()
    rgb = model.palette.cpu().numpy()[np.asarray(sprites)]
    return _floats(codes), _png_b64(np.concatenate(list(rgb), axis=1))


def _latent_sliders(w: Any) -> dict[str, Any]:
    from lecturekit.widgets.latent import SLIDER_RANGE

    codes, strip = _sprite_strip(w.model, w.sprites)
    first = w.sliders[0]
    return {
        "figure": "latent-sliders",
        "model": model_ref(w.model),
        "dim": w.dim,
        "range": SLIDER_RANGE,
        "step": float(first.step),
        "code": _floats(w.code),
        "sprite_codes": codes,
        "sprites_png": strip,
        "scale": int(w.scale),
    }


def _latent_grid(w: Any) -> dict[str, Any]:
    codes, strip = _sprite_strip(w.model, w.sprites)
    return {
        "figure": "latent-grid",
        "model": model_ref(w.model),
        "dim": w.dim,
        "steps": int(w.steps),
        "span": float(w.span.value),
        "span_range": [float(w.span.min), float(w.span.max), float(w.span.step)],
        "dims": [int(w.dim_x.value), int(w.dim_y.value)],
        "base": int(w.base.value),
        "sprite_codes": codes,
        "sprites_png": strip,
        "scale": int(w.scale),
    }


def _sampler(w: Any) -> dict[str, Any]:
    return {
        "figure": "pixelrnn-sampler",
        "model": model_ref(w.model),
        "n": int(w.n),
        "columns": int(w.columns),
        "seed": int(w.seed),
        "temperature": float(w.temperature.value),
        "temperature_range": [float(w.temperature.min), float(w.temperature.max), float(w.temperature.step)],
        "mode": str(w.mode.value),
        "scale": int(w.scale),
        "palette": np.asarray(w.palette, dtype=int).tolist(),
        "height": int(w.model.height),
        "width": int(w.model.width),
        "slots": int(w.model.slots),
        "hidden": int(w.model.lstm.hidden_size),
    }


def _gan(w: Any) -> dict[str, Any]:
    spare = [w._code(w._next_seed + i).cpu().numpy() for i in range(GAN_SPARE_CODES)]
    return {
        "figure": "gan-interpolation",
        "model": model_ref(w.model),
        "z_a": _floats(w.z_a.cpu().numpy(), 8),
        "z_b": _floats(w.z_b.cpu().numpy(), 8),
        "spare_codes": _floats(spare, 8),
        "steps": int(w.steps),
        "position": float(w.slider.value),
        "snap": bool(w.snap.value),
        "spherical": bool(w.spherical.value),
        "scale": int(w.scale),
        "palette": np.asarray(w.palette, dtype=int).tolist(),
    }


def _sentences(w: Any) -> dict[str, Any]:
    return {
        "figure": "sentence-interpolation",
        "model": model_ref(w.model),
        "sentence_a": str(w.sentence_a.value),
        "sentence_b": str(w.sentence_b.value),
        "steps": int(w.steps.value),
        "steps_range": [int(w.steps.min), int(w.steps.max)],
        "method": str(w.method.value),
        "position": float(w.position.value),
        "check_grammar": bool(w.check_grammar),
    }


DESCRIBERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "LatentSliders": _latent_sliders,
    "LatentGrid": _latent_grid,
    "TemperatureSampler": _sampler,
    "InterpolationWidget": _gan,
    "SentenceInterpolationWidget": _sentences,
}


def figure_spec(widget: Any) -> dict[str, Any] | None:
    """The site's description of a displayed widget (None for a widget the site has no live figure for)."""
    owner = getattr(widget, "owner", widget)
    describe = DESCRIBERS.get(type(owner).__name__)
    if describe is None:
        return None
    with torch.inference_mode():
        return describe(owner)
