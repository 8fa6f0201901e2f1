"""Gradescope's results.json for one graded submission, and a check of it against Gradescope's format.

One test per graded cell: the cell's grade id as its name, its points as `score` / `max_score`, passed or
failed, and the feedback the grader writes for it (never a hidden input, expected value or hidden test
line: the grader's messages hold none) as `output`, in the student's language. Cells graded on hidden
inputs (an exercise called on secret-seed cases, or a cell with hidden tests) take the visibility the
instructor chose for hidden tests; other cells the assignment's visibility. The format is Gradescope's
"Autograder Specifications" (results.json: top-level score, execution_time, output, visibility,
stdout_visibility, extra_data, tests; per test score, max_score, status, name, number, output,
output_format, tags, visibility, extra_data); `results_problems` checks a document against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lecturekit.grading.sandbox import LIMITS
from lecturekit.i18n import N_, translate

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
FORMATS = ("text", "html", "simple_format", "md", "ansi")
STATUSES = ("passed", "failed")
MAX_OUTPUT_CHARS = 20_000  # per test: a student's traceback stays readable, the page stays small

ALARM_MESSAGE = N_(
    "Files of the grader changed while your notebook ran, so this grade is withheld until the course staff "
    "have looked at it."
)
FAILED_MESSAGE = N_(
    "The autograder could not grade this submission, for a reason on the course's side, not in your notebook. "
    "Please tell the course staff."
)
ABOUT_MESSAGE = N_(
    "Each exercise was called on new inputs the grader drew at random, and its results were "
    "compared with the expected ones outside your notebook. Only the answer cells were taken "
    "from your notebook; every other cell is the course's own."
)


@dataclass(frozen=True)
class Visibility:
    """When students see what: the assignment's tests, the tests graded on hidden inputs, the grader's log."""

    tests: str = "visible"
    hidden_tests: str = "after_due_date"
    stdout: str = "hidden"

    def __post_init__(self) -> None:
        for name in ("tests", "hidden_tests", "stdout"):
            if getattr(self, name) not in VISIBILITIES:
                raise ValueError(f"visibility {getattr(self, name)!r}: use one of {', '.join(VISIBILITIES)}")


SETTINGS_FILE = "lecturekit-gradescope.json"
SANDBOX_CHOICES = ("auto", "require", "off")


@dataclass(frozen=True)
class Settings:
    """What `lecturekit gradescope` bakes into the autograder (lecturekit-gradescope.json in its zip)."""

    assignment: str
    seed: int
    visibility: Visibility = Visibility()
    timeout: float = LIMITS.seconds
    memory_mb: int = LIMITS.memory_mb
    processes: int = LIMITS.processes
    disk_mb: int = LIMITS.disk_mb
    full: bool = False
    lang: str | None = None  # None: each student's edition, read from the notebook
    sandbox: str = "auto"  # auto: bubblewrap when the container allows it, else the container is the sandbox
    kit_version: str = ""
    data: str | None = None  # the course data set in force when the zip was made (a folder in the zip), else None

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Settings:
        doc = dict(doc)
        doc["visibility"] = Visibility(**doc.get("visibility", {}))
        settings = cls(**doc)
        if settings.sandbox not in SANDBOX_CHOICES:
            raise ValueError(f"sandbox {settings.sandbox!r}: use one of {', '.join(SANDBOX_CHOICES)}")
        return settings


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT_CHARS else text[: MAX_OUTPUT_CHARS - 4] + "\n..."


def test_entries(report: Any, assignment: Any, lang: str, visibility: Visibility) -> list[dict[str, Any]]:
    """One Gradescope test per graded cell of `assignment`, from the report of one student's copy."""
    from lecturekit.grading.report import number_text, row_message_lines, status_text

    rows = {r.grade_id: r for r in report.rows() if r.notebook == assignment.name}
    tests = []
    for number, cell in enumerate(assignment.graded, 1):
        row = rows.get(cell.grade_id)
        if row is None:  # not graded at all: the caller's report is for another notebook
            raise ValueError(f"the report has no row for {assignment.name}'s {cell.grade_id}")
        head = f"{number_text(row.points)} / {number_text(row.max_points)} · {status_text(row.status, lang)}"
        hidden = bool(cell.exercises) or cell.has_hidden
        tests.append(
            {
                "name": cell.grade_id,
                "number": str(number),
                "score": float(row.points),
                "max_score": float(row.max_points),
                "status": "passed" if row.status == "passed" else "failed",
                "output": _clipped("\n".join([head, *row_message_lines(row, lang)])),
                "output_format": "text",
                "tags": [assignment.name],
                "visibility": visibility.hidden_tests if hidden else visibility.tests,
                "extra_data": {"lecturekit_status": row.status},
            }
        )
    return tests


def submission_output(report: Any, lang: str) -> str:
    """The text above the tests: the grader's notes on the files handed in, and how grading works."""
    notes = [n for ns in report.student_notes.values() for n in ns]
    notes += [n for sub in report.reports for n in sub.notes]
    lines = [translate(N_("- note: {note}"), lang).format(note=note.splitlines()[0]) for note in notes if note.strip()]
    return _clipped("\n".join([*lines, *([""] if lines else []), translate(ABOUT_MESSAGE, lang)]))


def results_document(
    report: Any, assignment: Any, lang: str, visibility: Visibility, alarm: list[str] | None = None
) -> dict[str, Any]:
    """Gradescope's results.json for one graded submission; with `alarm` (files changed during the run)
    every test scores 0 with a message, and the instructor finds the files in `extra_data`."""
    tests = test_entries(report, assignment, lang, visibility)
    extra: dict[str, Any] = {"lecturekit_sandboxed": bool(report.sandboxed)}
    if alarm:
        message = translate(ALARM_MESSAGE, lang)
        for test in tests:
            test.update(score=0.0, status="failed", output=message)
        extra["lecturekit_changed_files"] = alarm[:200]
    return {
        "score": round(sum(t["score"] for t in tests), 4),
        "execution_time": int(math.ceil(report.seconds)),
        "output": translate(ALARM_MESSAGE, lang) if alarm else submission_output(report, lang),
        "output_format": "text",
        "visibility": visibility.tests,
        "stdout_visibility": visibility.stdout,
        "extra_data": extra,
        "tests": tests,
    }


def failure_document(lang: str, visibility: Visibility, seconds: float = 0.0) -> dict[str, Any]:
    """results.json when the grader itself could not run: score 0, and a message that it is not the student's doing."""
    return {
        "score": 0.0,
        "execution_time": int(math.ceil(seconds)),
        "output": translate(FAILED_MESSAGE, lang),
        "output_format": "text",
        "stdout_visibility": visibility.stdout,
        "extra_data": {"lecturekit_failed": True},
        "tests": [],
    }


# ---- the format check ----

_TOP = {
    "score": "number",
    "execution_time": "number",
    "output": "string",
    "output_format": "format",
    "test_output_format": "format",
    "test_name_format": "format",
    "visibility": "visibility",
    "stdout_visibility": "visibility",
    "extra_data": "object",
    "tests": "list",
    "leaderboard": "list",
}
_TEST = {
    "score": "number",
    "max_score": "number",
    "status": "status",
    "name": "string",
    "name_format": "format",
    "number": "string",
    "output": "string",
    "output_format": "format",
    "tags": "strings",
    "visibility": "visibility",
    "extra_data": "object",
}


def _type_problem(value: Any, kind: str) -> str | None:
    """What is wrong with `value` as a field of `kind` (None: nothing)."""
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else "must be a finite number"
    checks = {
        "string": (lambda v: isinstance(v, str), "must be a string"),
        "object": (lambda v: isinstance(v, dict), "must be an object"),
        "list": (lambda v: isinstance(v, list), "must be a list"),
        "strings": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "must be a list of strings"),
        "format": (lambda v: v in FORMATS, f"must be one of {', '.join(FORMATS)}"),
        "visibility": (lambda v: v in VISIBILITIES, f"must be one of {', '.join(VISIBILITIES)}"),
        "status": (lambda v: v in STATUSES, f"must be one of {', '.join(STATUSES)}"),
    }
    check, message = checks[kind]
    return None if check(value) else message


def _fields_problems(doc: dict[str, Any], spec: dict[str, str], where: str) -> list[str]:
    problems = [f"{where}{key}: not a field of Gradescope's format" for key in doc if key not in spec]
    for key, kind in spec.items():
        if key in doc:
            problem = _type_problem(doc[key], kind)
            if problem:
                problems.append(f"{where}{key} {problem}")
    return problems


def results_problems(doc: Any) -> list[str]:
    """What keeps `doc` from being a results.json Gradescope accepts (empty: nothing), per its specification:
    a top-level score, or a score on every test; known fields of the right types; known visibilities,
    formats and statuses; a test's score within 0..max_score (Gradescope allows extra credit above it, the kit
    never gives any)."""
    if not isinstance(doc, dict):
        return ["results.json must be a JSON object"]
    problems = _fields_problems(doc, _TOP, "")
    tests = doc.get("tests") if isinstance(doc.get("tests"), list) else []
    for i, test in enumerate(tests):
        if not isinstance(test, dict):
            problems.append(f"tests[{i}] must be an object")
            continue
        problems += _fields_problems(test, _TEST, f"tests[{i}].")
        score, top = test.get("score"), test.get("max_score")
        if isinstance(score, (int, float)) and isinstance(top, (int, float)) and not 0 <= score <= top:
            problems.append(f"tests[{i}].score {score} is outside 0..max_score ({top})")
        if "score" not in test and "score" not in doc and "status" not in test:
            problems.append(f"tests[{i}] has no score (and there is no top-level score)")
    if "score" not in doc and "tests" not in doc:
        problems.append("results.json needs a top-level score or a list of tests")
    return problems
