"""What every exercise needs besides its answers (those are in test_exercise_answers.py): cases that change
with the seed and that the grader can send into a kernel, a clear "not written yet", the kit's version
until the student's passes, and notebook cells whose heading states the difficulty and the points that
nbgrader gives."""

from __future__ import annotations

import io
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from lecturekit.exercises import (
    ExerciseNotDone,
    _fresh,
    all_exercises,
    answer_of,
    check,
    get_exercise,
    yours_or_reference,
)
from lecturekit.notebooks import student_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
#: the heading line of an exercise, in each language: difficulty and points (warm-up 1, core 2, substantial 4-6)
MARKERS = {
    "en": (re.compile(r"\*\*Exercise · (warm-up|core|substantial) · (\d) points?\*\*"), ("warm-up", "core")),
    "zh_CN": (re.compile(r"\*\*练习 · (热身|核心|综合) · (\d) 分\*\*"), ("热身", "核心")),
}
POINTS = {"warm-up": (1,), "core": (2,), "substantial": (4, 5, 6), "热身": (1,), "核心": (2,), "综合": (4, 5, 6)}


def _shapes(args: tuple) -> list:
    return [tuple(a.shape) if isinstance(a, (torch.Tensor, np.ndarray)) else repr(a)[:40] for a in args]


@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_cases_vary_with_the_seed_and_repeat(name: str) -> None:
    exercise = get_exercise(name)
    first = [_shapes(a) for a in exercise.cases(0)]
    assert first == [_shapes(a) for a in exercise.cases(0)]
    assert _values(exercise.cases(0)) != _values(exercise.cases(101))


def _values(cases: list[tuple]) -> list:
    """What the cases hold, coarsely: the sum of each tensor or array, the repr of anything else (a model's
    repr is its architecture; its weights are not compared)."""
    return [
        [
            float(a.double().sum())
            if isinstance(a, torch.Tensor)
            else float(np.sum(a))
            if isinstance(a, np.ndarray)
            else repr(a)
            for a in args
        ]
        for args in cases
    ]


def _same(a: object, b: object) -> bool:
    """Whether a case's value came back exactly: tensors and arrays to the bit and dtype, a generator in the
    same state, a model with the same class and weights, containers element by element."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, torch.Generator):
        return isinstance(b, torch.Generator) and torch.equal(a.get_state(), b.get_state())
    if isinstance(a, torch.nn.Module):
        mine, theirs = a.state_dict(), getattr(b, "state_dict", dict)()
        return type(a) is type(b) and mine.keys() == theirs.keys() and all(map(_same, mine.values(), theirs.values()))
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_cases_travel_to_a_kernel_unchanged(name: str) -> None:
    """The grader sends the cases with torch.save (models and generators included) and computes the expected
    answers outside the kernel, on its own copy: the kernel's copy must be the same, value for value, and the
    reference must still answer it."""
    exercise = get_exercise(name)
    for seed in (0, 7):
        cases = exercise.cases(seed)
        buffer = io.BytesIO()
        torch.save(list(cases), buffer)
        buffer.seek(0)
        back = torch.load(buffer, weights_only=False)
        assert len(back) == len(cases), name
        for here, there in zip(cases, back):
            assert _same(here, tuple(there)), f"{name}: a case changed on its way to the kernel"
            answer_of(exercise, exercise.reference, _fresh(tuple(there)))


@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_unfinished_exercise_says_so_and_the_kit_steps_in(name: str, capsys: pytest.CaptureFixture) -> None:
    def stub(*args):
        raise NotImplementedError()

    with pytest.raises(ExerciseNotDone, match="not written yet"):
        check(name, stub)
    exercise = get_exercise(name)
    assert yours_or_reference(name, stub) is exercise.reference
    assert "not finished yet" in capsys.readouterr().out


def _exercise_cells(path: Path) -> list[tuple[str, float, str]]:
    """(exercise names, nbgrader points, the markdown above it up to the previous code cell) per graded cell."""
    nb = nbformat.read(path, as_version=4)
    out, text = [], ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text += "\n" + cell.source
            continue
        meta = cell.metadata
        if meta.get("nbgrader", {}).get("grade") and meta.get("lecturekit", {}).get("exercises"):
            out.append((",".join(meta["lecturekit"]["exercises"]), meta["nbgrader"]["points"], text))
            text = ""
        elif not meta.get("nbgrader", {}).get("solution"):
            text = ""  # the heading belongs to the exercise right after it
    return out


@pytest.mark.parametrize(("notebook", "language"), [(n, lang) for n in NOTEBOOKS for lang in MARKERS])
def test_each_exercise_states_its_difficulty_and_the_points_it_gets(notebook: str, language: str) -> None:
    path = ROOT / "solutions" / (f"{notebook}.ipynb" if language == "en" else f"{language}/{notebook}.ipynb")
    pattern, _ = MARKERS[language]
    cells = _exercise_cells(path)
    for names, points, text in cells:
        found = pattern.findall(text)
        assert len(found) == 1, f"{language}/{notebook} {names}: one marker expected above it, found {found}"
        difficulty, stated = found[0]
        assert int(stated) == points, f"{notebook} {names}: the heading says {stated} points, nbgrader gives {points}"
        assert points in POINTS[difficulty], f"{notebook} {names}: {difficulty} with {points} points"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_a_substantial_exercise_and_hidden_solutions_in_each_notebook(notebook: str) -> None:
    path = ROOT / "solutions" / f"{notebook}.ipynb"
    cells = _exercise_cells(path)
    if notebook.startswith("00"):
        assert not cells
        return
    assert any("· substantial ·" in text for _, _, text in cells), f"{notebook}: no substantial exercise"
    nb = nbformat.read(path, as_version=4)
    student = "\n".join(c.source for c in student_notebook(nb, notebook).cells)
    assert "### BEGIN SOLUTION" not in student and "hidden=True" not in student
    for names, _, _ in cells:
        for name in names.split(","):
            function = get_exercise(name).function
            assert f"def {function}(" in student and f'check("{name}", {function})' in student
    assert student.count("raise NotImplementedError()") == len(cells)
