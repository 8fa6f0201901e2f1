"""The hidden cases' inputs never reach a student through an error's message (red team finding #15): an
answer that raises `ValueError(f"{pixels.tolist()}")` had the hidden inputs written into its feedback. For a
hidden case the feedback names the error's type and the student's line; the notebook's visible check, whose
inputs the student sees anyway, keeps the whole message."""

from __future__ import annotations

from lecturekit.exercises import get_exercise
from lecturekit.grading.compare import judge_exercise
from lecturekit.grading.execute import CallResult, Outcome
from lecturekit.i18n import in_language

WHERE = "line 2, in shift_right: raise ValueError(f'k={start_token} pixels={pixels.tolist()}')"


def _leaky_call(cases: list[tuple], error_type: str = "ValueError") -> CallResult:
    """What the kernel reports for an answer that raises its inputs as the message, on every case."""
    errors = [
        {"type": error_type, "message": f"k={k} pixels={pixels.tolist()}"[:600], "where": [WHERE]}
        for pixels, k in cases
    ]
    return CallResult(Outcome("ok"), defined=True, kind="function", values=[None] * len(cases), errors=errors)


def _cases() -> tuple[list[tuple], list[tuple]]:
    exercise = get_exercise("nb03.shift")
    return [c for seed in (101, 202) for c in exercise.cases(seed)], list(exercise.cases(0))


def test_hidden_error_messages_are_not_shown_but_their_type_and_line_are() -> None:
    hidden, visible = _cases()
    result = judge_exercise(get_exercise("nb03.shift"), hidden, visible, _leaky_call(hidden + visible))
    feedback = "\n".join(result.messages)
    assert result.status == "error" and result.right == 0
    for pixels, _k in hidden:
        assert str(pixels.tolist()) not in feedback
        assert str(pixels.tolist())[:40] not in feedback  # not even the start of one
    hidden_lines = result.messages[: result.messages.index("  the notebook's visible check says:")]
    assert any("ValueError on a hidden case" in m and "line 2, in shift_right" in m for m in hidden_lines), feedback
    # the visible check shows its own inputs' message: the student sees those inputs in the notebook anyway
    assert f"pixels={visible[0][0].tolist()}" in feedback


def test_an_error_type_that_carries_data_is_not_shown_for_hidden_cases() -> None:
    """The type's name is the student's to choose too (`type(str(pixels.tolist()), (Exception,), {})`)."""
    hidden, visible = _cases()
    data_type = str(hidden[0][0].tolist())
    result = judge_exercise(get_exercise("nb03.shift"), hidden, [], _leaky_call(hidden, error_type=data_type))
    feedback = "\n".join(result.messages)
    assert data_type not in feedback and "Error on a hidden case" in feedback


def test_the_hidden_error_line_is_written_in_the_students_language() -> None:
    hidden, _ = _cases()
    result = judge_exercise(get_exercise("nb03.shift"), hidden, [], _leaky_call(hidden))
    line = next(m for m in result.messages if "hidden case (" in m)
    translated = in_language(line, "zh_CN")
    assert translated != line and translated.startswith("  - ") and "ValueError" in translated and WHERE in translated
