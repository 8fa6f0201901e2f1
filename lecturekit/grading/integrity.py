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


def flags(source: str, exercises: list[Exercise]) -> list[str]:  # noqa: C901 - split after the grading rework lands (issue 14)
    """What in one answer cell an instructor may want to look at (empty: nothing)."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return []
    found: list[str] = []
    refs = {}
    for ex in exercises:
        fn = ex.reference
        module, name = getattr(fn, "__module__", "") or "", getattr(fn, "__name__", "")
        if module.startswith("lecturekit") and name and name != "<lambda>":
            refs[name] = module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("lecturekit.exercises") or node.module.startswith("lecturekit.grading"):
                found.append(f"imports from {node.module}")
            for alias in node.names:
                if refs.get(alias.name) == node.module:
                    found.append(f"imports the reference implementation {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(("lecturekit.exercises", "lecturekit.grading", "ctypes", "builtins", "gc")):
                    found.append(f"imports {alias.name}")
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if node.attr in refs and refs[node.attr].split(".")[-1] in dotted.split(".")[:-1]:
                found.append(f"calls the reference implementation ({dotted})")
            elif (
                node.attr == "reference"
                or dotted.startswith(("sys.modules", "np.testing", "numpy.testing", "torch.testing"))
                and isinstance(node.ctx, ast.Store)
            ):
                found.append(f"touches {dotted}")
            elif node.attr in ("run_cell", "showtraceback", "run_code", "events") and "get_ipython" in dotted:
                found.append(f"touches the IPython shell ({dotted})")
            elif node.attr in _TAMPER_NAMES:
                found.append(f"uses {dotted}")
        elif isinstance(node, ast.Name) and (node.id in _TAMPER_NAMES or node.id.startswith("__lk")):
            found.append(f"uses {node.id}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "exec", "eval", "compile")
        ):
            found.append(f"calls {node.func.id}()")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and ("/" in node.value or "*" in node.value)
            and any(s in node.value for s in ("solutions", ".lk_", "lkgrade", "grades", "feedback", "/proc"))
        ):
            found.append(f"mentions the path {node.value[:80]!r}")
    return list(dict.fromkeys(found))[:8]
