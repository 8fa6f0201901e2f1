"""What runs in the student's kernel, in which order: the merge of solution and submission, and
the choice of cells.

Merge: the notebook that runs is the SOLUTION notebook with each solution cell (matched by nbgrader
grade_id) replaced by the student's cell(s). Every other cell -- locked, graded test, plain
instructor code, and any cell the student added -- comes from the solution, so edits to tests or
metadata change nothing; cells the student added are not run (put helpers in the answer cell).

Choice of cells (the notebooks run up to 60 s each; grading 100 copies must not): the exercise
functions are pure, so only what they can need runs -- the setup cell, the answer cells, the graded
cells, cells that only import/define/assign constants, and any other instructor cell that defines
a name one of those reads (a backwards pass over the cells, like liveness analysis). Cells after the
last graded cell never run. `full=True` runs every cell up to the last graded one instead; the
grader falls back to it when a skipped cell defined a name that turned out to be missing.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from lecturekit.grading.course import Assignment, GradedCell, cell_source, nbgrader_meta
from lecturekit.grading.matching import MAX_CELL_CHARS, Submission, oversized_cell
from lecturekit.i18n import _
from lecturekit.translations import code_skeleton

_IPYTHON_NAMES = {"get_ipython", "display", "In", "Out", "exit", "quit", "_", "__", "___"}


@dataclass
class Step:
    """One execution in the kernel."""

    kind: str  # "code" (instructor), "answer" (student's solution cell), "exercise", "test" (plain graded)
    source: str
    label: str
    index: int
    grade_id: str | None = None
    graded: GradedCell | None = None


@dataclass
class Plan:
    steps: list[Step]
    skipped: list[int] = field(default_factory=list)  # instructor cells not run
    skipped_defines: set[str] = field(default_factory=set)  # names those cells would have defined
    notes: list[str] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)  # the merged notebook (what the student may see)


_TARGET_FIRST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_TARGET_PUNCTUATION = frozenset("_.,[]")


def magic_assign(line: str) -> tuple[str, str] | None:
    """(indent, target) of a line that assigns a shell escape's or a magic's output (`files = !ls`,
    `a, b = %who_ls`), None for any other line. Split at the first `=` and each part tested, in linear time:
    the regular expression this replaces backtracked quadratically on a long run of spaces (minutes a line)."""
    head, equals, tail = line.partition("=")
    if not equals or tail.lstrip()[:1] not in ("!", "%"):
        return None
    target = head.strip()
    if not target or target[0] not in _TARGET_FIRST:
        return None
    if not all(ch.isalnum() or ch in _TARGET_PUNCTUATION or ch.isspace() for ch in target):
        return None
    return head[: len(head) - len(head.lstrip())], target


@lru_cache(maxsize=4096)
def python_source(source: str) -> str:
    """The cell as plain Python for reading its names (which cells to run): IPython's shell escapes and magics
    (`!cmd`, `%magic`, `x = !cmd`, `obj?`) become `pass` or `x = None` line by line, in linear time. The
    kernel runs the real cell; IPython's own transformer is never run here, in the grader's process, on a
    student's cell (its cost grows with the square of a cell's `!` lines)."""
    lines = source.split("\n")
    if not any(_special(line) for line in lines):
        return source
    if lines[0].lstrip().startswith("%%"):  # a cell magic: its body is Python only for a few (%%time, %%capture)
        body = lines[1:] if lines[0].split()[0] in ("%%time", "%%timeit", "%%capture") else []
        return python_source("\n".join(body))
    out = []
    for line in lines:
        assign = magic_assign(line)
        if assign:
            out.append(f"{assign[0]}{assign[1]} = None")
        elif _special(line):
            out.append(line[: len(line) - len(line.lstrip())] + "pass")
        else:
            out.append(line)
    return "\n".join(out)


def _special(line: str) -> bool:
    """A line IPython reads differently from Python: a shell escape, a magic, a help request, `x = !cmd`."""
    bare = line.strip()
    return (
        bare.startswith(("!", "%"))
        or (bare.endswith("?") and not bare.startswith("#"))
        or magic_assign(line) is not None
    )


@lru_cache(maxsize=4096)
def names_of(source: str) -> tuple[frozenset[str], frozenset[str]]:
    """(names the cell defines at top level, global names it reads) -- both over-approximated when
    the cell is not valid Python."""
    code = python_source(source)
    try:
        table = symtable.symtable(code, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return frozenset(), frozenset({"*"})
    defined, used = set(), set()
    for sym in table.get_symbols():
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            defined.add(sym.get_name())
        if sym.is_referenced():
            used.add(sym.get_name())

    def walk(t: symtable.SymbolTable) -> None:
        for child in t.get_children():
            for sym in child.get_symbols():
                if sym.is_global() and (sym.is_referenced() or sym.is_assigned()):
                    used.add(sym.get_name())
                if sym.is_declared_global() and sym.is_assigned():
                    defined.add(sym.get_name())
            walk(child)

    walk(table)
    skip = set(dir(builtins)) | _IPYTHON_NAMES
    return frozenset(defined), frozenset(used - skip)


def is_cheap(source: str) -> bool:
    """Only imports, function/class definitions and constant assignments: safe to run always (a shell
    escape or a magic is never cheap)."""
    if any(_special(line) for line in source.split("\n")):
        return False
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return False
    return all(_is_cheap_statement(stmt) for stmt in tree.body)


def _is_cheap_statement(stmt: ast.stmt) -> bool:
    """An import, a definition, a constant assignment or a bare constant: one statement of a cheap cell."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(stmt, ast.Assign):
        return _is_constant(stmt.value)
    if isinstance(stmt, ast.AnnAssign):
        return stmt.value is None or _is_constant(stmt.value)
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _is_constant(node: ast.AST) -> bool:
    """A literal built only of constants (tuples, lists, sets, dicts, signs and arithmetic of them)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _is_constant(k) for k in node.keys) and all(_is_constant(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left) and _is_constant(node.right)
    return False


def defined_functions(source: str) -> frozenset[str]:
    """The functions a cell defines at top level."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return frozenset()
    return frozenset(s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)))


def student_answers(assignment: Assignment, submission: Submission) -> tuple[dict[int, str], list[str]]:
    """For each solution cell (by index): the student's code, found by grade_id, else by the function it
    defines, else the untouched stub. Also notes for the student."""
    by_id, loose = _submitted_code(assignment, submission.cells or [])
    answers: dict[int, str] = {}
    notes: list[str] = []
    used_loose: set[int] = set()
    functions_of = lru_cache(maxsize=None)(defined_functions)  # each loose cell parsed once, not once per answer
    submitted = submission.cells is not None
    for index, cell in enumerate(assignment.cells):
        if cell.get("cell_type") != "code" or not nbgrader_meta(cell).get("solution"):
            continue
        answers[index], note = _find_answer(assignment, index, by_id, loose, used_loose, submitted, functions_of)
        if note:
            notes.append(note)
    extra = len(loose) - len(used_loose)
    if extra > 0 and submission.cells is not None:
        notes.append(
            _(
                "{extra} code cell(s) you added were not run by the grader: only the answer cells are "
                "taken from your notebook (put helper functions inside an answer cell)"
            ).format(extra=extra)
        )
    return answers, notes


def _submitted_code(assignment: Assignment, cells: list[dict]) -> tuple[dict[str, list[str]], list[str]]:
    """The student's code cells: by solution grade_id, and the loose ones (added, or their metadata was lost)."""
    solution_ids = set(assignment.solution_ids())
    known_ids = assignment.grade_ids()
    by_id: dict[str, list[str]] = {}
    loose: list[str] = []  # code cells without a known grade id (added, or their metadata was lost)
    # the course's own cells, in any edition: a Chinese copy's given cells differ only in comments and strings
    course_code = {code_skeleton(c["source"]) for c in assignment.cells if c.get("cell_type") == "code"} - {None}
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        source = cell_source(cell)
        if gid in solution_ids:
            by_id.setdefault(gid, []).append(source)
        elif gid not in known_ids and source.strip() and code_skeleton(source) not in course_code:
            loose.append(source)
    return by_id, loose


def _find_answer(
    assignment: Assignment,
    index: int,
    by_id: dict[str, list[str]],
    loose: list[str],
    used_loose: set[int],
    submitted: bool,
    functions_of: Callable[[str], frozenset[str]] = defined_functions,
) -> tuple[str, str | None]:
    """The code that stands for solution cell `index` and a note about how it was found (or None);
    the loose cells it takes are added to `used_loose`."""
    cell = assignment.cells[index]
    gid = nbgrader_meta(cell).get("grade_id")
    if gid in by_id:
        note = None
        if len(by_id[gid]) > 1:
            note = f"answer cell {gid!r} appears {len(by_id[gid])} times in your notebook; all copies were run in order"
        return joined_answer(by_id[gid]), note
    wanted = defined_functions(cell["source"])
    found = [i for i, src in enumerate(loose) if wanted and wanted & functions_of(src)]
    if found:
        used_loose.update(found)
        return joined_answer([loose[i] for i in found]), (
            f"answer cell {gid!r} was found by the function it defines (its cell lost its grading metadata)"
        )
    note = _("answer cell {gid} is not in your notebook: it was graded as not answered").format(gid=repr(gid))
    note = note if submitted else None
    return assignment.stub_source(index), note


def joined_answer(sources: list[str]) -> str:
    """The cells that stand for one answer, run as one; over the grader's limit for a cell, code that says so
    (as for one cell: many cells under the limit must not add up to a stall or a huge plan)."""
    chars = sum(len(s) for s in sources) + 2 * (len(sources) - 1)
    if chars > MAX_CELL_CHARS:
        return oversized_cell(chars, f"the {len(sources)} cells of this answer hold")
    return "\n\n".join(sources)


def build_plan(assignment: Assignment, submission: Submission, full: bool = False) -> Plan:
    """The steps to run for one submission (see the module's docstring)."""
    answers, notes = student_answers(assignment, submission)
    last = max(g.index for g in assignment.graded)
    first_code = next(i for i, c in enumerate(assignment.cells) if c.get("cell_type") == "code")
    merged = [dict(cell, source=answers[i]) if i in answers else dict(cell) for i, cell in enumerate(assignment.cells)]
    keep = _cells_to_keep(assignment, merged, answers, first_code, full)
    steps, skipped, skipped_defines = [], [], set()
    for index in range(last + 1):
        cell = assignment.cells[index]
        if cell.get("cell_type") != "code":
            continue
        if index not in keep:
            skipped.append(index)
            skipped_defines |= names_of(cell["source"])[0]
        else:
            steps.append(_step(assignment, index, answers, first_code))
    return Plan(steps, skipped, skipped_defines, notes, merged)


def _cells_to_keep(
    assignment: Assignment, merged: list[dict], answers: dict[int, str], first_code: int, full: bool
) -> set[int]:
    """The backwards pass: graded cells, answers, the setup cell, cheap cells, and cells defining a name
    a kept later cell reads (every cell up to the last graded one when `full`)."""
    last = max(g.index for g in assignment.graded)
    graded = {g.index: g for g in assignment.graded}
    keep: set[int] = set()
    needed: set[str] = set()
    for index in range(last, -1, -1):
        if assignment.cells[index].get("cell_type") != "code":
            continue
        if index in graded:
            keep.add(index)
            needed |= _names_read_by(graded[index])
            continue
        source = merged[index]["source"]
        defined, used = names_of(source)
        always = index in answers or index == first_code or full or is_cheap(source)
        if always or defined & needed or "*" in needed:
            keep.add(index)
            needed = (needed - defined) | used
    return keep


def _names_read_by(g: GradedCell) -> set[str]:
    """What a graded cell needs defined: its exercises' functions (the grader calls them), else the names it reads."""
    if g.exercises:
        from lecturekit.exercises import get_exercise

        return {get_exercise(n).function for n in g.exercises}
    return set(names_of(g.source)[1])


def _step(assignment: Assignment, index: int, answers: dict[int, str], first_code: int) -> Step:
    """The step that runs kept cell `index`: a graded cell, the student's answer, or instructor code."""
    cell = assignment.cells[index]
    gid = nbgrader_meta(cell).get("grade_id")
    graded = {g.index: g for g in assignment.graded}
    if index in graded:
        g = graded[index]
        return Step("exercise" if g.exercises else "test", g.source, f"test cell {g.grade_id!r}", index, gid, g)
    if index in answers:
        return Step("answer", answers[index], f"your answer cell {gid!r}", index, gid)
    label = "the setup cell" if index == first_code else f"cell {index + 1} of the notebook"
    return Step("code", cell["source"], label, index, gid)
