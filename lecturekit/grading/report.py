"""The grader's output: the grades CSV, a feedback file per student, and the instructor's review list.

Files are written only after every kernel is gone, each to a temporary name and then renamed, so
nothing a student's code wrote to these paths during the run survives.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from lecturekit.grading.grader import GradeReport, Row, SubmissionReport
from lecturekit.i18n import N_, get_language, in_language, translate

NO_SANDBOX_WARNING = N_(
    "graded WITHOUT the sandbox (--no-sandbox): student code ran as the grader's OS user and "
    "could read and change that user's files; check the files reported as changed"
)
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


def _translated(messages: list[str], lang: str) -> list[str]:
    """Message lines in `lang` (each Message as `_()` made it where it was written; any other text as it is),
    clipped."""
    return _clip([str(in_language(m, lang)) for m in messages])


_STATUS = {
    "passed": N_("passed"),
    "failed": N_("failed"),
    "error": N_("error"),
    "timeout": N_("timeout"),
    "missing": N_("missing"),
}


def feedback_text(report: GradeReport, student: str, lang: str | None = None) -> str:
    """The student's feedback (Markdown): each exercise's result and what went wrong, no hidden test content.

    Written in `lang` (default: the language in force), so a class using the Chinese edition reads it in Chinese."""
    lang = lang or get_language()
    mine = sorted((r for r in report.reports if r.student == student), key=lambda r: r.notebook)
    lines = _feedback_header(report, student, mine, lang)
    for sub in mine:
        lines += _submission_lines(sub, lang)
    lines += [
        "",
        translate(
            N_(
                "Each exercise was called on new inputs the grader drew at random, and its results were "
                "compared with the expected ones outside your notebook. Only the answer cells were taken "
                "from your notebook; every other cell is the course's own."
            ),
            lang,
        ),
    ]
    return "\n".join(lines).replace("```text\n```", "") + "\n"


def _feedback_header(report: GradeReport, student: str, mine: list[SubmissionReport], lang: str) -> list[str]:
    """The title, the no-sandbox warning, the total over all notebooks and the student's notes."""
    t = lambda message: translate(message, lang)  # noqa: E731
    rows = [row for r in mine for row in r.rows]
    got = sum(r.points for r in rows)
    top = sum(r.max_points for r in rows)
    lines = [t(N_("# Feedback for {student}")).format(student=student), ""]
    if not report.sandboxed:
        lines += [t(N_("> Warning: {warning}.")).format(warning=t(NO_SANDBOX_WARNING)), ""]
    lines += [t(N_("**Total: {got} / {top} points**")).format(got=_number(got), top=_number(top)), ""]
    for note in report.student_notes.get(student, []):
        lines.append(t(N_("- note: {note}")).format(note=note))
    return lines


def _status_text(status: str, lang: str) -> str:
    """A row's status in the student's language (an unknown one as it is)."""
    return translate(_STATUS[status], lang) if status in _STATUS else status


def _submission_lines(sub: SubmissionReport, lang: str) -> list[str]:
    """One notebook's section: its points, the table of graded cells, what went wrong, the grader's notes."""
    sub_got = sum(r.points for r in sub.rows)
    sub_top = sum(r.max_points for r in sub.rows)
    lines = [
        "",
        f"## {sub.notebook} — {_number(sub_got)} / {_number(sub_top)}",
        "",
        translate(N_("| exercise | points | result |"), lang),
        "|---|---|---|",
    ]
    for row in sub.rows:
        points = f"{_number(row.points)} / {_number(row.max_points)}"
        lines.append(f"| {row.grade_id} | {points} | {_status_text(row.status, lang)} |")
    lines += _row_message_lines(sub.rows, lang)
    if sub.notes:
        lines += ["", translate(N_("Notes:"), lang), ""]
        for note in sub.notes:
            lines += _note_lines(note, lang)
    return lines


def _row_message_lines(rows: list[Row], lang: str) -> list[str]:
    """What went wrong per graded cell; once for all when every cell says the same (a kernel that died early)."""
    same = len(rows) > 1 and all(r.messages == rows[0].messages for r in rows)
    if same:
        return ["", "```text", *_translated(rows[0].messages, lang), "```"] if rows[0].messages else []
    lines: list[str] = []
    for row in rows:
        if row.messages:
            lines += [
                "",
                f"**{row.grade_id}** ({_status_text(row.status, lang)})",
                "",
                "```text",
                *_translated(row.messages, lang),
                "```",
            ]
    return lines


def _note_lines(note: str, lang: str) -> list[str]:
    """A grader's note (in `lang` when it is a Message): its first line, then the rest (a traceback's tail)."""
    first, *rest = str(in_language(note, lang)).splitlines() or [""]
    lines = [f"- {first}"]
    if rest:
        lines += ["", "  ```text", *[f"  {ln}" for ln in rest[-8:]], "  ```"]
    return lines


def _clip(messages: list[str], limit: int = 40) -> list[str]:
    out = [ln[:300] for m in messages for ln in m.splitlines()]
    return out[:limit] + (["..."] if len(out) > limit else [])


def write_feedback(report: GradeReport, folder: Path, lang: str | dict[str, str] | None = None) -> list[Path]:
    """One feedback file per student; `lang` is one language for all, or a language per student."""
    folder = Path(folder)
    paths = []
    for student in sorted({r.student for r in report.reports} | set(report.student_notes)):
        path = folder / f"{student}.md"
        own = lang.get(student) if isinstance(lang, dict) else lang
        _atomic_write(path, feedback_text(report, student, own))
        paths.append(path)
    return paths


def review_text(report: GradeReport) -> str:
    """For the instructor: student ids that two names share, copies that could not be graded, static flags per
    answer cell, and files changed during the run."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student", "notebook", "what"])
    if not report.sandboxed:
        writer.writerow(["", "", f"WARNING: {NO_SANDBOX_WARNING}"])
    rows = [[student, "", line] for student, lines in report.student_review.items() for line in lines]
    for sub in report.reports:
        if sub.problem:
            rows.append([sub.student, sub.notebook, f"could not be graded: {sub.problem}"])
        rows += [[sub.student, sub.notebook, flag] for flag in sub.flags]
    writer.writerows(sorted(rows, key=lambda r: (r[0], r[1])))  # as grade-merge orders them (a stable sort)
    for path in report.changed:
        writer.writerow(["", "", f"during grading: {path}"])
    return buf.getvalue()


def write_review(report: GradeReport, path: Path) -> None:
    _atomic_write(Path(path), review_text(report))


# ---- one graded cell's feedback, for other outputs (Gradescope's results.json) ----


def number_text(x: float) -> str:
    """Points as the feedback writes them (2, 1.5, 0.33)."""
    return _number(x)


def status_text(status: str, lang: str) -> str:
    """A row's status in the student's language."""
    return _status_text(status, lang)


def row_message_lines(row: Row, lang: str) -> list[str]:
    """What the feedback file says about one graded cell, in `lang` (clipped as there)."""
    return _translated(row.messages, lang)
