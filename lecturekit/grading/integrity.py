"""Integrity aids for graded cells that run in the student's kernel, and flags for the instructor.

Exercise cells need none of this (their verdict is computed outside the kernel). Graded cells
WITHOUT exercises run the instructor's test code in the student's kernel, as nbgrader does; before
each one the grader puts back what the student's code may have replaced in builtins, numpy,
numpy.testing, torch, torch.testing, lecturekit.exercises and the IPython shell (its methods, AST
and input transformers, event hooks), as snapshotted right after the setup cell, before any student
code. A student who reads this code and attacks the guard itself can still fool such cells -- as
with nbgrader; use exercises for anything that matters.

`flags` is a static scan of the student's answer cells for what deserves a human look: calling the
package's reference implementation, or reaching into builtins, sys.modules, the grader's names...
A flag changes no points; it is listed in the instructor's review file.
"""

from __future__ import annotations

import ast

from lecturekit.exercises import Exercise
from lecturekit.grading.plan import python_source

# evaluated as a user_expression: IPython's input and AST transformers (which a student can add) do not touch it
GUARD_RESTORE = "__import__('sys').modules['__lk_guard__'].restore()"

_TAMPER_NAMES = {
    "builtins",
    "__builtins__",
    "ctypes",
    "gc",
    "__code__",
    "__globals__",
    "__closure__",
    "atexit",
    "_REGISTRY",
    "get_exercise",
    "all_exercises",
    "run_cases",
    "_exit",
    "setitimer",
}


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "()")
    return ".".join(reversed(parts))


def flags(source: str, exercises: list[Exercise]) -> list[str]:
    """What in one answer cell an instructor may want to look at (empty: nothing)."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return []
    refs = _reference_modules(exercises)
    found = [flag for node in ast.walk(tree) for flag in _node_flags(node, refs)]
    return list(dict.fromkeys(found))[:8]


def _reference_modules(exercises: list[Exercise]) -> dict[str, str]:
    """The kit's reference functions of these exercises, by name: the module each is defined in."""
    refs = {}
    for ex in exercises:
        fn = ex.reference
        module, name = getattr(fn, "__module__", "") or "", getattr(fn, "__name__", "")
        if module.startswith("lecturekit") and name and name != "<lambda>":
            refs[name] = module
    return refs


def _node_flags(node: ast.AST, refs: dict[str, str]) -> list[str]:
    """The flags one syntax node raises, one reader per kind of node."""
    if isinstance(node, ast.ImportFrom):
        return _import_from_flags(node, refs)
    if isinstance(node, ast.Import):
        return [
            f"imports {alias.name}"
            for alias in node.names
            if alias.name.startswith(("lecturekit.exercises", "lecturekit.grading", "ctypes", "builtins", "gc"))
        ]
    if isinstance(node, ast.Attribute):
        return _attribute_flags(node, refs)
    if isinstance(node, ast.Name):
        return [f"uses {node.id}"] if node.id in _TAMPER_NAMES or node.id.startswith("__lk") else []
    if isinstance(node, ast.Call):
        calls = isinstance(node.func, ast.Name) and node.func.id in ("setattr", "exec", "eval", "compile")
        return [f"calls {node.func.id}()"] if calls else []  # type: ignore[attr-defined]
    if isinstance(node, ast.Constant):
        return _path_flags(node)
    return []


def _import_from_flags(node: ast.ImportFrom, refs: dict[str, str]) -> list[str]:
    """`from lecturekit.exercises/grading import ...`, and importing a reference function by name."""
    if not node.module:
        return []
    found = []
    if node.module.startswith("lecturekit.exercises") or node.module.startswith("lecturekit.grading"):
        found.append(f"imports from {node.module}")
    for alias in node.names:
        if refs.get(alias.name) == node.module:
            found.append(f"imports the reference implementation {node.module}.{alias.name}")
    return found


def _attribute_flags(node: ast.Attribute, refs: dict[str, str]) -> list[str]:
    """A reference function reached through its module, assignments into checkers, the IPython shell, tampering."""
    dotted = _dotted(node)
    if node.attr in refs and refs[node.attr].split(".")[-1] in dotted.split(".")[:-1]:
        return [f"calls the reference implementation ({dotted})"]
    if (
        node.attr == "reference"
        or dotted.startswith(("sys.modules", "np.testing", "numpy.testing", "torch.testing"))
        and isinstance(node.ctx, ast.Store)
    ):
        return [f"touches {dotted}"]
    if node.attr in ("run_cell", "showtraceback", "run_code", "events") and "get_ipython" in dotted:
        return [f"touches the IPython shell ({dotted})"]
    if node.attr in _TAMPER_NAMES:
        return [f"uses {dotted}"]
    return []


def _path_flags(node: ast.Constant) -> list[str]:
    """A string that looks like a path into the grader's files (solutions, grades, feedback, /proc)."""
    if (
        isinstance(node.value, str)
        and ("/" in node.value or "*" in node.value)
        and any(s in node.value for s in ("solutions", ".lk_", "lkgrade", "grades", "feedback", "/proc"))
    ):
        return [f"mentions the path {node.value[:80]!r}"]
    return []
