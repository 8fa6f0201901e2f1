"""Exploring a 10-d code (notebook 04): a latent grid with dropdowns, and ten live sliders.

Both work with any model that has `latent_dim`, `decode_rgb(codes)` and `codes_of(indices)` (the AE
and the VAE of lecturekit.models.vae). Updates are plain synchronous `observe` callbacks: one decode
of one code plus a small PNG takes a few milliseconds on a CPU, so the kernel keeps up while a
slider is dragged (no threads). The decoder runs in eval mode under torch.inference_mode().
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from lecturekit.i18n import _
from lecturekit.widgets import grid_rgb, png_bytes
from lecturekit.widgets.static import FallbackBox

SLIDER_RANGE = 3.0


def _decode_one(model: Any, code: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model.decode_rgb(torch.as_tensor(code, dtype=torch.float32)[None])[0]


def _sprite_options(n: int) -> list[tuple[str, int]]:
    return [(f"sprite {i}", i) for i in range(n)]


class LatentSliders:
    """Ten sliders, one per code dimension, and the decoded sprite that follows them.

    Buttons: "random" draws a code from N(0, I), "reset" sets every slider to 0, "encode this sprite"
    sets the sliders to the code of the sprite picked in the dropdown. `widget` is what to display;
    `sliders`, `image`, `random_button`, `reset_button`, `encode_button`, `sprite_picker` are the controls
    (tests and the notebook drive them from Python). `update_ms` holds the kernel-side time of each update.
    """

    def __init__(self, model: Any, sprites_indices: np.ndarray | None = None, scale: int = 10, seed: int = 0) -> None:
        import ipywidgets as widgets

        self.model = model.eval()
        self.dim = int(model.latent_dim)
        self.scale = scale
        self.rng = np.random.default_rng(seed)
        self.sprites = None if sprites_indices is None else np.asarray(sprites_indices)
        self.update_ms: list[float] = []
        self._holding = False
        self.sliders = self._make_sliders(widgets)
        first = _decode_one(self.model, np.zeros(self.dim, dtype=np.float32))  # warm-up decode
        self.image = widgets.Image(
            value=png_bytes(first, scale), format="png", width=first.shape[1] * scale, height=first.shape[0] * scale
        )
        self.image.add_class("lk-decoded")
        buttons = self._make_buttons(widgets)
        self.encode_button = self.sprite_picker = self.sprite_image = None
        if self.sprites is not None and len(self.sprites):
            buttons += [self._make_sprite_picker(widgets)]
        self.status = widgets.HTML(value="")
        self.status.add_class("lk-status")
        for b in buttons:
            b.add_class("lk-button")
        self.widget = self._assembled_widget(widgets, buttons)
        self.update()

    def _make_sliders(self, widgets: Any) -> list[Any]:
        """One slider per code dimension, each redrawing the sprite when it moves (unless set_code holds them)."""
        sliders = []
        for i in range(self.dim):
            s = widgets.FloatSlider(
                value=0.0,
                min=-SLIDER_RANGE,
                max=SLIDER_RANGE,
                step=0.05,
                description=f"z[{i}]",
                continuous_update=True,
                readout_format=".2f",
            )
            s.add_class(f"lk-slider-{i}")
            s.observe(self._on_slider, names="value")
            sliders.append(s)
        return sliders

    def _make_buttons(self, widgets: Any) -> list[Any]:
        """The "random" and "reset" buttons, wired (they are `random_button` and `reset_button` too)."""
        self.random_button = widgets.Button(description=_("random"), tooltip=_("a code drawn from N(0, I)"))
        self.random_button.add_class("lk-random")
        self.random_button.on_click(lambda _click: self.randomize())
        self.reset_button = widgets.Button(description=_("reset"), tooltip=_("every dimension to 0"))
        self.reset_button.add_class("lk-reset")
        self.reset_button.on_click(lambda _click: self.set_code(np.zeros(self.dim)))
        return [self.random_button, self.reset_button]

    def _make_sprite_picker(self, widgets: Any) -> Any:
        """The sprite dropdown with its picture, and the "encode this sprite" button it returns (wired)."""
        scale = self.scale
        self.sprite_picker = widgets.Dropdown(
            options=_sprite_options(len(self.sprites)), value=0, description=_("sprite")
        )
        self.sprite_picker.add_class("lk-sprite-pick")
        rgb = self._sprite_rgb(0)
        self.sprite_image = widgets.Image(
            value=png_bytes(rgb, scale // 2),
            format="png",
            width=rgb.shape[1] * (scale // 2),
            height=rgb.shape[0] * (scale // 2),
        )
        self.sprite_image.add_class("lk-sprite")
        self.sprite_picker.observe(self._on_pick, names="value")
        self.encode_button = widgets.Button(
            description=_("encode this sprite"), tooltip=_("set the sliders to the code of the chosen sprite")
        )
        self.encode_button.add_class("lk-encode")
        self.encode_button.on_click(lambda _click: self.encode_sprite())
        return self.encode_button

    def _assembled_widget(self, widgets: Any, buttons: list[Any]) -> Any:
        """The whole widget: sliders beside the sprite, the buttons under them, then the sprite picker if any."""
        controls = [widgets.VBox(self.sliders), widgets.VBox([self.image, self.status])]
        rows = [widgets.HBox(controls), widgets.HBox(buttons)]
        if self.sprite_picker is not None:
            rows.append(widgets.HBox([self.sprite_picker, self.sprite_image]))
        widget = FallbackBox(rows, owner=self)  # a static picture where widgets cannot run
        widget.add_class("lk-latent-sliders")
        return widget

    # -- state
    @property
    def code(self) -> np.ndarray:
        """The code the sliders show, (D,) float32."""
        return np.array([s.value for s in self.sliders], dtype=np.float32)

    def set_code(self, code: Any) -> None:
        """Move every slider (values beyond the slider range are clipped), then redraw once."""
        code = np.asarray(code, dtype=np.float64).reshape(-1)
        if code.size != self.dim:
            raise ValueError(f"a code for this model has {self.dim} numbers, got {code.size}")
        self._holding = True
        try:
            for s, v in zip(self.sliders, np.clip(code, -SLIDER_RANGE, SLIDER_RANGE)):
                s.value = float(round(v, 2))
        finally:
            self._holding = False
        self.update()

    def randomize(self) -> None:
        self.set_code(self.rng.standard_normal(self.dim))

    def encode_sprite(self, index: int | None = None) -> None:
        if self.sprites is None:
            raise ValueError("this widget was built without sprites: pass sprites_indices to encode one")
        if index is not None:
            self.sprite_picker.value = int(index)
        code = self.model.codes_of(self.sprites[self.sprite_picker.value][None])[0].numpy()
        self.set_code(code)

    def _sprite_rgb(self, i: int) -> np.ndarray:
        return self.model.palette[torch.as_tensor(self.sprites[i])].cpu().numpy()

    # -- callbacks
    def _on_slider(self, change: dict) -> None:
        if not self._holding:
            self.update()

    def _on_pick(self, change: dict) -> None:
        rgb = self._sprite_rgb(int(change["new"]))
        self.sprite_image.value = png_bytes(rgb, self.scale // 2)

    def update(self) -> float:
        """Decode the sliders' code and show it; returns (and records) the milliseconds it took."""
        start = time.perf_counter()
        rgb = _decode_one(self.model, self.code)
        self.image.value = png_bytes(rgb, self.scale)
        ms = (time.perf_counter() - start) * 1000
        self.update_ms.append(ms)
        self.status.value = _("<small>update: {ms} ms</small>").format(ms=f"{ms:.1f}")
        return ms


def latent_slider_widget(
    model: Any, sprites_indices: np.ndarray | None = None, scale: int = 10, seed: int = 0
) -> LatentSliders:
    """Build the slider explorer (display `.widget`)."""
    return LatentSliders(model, sprites_indices, scale=scale, seed=seed)


class LatentGrid:
    """Pick two code dimensions (dropdowns); the other eight stay at zero or at a chosen sprite's code;
    a steps x steps grid of decoded sprites is shown. Controls: `dim_x`, `dim_y`, `base`, `span`, `image`."""

    def __init__(
        self,
        model: Any,
        sprites_indices: np.ndarray | None = None,
        steps: int = 7,
        span: float = 2.5,
        scale: int = 4,
        dims: tuple[int, int] = (0, 1),
    ) -> None:
        import ipywidgets as widgets

        self.model = model.eval()
        self.dim = int(model.latent_dim)
        self.steps = steps
        self.scale = scale
        self.sprites = None if sprites_indices is None else np.asarray(sprites_indices)
        if len(set(dims)) != 2 or not all(0 <= int(d) < self.dim for d in dims):
            raise ValueError(f"dims must be two different code dimensions in 0..{self.dim - 1}, got {dims}")
        options = [(f"z[{i}]", i) for i in range(self.dim)]
        self.dim_x = widgets.Dropdown(options=options, value=int(dims[0]), description=_("across"))
        self.dim_y = widgets.Dropdown(options=options, value=int(dims[1]), description=_("down"))
        base_options: list[tuple[str, int]] = [(_("zeros"), -1)]
        if self.sprites is not None:
            base_options += [(_("code of sprite {i}").format(i=i), i) for i in range(len(self.sprites))]
        self.base = widgets.Dropdown(options=base_options, value=-1, description=_("others at"))
        self.span = widgets.FloatSlider(
            value=span, min=0.5, max=4.0, step=0.25, description=_("span"), continuous_update=False
        )
        for w, css in (
            (self.dim_x, "lk-grid-x"),
            (self.dim_y, "lk-grid-y"),
            (self.base, "lk-grid-base"),
            (self.span, "lk-grid-span"),
        ):
            w.add_class(css)
            w.observe(self._on_change, names="value")
        self.message = widgets.HTML(value="")
        self.message.add_class("lk-grid-message")
        picture = self.grid_picture()
        self.image = widgets.Image(
            value=png_bytes(picture, scale),
            format="png",
            width=picture.shape[1] * scale,
            height=picture.shape[0] * scale,
        )
        self.image.add_class("lk-grid-image")
        self.widget = FallbackBox(
            [widgets.HBox([self.dim_x, self.dim_y]), widgets.HBox([self.base, self.span]), self.message, self.image],
            owner=self,
        )
        self.widget.add_class("lk-latent-grid")

    def base_code(self) -> np.ndarray:
        if self.base.value < 0:
            return np.zeros(self.dim, dtype=np.float32)
        return self.model.codes_of(self.sprites[self.base.value][None])[0].numpy()

    def grid_picture(self) -> np.ndarray:
        """The decoded grid as one RGB picture (columns: dim_x, rows: dim_y)."""
        from lecturekit.models.vae import latent_grid

        grid = latent_grid(
            self.model,
            self.dim_x.value,
            self.dim_y.value,
            base=self.base_code(),
            steps=self.steps,
            span=self.span.value,
        )
        return grid_rgb(grid.reshape(-1, *grid.shape[2:]), columns=self.steps)

    def _on_change(self, change: dict) -> None:
        if self.dim_x.value == self.dim_y.value:
            self.message.value = "<b>Choose two different dimensions.</b>"
            return
        self.message.value = ""
        self.image.value = png_bytes(self.grid_picture(), self.scale)


latent_grid_widget = LatentGrid  # the name the notebooks call; display its `.widget`
