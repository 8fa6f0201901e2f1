"""The sentence-interpolation widget of notebook 06: two sentences, a number of steps, the decoded path.

Type two sentences; the widget encodes both (posterior means), takes equally spaced codes on the
line between them (both ends included) and shows what the decoder writes at each. When the model reads
a sentence otherwise than it was typed, a note says what it did: words outside its vocabulary are named
and read as <unk>, words past its longest sentence are named and left out, and the sentence as the model
reads it is shown; an empty box gets a message, never a traceback.
A position slider (t from 0 = sentence A to 1 = sentence B) decodes the single code at that point of
the line, between the table's rows too, so a student can slide along the path.
CSS classes: lk-sentence-a, lk-sentence-b, lk-steps, lk-decoding, lk-interp-table, lk-interp-note,
lk-position (the slider), lk-position-sentence (what is decoded there).
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import torch

from lecturekit.corpus import tokenize
from lecturekit.i18n import N_, _
from lecturekit.models.sentence_vae import (
    LECTURE_SENTENCES,
    SentenceError,
    SentenceVAE,
    decode_codes,
    encode_sentences,
    interpolate_codes,
)
from lecturekit.widgets.static import StaticFallback

METHODS = ((N_("greedy"), "greedy"), (N_("beam search (5)"), "beam"), (N_("sampling (T=0.7)"), "sample"))


def interpolation_rows(
    model: SentenceVAE,
    sentence_a: str,
    sentence_b: str,
    n_steps: int,
    vocab: Any = None,
    method: str = "greedy",
    seed: int = 0,
) -> tuple[list[str], list[str]]:
    """(decoded sentences along the path, notes for the user): the widget's work, without the widget."""
    vocab = vocab if vocab is not None else model.vocab
    notes = []
    for label, text in (("A", sentence_a), ("B", sentence_b)):
        if not text or not text.strip():
            raise SentenceError(_("sentence {label} is empty: type a sentence into box {label}.").format(label=label))
        notes += reading_notes(label, text, vocab, model.max_len)
    with torch.inference_mode():
        mean, _log_var = encode_sentences(model, [sentence_a, sentence_b], vocab)
        codes = interpolate_codes(mean[0], mean[1], n_steps)
        kwargs: dict[str, Any] = {"method": method}
        if method == "sample":
            kwargs.update(temperature=0.7, generator=torch.Generator().manual_seed(seed))
        rows = decode_codes(model, codes, vocab, **kwargs)
    return rows, notes


def reading_notes(label: str, text: str, vocab: Any, max_len: int) -> list[str]:
    """What the model does with a typed sentence, when that is not simply reading it: its words outside the
    vocabulary (read as <unk>), its words past the longest sentence the model reads (left out), and then the
    sentence as the model reads it. Empty when the model reads the sentence as typed."""
    words = tokenize(text)
    unknown = vocab.unknown_words(words)
    kept, cut = words[: max_len - 1], words[max_len - 1 :]
    notes = []
    if unknown:
        message = (
            N_("sentence {label}: {words} is not in the model's vocabulary ({n} words) and is read as <unk>.")
            if len(unknown) == 1
            else N_("sentence {label}: {words} are not in the model's vocabulary ({n} words) and are read as <unk>.")
        )
        notes.append(_(message).format(label=label, words=", ".join(f"'{w}'" for w in unknown), n=len(vocab)))
    if cut:
        notes.append(
            _("sentence {label}: the model reads at most {n} words, so the last {m} are left out: {words}.").format(
                label=label, n=len(kept), m=len(cut), words=" ".join(cut)
            )
        )
    if unknown or cut:
        read = " ".join(w if w in vocab.stoi else "<unk>" for w in kept)
        notes.append(_("sentence {label} as the model reads it: {read}").format(label=label, read=read))
    return notes


def decode_at(
    model: SentenceVAE,
    sentence_a: str,
    sentence_b: str,
    t: float,
    vocab: Any = None,
    method: str = "greedy",
    seed: int = 0,
) -> str:
    """The sentence decoded at position t of the line from A's code (t = 0) to B's (t = 1)."""
    vocab = vocab if vocab is not None else model.vocab
    for label, text in (("A", sentence_a), ("B", sentence_b)):
        if not text or not text.strip():
            raise SentenceError(_("sentence {label} is empty: type a sentence into box {label}.").format(label=label))
    with torch.inference_mode():
        mean, _log_var = encode_sentences(model, [sentence_a, sentence_b], vocab)
        code = (mean[0] + float(t) * (mean[1] - mean[0]))[None, :]
        kwargs: dict[str, Any] = {"method": method}
        if method == "sample":
            kwargs.update(temperature=0.7, generator=torch.Generator().manual_seed(seed))
        return decode_codes(model, code, vocab, **kwargs)[0]


def table_html(rows: list[str], grammatical: list[bool] | None = None) -> str:
    """The decoded path as an HTML table (position t from 0 to 1, the sentence, in the grammar or not)."""
    n = len(rows)
    head = (
        "<tr><th style='text-align:right;padding:2px 8px'>t</th><th style='text-align:left'>" + _("decoded") + "</th>"
    )
    head += "<th style='padding:2px 8px'>" + _("grammar") + "</th></tr>" if grammatical is not None else "</tr>"
    body = []
    empty = "<i>" + _("(empty)") + "</i>"
    for i, text in enumerate(rows):
        t = i / (n - 1) if n > 1 else 0.0
        cells = (
            f"<td style='text-align:right;padding:2px 8px;font-family:monospace'>{t:.2f}</td>"
            f"<td class='lk-interp-sentence' style='text-align:left'>{html.escape(text) or empty}</td>"
        )
        if grammatical is not None:
            cells += f"<td style='text-align:center'>{'✓' if grammatical[i] else '·'}</td>"
        body.append(f"<tr>{cells}</tr>")
    return f"<table class='lk-interp-rows'>{head}{''.join(body)}</table>"


class SentenceInterpolationWidget(StaticFallback, widgets.VBox):
    """Two text boxes, a step count and a decoding method; the table updates on every change. Its controls are
    attributes: `.sentence_a`, `.sentence_b`, `.steps`, `.method`, `.position`, `.at_position`, `.table`,
    `.note`; `.rows` holds the sentences shown, `.sentence_at_position` the one decoded at the slider's t."""

    def __init__(
        self,
        model: SentenceVAE,
        vocab: Any = None,
        sentence_a: str = LECTURE_SENTENCES[0],
        sentence_b: str = LECTURE_SENTENCES[1],
        steps: int = 7,
        method: str = "greedy",
        check_grammar: bool = True,
    ) -> None:
        model.eval()
        self.model = model
        self.vocab = vocab if vocab is not None else model.vocab
        self.check_grammar = check_grammar
        self._build_controls(sentence_a, sentence_b, steps, method)
        self.rows: list[str] = []
        self.notes: list[str] = []
        super().__init__(
            [
                self.sentence_a,
                self.sentence_b,
                widgets.HBox([self.steps, self.method]),
                self.note,
                self.position,
                self.at_position,
                self.table,
            ]
        )
        self.add_class("lk-sentence-interpolation")
        for control in (self.sentence_a, self.sentence_b, self.steps, self.method):
            control.observe(self.update, names="value")
        self.position.observe(self.update_position, names="value")
        self.update()  # warm-up: the first decode happens now, not on the first slider move

    def _build_controls(self, sentence_a: str, sentence_b: str, steps: int, method: str) -> None:
        """The text boxes, step count, decoding method, position slider and output areas, each with its CSS class."""
        wide = widgets.Layout(width="520px")
        self.sentence_a = widgets.Text(value=sentence_a, description=_("sentence A"), layout=wide)
        self.sentence_b = widgets.Text(value=sentence_b, description=_("sentence B"), layout=wide)
        self.steps = widgets.IntSlider(value=steps, min=2, max=15, description=_("steps"))
        self.method = widgets.Dropdown(
            options=[(_(label), key) for label, key in METHODS], value=method, description=_("decoding")
        )
        self.table = widgets.HTML()
        self.note = widgets.HTML()
        # FloatSlider's readout and step work the same in ipywidgets 7.7 and 8
        self.position = widgets.FloatSlider(
            value=0.0,
            min=0.0,
            max=1.0,
            step=0.05,
            description=_("position t"),
            readout_format=".2f",
            continuous_update=True,
            layout=wide,
        )
        self.at_position = widgets.HTML()
        self.sentence_at_position = ""
        for control, css in (
            (self.sentence_a, "lk-sentence-a"),
            (self.sentence_b, "lk-sentence-b"),
            (self.steps, "lk-steps"),
            (self.method, "lk-decoding"),
            (self.table, "lk-interp-table"),
            (self.note, "lk-interp-note"),
            (self.position, "lk-position"),
            (self.at_position, "lk-position-sentence"),
        ):
            control.add_class(css)

    def update(self, change: Any = None) -> None:
        """Re-encode, re-interpolate and re-decode; show the table, and notes about the input."""
        try:
            rows, notes = interpolation_rows(
                self.model,
                self.sentence_a.value,
                self.sentence_b.value,
                int(self.steps.value),
                self.vocab,
                self.method.value,
            )
        except SentenceError as exc:
            self.rows, self.notes = [], [str(exc)]
            self.note.value = f"<span style='color:#b45309'>{html.escape(str(exc))}</span>"
            self.table.value = ""
            self.sentence_at_position, self.at_position.value = "", ""
            return
        grammatical = None
        if self.check_grammar:
            from lecturekit.corpus import is_grammar_sentence

            grammatical = [bool(is_grammar_sentence(r)) for r in rows]
        self.rows, self.notes = rows, notes
        self.note.value = "<br>".join(f"<span style='color:#b45309'>{html.escape(n)}</span>" for n in notes)
        self.table.value = table_html(rows, grammatical)
        self.update_position()

    def update_position(self, change: Any = None) -> None:
        """Decode the code at the slider's position t (between the table's rows too) and show it."""
        t = float(self.position.value)
        try:
            sentence = decode_at(
                self.model, self.sentence_a.value, self.sentence_b.value, t, self.vocab, self.method.value
            )
        except SentenceError:
            self.sentence_at_position, self.at_position.value = "", ""
            return
        mark = ""
        if self.check_grammar:
            from lecturekit.corpus import is_grammar_sentence

            mark = " ✓ " + _("(in the grammar)") if is_grammar_sentence(sentence) else " · " + _("(not in the grammar)")
        self.sentence_at_position = sentence
        self.at_position.value = (
            f"<span style='font-family:monospace'>t = {t:.2f}</span>: "
            f"<b>{html.escape(sentence) or '<i>' + _('(empty)') + '</i>'}</b>{mark}"
        )


sentence_interpolation_widget = SentenceInterpolationWidget  # the name the notebooks call
