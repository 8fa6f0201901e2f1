"""Wrong and right answers to every exercise, and how the kit's three judges treat them.

Each `answers_nbNN.py` beside this file holds, for the exercises of notebook NN:
- `MUTANTS = {"nbNN.name": [Mutant(...), ...]}`: plausible wrong answers (the mistakes students make: a
  sign, a scale, an axis, an off-by-one, a missing clamp or `detach`, a wrong dtype). Each must be
  rejected by the notebook's visible check (`check(name, fn)`), by the hidden test cell
  (`check(name, fn, hidden=True)`) and by the grader's verdict on secret-seed cases, and the visible
  check's message and the grader's feedback must both name the mistake (contain one of `mentions`).
- `ALTERNATIVES = {"nbNN.name": ["def ...", ...]}`: other correct ways of writing it, which all three
  must accept.

A mutant or an alternative is the source of an answer cell (it defines the exercise's function);
it runs with `torch`, `np`, `F` (torch.nn.functional) and `nn` already imported, as in the notebooks.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import lecturekit
from lecturekit.exercises import Exercise, ReferenceUnavailable, WrongAnswer, _fresh, answer_of, check, get_exercise
from lecturekit.grading.compare import ExerciseResult, judge_exercise
from lecturekit.grading.execute import CallResult, Outcome, _decode
from lecturekit.grading.grader import HIDDEN_SEEDS, derive_seed
from lecturekit.grading.kernel_code import _encode, _encode_array, _encode_plain
from lecturekit.grading.withheld import withheld_by_default, withheld_functions

HERE = Path(__file__).resolve().parent
PACKAGE = Path(lecturekit.__file__).resolve().parent


@dataclass(frozen=True)
class Mutant:
    """One wrong answer: what mistake it makes, its source, and words of which the feedback must hold one."""

    mistake: str
    source: str
    mentions: tuple[str, ...]


def all_answers() -> tuple[dict[str, list[Mutant]], dict[str, list[str]]]:
    """Every answers_nbNN.py's MUTANTS and ALTERNATIVES, joined."""
    mutants: dict[str, list[Mutant]] = {}
    alternatives: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("answers_nb*.py")):
        module = importlib.import_module(path.stem)
        for name, items in getattr(module, "MUTANTS", {}).items():
            mutants.setdefault(name, []).extend(items)
        for name, items in getattr(module, "ALTERNATIVES", {}).items():
            alternatives.setdefault(name, []).extend(items)
    return mutants, alternatives


def define(exercise: Exercise, source: str) -> Any:
    """The function an answer cell's source defines, run as the notebook would run it."""
    namespace: dict[str, Any] = {
        "torch": torch,
        "np": np,
        "nn": torch.nn,
        "F": torch.nn.functional,
        "__name__": "__answer__",
    }
    exec(compile(source, f"<answer to {exercise.name}>", "exec"), namespace)  # noqa: S102 - test answers
    fn = namespace.get(exercise.function)
    assert callable(fn), f"the answer source does not define {exercise.function}()"
    return fn


def _through_the_wire(value: Any) -> Any:
    """The value as the grader receives it from a kernel: encoded to JSON + .npz there, decoded here."""
    ctx = {
        "np": np,
        "torch": torch,
        "arrays": {},
        "count": 0,
        "encode": _encode,
        "encode_array": _encode_array,
        "encode_plain": _encode_plain,
    }
    node = _encode(value, ctx)
    buffer = io.BytesIO()
    np.savez(buffer, **ctx["arrays"])
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as arrays:
        return _decode(node, arrays)


def grader_verdict(exercise: Exercise, fn: Any, base_seed: int = 20261201) -> ExerciseResult:
    """What the grader decides for `fn`: the same cases (secret seeds, then the visible ones), the values
    passed through the kernel's encoding, judged by `judge_exercise` (only the kernel itself is left out)."""
    hidden = [
        case
        for k in range(HIDDEN_SEEDS)
        for case in exercise.cases(derive_seed(base_seed, "answers", exercise.name, k))
    ]
    visible = list(exercise.cases(0))
    values: list[Any] = []
    errors: list[dict[str, Any] | None] = []
    for args in hidden + visible:
        try:
            with as_in_a_grading_kernel([exercise]):  # the answer runs as in the kernel; the encoding is the grader's
                answer = answer_of(exercise, fn, _fresh(args))
            values.append(_through_the_wire(answer))
            errors.append(None)
        except Exception as exc:  # noqa: BLE001 - the kernel reports any error as a case error
            values.append(None)
            errors.append({"type": type(exc).__name__, "message": str(exc)[:600], "where": []})
    call = CallResult(Outcome("ok"), defined=True, kind="function", values=values, errors=errors)
    return judge_exercise(exercise, hidden, visible, call)


@functools.lru_cache(maxsize=64)
def _withheld_in_kernel(exercise_names: tuple[str, ...]) -> tuple[frozenset[int], tuple[tuple[type, str], ...]]:
    """(ids of the functions, (class, method) pairs) a grading kernel's copy withholds for these exercises."""
    exercises = [get_exercise(n) for n in exercise_names]
    needed = frozenset(n for e in exercises for n in e.kernel_needs)
    functions: set[int] = {id(fn) for fn in withheld_functions(exercises)}
    methods: list[tuple[type, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        module = importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
        for qualname in withheld_by_default(module.__name__, path.read_text(encoding="utf-8"), needed):
            first, _, method = qualname.partition(".")
            owner = getattr(module, first, None)
            if method and inspect.isclass(owner) and method in vars(owner):
                methods.append((owner, method))
            elif not method and owner is not None:
                functions.add(id(owner))
    return frozenset(functions), tuple(methods)


@contextlib.contextmanager
def as_in_a_grading_kernel(exercises: list[Exercise]) -> Iterator[None]:
    """The package as a grading kernel's copy has it while the block runs: every function and method the copy
    withholds (by default, and the exercises' references and twins) raises ReferenceUnavailable, wherever a
    module holds it (`from ... import` copies included). Restored afterwards."""
    functions, methods = _withheld_in_kernel(tuple(sorted(e.name for e in exercises)))
    patched = [
        (module, name, value)
        for key, module in list(sys.modules.items())
        if key.startswith("lecturekit") and module is not None
        for name, value in list(vars(module).items())
        if callable(value) and id(value) in functions
    ]
    patched += [(cls, name, vars(cls)[name]) for cls, name in methods]
    try:
        for owner, name, value in patched:
            setattr(owner, name, _stub(f"{getattr(owner, '__name__', owner)}.{name}", value))
        yield
    finally:
        for owner, name, value in reversed(patched):
            setattr(owner, name, value)


def _stub(name: str, like: Any) -> Any:
    """A stand-in raising ReferenceUnavailable, of the same kind as `like` (function, property, static...)."""

    def withheld(*args: Any, **kwargs: Any) -> Any:
        raise ReferenceUnavailable(name)

    if isinstance(like, property):
        return property(withheld)
    if isinstance(like, staticmethod):
        return staticmethod(withheld)
    if isinstance(like, classmethod):
        return classmethod(withheld)
    return withheld


def visible_message(name: str, fn: Any) -> str | None:
    """The visible check's message (None: it passed)."""
    try:
        check(name, fn)
    except WrongAnswer as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - the answer raised: the check shows that error
        return f"{type(exc).__name__}: {exc}"
    return None


def hidden_test_passes(name: str, fn: Any) -> bool:
    """Whether the notebook's hidden test cell (`check(..., hidden=True)`) passes."""
    try:
        check(name, fn, hidden=True)
    except Exception:  # noqa: BLE001
        return False
    return True


def mutant_problems(name: str, mutant: Mutant) -> list[str]:
    """Why this mutant is not properly rejected (empty: it is rejected everywhere, its mistake named)."""
    exercise = get_exercise(name)
    fn = define(exercise, mutant.source)
    problems = []
    shown = visible_message(name, fn)
    if shown is None:
        problems.append("the visible check accepts it")
    elif not any(m.lower() in shown.lower() for m in mutant.mentions):
        problems.append(f"the visible check does not name the mistake: {shown[:300]!r}")
    if hidden_test_passes(name, fn):
        problems.append("the hidden test cell accepts it")
    verdict = grader_verdict(exercise, fn)
    feedback = "\n".join(verdict.messages)
    if verdict.status == "passed":
        problems.append("the grader gives it full marks")
    elif not any(m.lower() in feedback.lower() for m in mutant.mentions):
        problems.append(f"the grader's feedback does not name the mistake: {feedback[:300]!r}")
    return problems


def alternative_problems(name: str, source: str) -> list[str]:
    """Why this correct answer is not accepted everywhere (empty: it is)."""
    exercise = get_exercise(name)
    fn = define(exercise, source)
    problems = []
    shown = visible_message(name, fn)
    if shown is not None:
        problems.append(f"the visible check rejects it: {shown[:300]!r}")
    if not hidden_test_passes(name, fn):
        problems.append("the hidden test cell rejects it")
    verdict = grader_verdict(exercise, fn)
    if verdict.status != "passed":
        problems.append(f"the grader does not pass it: {verdict.messages[:3]}")
    return problems
