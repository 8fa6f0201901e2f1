"""Where an exercise's answer is a number or an array of numbers, only real numbers can earn points: text that
parses as a number ("nan", "inf", numpy's str_), an array of text, a bool or a NaN never passes, whatever the
exercise's own compare does with it (red team finding #1: nb03's compare did `float(got)`, and NaN passes
every tolerance test). Generated over every registered exercise, judged directly and as the grader receives
the value from a kernel; the messages name kinds only, so they may be shown for hidden cases."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from answer_kit import _through_the_wire, define, grader_verdict

from lecturekit.exercises import Mistake, _fresh, all_exercises, answer_of, get_exercise


def _leaf_paths(value: Any, path: tuple = ()) -> list[tuple]:
    """The paths (indices and keys) of the numbers and arrays in a returned value, in order."""
    if isinstance(value, (tuple, list)):
        return [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))]
    if isinstance(value, dict):
        return [p for k in sorted(value) for p in _leaf_paths(value[k], (*path, k))]
    return [path]


def _replaced(value: Any, path: tuple, make: Callable[[Any], Any]) -> Any:
    """`value` with the leaf at `path` replaced by make(that leaf)."""
    if not path:
        return make(value)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replaced(v, rest, make) if k == head else v) for k, v in value.items()}
    items = [(_replaced(v, rest, make) if i == head else v) for i, v in enumerate(value)]
    return tuple(items) if isinstance(value, tuple) else items


def _shape(leaf: Any) -> tuple[int, ...]:
    """The leaf's shape; (1,) for an empty one, so that what replaces it holds at least one value (an empty
    float tensor holds no NaN, and some compares accept it where the answer is empty)."""
    shape = tuple(np.shape(leaf.detach().numpy() if isinstance(leaf, torch.Tensor) else leaf))
    return shape if math.prod(shape) else (1,)


HOSTILE: dict[str, Callable[[Any], Any]] = {
    "text nan": lambda leaf: "nan",
    "text inf": lambda leaf: "inf",
    "numpy str_ nan": lambda leaf: np.str_("nan"),
    "0-d text array": lambda leaf: np.array("nan"),
    "text array of the shape": lambda leaf: np.full(_shape(leaf), "nan"),
    "bytes": lambda leaf: b"nan",
    "a bool": lambda leaf: True,
    "a numpy bool": lambda leaf: np.bool_(True),
    "bools of the shape": lambda leaf: torch.ones(_shape(leaf), dtype=torch.bool),
    "a NaN": lambda leaf: math.nan,
    "NaNs of the shape": lambda leaf: torch.full(_shape(leaf), math.nan),
    "complex of the shape": lambda leaf: torch.full(_shape(leaf), 1 + 0j, dtype=torch.complex64),
}
SEEDS = (0, 7)  # the visible cases and one other seed (hidden cases are drawn the same way)


def _verdicts(name: str, hostile: str) -> list[tuple[str, str | None]]:
    """(where, verdict) for each case of both seeds, each numeric leaf of the answer replaced in turn (the
    first and the last), judged on the value as it is and as the grader decodes it from a kernel."""
    exercise = get_exercise(name)
    out = []
    for seed in SEEDS:
        for n, args in enumerate(exercise.cases(seed)):
            want = answer_of(exercise, exercise.reference, _fresh(args))
            paths = _leaf_paths(want)
            for path in dict.fromkeys([paths[0], paths[-1]]):
                got = _replaced(want, path, HOSTILE[hostile])
                where = f"seed {seed} case {n + 1} leaf {path}"
                out.append((where, exercise.verdict(got, want, args)))
                out.append((where + " (decoded)", exercise.verdict(_through_the_wire(got), want, args)))
    return out


@pytest.mark.parametrize("hostile", sorted(HOSTILE))
@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_every_exercise_refuses_what_is_not_a_real_number(name: str, hostile: str) -> None:
    verdicts = _verdicts(name, hostile)
    accepted = [where for where, problem in verdicts if problem is None]
    assert not accepted, f"{name} accepts {hostile} at {accepted[:3]}"
    # a named kind of mistake must not depend on the case: it holds no value of the (hidden) inputs
    mistakes = {where.split(" leaf")[1]: [] for where, _ in verdicts}
    for where, problem in verdicts:
        if isinstance(problem, Mistake):
            mistakes[where.split(" leaf")[1]].append(str(problem))
    for leaf, texts in mistakes.items():
        assert len(set(texts)) <= 1, f"{name}, {hostile} at leaf{leaf}: the message changes with the case: {texts}"


@pytest.mark.parametrize(
    "body", ['return "nan"', 'return np.str_("nan")', 'return "inf"', "return True", "return float('nan')"]
)
def test_the_grader_gives_no_points_for_text_or_nan_bits(body: str) -> None:
    """The red team's attack itself, judged as the grader judges it (values through the kernel's encoding)."""
    exercise = get_exercise("nb03.bits")
    fn = define(exercise, f"def bits_per_pixel_from_logits(logits, targets):\n    {body}")
    verdict = grader_verdict(exercise, fn)
    assert verdict.status == "failed" and verdict.right == 0, verdict
    feedback = "\n".join(verdict.messages)
    assert any(w in feedback for w in ("expected a number", "NaN", "got integers or booleans")), feedback


def test_one_element_tensors_and_python_numbers_still_count_as_numbers() -> None:
    """Refusing text must not refuse honest forms of one number: a (1,)-tensor, a Python float, a numpy float."""
    exercise = get_exercise("nb03.bits")
    for body in ("return float(r)", "return r.reshape(1)", "return np.float64(r.item())", "return r.double()"):
        source = (
            "def bits_per_pixel_from_logits(logits, targets):\n"
            "    r = F.cross_entropy(logits.flatten(0, -2), targets.flatten()) / np.log(2)\n"
            f"    {body}"
        )
        verdict = grader_verdict(exercise, define(exercise, source))
        assert verdict.status == "passed", (body, verdict.messages)
