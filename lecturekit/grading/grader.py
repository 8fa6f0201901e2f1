"""Grading a set of submissions: one fresh kernel per (student, notebook), N at a time.

For each submission: build the plan (plan.py), run it in a kernel in a new temp folder that holds
only the student's merged notebook (sandbox.py), grade each graded cell (compare.py), and never
stop the run: a dead kernel, an endless loop, an unreadable file or a missing function become a row
with a status (passed / failed / error / timeout / missing).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

from lecturekit.exercises import Exercise, get_exercise
from lecturekit.grading import sandbox
from lecturekit.grading.bwrap import require_sandbox
from lecturekit.grading.compare import (
    ExerciseResult,
    StudentCode,
    Verdict,
    combine,
    judge_exercise,
    name_errors,
    plain_test_verdict,
)
from lecturekit.grading.course import Assignment, changed_files, load_course, tree_snapshot
from lecturekit.grading.execute import JANITOR, KernelSession, Outcome, ReadBudget, WorkFolders, call_exercise
from lecturekit.grading.integrity import GUARD_RESTORE, flags
from lecturekit.grading.kernel_code import install_guard, kernel_source
from lecturekit.grading.matching import Submission, gather, match_student, unread_problem
from lecturekit.grading.plan import Plan, Step, build_plan, defined_functions, python_source
from lecturekit.grading.sandbox import LIMITS, Limits
from lecturekit.grading.withheld import cached_package_copy
from lecturekit.i18n import N_, _
from lecturekit.notebooks import BEGIN_HIDDEN, END_HIDDEN

HIDDEN_SEEDS = 3  # secret seeds per exercise (the notebook's hidden tests use 3 fixed ones)


@dataclass
class Options:
    timeout: float = LIMITS.seconds  # seconds per cell (and per exercise call)
    memory_mb: int = LIMITS.memory_mb  # memory of each kernel
    jobs: int = 1
    seed: int | None = None  # None: a secret random seed per run
    full: bool = False  # run every cell up to the last graded one instead of only what is needed
    max_restarts: int = 2  # kernel restarts per submission after a crash or a stuck cell
    quiet: bool = False
    sandbox: bool = True  # each kernel in a bubblewrap sandbox (False: as the grader's OS user, like nbgrader)
    processes: int = LIMITS.processes  # processes and threads per kernel
    disk_mb: int = LIMITS.disk_mb  # what a kernel may write into its work folder
    scratch: Path | None = None  # the run's own temporary folder (made by `grade`; watched by the alarm)

    def limits(self) -> Limits:
        """The limits of each kernel, from these options."""
        return replace(
            LIMITS, memory_mb=self.memory_mb, disk_mb=self.disk_mb, processes=self.processes, seconds=self.timeout
        )


@dataclass
class Row:
    student: str
    notebook: str
    grade_id: str
    points: float
    max_points: float
    status: str
    messages: list[str] = field(default_factory=list)


@dataclass
class SubmissionReport:
    student: str
    notebook: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # for the instructor's review: what deserves a look
    seconds: float = 0.0
    mode: str = ""
    problem: str = ""  # why this copy could not be graded (then its rows are errors, and `grade` exits with 3)


@dataclass
class GradeReport:
    reports: list[SubmissionReport]
    student_notes: dict[str, list[str]]
    changed: list[str]
    seed: int
    seconds: float
    sandboxed: bool = True
    languages: dict[str, str] = field(default_factory=dict)  # each student's edition, from the copies read
    student_review: dict[str, list[str]] = field(default_factory=dict)  # per student, for the review file

    def rows(self) -> list[Row]:
        """Every exercise row, then a TOTAL row per student."""
        out: list[Row] = []
        for student in sorted({r.student for r in self.reports}):
            mine = [r for r in self.reports if r.student == student]
            rows = [row for r in sorted(mine, key=lambda r: r.notebook) for row in r.rows]
            out += rows
            points = round(sum(r.points for r in rows), 2)
            max_points = round(sum(r.max_points for r in rows), 2)
            status = "passed" if rows and all(r.status == "passed" for r in rows) else "incomplete"
            out.append(Row(student, "ALL", "TOTAL", points, max_points, status))
        return out


def derive_seed(base: int, *parts: object) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in (base, *parts)).encode()).hexdigest()
    return int(digest[:8], 16) & 0x7FFFFFFF


def _rows_for_all(sub: Submission, assignment: Assignment, status: str, message: str) -> list[Row]:
    return [Row(sub.student, assignment.name, g.grade_id, 0.0, g.points, status, [message]) for g in assignment.graded]


def _segments(source: str) -> list[tuple[str, bool]]:
    """A test cell split into its visible and hidden parts (each must be valid Python on its own)."""
    parts: list[tuple[str, bool]] = []
    current: list[str] = []
    hidden = False
    for line in source.split("\n"):
        if line.strip() in (BEGIN_HIDDEN, END_HIDDEN):
            if current:
                parts.append(("\n".join(current), hidden))
            current, hidden = [], line.strip() == BEGIN_HIDDEN
            continue
        current.append(line)
    if current:
        parts.append(("\n".join(current), hidden))
    import ast

    try:
        for code, _ in parts:
            ast.parse(python_source(code))
    except SyntaxError:
        return [(source, BEGIN_HIDDEN in source)]
    return [(c, h) for c, h in parts if c.strip()]


class _Run:
    """The execution of one plan in one kernel (restarting it, at most max_restarts times, after a crash)."""

    withheld_note = N_(
        "some of the course's own cells could not run in the grader, which withholds the kit's "
        "implementations of the graded functions; this does not change your points"
    )

    def __init__(
        self,
        plan: Plan,
        sub: Submission,
        assignment: Assignment,
        options: Options,
        base_seed: int,
        reading: ReadBudget | None = None,
    ):
        self.plan, self.sub, self.assignment, self.options, self.base_seed = plan, sub, assignment, options, base_seed
        self.reading = reading or ReadBudget()  # the grader's time reading this copy's kernels, over all its runs
        self.package = kernel_package(assignment, options)
        self.verdicts: dict[str, Verdict] = {}
        self.answer_errors: dict[str, tuple[str, str]] = {}  # answer grade id -> (status, what happened)
        self.defined_by: dict[str, str] = {}  # function name -> grade id of the answer cell that defines it
        for cell in assignment.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") == "code" and meta.get("solution"):
                for fn in defined_functions(cell["source"]):
                    self.defined_by[fn] = meta.get("grade_id", "")
        self.cell_errors: list[str] = []
        self.error_texts: list[str] = []
        self.setup_problem = ""
        self.problem = ""  # why the copy could not be graded (the grader's side: no kernel could start)
        self.events: list[str] = []  # limits hit and hostile results, for the instructor's review
        self.executed: list[Step] = []
        self.restarts = 0
        self.guard = any(s.kind == "test" for s in plan.steps)
        self.token = secrets.token_hex(8)  # the guard's answer: tells its restore() really ran
        self._code: StudentCode | None = None

    def student_code(self) -> StudentCode:
        """What a hidden case's error may show (compare.StudentCode): the cells that run, not the hidden parts of
        graded ones; read once per run."""
        if self._code is None:
            self._code = StudentCode.of(s.source for s in self.plan.steps if s.kind in ("code", "answer"))
        return self._code

    def _timeout_for(self, step: Step) -> float:
        # the setup cell imports torch & co.: on a loaded machine that alone can take a while
        return max(self.options.timeout, 120.0) if step is self.plan.steps[0] else self.options.timeout

    def _prepare(self, session: KernelSession) -> bool:
        """Start (or restart) the kernel and replay what ran before; False when it cannot be brought back."""
        if session.km is not None:
            session.close()
        session.start()
        for step in list(self.executed):
            out = session.run(step.source, self._timeout_for(step))
            if out.status in ("dead", "timeout"):
                return False
            if step is self.plan.steps[0] and self.guard:
                session.run(kernel_source(install_guard, self.token), self.options.timeout)
        return True

    def _restart(self, session: KernelSession) -> bool:
        if self.restarts >= self.options.max_restarts:
            return False
        self.restarts += 1
        try:
            return self._prepare(session)
        except RuntimeError:
            return False

    def _blame_previous(self) -> None:
        """The kernel died between two cells: the last cell that ran did it (exit(), a background thread...);
        it is not replayed after the restart."""
        if len(self.executed) <= 1:
            return
        step = self.executed.pop()
        if step.kind == "answer":
            self.answer_errors[step.grade_id or ""] = ("error", "it stopped the Python kernel after it ran")
        self.cell_errors.append(
            f"{step.label} stopped the Python kernel after it ran (exit()? a background "
            "thread?): it was left out after the restart"
        )

    def _exec(
        self,
        session: KernelSession,
        source: str | Callable[[], str],
        timeout: float,
        expressions: dict[str, str] | None = None,
    ) -> Outcome:
        """Run code, restarting a kernel that an earlier cell stopped (and leaving that cell out). `source` may
        be a function that makes the code for the kernel about to run it (a restarted one has a new folder)."""
        make = (lambda: source) if isinstance(source, str) else source
        if session.reading.over():  # the copy spent the grader's reading budget: nothing more of it runs
            return Outcome("dead", evalue=session.reading.why())
        if session.km is not None and not session.alive():
            self._blame_previous()
        if not session.alive() and not self._restart(session):
            return Outcome("dead", evalue="it kept stopping, so the rest of the notebook was not run", started=False)
        out = session.run(make(), timeout, expressions)
        self.events += session.take_dropped()
        if out.status == "dead" and out.evalue and session.violation:
            self.events.append(f"the kernel was stopped: {out.evalue}")
        if out.status == "dead" and not out.started:
            self._blame_previous()
            if self._restart(session):
                out = session.run(make(), timeout, expressions)
                self.events += session.take_dropped()
        if out.status == "dead" or out.exited:
            session.close()  # this code stopped it: the next code restarts it, blaming no earlier cell
        return out

    def execute(self, folders: WorkFolders) -> None:
        session = KernelSession(
            folders, self.options.limits(), package=self.package, sandboxed=self.options.sandbox, reading=self.reading
        )
        try:
            session.start()
            for step in self.plan.steps:
                if step.kind in ("code", "answer"):
                    self._run_code(session, step)
                elif step.kind == "exercise":
                    self._run_exercise(session, step)
                else:
                    self._run_test(session, step)
        finally:
            session.close()
            sandbox.sweep_orphans()

    def _run_code(self, session: KernelSession, step: Step) -> None:
        setup = step is self.plan.steps[0]
        out = self._exec(session, step.source, self._timeout_for(step))
        if out.exited:
            out = Outcome("dead", evalue="it calls exit() or quit(), which stops the kernel: leave that out")
        if out.status in ("ok", "error"):
            self.executed.append(step)
        if setup and self.guard and out.status == "ok":
            session.run(kernel_source(install_guard, self.token), self.options.timeout)
        if out.status == "ok":
            return
        text = out.summary()
        self.error_texts.append(f"{out.ename}: {out.evalue}")
        if step.kind != "answer" and (out.ename == "ReferenceUnavailable" or self.withheld_note in self.cell_errors):
            # the grader's doing (or its knock-on in a later course cell), not the student's
            if self.withheld_note not in self.cell_errors:
                self.cell_errors.append(_(self.withheld_note))
            return
        if setup:
            self.setup_problem = text
        if step.kind == "answer":
            self.answer_errors[step.grade_id or ""] = (out.status, text.splitlines()[-1] if text else out.status)
        what = {"error": "raised an error", "timeout": "did not finish in time", "dead": "stopped the kernel"}
        self.cell_errors.append(f"{step.label} {what.get(out.status, out.status)}:\n{text}")

    def _run_exercise(self, session: KernelSession, step: Step) -> None:
        g = step.graded
        assert g is not None
        results: list[ExerciseResult] = []
        code = self.student_code()
        for name in g.exercises:
            exercise = get_exercise(name)
            answer_status, answer_error = self.answer_errors.get(self.defined_by.get(exercise.function, ""), ("", ""))
            hidden = [
                case
                for k in range(HIDDEN_SEEDS)
                for case in exercise.cases(derive_seed(self.base_seed, self.sub.student, name, k))
            ]
            visible = list(exercise.cases(0))
            call = call_exercise(
                session,
                exercise.function,
                hidden + visible,
                self.options.timeout,
                run=lambda make_code, t: self._exec(session, make_code, t),
                after_call=exercise.after_call,
            )
            if call.problem:
                self.events.append(f"{exercise.function}(): {call.detail or call.problem}")
            for err in call.errors:
                if err:
                    self.error_texts.append(f"{err.get('type')}: {err.get('message')}")
            results.append(judge_exercise(exercise, hidden, visible, call, answer_error, answer_status, code))
        self.verdicts[g.grade_id] = combine(g.grade_id, g.points, g.partial, results)

    def _run_test(self, session: KernelSession, step: Step) -> None:
        g = step.graded
        assert g is not None
        restore = self._exec(session, "", self.options.timeout, {"lk": GUARD_RESTORE})
        answer = restore.expressions.get("lk", {})
        if restore.status != "ok" or answer.get("data", {}).get("text/plain") != repr(self.token):
            self.verdicts[g.grade_id] = Verdict(
                g.grade_id, 0.0, g.points, "error", ["the grader's guard was removed by the notebook's code"]
            )
            return
        for code, hidden in _segments(g.source):
            out: Outcome = self._exec(session, code, self.options.timeout)
            if out.status != "ok":
                self.error_texts.append(f"{out.ename}: {out.evalue}")
                self.verdicts[g.grade_id] = plain_test_verdict(
                    g.grade_id, g.points, out.status, out.ename, out.summary(), hidden
                )
                return
        self.verdicts[g.grade_id] = plain_test_verdict(g.grade_id, g.points, "ok", "", "", False)


def kernel_package(assignment: Assignment, options: Options) -> Path:
    """The package copy this assignment's kernels import: the references of its exercises withheld."""
    exercises = [get_exercise(n) for g in assignment.graded for n in g.exercises]
    return cached_package_copy(exercises, link_data=not options.sandbox)


def _student_view(plan: Plan, assignment: Assignment) -> dict:
    """The merged notebook as the student may see it (hidden tests removed), written into the temp folder."""
    from nbformat import from_dict

    from lecturekit.notebooks import student_cell

    cells = []
    for index, cell in enumerate(plan.cells):
        if (
            cell.get("cell_type") == "code"
            and index < len(assignment.cells)
            and assignment.cells[index].get("metadata", {}).get("nbgrader", {}).get("grade")
        ):
            cell = dict(student_cell(from_dict(cell), f"cell {index}"))
        cells.append(
            {
                "cell_type": cell.get("cell_type", "code"),
                "metadata": cell.get("metadata", {}),
                "source": cell.get("source", ""),
                **({"outputs": [], "execution_count": None} if cell.get("cell_type") == "code" else {}),
            }
        )
    return {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }


def grade_submission(sub: Submission, assignment: Assignment, options: Options, base_seed: int) -> SubmissionReport:
    """All rows of one student's copy of one notebook; never raises for anything in the submission."""
    start = time.monotonic()
    report = SubmissionReport(sub.student, assignment.name, [], list(sub.notes))
    if sub.cells is None:
        if sub.problem:
            report.problem = f"{sub.path.name}: {sub.problem}" if sub.path else sub.problem
            report.rows = _rows_for_all(sub, assignment, "error", report.problem)
        else:
            not_in = _("{name}.ipynb was not handed in").format(name=assignment.name)
            report.rows = _rows_for_all(sub, assignment, "missing", not_in)
        return report
    exercises = [get_exercise(n) for g in assignment.graded for n in g.exercises]
    reading = ReadBudget()  # one for the copy, its full re-run included
    run = _run_plan(sub, assignment, options, base_seed, full=options.full, reading=reading)
    report.mode = "full" if options.full else "needed cells"
    missing_names = name_errors(run.error_texts)
    if not options.full and missing_names & run.plan.skipped_defines and not reading.over():
        run = _run_plan(sub, assignment, options, base_seed, full=True, reading=reading)
        report.mode = "full (a skipped cell was needed)"
    report.notes += run.plan.notes
    if run.setup_problem:
        print(
            f"warning: {sub.student} {assignment.name}: the setup cell failed in the grader's kernel:\n"
            f"{run.setup_problem}",
            file=sys.stderr,
        )
    report.notes += run.cell_errors[:6]
    for g in assignment.graded:
        v = run.verdicts.get(g.grade_id) or Verdict(g.grade_id, 0.0, g.points, "error", [_("not graded")])
        report.rows.append(Row(sub.student, assignment.name, g.grade_id, v.points, v.max_points, v.status, v.messages))
    for step in run.plan.steps:
        if step.kind == "answer":
            report.flags += [f"{step.grade_id}: {f}" for f in flags(step.source, exercises)]
    report.flags += list(dict.fromkeys(run.events))[:10]
    report.problem = run.problem
    report.seconds = time.monotonic() - start
    return report


def _run_plan(
    sub: Submission, assignment: Assignment, options: Options, base_seed: int, full: bool, reading: ReadBudget
) -> _Run:
    plan = build_plan(assignment, sub, full=full)
    run = _Run(plan, sub, assignment, options, base_seed, reading)
    parent = Path(tempfile.mkdtemp(prefix="copy-", dir=options.scratch))
    parent.chmod(0o711)  # a kernel under a uid of its own reaches its work folder inside (not sandboxed)
    notebook = json.dumps(_student_view(plan, assignment), indent=1).encode()
    try:
        run.execute(WorkFolders(parent, {f"{assignment.name}.ipynb": notebook}))
    except RuntimeError as exc:  # the kernel did not start: the grader's environment, not the student
        print(f"warning: {sub.student} {assignment.name}: {exc}", file=sys.stderr)
        run.problem = "the grader could not start a Python kernel"
        for g in assignment.graded:
            run.verdicts.setdefault(g.grade_id, Verdict(g.grade_id, 0.0, g.points, "error", [run.problem]))
    finally:
        JANITOR.remove(parent)
    return run


def grade(
    paths: list[Path],
    solutions_dir: Path,
    options: Options | None = None,
    notebooks: list[str] | None = None,
    students: Callable[[str], bool] | None = None,
) -> GradeReport:
    """Grade every student found in `paths` (folders or .ipynb files) against `solutions_dir`; with `students`,
    only those it accepts (a shard), grading the notebooks a run over everyone would grade."""
    import importlib.util

    options = options or Options()
    start = time.monotonic()
    if importlib.util.find_spec("ipykernel") is None:
        raise ValueError(
            "grading runs each notebook in an ipykernel, which is not installed: "
            "pip install 'lecturekit[instructor]' (or pip install ipykernel)"
        )
    if options.sandbox:
        require_sandbox()
    wrote_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no .pyc of our own in the watched folders while we watch them
    try:
        return _grade(paths, solutions_dir, options, notebooks, start, students)
    finally:
        sys.dont_write_bytecode = wrote_bytecode


def _grade(
    paths: list[Path],
    solutions_dir: Path,
    options: Options,
    notebooks: list[str] | None,
    start: float,
    only: Callable[[str], bool] | None = None,
) -> GradeReport:
    """Match the files to students and notebooks, then grade every (student, notebook) in a thread pool,
    watching the course, the package and the data for files the kernels change."""
    course = load_course(Path(solutions_dir))
    base_seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    students = gather([Path(p) for p in paths])
    matched: dict[str, dict[str, Submission]] = {}
    student_notes: dict[str, list[str]] = {}
    broken: dict[str, str] = {}  # why a student's notebook without a copy may still have been handed in
    ungraded = {p.stem for p in Path(solutions_dir).glob("*.ipynb")} - set(course)
    for name, entry in students.items():
        try:
            matched[name], student_notes[name] = match_student(entry, course, ungraded)
            problem = unread_problem(entry, course)
        except Exception as exc:  # noqa: BLE001 - one student's odd files never stop the run for the others
            matched[name], student_notes[name] = {}, []
            problem = f"the grader could not read these files ({type(exc).__name__}: {str(exc)[:200]})"
            print(f"warning: reading {name}'s files failed: {exc!r}", file=sys.stderr)
        if problem:
            broken[name] = problem
    wanted = _wanted_notebooks(course, matched, student_notes, notebooks, solutions_dir)
    graded = [s for s in sorted(students) if only is None or only(s)]
    student_notes = {s: student_notes[s] for s in graded}
    jobs = [(matched[s].get(a) or Submission(s, a, problem=broken.get(s)), course[a]) for s in graded for a in wanted]
    scratch = Path(tempfile.mkdtemp(prefix="lkgrade-"))
    scratch.chmod(0o711)  # a kernel under a uid of its own reaches its work folder inside
    options = replace(options, scratch=scratch)
    try:
        watched = [*_watched_folders(solutions_dir, [course[a] for a in wanted], options), scratch]
        before = tree_snapshot(watched)  # taken once the package copies exist, before any student code runs
        sandbox.become_subreaper()
        for name in sorted({n for a in wanted for g in course[a].graded for n in g.exercises}):
            _warm(get_exercise(name))
        reports = _grade_jobs(jobs, options, base_seed)
        JANITOR.wait()
        changed = changed_files(before, watched)  # the scratch folder must be empty again: nothing left behind
    finally:
        JANITOR.remove(scratch)
        JANITOR.wait()
    report = GradeReport(reports, student_notes, changed, base_seed, time.monotonic() - start, options.sandbox)
    report.languages = {s: lang for s in graded if (lang := _language(matched[s]))}
    report.student_review = {s: students[s].review for s in graded if students[s].review}
    return report


def _language(submissions: dict[str, Submission]) -> str | None:
    """A student's edition: that of the first of their copies (by notebook) that is marked, else None."""
    return next((sub.language for _, sub in sorted(submissions.items()) if sub.language), None)


def _wanted_notebooks(
    course: dict[str, Assignment],
    matched: dict[str, dict[str, Submission]],
    student_notes: dict[str, list[str]],
    notebooks: list[str] | None,
    solutions_dir: Path,
) -> list[str]:
    """The notebooks to grade: those asked for (all known), else every one some student handed in."""
    if notebooks:
        unknown = [n for n in notebooks if n not in course]
        if unknown:
            raise ValueError(f"no graded notebook called {unknown} in {solutions_dir}; known: {sorted(course)}")
        return list(notebooks)
    wanted = sorted({a for subs in matched.values() for a in subs})
    if not wanted:
        notes = "; ".join(n for ns in student_notes.values() for n in ns)[:500]
        raise ValueError(
            f"no notebook of the course ({', '.join(sorted(course))}) was found in the submissions"
            + (f": {notes}" if notes else "")
        )
    return wanted


def _watched_folders(solutions_dir: Path, assignments: list[Assignment], options: Options) -> list[Path]:
    """Where a file created or changed while student code ran raises the alarm: the course folder, the
    package, the kit's data, the active course data set (under the data switch), the kernels' package copies."""
    from lecturekit.paths import data_dir

    course_data = sandbox.course_data_folder(own_uid=options.sandbox)  # refused early when kernels can't read it
    return [
        Path(solutions_dir).resolve().parent,
        sandbox.PACKAGE_DIR,
        data_dir().resolve(),
        *([course_data] if course_data is not None else []),
        *{kernel_package(a, options) for a in assignments},
    ]


def _grade_jobs(jobs: list[tuple[Submission, Assignment]], options: Options, base_seed: int) -> list[SubmissionReport]:
    """Grade each (submission, notebook) in a pool of `options.jobs` threads; no kernel outlives it."""
    reports: list[SubmissionReport] = []
    pool = ThreadPoolExecutor(max_workers=max(1, options.jobs))
    try:
        futures = {pool.submit(grade_submission, sub, a, options, base_seed): (sub, a) for sub, a in jobs}
        for done, future in enumerate(as_completed(futures), 1):
            sub, a = futures[future]
            report = _job_report(future, sub, a)
            reports.append(report)
            if not options.quiet:
                got = sum(r.points for r in report.rows)
                top = sum(r.max_points for r in report.rows)
                print(
                    f"[{done}/{len(jobs)}] {report.student} {report.notebook}: {got:g}/{top:g} points "
                    f"({report.seconds:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    except BaseException:  # Ctrl-C: no kernel may outlive the grader
        pool.shutdown(wait=False, cancel_futures=True)
        sandbox.kill_active()
        raise
    finally:
        pool.shutdown(wait=True)
        sandbox.sweep_orphans()
        sandbox.stop_subreaper()
    return reports


def _job_report(future: Future, sub: Submission, a: Assignment) -> SubmissionReport:
    """A finished job's report; a grader bug becomes an error row for that notebook, not a stop for all."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the other students' grading
        problem = f"the grader failed on this notebook ({type(exc).__name__}: {str(exc)[:300]})"
        report = SubmissionReport(sub.student, a.name, _rows_for_all(sub, a, "error", problem), problem=problem)
        print(f"warning: grading {sub.student} {a.name} failed: {exc!r}", file=sys.stderr)
        return report


def _warm(exercise: Exercise) -> None:
    """Make the cases once before any kernel runs (imports, caches): a broken course fails here, loudly."""
    exercise.cases(0)
