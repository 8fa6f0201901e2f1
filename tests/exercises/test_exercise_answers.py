"""Every exercise rejects its mutants (naming the mistake) and accepts its other correct answers, in the
visible check, the hidden test cell and the grader's verdict alike (see answer_kit.py)."""

from __future__ import annotations

import pytest
from answer_kit import all_answers, alternative_problems, mutant_problems

from lecturekit.exercises import all_exercises

MUTANTS, ALTERNATIVES = all_answers()
MIN_MUTANTS = 3


@pytest.mark.parametrize("name", sorted(all_exercises()))
def test_every_exercise_has_mutants_and_alternatives(name: str) -> None:
    assert len(MUTANTS.get(name, [])) >= MIN_MUTANTS, f"{name}: fewer than {MIN_MUTANTS} mutants in answers_nb*.py"
    assert ALTERNATIVES.get(name), f"{name}: no other correct answer in answers_nb*.py"


@pytest.mark.parametrize(
    ("name", "index"), [(n, i) for n in sorted(MUTANTS) for i in range(len(MUTANTS[n]))], ids=lambda v: str(v)
)
def test_mutant_is_rejected_and_named(name: str, index: int) -> None:
    mutant = MUTANTS[name][index]
    problems = mutant_problems(name, mutant)
    assert not problems, f"{name} mutant {mutant.mistake!r}: " + "; ".join(problems)


@pytest.mark.parametrize(
    ("name", "index"),
    [(n, i) for n in sorted(ALTERNATIVES) for i in range(len(ALTERNATIVES[n]))],
    ids=lambda v: str(v),
)
def test_alternative_is_accepted(name: str, index: int) -> None:
    problems = alternative_problems(name, ALTERNATIVES[name][index])
    assert not problems, f"{name} alternative {index}: " + "; ".join(problems)
