"""From executed notebooks to pages with live figures.

`page_notebook` turns an executed notebook into the one a page is made from: each widget the site knows
(its output carries a description in `widgets.static.FIGURE_METADATA`) becomes a placeholder that the
page's script (web/lk-live.js) replaces with the live figure, keeping the widget's static picture until
the model is loaded (and for good where scripts do not run). `LiveAssets` exports the shipped models those
figures use to ONNX, once per model, into the site's shared `_live/` folder.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from lecturekit.i18n import N_, translate
from lecturekit.site import onnx_export
from lecturekit.widgets.static import FIGURE_METADATA, WIDGET_VIEW

LIVE_DIR = "_live"  # at the site's root, shared by the editions: ONNX Runtime, the models, the page script
# the widgets' own labels (translated with the kit's catalogue) and the page's own words
LABELS = {
    "temperature": "temperature",
    "pick": "pick",
    "sample": "sample",
    "draw": "draw a new batch",
    "sampling_at": "sampling at T = {t}",
    "batch_status": "batch {batch}, {how}: {distinct} different sprite(s) of {n}, drawn in {seconds} s",
    "random": "random",
    "random_tip": "a code drawn from N(0, I)",
    "reset": "reset",
    "reset_tip": "every dimension to 0",
    "sprite": "sprite",
    "encode": "encode this sprite",
    "encode_tip": "set the sliders to the code of the chosen sprite",
    "update": "<small>update: {ms} ms</small>",
    "across": "across",
    "down": "down",
    "others_at": "others at",
    "zeros": "zeros",
    "code_of_sprite": "code of sprite {i}",
    "span": "span",
    "a_to_b": "A → B",
    "snap": "snap to palette",
    "spherical": "spherical path",
    "new_a": "new A",
    "new_b": "new B",
    "new_a_tip": "draw a new random code for the start",
    "new_b_tip": "draw a new random code for the end",
    "path": "<b>the path A → B</b> (left to right)",
    "sentence_a": "sentence A",
    "sentence_b": "sentence B",
    "steps": "steps",
    "decoding": "decoding",
    "position": "position t",
    "decoded": "decoded",
    "grammar": "grammar",
    "empty": "(empty)",
    "greedy": "greedy",
    "in_grammar": "(in the grammar)",
    "not_in_grammar": "(not in the grammar)",
    "beam": "beam search (5)",
    "sampling": "sampling (T=0.7)",
    "sentence_empty": "sentence {label} is empty: type a sentence into box {label}.",
    "unknown_one": "sentence {label}: {words} is not in the model's vocabulary ({n} words) and is read as <unk>.",
    "unknown_many": "sentence {label}: {words} are not in the model's vocabulary ({n} words) and are read as <unk>.",
    "live": N_("live: this figure runs in your browser, with the course's trained model"),
    "loading": N_("loading the model…"),
    "failed": N_("the live figure could not start ({error}); the picture shows what the notebook drew."),
    "not_shipped": N_(
        "this figure was drawn with a model other than the shipped one, so the page shows the notebook's picture."
    ),
}


def labels(lang: str) -> dict[str, str]:
    """The page's labels in `lang`."""
    return {key: translate(text, lang) for key, text in LABELS.items()}


# ----------------------------------------------------------------------------- the models
@dataclass
class LiveAssets:
    """The `_live/models` folder of a site: each shipped model a figure uses, exported once."""

    folder: Path
    cache: Path | None = None
    files: dict[str, int] = field(default_factory=dict)  # file name -> bytes
    _by_fingerprint: dict[str, str] | None = None

    def shipped_name(self, kind: str, fingerprint: str) -> str | None:
        """The shipped checkpoint whose weights have this fingerprint (None: the figure's model is not one)."""
        if self._by_fingerprint is None:
            import lecturekit
            from lecturekit.checkpoints import pretrained_names

            self._by_fingerprint = {}
            for name in pretrained_names():
                model = lecturekit.load_pretrained(name, device="cpu")
                self._by_fingerprint[onnx_export.weights_fingerprint(model)] = name
        return self._by_fingerprint.get(fingerprint)

    def model_files(self, spec: dict[str, Any]) -> dict[str, str] | None:
        """The files (under `_live/`) of the model a figure needs, exported now if not yet; None when the
        figure's model is not a shipped one."""
        name = self.shipped_name(spec["model"]["kind"], spec["model"]["fingerprint"])
        if name is None:
            return None
        figure = spec["figure"]
        if figure in ("latent-sliders", "latent-grid"):
            return {"decoder": self._export(f"{name}.decoder.onnx", name, onnx_export.export_vae_decoder)}
        if figure == "pixelrnn-sampler":
            return {"step": self._export(f"{name}.step.onnx", name, onnx_export.export_pixelrnn_step)}
        if figure == "gan-interpolation":
            palette = np.asarray(spec["palette"], dtype=np.uint8)
            tag = hashlib.sha256(palette.tobytes()).hexdigest()[:8]
            export = lambda m: onnx_export.export_gan_path(m, palette)  # noqa: E731
            return {"path": self._export(f"{name}.path-{tag}.onnx", name, export)}
        if figure == "sentence-interpolation":
            return {
                "encoder": self._export(f"{name}.encoder.onnx", name, onnx_export.export_sentence_encoder),
                "decoder": self._export(f"{name}.decoder.onnx", name, onnx_export.export_sentence_decoder_step),
                "text": self._export(f"{name}.text.json", name, sentence_text_data),
            }
        return None

    def _export(self, filename: str, name: str, make: Any) -> str:
        target = self.folder / filename
        if filename not in self.files:
            cached = self.cache / filename if self.cache is not None else None
            if cached is not None and cached.is_file():
                data = cached.read_bytes()
            else:
                import lecturekit

                data = make(lecturekit.load_pretrained(name, device="cpu"))
                if cached is not None:
                    onnx_export.write(cached, data)
            onnx_export.write(target, data)
            self.files[filename] = len(data)
        return f"models/{filename}"


def sentence_text_data(model: Any) -> bytes:
    """What the page needs to read and write sentences: the vocabulary, the decoder's length limit, and
    the corpus grammar (to mark decoded sentences it can derive), as JSON."""
    from lecturekit.corpus import MAX_TOKENS, MIN_TOKENS, _grammar

    grammar = _grammar()
    lex = {sym: sorted(words) for sym, words in grammar._lex.items()}
    rules = {sym: [list(seq) for seq, _weight in seqs] for sym, seqs in grammar.rules.items() if sym not in lex}
    data = {
        "itos": list(model.vocab.itos),
        "max_len": int(model.max_len),
        "latent_dim": int(model.latent_dim),
        "hidden": int(model.decoder.hidden_size),
        "grammar": {
            "rules": rules,
            "lex": lex,
            "nullable": sorted(grammar._nullable),
            "min_tokens": MIN_TOKENS,
            "max_tokens": MAX_TOKENS,
        },
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ----------------------------------------------------------------------------- the pages
def _placeholder(spec: dict[str, Any], static: dict[str, Any], files: dict[str, str] | None, lang: str) -> str:
    """The HTML a widget's output becomes: the static picture, the figure's description, the page script."""
    picture = static.get("image/png")
    if picture:
        inner = f'<img class="lk-live-static" alt="" src="data:image/png;base64,{picture}"/>'
    else:
        body = static.get("text/html", "")
        inner = f'<div class="lk-live-static">{body}</div>'
    described = {**spec, "files": files, "labels": labels(lang)}
    payload = json.dumps(described, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    figure = html.escape(spec["figure"])
    return (
        f'<div class="lk-live" data-figure="{figure}">'
        f'{inner}<script type="application/json" class="lk-live-spec">{payload}</script></div>'
        f'<script type="module" src="../{LIVE_DIR}/lk-live.js"></script>'
    )


def _short_error(output: dict[str, Any]) -> None:
    """An exercise left unwritten: show its one-line message, not a traceback through the kit."""
    if output.get("ename") == "ExerciseNotDone":
        output["traceback"] = [f"{output['ename']}: {output.get('evalue', '')}"]


def page_notebook(executed: nbformat.NotebookNode, assets: LiveAssets, lang: str) -> nbformat.NotebookNode:
    """A copy of an executed notebook ready for its page (see the module's docstring). Widgets the site has no
    live figure for keep their text, and no widget state is kept (it would make the page load widget code)."""
    nb = copy.deepcopy(executed)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                _short_error(output)
            data = output.get("data")
            if not data or WIDGET_VIEW not in data:
                continue
            spec = output.get("metadata", {}).pop(FIGURE_METADATA, None)
            if spec is None:
                data.pop(WIDGET_VIEW)
                continue
            files = assets.model_files(spec)
            output["data"] = {"text/html": _placeholder(spec, data, files, lang)}
    return nb


def decode_png(b64: str) -> np.ndarray:
    """An RGB picture from base64 PNG (tests read the static pictures with it)."""
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))
