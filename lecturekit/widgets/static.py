"""What a widget shows where no widget can run: a static picture in its display bundle.

GitHub's and nbviewer's previews (and some VS Code setups) cannot run ipywidgets, so a saved notebook
shows nothing where a widget was. Every widget of the course mixes in `StaticFallback`: its display
bundle then carries, next to the widget view that JupyterLab, Colab and VS Code render, an `image/png`
of what the widget shows now, a `text/html` with that picture and one line saying how to get the live
widget, and that line as `text/plain`. Front ends that render the widget ignore the rest; the others show
the picture. No notebook cell changes.

The bundle's metadata also describes the widget for the course site (`lecturekit.site.figures`), which
puts a live figure, run in the page, where the widget was.

ipywidgets 8 builds a widget's bundle in `_repr_mimebundle_`, ipywidgets 7.7 (Colab) in
`_ipython_display_`: both are extended here, whatever the widget's metadata (Colab adds its own).
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import ipywidgets
import numpy as np
from PIL import Image

from lecturekit.i18n import N_, _

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
FIGURE_METADATA = "lecturekit/live-figure"  # the metadata key the course site reads
LIVE_LINE = N_(
    "A live widget: run this notebook in JupyterLab or Colab (or open the course website) to move its controls."
)
_IPYWIDGETS_7 = ipywidgets.__version__.startswith("7.")


def stacked_png(pngs: list[bytes], gap: int = 8) -> bytes:
    """One PNG holding the given PNG pictures one under the other (left-aligned, white between)."""
    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pngs if p]
    if len(images) == 1:
        return pngs[0]
    width = max(i.width for i in images)
    height = sum(i.height for i in images) + gap * (len(images) - 1)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    y = 0
    for image in images:
        canvas.paste(image, (0, y))
        y += image.height + gap
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def rgb_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 picture, not upscaled (the site's data)."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))).save(buffer, format="PNG")
    return buffer.getvalue()


def fallback_data(picture_png: bytes | None, picture_html: str | None = None) -> dict[str, Any]:
    """The static part of a bundle: the picture (PNG, or HTML for text), and the line on the live widget."""
    line = _(LIVE_LINE)
    data: dict[str, Any] = {"text/plain": line}
    body = picture_html or ""
    if picture_png:
        encoded = base64.b64encode(picture_png).decode("ascii")
        data["image/png"] = encoded
        body = f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(line)}"/>'
    data["text/html"] = f'<div class="lk-static">{body}<p><small>{html.escape(line)}</small></p></div>'
    return data


def _descendants(widget: Any) -> list[Any]:
    """The widget and every widget inside it, depth first, in display order."""
    out = [widget]
    for child in getattr(widget, "children", ()) or ():
        out += _descendants(child)
    return out


def shown_png(widget: Any) -> bytes | None:
    """The pictures a widget shows now (its `Image` widgets, stacked), as one PNG; None if it has none."""
    pngs = [w.value for w in _descendants(widget) if isinstance(w, ipywidgets.Image) and w.format == "png" and w.value]
    return stacked_png(pngs) if pngs else None


def shown_html(widget: Any) -> str:
    """The text a widget shows now (its text boxes and HTML areas), as HTML."""
    parts = []
    for w in _descendants(widget):
        if isinstance(w, ipywidgets.Text):
            parts.append(f"<p><b>{html.escape(str(w.description))}</b>: {html.escape(str(w.value))}</p>")
        elif isinstance(w, ipywidgets.HTML) and w.value:
            parts.append(f"<div>{w.value}</div>")
    return "".join(parts)


class StaticFallback:
    """Mix into an ipywidgets box (before it in the bases): the display bundle gains the static picture,
    made from what the widget shows when it is displayed (its pictures, else its text)."""

    def static_picture_png(self) -> bytes | None:
        return shown_png(self)

    def static_picture_html(self) -> str | None:
        return shown_html(self)

    def _static_bundle(self, data: dict[str, Any], metadata: dict[str, Any]) -> tuple[dict, dict]:
        try:
            png = self.static_picture_png()
            extra = fallback_data(png, None if png else self.static_picture_html())
        except Exception:  # noqa: BLE001 - a fallback must never break the live widget's display
            return data, metadata
        data = {**data, **extra}
        try:
            from lecturekit.site.figures import figure_spec

            spec = figure_spec(self)
        except Exception:  # noqa: BLE001 - the same: without a description the site keeps the static picture
            spec = None
        if spec is not None:
            metadata = {**metadata, FIGURE_METADATA: spec}
        return data, metadata

    if _IPYWIDGETS_7:

        def _ipython_display_(self, **kwargs: Any) -> None:
            from IPython.display import display

            plaintext = repr(self)
            data: dict[str, Any] = {"text/plain": plaintext[:110] + ("…" if len(plaintext) > 110 else "")}
            if self._view_name is not None:  # type: ignore[attr-defined]
                data[WIDGET_VIEW] = {"version_major": 2, "version_minor": 0, "model_id": self._model_id}  # type: ignore[attr-defined]
                data, metadata = self._static_bundle(data, {})
            else:
                metadata = {}
            display(data, raw=True, metadata=metadata)
            if self._view_name is not None:  # type: ignore[attr-defined]
                self._handle_displayed(**kwargs)  # type: ignore[attr-defined]

    else:

        def _repr_mimebundle_(self, **kwargs: Any) -> Any:
            bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
            if not bundle:
                return bundle
            data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
            if WIDGET_VIEW not in data:
                return bundle
            return self._static_bundle(dict(data), dict(metadata or {}))


class FallbackBox(StaticFallback, ipywidgets.VBox):  # type: ignore[misc]
    """A VBox with the static fallback, for explorers that are not widgets themselves (`LatentSliders`,
    whose `.widget` is what a notebook displays): `owner` is the explorer, which the course site describes."""

    def __init__(self, children: list[Any], owner: Any) -> None:
        super().__init__(children)
        self.owner = owner
