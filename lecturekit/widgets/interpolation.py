"""Walk the GAN's code space: two random codes A and B, a slider from A to B, and the sprite drawn at
that point (plus the whole path as a strip). The slider moves in steps of 0.01, so the sprite changes
continuously, between the strip's points too. Core ipywidgets only (7.7 and 8).

CSS classes for browser tests: container `lk-gan-interpolation`, slider `lk-gan-slider`, picture
`lk-gan-image`, path strip `lk-gan-strip`, buttons `lk-gan-new-a` / `lk-gan-new-b`, checkboxes
`lk-gan-snap` (snap to the palette) and `lk-gan-spherical` (spherical path).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lecturekit.i18n import _
from lecturekit.widgets import grid_rgb, png_bytes
from lecturekit.widgets.static import StaticFallback


def _widgets() -> Any:
    import ipywidgets

    return ipywidgets


class InterpolationWidget(StaticFallback, _widgets().VBox):  # type: ignore[misc]
    """A VBox with the controls as attributes (`slider`, `image`, `strip`, `new_a`, `new_b`, `snap`,
    `spherical`) so a test can drive it from Python; `render()` returns the current sprite."""

    def __init__(
        self,
        model: Any,
        palette: np.ndarray,
        seed_a: int = 0,
        seed_b: int = 1,
        steps: int = 9,
        scale: int = 10,
        snap: bool = True,
        spherical: bool = True,
    ) -> None:
        from lecturekit.models.gan import interpolate_codes, path_point, snap_rgb

        self._interp, self._point, self._snap_rgb = interpolate_codes, path_point, snap_rgb
        self.model = model.eval()
        self.palette = np.asarray(palette, dtype=np.uint8)
        self.steps = int(steps)
        self.scale = int(scale)
        self._next_seed = max(seed_a, seed_b) + 1
        self.z_a = self._code(seed_a)
        self.z_b = self._code(seed_b)
        self._build_controls(snap, spherical)
        self._build_pictures()
        self._wire_events()
        super().__init__(self._box_children())
        self.add_class("lk-gan-interpolation")

    # ---- building
    def _build_controls(self, snap: bool, spherical: bool) -> None:
        """The slider, checkboxes and buttons (before the pictures: drawing reads the slider and checkboxes)."""
        w = _widgets()
        self.slider = w.FloatSlider(
            value=0.5,
            min=0.0,
            max=1.0,
            step=0.01,  # continuous: every point of the path, not only the strip's `steps`
            description=_("A → B"),
            continuous_update=True,
            readout_format=".2f",
        )
        self.snap = w.Checkbox(value=snap, description=_("snap to palette"), indent=False)
        self.spherical = w.Checkbox(value=spherical, description=_("spherical path"), indent=False)
        self.new_a = w.Button(description=_("new A"), tooltip=_("draw a new random code for the start"))
        self.new_b = w.Button(description=_("new B"), tooltip=_("draw a new random code for the end"))

    def _build_pictures(self) -> None:
        """The sprite at the slider and the path strip, drawn once now, and every control's CSS class."""
        w = _widgets()
        first = self.render()
        self.image = w.Image(
            value=png_bytes(first, self.scale), format="png", width=20 * self.scale, height=20 * self.scale
        )
        strip_w, strip_h = self._strip_size()
        # a fixed pixel size, under ~800 px: the front end must not stretch or shrink (and blur) the strip
        self.strip = w.Image(value=self._strip_png(), format="png", width=strip_w, height=strip_h)
        for control, css in (
            (self.slider, "lk-gan-slider"),
            (self.image, "lk-gan-image"),
            (self.strip, "lk-gan-strip"),
            (self.new_a, "lk-gan-new-a"),
            (self.new_b, "lk-gan-new-b"),
            (self.snap, "lk-gan-snap"),
            (self.spherical, "lk-gan-spherical"),
        ):
            control.add_class(css)

    def _wire_events(self) -> None:
        """Plain synchronous callbacks: the slider redraws the sprite, a path change the strip, a button one end."""
        self.slider.observe(self._on_slider, names="value")
        self.snap.observe(self._on_path, names="value")
        self.spherical.observe(self._on_path, names="value")
        self.new_a.on_click(lambda _click: self._new_end("a"))
        self.new_b.on_click(lambda _click: self._new_end("b"))

    def _box_children(self) -> list[Any]:
        """The VBox's children: the sprite beside the controls, then the path strip under its title."""
        w = _widgets()
        return [
            w.HBox(
                [
                    self.image,
                    w.VBox([self.slider, w.HBox([self.new_a, self.new_b]), w.HBox([self.snap, self.spherical])]),
                ]
            ),
            w.HTML(_("<b>the path A → B</b> (left to right)")),
            self.strip,
        ]

    # ---- drawing
    def _code(self, seed: int) -> torch.Tensor:
        return self.model.codes(1, seed=seed)[0]

    def _decode(self, z: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            rgb = self.model.decode_rgb(z.reshape(-1, self.model.z_dim))
        return self._snap_rgb(rgb, self.palette) if self.snap.value else rgb

    def path_codes(self) -> torch.Tensor:
        """The `steps` codes from A to B on the chosen path."""
        return self._interp(self.z_a, self.z_b, self.steps, spherical=self.spherical.value)

    def code_at(self, t: float) -> torch.Tensor:
        """The code at position t (0 = A, 1 = B) on the chosen path."""
        return self._point(self.z_a, self.z_b, float(t), spherical=self.spherical.value)

    def render(self) -> np.ndarray:
        """The sprite at the slider's position, (20, 20, 3) uint8."""
        return self._decode(self.code_at(float(self.slider.value)))[0]

    def _strip_scale(self, n: int) -> int:
        """The largest upscaling (at most scale/2) that keeps a strip of n sprites within 800 px."""
        return max(1, min(max(2, self.scale // 2), 800 // (n * 21 - 1)))

    def _strip_size(self) -> tuple[int, int]:
        n = len(self.path_codes())
        scale = self._strip_scale(n)
        return (n * 21 - 1) * scale, 20 * scale

    def _strip_png(self) -> bytes:
        sprites = self._decode(self.path_codes())
        return png_bytes(grid_rgb(sprites, columns=len(sprites), pad=1), self._strip_scale(len(sprites)))

    # ---- callbacks (plain, synchronous)
    def _on_slider(self, _change: Any = None) -> None:
        self.image.value = png_bytes(self.render(), self.scale)

    def _on_path(self, _change: Any = None) -> None:
        self.strip.value = self._strip_png()
        self._on_slider()

    def _new_end(self, which: str) -> None:
        z = self._code(self._next_seed)
        self._next_seed += 1
        if which == "a":
            self.z_a = z
        else:
            self.z_b = z
        self._on_path()


def interpolation_widget(
    model: Any, palette: np.ndarray, seed_a: int = 0, seed_b: int = 1, steps: int = 9, **kwargs: Any
) -> InterpolationWidget:
    """The latent-interpolation UI for a trained `lecturekit.models.gan.GAN` (display it as a cell's last line)."""
    return InterpolationWidget(model, palette, seed_a=seed_a, seed_b=seed_b, steps=steps, **kwargs)
