"""The package copy a grading kernel imports: the kit's code with every function that could compute a
graded answer withheld, by default.

Each exercise's reference implementation ships in the package (the models use it), and so do many other
functions that compute an answer or an intermediate of one (`bits_map(...).mean()` is nb03's answer). A
hand-kept list of such twins cannot be complete, so the copy given to a grading kernel withholds by
default: in every module except the few the kernel needs whole (KEPT_MODULES: set-up, paths, languages,
data loading, checkpoints, the exercise checks), the body of every function and method is replaced by a
`raise ReferenceUnavailable(...)`, except class machinery (dunder methods, an nn.Module's `forward`, so that
models handed in as exercise inputs work) and the few callables in KEPT_CALLABLES, each with its reason.
References and `twins` of the exercises being graded are withheld wherever they live. No source and no code
object of a withheld function exists in the kernel, so no route (import, attribute, `get_exercise`,
`inspect`, reading the file) gets it back; the grader computes expected values outside the kernel, from the
real package. tests/grading/test_withheld.py proves it: every callable the copy keeps is called on every
exercise's inputs, and none may reproduce a reference (nor may `.mean()` or `.sum()` of what it returns).
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

# modules a grading kernel needs whole: the setup cell, languages, data and checkpoint loading, the checks
KEPT_MODULES = frozenset(
    {
        "lecturekit",
        "lecturekit.__main__",
        "lecturekit.device",
        "lecturekit.paths",
        "lecturekit.units",
        "lecturekit.i18n",
        "lecturekit.colab",
        "lecturekit.progress",
        "lecturekit.claims",
        "lecturekit.datasets",
        "lecturekit.checkpoints",
        "lecturekit.data",
        "lecturekit.splits",
        "lecturekit.exercises",
    }
)
# callables of other modules that a grading kernel needs, and why
KEPT_CALLABLES: dict[str, str] = {
    "lecturekit.corpus.tokenize": "data.tokenize: the notebooks split sentences with it",
    "lecturekit.corpus.load_corpus": "data.load_corpus: reading the kit's sentences",
    "lecturekit.corpus.read_sentence_file": "data's reader of a course's own sentences",
}
_KEPT_METHODS = ("forward",)  # what a model handed in as an exercise input must still do


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
        stub = _STUB.format(name=f"{where}.{qualname}")
        if first == node.lineno:  # `def f(x): return x`: the body shares the def's line
            line = lines[first - 1]
            spans.append((first, last, line[: node.body[0].col_offset] + stub))
        else:
            spans.append((first, last, " " * node.body[0].col_offset + stub))
    for first, last, stub in sorted(spans, reverse=True):
        lines[first - 1 : last] = [stub]
    return "\n".join(lines)


def withheld_by_default(module: str, source: str, needed: frozenset[str] = frozenset()) -> list[str]:
    """The qualified names of what a module withholds by default: every top-level function and every method
    of its top-level classes, except class machinery (dunder methods, `forward`), KEPT_CALLABLES, what the
    graded exercises' inputs need (`needed`: `Exercise.kernel_needs`, fully qualified), what the module runs
    when it is imported, and whatever those call in turn in the module; nothing in KEPT_MODULES."""
    if module in KEPT_MODULES:
        return []
    tree = ast.parse(source)
    defs = _definitions(tree)
    roots = {
        q
        for q in defs
        if ("." in q and (q.rsplit(".", 1)[-1].startswith("__") or q.rsplit(".", 1)[-1] in _KEPT_METHODS))
        or f"{module}.{q}" in KEPT_CALLABLES
        or f"{module}.{q}" in needed
    }
    kept = _kept_with_callees(roots | _import_time_calls(tree, defs), defs)
    return [q for q in defs if q not in kept]


def _definitions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level functions and the methods of top-level classes, by qualified name."""
    defs: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    defs[f"{node.name}.{item.name}"] = item
    return defs


def _called_names(nodes: Iterable[ast.AST]) -> set[str]:
    """The names these syntax trees call (`f(...)`, `obj.f(...)`) or use as decorators."""
    found: set[str] = set()
    for node in nodes:
        for sub in ast.walk(node):
            func = sub.func if isinstance(sub, ast.Call) else None
            if isinstance(func, ast.Name):
                found.add(func.id)
            elif isinstance(func, ast.Attribute):
                found.add(func.attr)
    return found


def _import_time_nodes(tree: ast.Module) -> list[ast.AST]:
    """What runs when the module is imported: module-level statements, class bodies, decorators, defaults."""
    nodes: list[ast.AST] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nodes += [*_decorators(node), *node.args.defaults, *node.args.kw_defaults]
        elif isinstance(node, ast.ClassDef):
            nodes += [*_decorators(node), *node.bases, *node.keywords]
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    nodes += [*_decorators(item), *item.args.defaults, *item.args.kw_defaults]
                else:
                    nodes.append(item)
        elif not _is_main_guard(node):  # `if __name__ == "__main__":` does not run on import
            nodes.append(node)
    return [n for n in nodes if n is not None]


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) and "__name__" in ast.unparse(node.test)


def _decorators(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> list[ast.AST]:
    """A definition's decorators as calls (a bare `@name` is called too)."""
    return [d if isinstance(d, ast.Call) else ast.Call(func=d, args=[], keywords=[]) for d in node.decorator_list]


def _by_name(defs: dict[str, Any]) -> dict[str, list[str]]:
    """Qualified names of the definitions, by their last part (how a call names them)."""
    out: dict[str, list[str]] = {}
    for qualname in defs:
        out.setdefault(qualname.rsplit(".", 1)[-1], []).append(qualname)
    return out


def _import_time_calls(tree: ast.Module, defs: dict[str, Any]) -> set[str]:
    """The definitions that importing the module calls (matched by name)."""
    by_name = _by_name(defs)
    return {q for name in _called_names(_import_time_nodes(tree)) for q in by_name.get(name, [])}


def _kept_with_callees(roots: set[str], defs: dict[str, Any]) -> set[str]:
    """`roots` and every definition of the module they call, directly or through each other (matched by name)."""
    by_name = _by_name(defs)
    kept: set[str] = set()
    todo = list(roots)
    while todo:
        qualname = todo.pop()
        if qualname in kept:
            continue
        kept.add(qualname)
        todo += [q for name in _called_names(defs[qualname].body) for q in by_name.get(name, [])]
    return kept


def package_copy(exercises: Iterable[Exercise], into: Path, link_data: bool = False) -> Path:
    """Write the package to `into`/lecturekit, withholding by default (see the module's docstring) and the
    exercises' references and twins; returns `into`. `_data` is an empty folder (the sandbox mounts the
    kit's data there), or with `link_data` a link to it."""
    from lecturekit.paths import data_dir

    target = into / "lecturekit"
    shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "_solutions", "_data", "*.pyc"))
    if link_data:
        (target / "_data").symlink_to(data_dir().resolve(), target_is_directory=True)
    else:
        (target / "_data").mkdir()
    exercises = list(exercises)
    needed = frozenset(name for exercise in exercises for name in exercise.kernel_needs)
    by_module: dict[str, list[str]] = {}
    for fn in withheld_functions(exercises):
        by_module.setdefault(fn.__module__, []).append(fn.__qualname__)
    for path in sorted(target.rglob("*.py")):
        parts = path.relative_to(into).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        source = path.read_text(encoding="utf-8")
        names = list(dict.fromkeys([*withheld_by_default(module, source, needed), *by_module.get(module, [])]))
        if names:
            path.write_text(stub_functions(source, names, module), encoding="utf-8")
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
