"""The kit's autograder: `python -m lecturekit grade ...` (see `grading.cli` for the options).

Public API: `grade(paths, solutions_dir, Options(...)) -> GradeReport`, `write_csv`, `write_feedback`,
`write_review`. How it works and what it protects against: docs/instructors.md.
"""

from __future__ import annotations

from lecturekit.grading.grader import GradeReport, Options, Row, grade
from lecturekit.grading.report import write_csv, write_feedback, write_review

__all__ = ["GradeReport", "Options", "Row", "grade", "write_csv", "write_feedback", "write_review"]
