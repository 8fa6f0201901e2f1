"""The sentence-interpolation widget, built and driven from Python as a student would drive it."""

from __future__ import annotations

import re

import pytest
import torch

from lecturekit.corpus import LECTURE_SENTENCES
from lecturekit.models import sentence_vae as sv
from lecturekit.widgets.sentences import sentence_interpolation_widget


def _rows(html: str) -> list[str]:
    return re.findall(r"<td class='lk-interp-sentence'[^>]*>(.*?)</td>", html)


@pytest.fixture(scope="module")
def model() -> sv.SentenceVAE:
    import lecturekit

    return lecturekit.load_pretrained("sentence_vae")


@pytest.fixture(scope="module")
def tiny() -> sv.SentenceVAE:
    torch.manual_seed(0)
    vocab = sv.build_vocab(list(LECTURE_SENTENCES) + ["she went to the park", "i bought some milk"])
    m = sv.SentenceVAE(len(vocab), embed_dim=8, hidden_dim=16, latent_dim=4, max_len=10)
    m.vocab = vocab
    return m.eval()


def test_widget_has_its_controls_and_css_classes(tiny: sv.SentenceVAE) -> None:
    w = sentence_interpolation_widget(tiny)
    for control, css in (
        (w.sentence_a, "lk-sentence-a"),
        (w.sentence_b, "lk-sentence-b"),
        (w.steps, "lk-steps"),
        (w.table, "lk-interp-table"),
        (w.note, "lk-interp-note"),
        (w.method, "lk-decoding"),
    ):
        assert css in control._dom_classes
        assert control in w.children or any(control in getattr(c, "children", ()) for c in w.children)
    assert (w.sentence_a.value, w.sentence_b.value) == LECTURE_SENTENCES
    assert len(_rows(w.table.value)) == 7 == len(w.rows)  # warm-up call filled the table


def test_driving_the_widget_changes_the_table(tiny: sv.SentenceVAE) -> None:
    w = sentence_interpolation_widget(tiny, check_grammar=False)
    w.steps.value = 4
    assert len(_rows(w.table.value)) == 4 and w.table.value.count("<tr>") == 5
    w.sentence_a.value = ""
    assert w.table.value == "" and "empty" in w.note.value and w.rows == []
    w.sentence_a.value = "she went to the zyzzyva"
    assert "zyzzyva" in w.note.value and "&lt;unk&gt;" in w.note.value  # shown, not a crash
    assert "she went to the &lt;unk&gt;" in w.note.value  # and the sentence as the model reads it
    assert len(w.rows) == 4
    w.sentence_a.value = "she went to the park " * 3  # 15 words: the tiny model reads 9
    assert "at most 9 words" in w.note.value and "left out" in w.note.value
    w.sentence_a.value = "i bought some milk"
    assert w.note.value.strip() == "" or "sentence A" not in w.note.value


def test_shipped_model_path_moves_between_the_lecture_sentences(model: sv.SentenceVAE) -> None:
    w = sentence_interpolation_widget(model)
    first = list(w.rows)
    assert len(first) == 7 and first[0] != first[-1]
    assert first == sv.interpolate(model, *LECTURE_SENTENCES, 7)
    assert "✓" in w.table.value  # the grammar column is filled
    w.sentence_b.value = "she went to the park with her dog"
    assert w.rows != first and len(w.rows) == 7
    w.method.value = "beam"
    assert len(_rows(w.table.value)) == 7
    w.method.value = "sample"
    sampled = list(w.rows)
    w.steps.value = 6
    w.steps.value = 7
    assert w.rows == sampled  # sampling is seeded: same table for the same inputs


def test_position_slider_slides_along_the_path(model: sv.SentenceVAE) -> None:
    w = sentence_interpolation_widget(model)
    assert "lk-position" in w.position._dom_classes and "lk-position-sentence" in w.at_position._dom_classes
    assert w.position in w.children and w.at_position in w.children
    assert w.sentence_at_position == w.rows[0] and "t = 0.00" in w.at_position.value  # starts at sentence A
    w.position.value = 1.0
    assert w.sentence_at_position == w.rows[-1] and "t = 1.00" in w.at_position.value
    w.position.value = 0.5  # the middle row of a 7-step table is t = 0.5
    assert w.sentence_at_position == w.rows[3]
    seen = set()
    for t in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3):  # between the table's rows, too
        w.position.value = t
        seen.add(w.sentence_at_position)
    assert all(seen) and ("✓" in w.at_position.value or "·" in w.at_position.value)
    w.sentence_b.value = "she went to the park with her dog"  # new sentences: the slider's sentence follows
    assert (
        w.sentence_at_position
        == sv.decode_codes(
            model,
            (lambda m: (m[0] + 0.3 * (m[1] - m[0]))[None])(
                sv.encode_sentences(model, [w.sentence_a.value, w.sentence_b.value])[0]
            ),
        )[0]
    )
    w.sentence_a.value = ""
    assert w.sentence_at_position == "" and w.at_position.value == ""
