"""Grading rows: seconds per graded notebook copy (CPU, one kernel at a time) in the sandbox (the default)
and without it, the same when every cell up to the last graded one runs (--full, what nbgrader does), and
100 copies with two kernels at a time.

The copies are of the real notebook 01 (solution, untouched student copy, and a copy with the first
answer only), or of the first graded solution notebook when 01 is not there.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _notebook() -> Path:
    preferred = ROOT / "solutions" / "01_autoregressive_pixels.ipynb"
    if preferred.is_file():
        return preferred
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        if any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in json.loads(path.read_text())["cells"]):
            return path
    raise FileNotFoundError("no graded notebook in solutions/")


def _copies(folder: Path, n: int) -> list[Path]:
    """n student folders cycling through: solved, untouched, first answer only."""
    import nbformat

    from lecturekit.notebooks import student_notebook

    path = _notebook()
    solution = nbformat.read(path, as_version=4)
    untouched = student_notebook(solution, path.stem)
    half = json.loads(nbformat.writes(untouched))
    first = next(c for c in solution.cells if c.metadata.get("nbgrader", {}).get("solution"))
    for cell in half["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == first.metadata["nbgrader"]["grade_id"]:
            cell["source"] = first.source
    texts = [path.read_text(), nbformat.writes(untouched), json.dumps(half)]
    out = []
    for i in range(n):
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        (student / path.name).write_text(texts[i % 3])
        out.append(student)
    return out


def _grade(n: int, jobs: int, full: bool = False, sandbox: bool = True) -> tuple[float, list[float]]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from lecturekit.grading import Options, grade

    with tempfile.TemporaryDirectory() as tmp:
        report = grade(
            _copies(Path(tmp), n),
            ROOT / "solutions",
            Options(jobs=jobs, seed=1, full=full, quiet=True, sandbox=sandbox),
        )
    return report.seconds, [r.seconds for r in report.reports]


def _per_submission() -> dict[str, tuple[float, str]]:
    """Sandboxed (the default) and not, in turn, so that both see the same machine load."""
    boxed: list[float] = []
    plain: list[float] = []
    for _ in range(2):
        boxed += _grade(3, 1)[1]
        plain += _grade(3, 1, sandbox=False)[1]
    _, full = _grade(3, 1, full=True)
    sandboxed, unsandboxed = statistics.median(boxed), statistics.median(plain)
    return {
        "grade_seconds_per_submission": (sandboxed, "s"),
        "grade_seconds_per_submission_nosandbox": (unsandboxed, "s"),
        "grade_sandbox_overhead_percent": (100 * (sandboxed / unsandboxed - 1), "%"),
        "grade_seconds_per_submission_full": (statistics.median(full), "s"),
    }


def _hundred() -> dict[str, tuple[float, str]]:
    total, _ = _grade(100, 2)
    return {"grade_100_submissions_seconds": (total, "s")}


BENCHMARKS = [
    (
        (
            "grade_seconds_per_submission",
            "grade_seconds_per_submission_nosandbox",
            "grade_sandbox_overhead_percent",
            "grade_seconds_per_submission_full",
        ),
        _per_submission,
    ),
    (("grade_100_submissions_seconds",), _hundred),
]
