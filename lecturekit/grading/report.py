"""The grader's output: the grades CSV, a feedback file per student, and the instructor's review list.

Files are written only after every kernel is gone, each to a temporary name and then renamed, so
nothing a student's code wrote to these paths during the run survives.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from lecturekit.grading.grader import GradeReport, Row

NO_SANDBOX_WARNING = ("graded WITHOUT the sandbox (--no-sandbox): student code ran as the grader's OS user and "
                      "could read and change that user's files; check the files reported as changed")
CSV_FIELDS = ["student", "notebook", "grade_id", "points", "max_points", "status"]


def _number(x: float) -> str:
    return f"{x:g}" if abs(x - round(x, 2)) < 1e-9 else f"{x:.2f}"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def csv_text(rows: list[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in rows:
        writer.writerow([r.student, r.notebook, r.grade_id, _number(r.points), _number(r.max_points), r.status])
    return buf.getvalue()


def write_csv(report: GradeReport, path: Path) -> None:
    _atomic_write(Path(path), csv_text(report.rows()))


def feedback_text(report: GradeReport, student: str) -> str:  # noqa: C901 - split after the grading rework lands (issue 14)
    """The student's feedback (Markdown): each exercise's result and what went wrong, no hidden test content."""
    mine = sorted((r for r in report.reports if r.student == student), key=lambda r: r.notebook)
    rows = [row for r in mine for row in r.rows]
    got = sum(r.points for r in rows)
    top = sum(r.max_points for r in rows)
    lines = [f"# Feedback for {student}", ""]
    if not report.sandboxed:
        lines += [f"> Warning: {NO_SANDBOX_WARNING}.", ""]
    lines += [f"**Total: {_number(got)} / {_number(top)} points**", ""]
    for note in report.student_notes.get(student, []):
        lines.append(f"- note: {note}")
    for sub in mine:
        sub_got = sum(r.points for r in sub.rows)
        sub_top = sum(r.max_points for r in sub.rows)
        lines += ["", f"## {sub.notebook} — {_number(sub_got)} / {_number(sub_top)}", "",
                  "| exercise | points | result |", "|---|---|---|"]
        for row in sub.rows:
            lines.append(f"| {row.grade_id} | {_number(row.points)} / {_number(row.max_points)} | {row.status} |")
        same = len(sub.rows) > 1 and all(r.messages == sub.rows[0].messages for r in sub.rows)
        if same and sub.rows[0].messages:
            lines += ["", "```text", *_clip(sub.rows[0].messages), "```"]
        for row in [] if same else sub.rows:
            if row.messages:
                lines += ["", f"**{row.grade_id}** ({row.status})", "", "```text", *_clip(row.messages), "```"]
        if sub.notes:
            lines += ["", "Notes:", ""]
            for note in sub.notes:
                first, *rest = note.splitlines() or [""]
                lines.append(f"- {first}")
                if rest:
                    lines += ["", "  ```text", *[f"  {ln}" for ln in rest[-8:]], "  ```"]
    lines += ["", "Each exercise was called on new inputs the grader drew at random, and its results were "
              "compared with the expected ones outside your notebook. Only the answer cells were taken from "
              "your notebook; every other cell is the course's own."]
    return "\n".join(lines).replace("```text\n```", "") + "\n"


def _clip(messages: list[str], limit: int = 40) -> list[str]:
    out = [ln[:300] for m in messages for ln in m.splitlines()]
    return out[:limit] + (["..."] if len(out) > limit else [])


def write_feedback(report: GradeReport, folder: Path) -> list[Path]:
    folder = Path(folder)
    paths = []
    for student in sorted({r.student for r in report.reports} | set(report.student_notes)):
        path = folder / f"{student}.md"
        _atomic_write(path, feedback_text(report, student))
        paths.append(path)
    return paths


def review_text(report: GradeReport) -> str:
    """For the instructor: static flags per answer cell, and files changed during the run."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "notebook", "what"])
    if not report.sandboxed:
        writer.writerow(["", "", f"WARNING: {NO_SANDBOX_WARNING}"])
    for sub in sorted(report.reports, key=lambda r: (r.student, r.notebook)):
        for flag in sub.flags:
            writer.writerow([sub.student, sub.notebook, flag])
    for path in report.changed:
        writer.writerow(["", "", f"during grading: {path}"])
    return buf.getvalue()


def write_review(report: GradeReport, path: Path) -> None:
    _atomic_write(Path(path), review_text(report))
