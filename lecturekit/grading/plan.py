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
from dataclasses import dataclass, field
from functools import lru_cache

from lecturekit.grading.course import Assignment, GradedCell, cell_source, nbgrader_meta
from lecturekit.grading.matching import Submission

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


@lru_cache(maxsize=4096)
def python_source(source: str) -> str:
    """The cell as plain Python (IPython magics and `!cmd` turned into calls), as the kernel runs it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - a cell IPython cannot read either: keep it, it fails when run
        return source


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


def is_cheap(source: str) -> bool:  # noqa: C901 - split after the grading rework lands (issue 14)
    """Only imports, function/class definitions and constant assignments: safe to run always."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return False

    def constant(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return all(constant(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return all(k is None or constant(k) for k in node.keys) and all(constant(v) for v in node.values)
        if isinstance(node, ast.UnaryOp):
            return constant(node.operand)
        if isinstance(node, ast.BinOp):
            return constant(node.left) and constant(node.right)
        return False

    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(stmt, ast.Assign) and constant(stmt.value):
            continue
        if isinstance(stmt, ast.AnnAssign) and (stmt.value is None or constant(stmt.value)):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        return False
    return True


def defined_functions(source: str) -> set[str]:
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return set()
    return {s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}


def student_answers(assignment: Assignment, submission: Submission) -> tuple[dict[int, str], list[str]]:  # noqa: C901 - split after the grading rework lands (issue 14)
    """For each solution cell (by index): the student's code, found by grade_id, else by the function it
    defines, else the untouched stub. Also notes for the student."""
    cells = submission.cells or []
    solution_ids = set(assignment.solution_ids())
    known_ids = assignment.grade_ids()
    by_id: dict[str, list[str]] = {}
    loose: list[str] = []  # code cells without a known grade id (added, or their metadata was lost)
    course_code = {c["source"].strip() for c in assignment.cells if c.get("cell_type") == "code"}
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        source = cell_source(cell)
        if gid in solution_ids:
            by_id.setdefault(gid, []).append(source)
        elif gid not in known_ids and source.strip() not in course_code and source.strip():
            loose.append(source)
    answers, notes = {}, []
    used_loose: set[int] = set()
    for index, cell in enumerate(assignment.cells):
        meta = nbgrader_meta(cell)
        if cell.get("cell_type") != "code" or not meta.get("solution"):
            continue
        gid = meta.get("grade_id")
        if gid in by_id:
            answers[index] = "\n\n".join(by_id[gid])
            if len(by_id[gid]) > 1:
                notes.append(
                    f"answer cell {gid!r} appears {len(by_id[gid])} times in your notebook; all copies "
                    "were run in order"
                )
            continue
        wanted = defined_functions(cell["source"])
        found = [i for i, src in enumerate(loose) if wanted and wanted & defined_functions(src)]
        if found:
            answers[index] = "\n\n".join(loose[i] for i in found)
            used_loose.update(found)
            notes.append(
                f"answer cell {gid!r} was found by the function it defines (its cell lost its grading metadata)"
            )
            continue
        answers[index] = assignment.stub_source(index)
        if submission.cells is not None:
            notes.append(f"answer cell {gid!r} is not in your notebook: it was graded as not answered")
    extra = len(loose) - len(used_loose)
    if extra > 0 and submission.cells is not None:
        notes.append(
            f"{extra} code cell(s) you added were not run by the grader: only the answer cells are "
            "taken from your notebook (put helper functions inside an answer cell)"
        )
    return answers, notes


def build_plan(assignment: Assignment, submission: Submission, full: bool = False) -> Plan:  # noqa: C901 - split after the grading rework lands (issue 14)
    """The steps to run for one submission (see the module's docstring)."""
    answers, notes = student_answers(assignment, submission)
    last = max(g.index for g in assignment.graded)
    graded = {g.index: g for g in assignment.graded}
    first_code = next(i for i, c in enumerate(assignment.cells) if c.get("cell_type") == "code")
    merged = []
    for index, cell in enumerate(assignment.cells):
        merged.append(dict(cell, source=answers[index]) if index in answers else dict(cell))

    keep: set[int] = set()
    needed: set[str] = set()
    for index in range(last, -1, -1):
        cell = assignment.cells[index]
        if cell.get("cell_type") != "code":
            continue
        if index in graded:
            g = graded[index]
            keep.add(index)
            if g.exercises:
                from lecturekit.exercises import get_exercise

                needed |= {get_exercise(n).function for n in g.exercises}
            else:
                needed |= names_of(g.source)[1]
            continue
        source = merged[index]["source"]
        defined, used = names_of(source)
        if index in answers or index == first_code or full or is_cheap(source) or defined & needed or "*" in needed:
            keep.add(index)
            needed = (needed - defined) | used
    steps, skipped, skipped_defines = [], [], set()
    for index in range(last + 1):
        cell = assignment.cells[index]
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if index not in keep:
            skipped.append(index)
            skipped_defines |= names_of(cell["source"])[0]
        elif index in graded:
            g = graded[index]
            steps.append(
                Step("exercise" if g.exercises else "test", g.source, f"test cell {g.grade_id!r}", index, gid, g)
            )
        elif index in answers:
            steps.append(Step("answer", answers[index], f"your answer cell {gid!r}", index, gid))
        else:
            label = "the setup cell" if index == first_code else f"cell {index + 1} of the notebook"
            steps.append(Step("code", cell["source"], label, index, gid))
    return Plan(steps, skipped, skipped_defines, notes, merged)
