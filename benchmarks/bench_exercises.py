"""The exercises' rows: how many wrong answers (mutants, each a mistake a student makes) every exercise
rejects, and how many other correct answers it accepts, through the visible check, the hidden test cell and
the grader's verdict (computed as a grading kernel would, against the withheld package). The answers are
the test suite's (tests/exercises/answers_nb*.py); tests/exercises/test_exercise_answers.py asserts each one.

`python benchmarks/bench_exercises.py` prints the rows per exercise; `benchmarks/run.py --only
exercise_mutants_rejected` stores the totals."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests" / "exercises"


def per_exercise() -> dict[str, tuple[int, int, int, int]]:
    """{exercise: (mutants rejected, mutants, alternatives accepted, alternatives)}."""
    sys.path.insert(0, str(TESTS))
    from answer_kit import all_answers, alternative_problems, mutant_problems

    mutants, alternatives = all_answers()
    out = {}
    for name in sorted(set(mutants) | set(alternatives)):
        wrong = mutants.get(name, [])
        right = alternatives.get(name, [])
        out[name] = (
            sum(not mutant_problems(name, m) for m in wrong),
            len(wrong),
            sum(not alternative_problems(name, a) for a in right),
            len(right),
        )
    return out


def exercise_rows() -> dict[str, tuple[float, str]]:
    counts = per_exercise()
    return {
        "exercise_mutants_rejected": (sum(c[0] for c in counts.values()), "wrong answers rejected"),
        "exercise_mutants": (sum(c[1] for c in counts.values()), "wrong answers tried"),
        "exercise_alternatives_accepted": (sum(c[2] for c in counts.values()), "other right answers accepted"),
        "exercise_alternatives": (sum(c[3] for c in counts.values()), "other right answers tried"),
        "exercises": (len(counts), "exercises"),
    }


BENCHMARKS = [
    (
        (
            "exercise_mutants_rejected",
            "exercise_mutants",
            "exercise_alternatives_accepted",
            "exercise_alternatives",
            "exercises",
        ),
        exercise_rows,
    )
]

if __name__ == "__main__":
    for name, (rejected, mutants, accepted, alternatives) in per_exercise().items():
        print(f"{name:32s} mutants rejected {rejected}/{mutants}, alternatives accepted {accepted}/{alternatives}")
