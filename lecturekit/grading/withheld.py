"""The package copy a grading kernel imports: the kit's code with the graded references withheld.

Each exercise's reference implementation ships in the package (the models use it), so a student
could return `get_exercise(...).reference(...)` or call the function under any other name. In the
copy given to a grading kernel, the body of every reference (and of its `twins`, other kit functions
that compute the same answer) for the exercises being graded is replaced by a `raise
ReferenceUnavailable(...)`: no source and no code object of it exists in the kernel, so no route
(import, attribute, `get_exercise`, `inspect`, reading the file) gets it back. The grader computes
the expected values outside the kernel, from the real package.
"""

from __future__ import annotations

import ast
import atexit
import inspect
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import lecturekit
from lecturekit.exercises import Exercise

PACKAGE_DIR = Path(lecturekit.__file__).resolve().parent
_STUB = "raise __import__('lecturekit.exercises', fromlist=['ReferenceUnavailable']).ReferenceUnavailable({name!r})"


class WithholdError(ValueError):
    """An exercise whose reference cannot be withheld (a lambda, a function outside the package...)."""


def withheld_functions(exercises: Iterable[Exercise]) -> list[Callable[..., Any]]:
    """The kit functions to withhold for these exercises: each reference and its twins."""
    out: list[Callable[..., Any]] = []
    for exercise in exercises:
        for fn in (exercise.reference, *exercise.twins):
            fn = inspect.unwrap(fn)
            module = getattr(fn, "__module__", "") or ""
            if not module.startswith("lecturekit."):
                continue  # defined outside the package (a course's own exercise): not in the kernel's copy at all
            if "<" in getattr(fn, "__qualname__", "<"):
                raise WithholdError(
                    f"exercise {exercise.name}: its reference {fn!r} is a lambda or a nested function; "
                    "make it a named module-level function so the grader can withhold it"
                )
            if fn not in out:
                out.append(fn)
    return out


def _find(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    body: list[ast.stmt] = tree.body
    node: Any = None
    for part in qualname.split("."):
        node = next(
            (
                n
                for n in body
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
            ),
            None,
        )
        if node is None:
            return None
        body = node.body
    return node if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def stub_functions(source: str, qualnames: list[str], where: str) -> str:
    """`source` with the bodies of the named functions replaced by a raise (signatures kept)."""
    tree = ast.parse(source)
    lines = source.split("\n")
    spans = []
    for qualname in qualnames:
        node = _find(tree, qualname)
        if node is None:
            raise WithholdError(f"{where}: no function {qualname} to withhold")
        first, last = node.body[0].lineno, node.body[-1].end_lineno or node.body[-1].lineno
        if first == node.lineno:
            raise WithholdError(f"{where}: {qualname} is written on one line; give it a body of its own")
        indent = " " * node.body[0].col_offset
        spans.append((first, last, indent + _STUB.format(name=f"{where}.{qualname}")))
    for first, last, stub in sorted(spans, reverse=True):
        lines[first - 1 : last] = [stub]
    return "\n".join(lines)


def package_copy(exercises: Iterable[Exercise], into: Path, link_data: bool = False) -> Path:
    """Write the package to `into`/lecturekit with the exercises' references withheld; returns `into`.
    `_data` is an empty folder (the sandbox mounts the kit's data there), or with `link_data` a link to it."""
    from lecturekit.paths import data_dir

    target = into / "lecturekit"
    shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "_solutions", "_data", "*.pyc"))
    if link_data:
        (target / "_data").symlink_to(data_dir().resolve(), target_is_directory=True)
    else:
        (target / "_data").mkdir()
    by_module: dict[str, list[str]] = {}
    for fn in withheld_functions(exercises):
        by_module.setdefault(fn.__module__, []).append(fn.__qualname__)
    for module, qualnames in by_module.items():
        path = into.joinpath(*module.split(".")).with_suffix(".py")
        path.write_text(stub_functions(path.read_text(), qualnames, module))
    return into


_copies: dict[tuple[frozenset[str], bool], Path] = {}
_lock = threading.Lock()


def cached_package_copy(exercises: list[Exercise], link_data: bool = False) -> Path:
    """One package copy per set of graded exercises for this process (removed at exit)."""
    key = (frozenset(e.name for e in exercises), link_data)
    with _lock:
        if key not in _copies:
            folder = Path(tempfile.mkdtemp(prefix="lkgrade-site-"))
            folder.chmod(0o755)  # a kernel dropped to its own uid reads it
            atexit.register(shutil.rmtree, folder, True)
            _copies[key] = package_copy(exercises, folder, link_data)
        return _copies[key]
