"""`python -m lecturekit gradescope-run`: grade one Gradescope submission (what `run_autograder` calls).

Reads ROOT/source/lecturekit-gradescope.json (gradescope_build.py), copies the notebooks of
ROOT/submission (regular files only, never through a link) into a folder named by the Gradescope user
id (so each student's hidden inputs stay the same when a submission is graded again), grades them with
the kit's grader, and writes ROOT/results/results.json (gradescope.py), checked against Gradescope's
format first. ROOT is /autograder, or $LECTUREKIT_GRADESCOPE_ROOT, or --root.

The sandbox: Gradescope's containers usually forbid the namespaces bubblewrap makes. Where it cannot
make one (and the autograder was built with `--sandbox auto`, the default), the grader says so on the
log and grades as `grade --no-sandbox` does: the container, one per submission, holding nothing but this
submission and the course's files, is the sandbox, and the kit's references stay withheld from the
student's kernel. The student's code then runs as the container's user (root on Gradescope) and can
read the files in the container, the solution among them: see the instructors' guide.

Exit status: 0 graded; 1 files of the course or the kit changed while the student's code ran (the
alarm: every test scores 0 until someone looks); 2 not graded (results.json says so); 3 some cells could
not be graded because of the grader or the file itself (their tests say why).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from lecturekit.grading.gradescope import (
    SETTINGS_FILE,
    Settings,
    Visibility,
    failure_document,
    results_document,
    results_problems,
)

ROOT_VAR = "LECTUREKIT_GRADESCOPE_ROOT"
MAX_FILES = 50


def load_settings(source: Path) -> Settings:
    return Settings.from_json(json.loads((source / SETTINGS_FILE).read_text(encoding="utf-8")))


def student_id(metadata: Path) -> str:
    """The submitters' Gradescope user ids (a group's joined by '+'), else "student"."""
    from lecturekit.grading.matching import safe_student_id

    try:
        users = json.loads(metadata.read_text(encoding="utf-8")).get("users") or []
        ids = sorted(str(u["id"]) for u in users if isinstance(u, dict) and "id" in u)
    except (OSError, ValueError, AttributeError, TypeError):
        ids = []
    return safe_student_id("+".join(f"gs{i}" for i in ids)) if ids else "student"


def collect_notebooks(submission: Path, into: Path) -> list[Path]:
    """Copy the submission's notebooks (regular .ipynb files, at most MAX_FILES, links never followed) into `into`."""
    into.mkdir(parents=True)
    copied: list[Path] = []
    for folder, dirs, files in os.walk(submission, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(files):
            source = Path(folder) / name
            if not name.endswith(".ipynb") or name.startswith(".") or len(copied) >= MAX_FILES:
                continue
            if not stat.S_ISREG(source.lstat().st_mode):
                continue
            target = into / source.relative_to(submission)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target, follow_symlinks=False)
            copied.append(target)
    return copied


def use_sandbox(choice: str) -> bool:
    """Whether kernels run in bubblewrap: `choice` from the settings, and what this container allows (on the log)."""
    from lecturekit.grading.bwrap import SandboxUnavailable, sandbox_problem

    if choice == "off":
        print("sandbox: off (the autograder was built with --sandbox off): the container is the sandbox")
        return False
    problem = sandbox_problem()
    if problem is None:
        print("sandbox: each kernel runs in a bubblewrap sandbox inside the container")
        return True
    if choice == "require":
        raise SandboxUnavailable(f"the autograder was built with --sandbox require, and {problem}")
    print(
        "sandbox: bubblewrap cannot make a sandbox in this container, so the container (one per submission) is "
        "the sandbox; the kit's references stay withheld from the student's kernel, and the student's code "
        f"runs as this container's user. Why: {problem}"
    )
    return False


def could_not_grade(report: Any) -> bool:
    """Whether some copy could not be graded (exit status 3): the grader marks it with the reason."""
    return any(r.problem for r in report.reports)


def write_results(results: Path, doc: dict[str, Any]) -> Path:
    """results.json, checked against Gradescope's format, written whole or not at all."""
    problems = results_problems(doc)
    if problems:
        raise ValueError(f"results.json would not fit Gradescope's format: {problems[:5]}")
    results.mkdir(parents=True, exist_ok=True)
    path = results / "results.json"
    tmp = path.with_name(f".results.json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def grade_submission(root: Path, settings: Settings) -> tuple[dict[str, Any], int]:
    """Grade ROOT/submission; results.json's document and the exit status."""
    from lecturekit.datasets import ENV_VAR
    from lecturekit.grading.course import load_assignment
    from lecturekit.grading.grader import Options, grade

    source = root / "source"
    if settings.data:  # the course data set the zip carries: the notebooks load it, in the grader and the kernel
        os.environ[ENV_VAR] = str(source / settings.data)
    solution = source / "course" / "solutions" / f"{settings.assignment}.ipynb"
    assignment = load_assignment(solution)  # read before any student code runs
    student = student_id(root / "submission_metadata.json")
    work = Path(tempfile.mkdtemp(prefix="lkgradescope-"))
    try:
        folder = work / student
        found = collect_notebooks(root / "submission", folder)
        print(f"submission: {len(found)} notebook(s) from {root / 'submission'}, graded as student {student}")
        options = Options(
            timeout=settings.timeout,
            memory_mb=settings.memory_mb,
            jobs=1,
            seed=settings.seed,
            full=settings.full,
            sandbox=use_sandbox(settings.sandbox),
            processes=settings.processes,
            disk_mb=settings.disk_mb,
        )
        report = grade([folder], solution.parent, options, notebooks=[settings.assignment])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lang = settings.lang or report.languages.get(student) or "en"  # the edition of the copy graded
    doc = results_document(report, assignment, lang, settings.visibility, alarm=report.changed)
    if report.changed:
        changed = "\n  ".join(report.changed)
        print(f"ALARM: these files changed while the student's code ran (grade withheld):\n  {changed}")
    status = 1 if report.changed else 3 if could_not_grade(report) else 0
    print(f"graded {settings.assignment} ({lang}): {doc['score']:g} points, exit status {status}")
    return doc, status


def run(root: Path) -> int:
    """Grade the submission under ROOT and write ROOT/results/results.json in every case; the exit status."""
    start = time.monotonic()
    visibility, lang = Visibility(), "en"
    try:
        settings = load_settings(root / "source")
        visibility, lang = settings.visibility, settings.lang or "en"
        doc, status = grade_submission(root, settings)
    except Exception:  # noqa: BLE001 - whatever broke, the student gets a results.json that says it is not their doing
        print("the autograder could not grade this submission:\n" + traceback.format_exc())
        doc, status = failure_document(lang, visibility, time.monotonic() - start), 2
    write_results(root / "results", doc)
    return status


def check(root: Path) -> int:
    """setup.sh's last step: the settings read, the assignment loads, and whether bubblewrap works here."""
    from lecturekit.grading.bwrap import sandbox_problem
    from lecturekit.grading.course import load_assignment

    settings = load_settings(root / "source")
    assignment = load_assignment(root / "source" / "course" / "solutions" / f"{settings.assignment}.ipynb")
    if not assignment.graded:
        print(f"error: {assignment.path} has no graded cell", file=sys.stderr)
        return 2
    problem = sandbox_problem()
    print(
        f"ok: {assignment.name}, {len(assignment.graded)} graded cell(s), {assignment.max_points:g} points; "
        f"sandbox: {'bubblewrap works here' if problem is None else 'not here (' + problem + ')'} "
        "(the image is built without the runtime limits of grading: the check at grading time decides)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lecturekit gradescope-run", description=__doc__)
    parser.add_argument(
        "--root", type=Path, default=None, help=f"the autograder's root (default ${ROOT_VAR}, else /autograder)"
    )
    parser.add_argument("--check", action="store_true", help="only check the autograder (setup.sh runs this)")
    args = parser.parse_args(argv)
    root = args.root or Path(os.environ.get(ROOT_VAR) or "/autograder")
    if args.check:
        return check(root)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    return run(root)
