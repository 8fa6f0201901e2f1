"""The hidden cases' inputs never reach a student through an error's message (red team finding #15): an
answer that raises `ValueError(f"{pixels.tolist()}")` had the hidden inputs written into its feedback. For a
hidden case the feedback names the error's type and the student's line; the notebook's visible check, whose
inputs the student sees anyway, keeps the whole message."""

from __future__ import annotations

from lecturekit.exercises import get_exercise
from lecturekit.grading.compare import StudentCode, judge_exercise
from lecturekit.grading.execute import CallResult, Outcome
from lecturekit.i18n import in_language

WHERE = "line 2, in shift_right: raise ValueError(f'k={start_token} pixels={pixels.tolist()}')"
LEAKY = StudentCode.of(["def shift_right(pixels, start_token):\n    " + WHERE.split(": ", 1)[1]])  # the notebook


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
    result = judge_exercise(get_exercise("nb03.shift"), hidden, visible, _leaky_call(hidden + visible), code=LEAKY)
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
    result = judge_exercise(
        get_exercise("nb03.shift"), hidden, [], _leaky_call(hidden, error_type=data_type), code=LEAKY
    )
    feedback = "\n".join(result.messages)
    assert data_type not in feedback and "Error on a hidden case" in feedback


def test_the_hidden_error_line_is_written_in_the_students_language() -> None:
    hidden, _ = _cases()
    result = judge_exercise(get_exercise("nb03.shift"), hidden, [], _leaky_call(hidden), code=LEAKY)
    line = next(m for m in result.messages if "hidden case (" in m)
    translated = in_language(line, "zh_CN")
    assert translated != line and translated.startswith("  - ") and "ValueError" in translated
    assert "line 2, in shift_right" in translated


# ---- what a hidden case's "where" may show (the red team's residual weakness (a)) ----
# The kernel reports each frame as "line N, in NAME: CODE", and everything in it is the kernel's to choose: code
# generated at run time (exec, with linecache filled in by hand), a function or class named at run time, a line
# number. A hidden case shows only what the grader can check against the notebook it ran, which was fixed
# before any hidden input existed: a line of that code, a name written in it, a line number within its cells.

NOTEBOOK = [
    "import torch\nclass Odd(Exception):\n    pass\n",
    "def shift_right(pixels, start_token):\n    out = pixels.roll(1, -1)\n    raise Odd('no')\n    return out\n",
]


def _code() -> StudentCode:
    return StudentCode.of(NOTEBOOK)


def _one_error_call(cases: list[tuple], error: dict, kind: str = "function", defined: bool = True) -> CallResult:
    errors = [dict(error) for _ in cases]
    return CallResult(Outcome("ok"), defined=defined, kind=kind, values=[None] * len(cases), errors=errors)


def _hidden_feedback(error: dict, **call) -> str:
    hidden, _ = _cases()
    result = judge_exercise(
        get_exercise("nb03.shift"), hidden, [], _one_error_call(hidden, error, **call), code=_code()
    )
    return "\n".join(result.messages)


def _data(hidden: list[tuple]) -> str:
    """The hidden inputs as an identifier: what a hostile answer puts where only names may go."""
    return "v_" + "_".join(str(int(v)) for v in hidden[0][0].flatten().tolist()[:30])


def test_a_line_of_the_notebook_is_shown_for_a_hidden_case() -> None:
    feedback = _hidden_feedback({"type": "Odd", "message": "no", "where": ["line 3, in shift_right: raise Odd('no')"]})
    assert "Odd on a hidden case (its message is not shown) at line 3, in shift_right: raise Odd('no')" in feedback


def test_code_made_at_run_time_is_not_shown_for_a_hidden_case() -> None:
    hidden, _ = _cases()
    data = str(hidden[0][0].tolist())
    feedback = _hidden_feedback({"type": "ValueError", "message": "", "where": [f"line 1, in shift_right: x = {data}"]})
    assert data not in feedback and data[:20] not in feedback
    assert "ValueError on a hidden case" in feedback


def test_a_function_named_at_run_time_is_not_shown_for_a_hidden_case() -> None:
    hidden, _ = _cases()
    name = _data(hidden)
    feedback = _hidden_feedback({"type": "ValueError", "message": "", "where": [f"line 3, in {name}: raise Odd('no')"]})
    assert name not in feedback and name[:12] not in feedback


def test_an_error_class_named_at_run_time_is_not_shown_for_a_hidden_case() -> None:
    """`type("v_3_1_4...", (Exception,), {})`: a valid identifier, so a pattern on the name lets it through."""
    hidden, _ = _cases()
    name = _data(hidden)
    feedback = _hidden_feedback({"type": name, "message": "", "where": []})
    assert name not in feedback and "Error on a hidden case" in feedback
    assert "Odd on a hidden case" in _hidden_feedback({"type": "Odd", "message": "", "where": []})
    assert "IndexError on a hidden case" in _hidden_feedback({"type": "IndexError", "message": "", "where": []})


def test_a_line_number_beyond_the_notebooks_cells_is_not_shown() -> None:
    hidden, _ = _cases()
    number = int("".join(str(int(v)) for v in hidden[0][0].flatten().tolist()[:9]) or "0") + 1000
    feedback = _hidden_feedback(
        {"type": "ValueError", "message": "", "where": [f"line {number}, in shift_right: raise Odd('no')"]}
    )
    assert str(number) not in feedback


def test_what_the_kernel_says_the_answer_is_carries_no_data() -> None:
    """`shift_right` rebound, during the call, to an object of a class named after the hidden inputs: the kernel
    reports it as not defined, of that kind."""
    hidden, _ = _cases()
    name = _data(hidden)
    feedback = _hidden_feedback({"type": "", "message": "", "where": []}, kind=name, defined=False)
    assert name not in feedback and "shift_right is a" in feedback
    assert "shift_right is a int, not a function" in _hidden_feedback({}, kind="int", defined=False)
