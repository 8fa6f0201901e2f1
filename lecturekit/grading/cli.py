"""`python -m lecturekit grade SUBMISSIONS... [options]`: grade students' notebooks."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lecturekit.grading.grader import GradeReport, Options
    from lecturekit.grading.shards import Shard

HELP = """\
Grade students' copies of the course notebooks against solutions/.

SUBMISSIONS are folders, one per student, named by the student id (e.g. subs/alice/), holding that
student's copies of any of the notebooks; or single .ipynb files named STUDENT__NOTEBOOK.ipynb
(alice__03_pixelrnn.ipynb) or STUDENT.ipynb (alice.ipynb). Names that give one student id (x/ and x_/)
are graded apart, the second as x-2 (see the review file). A file is matched to a solution notebook
by its name (03_pixelrnn.ipynb, "03_pixelrnn-Copy1.ipynb"...), else by the nbgrader grade ids of
its cells (a renamed file). Every notebook anyone handed in is graded for every student (a student
without it gets 'missing' rows); --notebook picks the notebooks instead.

Each copy runs in a fresh Python kernel in its own temp folder, inside a bubblewrap sandbox that
shows it nothing of the course, the instructor or the other students, and no network
(--no-sandbox: as you). Only the answer cells are taken
from the student's copy; tests and every other cell come from solutions/. Each exercise function is
called on inputs drawn from a secret seed and its return values are compared with the reference
outside the student's kernel.

Writes: --out (CSV: student,notebook,grade_id,points,max_points,status; a TOTAL row per student),
--feedback DIR (one Markdown file per student), and OUT_review.csv (answer cells worth a human look,
files changed during the run). Statuses: passed, failed, error, timeout, missing.
Exit status: 0 every copy graded; 1 files of the course, the package or the grader's own temporary folders
were created, changed or deleted during the run (the alarm: grade again from a clean copy); 2 usage error (a
path that does not exist, or no sandbox could be made: install bubblewrap, or pass --no-sandbox); 3 some copies
could not be graded (an unreadable or hostile file, a FIFO or a link among the files given, a kernel that could
not start: their rows say error, the review file says why).

Large courses: --shard K/N grades one share of the students (run N of them anywhere, e.g. as a Kubernetes
Indexed Job or a Slurm array with --shard auto, all with the same --seed), then `lecturekit grade-merge`
joins their outputs.
"""


def main(argv: list[str] | None = None) -> int:
    """Parse, check the arguments, grade (one shard with --shard), write the CSV, the feedback and the review
    file (and a shard's manifest), and say what was done."""
    from lecturekit.grading.shards import finish_shard, shard_from_args

    parser = build_parser()
    args = parser.parse_args(argv)
    shard = shard_from_args(parser, args)
    status = _grade_command(parser, args, shard)
    if shard is not None and status != 2:
        finish_shard(args, shard, status)
    return status


def _grade_command(parser: argparse.ArgumentParser, args: argparse.Namespace, shard: Shard | None) -> int:
    """Grade (the students of `shard`, or all), write the outputs; the exit status."""
    from lecturekit.grading.bwrap import SandboxUnavailable
    from lecturekit.grading.course import CourseError, default_solutions_dir
    from lecturekit.grading.grader import grade
    from lecturekit.grading.report import NO_SANDBOX_WARNING
    from lecturekit.grading.shards import shard_filter

    lang = _check_args(parser, args)
    solutions = args.solutions or default_solutions_dir()
    options = _options(args)
    if args.no_sandbox:
        print(f"WARNING: {NO_SANDBOX_WARNING}", file=sys.stderr)
    try:
        only = shard_filter(args.submissions, shard) if shard is not None else None
        report = grade(args.submissions, solutions, options, notebooks=args.notebook or None, students=only)
    except (CourseError, ValueError, FileNotFoundError, SandboxUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _write_and_tell(report, args, lang or report.languages)
    if report.changed:
        print(
            "WARNING: these files of the course or the package were created, changed or deleted while student "
            "code ran (check them, and grade again from a clean copy):\n  " + "\n  ".join(report.changed),
            file=sys.stderr,
        )
        return 1
    ungraded = [r for r in report.reports if r.problem]
    if ungraded:
        print(
            f"{len(ungraded)} notebook copies could not be graded (their rows say error; the reasons are in "
            f"{args.out.with_name(args.out.stem + '_review.csv')})",
            file=sys.stderr,
        )
        return 3
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line of `lecturekit grade` (its help is HELP)."""
    from lecturekit.grading.sandbox import add_limit_options

    parser = argparse.ArgumentParser(
        prog="lecturekit grade", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("submissions", nargs="+", type=Path, help="student folders and/or .ipynb files")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="the grades CSV (default grades.csv)")
    parser.add_argument(
        "--feedback",
        type=Path,
        default=None,
        help="folder for one feedback file per student (default: feedback/ beside --out)",
    )
    parser.add_argument("--jobs", "-j", type=int, default=1, help="kernels at a time (default 1; about one per core)")
    add_limit_options(parser)
    parser.add_argument(
        "--solutions",
        type=Path,
        default=None,
        help="the solution notebooks (default: the checkout's solutions/, or the installed copy)",
    )
    parser.add_argument(
        "--notebook",
        action="append",
        default=[],
        metavar="NAME",
        help="grade only this notebook (file stem, e.g. 03_pixelrnn); repeatable",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="fix the secret seed (to reproduce a run; the seed used is printed at the end)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="run every cell up to the last graded one (default: only what the graded functions need)",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run kernels as you, without the bubblewrap sandbox (where bwrap is missing: macOS, "
        "Windows); student code can then read and change your files",
    )
    parser.add_argument(
        "--lang",
        default=None,
        help="feedback language: en, zh_CN or zh_TW (default: each "
        "student's edition, read from the notebook's metadata; else LECTUREKIT_LANG or English)",
    )
    parser.add_argument(
        "--shard",
        default=None,
        metavar="K/N",
        help="grade only shard K of N (0-based; the students ordered by a hash of their ids, dealt out in turn: "
        "the same shares in every run over the same submissions), "
        "or 'auto': K from a Kubernetes Indexed Job or a Slurm array. Needs --seed; writes OUT_run.json for "
        "`lecturekit grade-merge`",
    )
    parser.add_argument(
        "--shards",
        type=int,
        default=None,
        metavar="N",
        help="the number of shards for --shard auto in a Kubernetes Indexed Job (or LECTUREKIT_GRADE_SHARDS)",
    )
    return parser


def _check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Refuse impossible limits and missing paths (exit status 2); the feedback language (None: each student's,
    read from their copies while grading)."""
    from lecturekit.grading.sandbox import LIMIT_RULES, limit_options_possible

    if args.jobs < 1 or not limit_options_possible(args):
        parser.error(f"--jobs must be >= 1, {LIMIT_RULES}")
    missing = [str(p) for p in args.submissions if not os.path.lexists(p)]  # a student's odd file is no usage error
    if missing:
        parser.error(f"not found: {', '.join(missing)}")
    from lecturekit.i18n import normalize_language

    try:
        return normalize_language(args.lang) if args.lang else None
    except ValueError as exc:
        parser.error(str(exc))


def _options(args: argparse.Namespace) -> Options:
    """The grader's options from the command line."""
    from lecturekit.grading.grader import Options

    return Options(
        timeout=args.timeout,
        memory_mb=args.memory,
        jobs=args.jobs,
        seed=args.seed,
        full=args.full,
        quiet=args.quiet,
        sandbox=not args.no_sandbox,
        processes=args.processes,
        disk_mb=args.disk,
    )


def _write_and_tell(report: GradeReport, args: argparse.Namespace, lang: str | dict[str, str]) -> None:
    """Write the grades CSV, the feedback files and the review file, and print the summary lines."""
    from lecturekit.grading.report import NO_SANDBOX_WARNING, write_csv, write_feedback, write_review

    feedback = args.feedback or args.out.parent / "feedback"
    write_csv(report, args.out)
    write_feedback(report, feedback, lang)
    review = args.out.with_name(f"{args.out.stem}_review.csv")
    write_review(report, review)
    rows = report.rows()
    totals = [r for r in rows if r.grade_id == "TOTAL"]
    print(
        f"graded {len(totals)} student(s), {len(report.reports)} notebook copies in {report.seconds:.0f} s "
        f"(seed {report.seed}): {args.out}, {feedback}/, {review}",
        file=sys.stderr,
    )
    flagged = sum(len(r.flags) for r in report.reports)
    if flagged:
        print(f"{flagged} answer cell(s) flagged for a look: see {review}", file=sys.stderr)
    if not report.sandboxed:
        print(f"WARNING: {NO_SANDBOX_WARNING}", file=sys.stderr)
