"""Verdicts, computed in the grader's process: the student's returned values against the exercise's
reference on the same inputs (`Exercise.verdict`), so nothing the student's kernel does to numpy,
torch, builtins or the kit's checks can change them.

Feedback rules: the exercise's inputs on the hidden (secret-seed) cases and their expected values
are never shown -- only counts and what kind of thing was wrong; the notebook's visible check
(seed 0, which the student can run anyway) is reported in full.
"""

from __future__ import annotations

import builtins
import re
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lecturekit.exercises import Exercise, Mistake, _fresh, answer_of
from lecturekit.grading.execute import CallResult, Unsupported
from lecturekit.i18n import N_, _, in_language, indented

_WORST_FIRST = ("timeout", "error", "failed", "missing")


@dataclass
class ExerciseResult:
    function: str
    right: int
    total: int
    status: str
    messages: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """One graded cell's row: points out of max_points, a status, and what to tell the student."""

    grade_id: str
    points: float
    max_points: float
    status: str
    messages: list[str] = field(default_factory=list)


def _category(message: str) -> str:
    """What kind of problem a comparison message describes, without its numbers (read in English, whatever
    the grader's language)."""
    low = str(in_language(message, "en")).lower()
    if "shape" in low:
        return _("the shape of the result is wrong")
    if "integers" in low or "dtype" in low:
        return _("the dtype of the result is wrong")
    if "nan" in low or "inf" in low:
        return _("the result contains NaN or inf")
    if "tuple" in low or "expected an array" in low or "expected a number" in low or "expected one number" in low:
        return _("the result is the wrong kind of value")
    return _("the values are wrong")


HIDDEN_ERROR = N_("{error} on a hidden case (its message is not shown)")
HIDDEN_ERROR_AT = N_("{error} on a hidden case (its message is not shown) at {where}")
_ANSWER_FAILED = N_("{fn}() is not defined in your notebook (your answer cell failed: {error})")
_DEAD_NO_REASON = N_("the Python kernel stopped while {fn}() ran (it exited, crashed or went over the memory limit)")
_WHERE = re.compile(r"line ([0-9]{1,6}), in (\S{1,100}): (.+)", re.S)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CODE_NAMES = frozenset({"<module>", "<lambda>", "<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>"})


@dataclass(frozen=True)
class StudentCode:
    """The code the grader ran for one copy, as it read it before any hidden input existed: all that a hidden
    case's error may show of where it happened, and of what. Whatever the kernel reports is checked against it
    (a line of these cells, a name written in them, a line number within them), so that the kernel can only
    choose among things fixed in advance, never write the hidden inputs into a name, a line or a number."""

    lines: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    longest: int = 0

    @classmethod
    def of(cls, sources: Iterable[str]) -> StudentCode:
        sources = list(sources)
        lines = {line.strip()[:160] for s in sources for line in s.split("\n") if line.strip()}
        names = {n for s in sources for n in _IDENTIFIER.findall(s)}
        return cls(frozenset(lines), frozenset(names), max((s.count("\n") + 1 for s in sources), default=0))

    def where(self, entries: list[str]) -> list[str]:
        """The entries of a traceback ("line N, in NAME: CODE") that this code holds, the others left out."""
        kept = []
        for entry in entries:
            m = _WHERE.fullmatch(str(entry))
            if not m:
                continue
            lineno, name, line = int(m[1]), m[2], m[3]
            if 0 < lineno <= self.longest and (name in self.names or name in _CODE_NAMES) and line in self.lines:
                kept.append(entry)
        return kept

    def known_name(self, name: str) -> bool:
        """A type's name the kernel may report for a hidden case: one of Python's, torch's or numpy's, or one
        written in the notebook (a class built at run time may be named after the hidden inputs)."""
        return name in self.names or name in _library_names()


@lru_cache(maxsize=1)
def _library_names() -> frozenset[str]:
    """The names of the classes Python, torch and numpy define at their top level (errors, types)."""
    import importlib

    names = {t.__name__ for t in vars(types).values() if isinstance(t, type)}
    names |= {n for n, v in vars(builtins).items() if isinstance(v, type)}
    for module in ("torch", "torch.linalg", "torch.nn", "numpy", "numpy.linalg", "numpy.exceptions"):
        try:
            found = vars(importlib.import_module(module)).items()
        except ImportError:
            continue
        names |= {v.__name__ for _, v in found if isinstance(v, type)}
    return frozenset(n for n in names if _IDENTIFIER.fullmatch(n))


def _error_text(err: dict[str, Any], hidden: bool = False, code: StudentCode | None = None) -> str:
    """What a case's error says: its type, its message and where in the student's code it was raised. For a
    hidden case the message is left out: the student's code chooses the message, and `raise
    ValueError(f"{pixels.tolist()}")` would put the hidden inputs in the feedback; the type and the lines are
    shown only as far as `code` (the notebook that ran) holds them, for the same reason."""
    where = err.get("where") or []
    kind = str(err.get("type", "Error"))
    if hidden:
        code = code or StudentCode()
        kind = kind if code.known_name(kind) else "Error"
        shown = "; ".join(code.where(where))[:400]
        return _(HIDDEN_ERROR_AT if shown else HIDDEN_ERROR).format(error=kind, where=shown)
    where = "; ".join(where)[:400]
    return f"{kind}: {err.get('message', '')}".strip(": ")[:400] + (f" ({where})" if where else "")


def judge_cases(
    exercise: Exercise, cases: list[tuple], result: CallResult, hidden: int = 0, code: StudentCode | None = None
) -> list[tuple[str, str]]:
    """Per case: (kind, message) with kind in right / wrong / error / notdone / timeout. The first `hidden`
    cases are hidden ones: their errors are described without their messages (and only with what `code`,
    the notebook that ran, holds of their types and lines)."""
    out = []
    for i, (args, got, err) in enumerate(zip(cases, result.values, result.errors)):
        if err is not None:
            kind = {"NotImplementedError": "notdone", "Timeout": "timeout"}.get(err.get("type", ""), "error")
            out.append((kind, _error_text(err, hidden=i < hidden, code=code)))
            continue
        try:
            want = answer_of(exercise, exercise.reference, _fresh(args))
        except Exception as exc:  # noqa: BLE001 - the course's own bug: say so loudly
            raise RuntimeError(f"the reference of exercise {exercise.name} failed: {exc!r}") from exc
        if isinstance(got, Unsupported):
            out.append(
                ("wrong", f"returned a {got.type_name}, which cannot be checked (return tensors, arrays or numbers)")
            )
            continue
        try:
            problem = exercise.verdict(got, want, args)
        except Exception as exc:  # noqa: BLE001 - a compare function that chokes on an odd value
            problem = f"the result could not be compared ({type(exc).__name__}: {str(exc)[:120]})"
        out.append(("right", "") if problem is None else ("wrong", problem))
    return out


def judge_exercise(
    exercise: Exercise,
    hidden: list[tuple],
    visible: list[tuple],
    result: CallResult,
    answer_error: str = "",
    answer_status: str = "",
    code: StudentCode | None = None,
) -> ExerciseResult:
    """The verdict on one exercise from one call holding the hidden cases, then the visible ones; `code` is the
    notebook that ran (what a hidden case's error may show of itself, see StudentCode)."""
    fn = exercise.function
    n = len(hidden)
    not_run = _not_run(fn, n, result, answer_error, answer_status, code or StudentCode())
    if not_run is not None:
        return not_run
    judged = judge_cases(exercise, hidden + visible, result, hidden=n, code=code)
    hidden_j, visible_j = judged[:n], judged[n:]
    kinds = [k for k, _m in hidden_j]
    right = kinds.count("right")
    if right == n:
        return ExerciseResult(fn, n, n, "passed", [])
    if all(k == "notdone" for k in kinds):
        not_written = _("{fn}() is not written yet (it raises NotImplementedError)").format(fn=fn)
        return ExerciseResult(fn, 0, n, "missing", [not_written])
    status = "timeout" if "timeout" in kinds else "error" if "error" in kinds else "failed"
    messages = [_("{fn}(): {right} of {n} hidden cases right").format(fn=fn, right=right, n=n)]
    seen = _distinct_problems(hidden_j)
    messages += [indented("  - ", t) for t in seen[:4]]
    messages += _visible_check_lines(visible_j, seen)
    if exercise.hint:
        messages.append(_("hint: {hint}").format(hint=_(exercise.hint)).indented("  "))
    return ExerciseResult(fn, right, n, status, messages)


def _not_run(
    fn: str, n: int, result: CallResult, answer_error: str, answer_status: str, code: StudentCode
) -> ExerciseResult | None:
    """The verdict when the call gave no values to judge (timeout, dead kernel, bad results, no function), else
    None. What the kernel says the answer is (written after the hidden cases ran) is shown only when `code`
    knows the name."""
    outcome = result.outcome
    if outcome.status == "timeout":
        timeout = _("{fn}() did not finish within the time limit (an endless loop?)").format(fn=fn)
        return ExerciseResult(fn, 0, n, "timeout", [timeout])
    if outcome.status == "dead":
        why = outcome.evalue or ""
        msg = N_("the Python kernel stopped while {fn}() ran: {why}") if why else _DEAD_NO_REASON
        return ExerciseResult(fn, 0, n, "error", [_(msg).format(fn=fn, why=why)])
    if result.problem:
        return ExerciseResult(fn, 0, n, "error", [result.problem])
    if not result.defined:
        msg = _(_ANSWER_FAILED if answer_error else N_("{fn}() is not defined in your notebook")).format(
            fn=fn, error=answer_error
        )
        if result.kind not in ("NoneType", ""):
            kind = result.kind if code.known_name(result.kind) else "object"
            msg = _("{fn} is a {kind}, not a function").format(fn=fn, kind=kind)
        status = "timeout" if answer_status == "timeout" else "error" if answer_error else "missing"
        return ExerciseResult(fn, 0, n, status, [msg])
    return None


def _distinct_problems(hidden_j: list[tuple[str, str]]) -> list[str]:
    """What went wrong in the hidden cases, each kind of problem once, in order (no case's values shown)."""
    seen: list[str] = []
    for kind, message in hidden_j:
        if kind == "right":
            continue
        text = _problem_text(kind, message)
        if text not in seen:
            seen.append(text)
    return seen


def _problem_text(kind: str, message: str) -> str:
    """One hidden case's problem as the student reads it: a wrong value's category, the timeout, the error."""
    if kind == "wrong":
        return message if isinstance(message, Mistake) else _category(message)
    if kind == "timeout":
        return _("not finished in time")
    return message if kind == "error" else "NotImplementedError"


def _visible_check_lines(visible_j: list[tuple[str, str]], seen: list[str]) -> list[str]:
    """What the notebook's visible check says beyond the hidden problems, or that it passes."""
    wrong_visible = [(i, m) for i, (k, m) in enumerate(visible_j) if k not in ("right", "timeout") and m not in seen]
    if wrong_visible:
        return [_("the notebook's visible check says:").indented("  ")] + [
            _("case {n}: {problem}").format(n=i + 1, problem=m).indented("  - ") for i, m in wrong_visible[:3]
        ]
    if visible_j and all(k == "right" for k, _k in visible_j):
        return [_("(it passes the notebook's visible check: test other shapes and edge cases)").indented("  ")]
    return []


def combine(grade_id: str, max_points: float, partial: bool, results: list[ExerciseResult]) -> Verdict:
    """One cell's points from its exercises: all-or-nothing, or the share of cases when `partial`."""
    total = sum(r.total for r in results)
    right = sum(r.right for r in results)
    if results and all(r.status == "passed" for r in results):
        return Verdict(grade_id, max_points, max_points, "passed", [])
    share = right / total if total else 0.0
    points = round(max_points * share, 2) if partial else 0.0
    statuses = {r.status for r in results}
    status = next((s for s in _WORST_FIRST if s in statuses), "failed")
    if status == "missing" and right:
        status = "failed"
    messages = [m for r in results for m in r.messages]
    return Verdict(grade_id, points, max_points, status, messages)


def plain_test_verdict(
    grade_id: str, max_points: float, status: str, ename: str, summary: str, hidden_part: bool
) -> Verdict:
    """A graded cell without exercises, nbgrader-style: full points when it runs without an error."""
    if status == "ok":
        return Verdict(grade_id, max_points, max_points, "passed", [])
    if status == "timeout":
        return Verdict(grade_id, 0.0, max_points, "timeout", [_("the test cell did not finish within the time limit")])
    if status == "dead":
        return Verdict(grade_id, 0.0, max_points, "error", [_("the Python kernel stopped during the test cell")])
    if ename == "NotImplementedError":
        return Verdict(grade_id, 0.0, max_points, "missing", [_("not answered yet (NotImplementedError)")])
    kind = "failed" if ename == "AssertionError" else "error"
    if hidden_part:
        return Verdict(grade_id, 0.0, max_points, kind, [_("a hidden test failed ({ename})").format(ename=ename)])
    return Verdict(grade_id, 0.0, max_points, kind, [summary])


def name_errors(texts: list[str]) -> set[str]:
    """Names from "name 'x' is not defined" messages."""
    return {m for t in texts for m in re.findall(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined", t)}
