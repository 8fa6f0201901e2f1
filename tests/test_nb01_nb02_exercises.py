"""The graded exercises of notebooks 01 and 02: references pass, typical mistakes get a useful message."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from lecturekit.exercises import (  # noqa: F401 - nb01, nb02 register the exercises
    ExerciseNotDone,
    WrongAnswer,
    check,
    get_exercise,
    nb01,
    nb02,
)
from lecturekit.notebooks import student_notebook

ROOT = Path(__file__).resolve().parent.parent
NAMES = {
    "01_autoregressive_pixels": ["nb01.image_log_prob", "nb01.pad_prefix", "nb01.draw_colour"],
    "02_colour_quantization": ["nb02.pixel_saturation", "nb02.one_hot", "nb02.nearest_palette_index"],
}
ALL = [n for names in NAMES.values() for n in names]


@pytest.mark.parametrize("name", ALL)
def test_reference_passes_visible_and_hidden_checks(name: str) -> None:
    exercise = get_exercise(name)
    check(name, exercise.reference)
    check(name, exercise.reference, hidden=True)


@pytest.mark.parametrize("name", ALL)
def test_cases_vary_with_the_seed(name: str) -> None:
    exercise = get_exercise(name)

    def shapes(seed: int) -> list:
        return [
            tuple(tuple(a.shape) if isinstance(a, torch.Tensor) else a for a in args) for args in exercise.cases(seed)
        ]

    assert shapes(0) == shapes(0)
    assert shapes(0) != shapes(101) or shapes(101) != shapes(202)


@pytest.mark.parametrize("name", ALL)
def test_unfinished_exercise_says_so(name: str) -> None:
    def stub(*args):
        raise NotImplementedError()

    with pytest.raises(ExerciseNotDone, match="not written yet"):
        check(name, stub)


MISTAKES = [
    ("nb01.pad_prefix", lambda p, n: torch.nn.functional.pad(p, (0, 0, 0, 8 - p.shape[1])).flatten(1), "shape"),
    ("nb01.pad_prefix", lambda p, n: torch.cat([p.new_zeros(len(p), (n - p.shape[1]) * 3), p.flatten(1)], 1), "differ"),
    ("nb01.image_log_prob", lambda p, x: torch.log(p.gather(-1, x[..., None])).squeeze(-1), "shape"),
    ("nb01.image_log_prob", lambda p, x: p.gather(-1, x[..., None]).squeeze(-1).prod(1), "differ"),
    ("nb01.draw_colour", lambda p, u: p.argmax(-1), "differ"),
    ("nb01.draw_colour", lambda p, u: (torch.cumsum(p, -1) < u[:, None]).sum(-1) - 1, "differ"),
    ("nb02.pixel_saturation", lambda r: (r.max(-1).values - r.min(-1).values) / r.max(-1).values, "NaN"),
    ("nb02.pixel_saturation", lambda r: r.max(-1).values - r.min(-1).values, "differ"),
    ("nb02.one_hot", lambda i, k: torch.nn.functional.one_hot(i, k + 1).float(), "shape"),
    ("nb02.nearest_palette_index", lambda x, p: (x[:, None] - p[None]).abs().sum(-1).argmin(1), "differ"),
    ("nb02.nearest_palette_index", lambda x, p: (x[:, None] - p[None]).pow(2).sum(-1).argmax(1), "differ"),
]


@pytest.mark.parametrize(("name", "wrong", "says"), MISTAKES)
def test_typical_mistakes_are_caught_with_a_message(name: str, wrong, says: str) -> None:
    with pytest.raises(WrongAnswer) as info:
        check(name, wrong)
        check(name, wrong, hidden=True)
    assert says in str(info.value)
    assert "Hint:" in str(info.value)


def test_draw_colour_accepts_other_correct_ways() -> None:
    check("nb01.draw_colour", lambda p, u: torch.searchsorted(torch.cumsum(p, -1), u[:, None], right=True)[:, 0])
    check("nb02.nearest_palette_index", lambda x, p: torch.cdist(x, p).argmin(1), hidden=True)
    check("nb02.one_hot", lambda i, k: (i[..., None] == torch.arange(k)).float(), hidden=True)
    check(
        "nb01.image_log_prob",
        lambda p, x: torch.log(p[torch.arange(len(x))[:, None], torch.arange(x.shape[1]), x]).sum(1),
    )


@pytest.mark.parametrize("notebook", list(NAMES))
def test_notebook_cells_carry_the_exercises_and_student_copy_hides_solutions(notebook: str) -> None:
    path = ROOT / "solutions" / f"{notebook}.ipynb"
    if not path.is_file():
        pytest.skip(f"{path} not written yet")
    nb = nbformat.read(path, as_version=4)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    declared = [n for c in graded for n in c.metadata.get("lecturekit", {}).get("exercises", [])]
    assert sorted(declared) == sorted(NAMES[notebook])
    assert all(1 <= c.metadata["nbgrader"]["points"] <= 3 for c in graded)
    student = student_notebook(nb, notebook)
    text = "\n".join(c.source for c in student.cells)
    assert "### BEGIN SOLUTION" not in text and "hidden=True" not in text
    assert text.count("raise NotImplementedError()") == len(NAMES[notebook])
    for name in NAMES[notebook]:
        function = get_exercise(name).function
        assert f"def {function}(" in text and f'check("{name}", {function})' in text


def test_exercise_inputs_are_plain_tensors_and_numbers() -> None:
    """The grader ships the inputs to the student's kernel as files: no callables or models."""
    for name in ALL:
        for seed in (0, 101):
            for args in get_exercise(name).cases(seed):
                assert all(isinstance(a, (torch.Tensor, np.ndarray, int, float)) for a in args), name


def test_yours_or_reference_falls_back_until_the_exercise_passes(capsys) -> None:
    from lecturekit.exercises import yours_or_reference

    def stub(*args):
        raise NotImplementedError()

    exercise = get_exercise("nb02.one_hot")
    assert yours_or_reference("nb02.one_hot", stub) is exercise.reference
    assert "not finished yet" in capsys.readouterr().out
    wrong = MISTAKES[8][1]
    assert yours_or_reference("nb02.one_hot", wrong) is exercise.reference
    right = nb02.one_hot
    assert yours_or_reference("nb02.one_hot", right) is right
