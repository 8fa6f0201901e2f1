"""Drawing sprites from scratch with a PixelRNN: a temperature slider, argmax vs sampling, a new-batch button.

Argmax picks the most likely colour at every pixel, so every drawing is the same; sampling draws the
colour from softmax(logits / T): low T plays safe (plain, similar sprites), high T takes risks (noisy).
Moving the slider redraws the same batch (same random seed) so only the temperature changes.
"""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets
import numpy as np

from lecturekit.i18n import _
from lecturekit.widgets import GROUND, grid_rgb, png_bytes
from lecturekit.widgets.static import StaticFallback


class TemperatureSampler(StaticFallback, widgets.VBox):
    """The widget; its controls are attributes (`temperature`, `mode`, `draw`, `image`, `status`) so
    tests and notebooks can drive it from Python. `sprites` holds the batch on show (n, H, W) indices."""

    def __init__(
        self,
        model: Any,
        palette: np.ndarray,
        n: int = 16,
        columns: int = 8,
        seed: int = 0,
        temperature: float = 1.0,
        scale: int = 4,
    ) -> None:
        from lecturekit.models.pixelrnn import sample

        self._sample = sample
        self.model = model
        self.palette = np.asarray(palette, dtype=np.uint8)
        if len(self.palette) != model.n_colors:
            raise ValueError(
                f"the palette has {len(self.palette)} colours but the model draws {model.n_colors}: "
                "pass the palette the model was trained on (sprites.palette)."
            )
        self.n, self.columns, self.scale = int(n), int(columns), int(scale)
        self.seed, self.batch = int(seed), 0
        self.temperature = widgets.FloatSlider(
            value=float(temperature),
            min=0.05,
            max=2.0,
            step=0.05,
            description=_("temperature"),
            continuous_update=False,
            readout_format=".2f",
        )
        self.mode = widgets.ToggleButtons(
            options=[(_("sample"), "sample"), ("argmax", "argmax")], value="sample", description=_("pick")
        )
        self.draw = widgets.Button(description=_("draw a new batch"), icon="refresh")
        self.status = widgets.Label(value="")
        self.sprites = self._draw()  # warm-up: the first batch is drawn at build time
        picture = self._picture()
        # a fixed pixel size: the front end must not stretch (and blur) the nearest-upscaled PNG
        self.image = widgets.Image(
            value=self._png(), format="png", width=picture.shape[1] * self.scale, height=picture.shape[0] * self.scale
        )
        for control, name in (
            (self.temperature, "temperature"),
            (self.mode, "mode"),
            (self.draw, "draw"),
            (self.image, "image"),
            (self.status, "status"),
        ):
            control.add_class(f"lk-sampler-{name}")
        self.temperature.observe(self._on_change, names="value")
        self.mode.observe(self._on_change, names="value")
        self.draw.on_click(self._on_draw)
        super().__init__([widgets.HBox([self.mode, self.temperature, self.draw]), self.image, self.status])
        self.add_class("lk-sampler")

    def _draw(self) -> np.ndarray:
        greedy = self.mode.value == "argmax"
        start = time.perf_counter()
        sprites = self._sample(
            self.model, self.n, temperature=float(self.temperature.value), greedy=greedy, seed=self.seed + self.batch
        )
        seconds = time.perf_counter() - start
        distinct = len({s.tobytes() for s in sprites})
        how = "argmax" if greedy else _("sampling at T = {t}").format(t=f"{self.temperature.value:.2f}")
        self.status.value = _(
            "batch {batch}, {how}: {distinct} different sprite(s) of {n}, drawn in {seconds} s"
        ).format(batch=self.batch + 1, how=how, distinct=distinct, n=self.n, seconds=f"{seconds:.2f}")
        return sprites

    def _picture(self) -> np.ndarray:
        """The batch on the kit's grey ground, so an empty (all-white) sprite shows as a white square."""
        return grid_rgb(self.palette[self.sprites], self.columns, background=GROUND, frame=1)

    def _png(self) -> bytes:
        return png_bytes(self._picture(), self.scale)

    def redraw(self) -> None:
        """Draw the current batch again with the current settings and show it."""
        self.temperature.disabled = self.mode.value == "argmax"
        self.sprites = self._draw()
        self.image.value = self._png()

    def _on_change(self, change: dict[str, Any]) -> None:
        self.redraw()

    def _on_draw(self, button: Any = None) -> None:
        self.batch += 1
        self.redraw()


temperature_sampler = TemperatureSampler  # the name the notebooks call
