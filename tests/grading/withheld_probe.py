"""Run by test_withheld.py in a fresh Python whose `lecturekit` is a grading kernel's package copy: call every
callable the copy keeps on every exercise's inputs and report each one that reproduces an answer.

Arguments: the copy's folder, a torch file of {exercise: {"cases": [...], "wants": [...], "after_call": (...)}},
and the JSON file to write the leaks to. Each call runs under a 2-second alarm with fresh copies of the inputs;
what the copy withholds (a body that only raises ReferenceUnavailable) is not called.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import pkgutil
import signal
import sys
import warnings
from typing import Any


class _Alarm(BaseException):
    pass


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm()


def _members(cls: type) -> dict[str, Any]:
    """A class's own functions, static and class methods, by name."""
    out = {}
    for attr, member in vars(cls).items():
        if isinstance(member, (staticmethod, classmethod)):
            member = getattr(cls, attr)
        if (inspect.isfunction(member) or inspect.ismethod(member)) and not (
            attr.startswith("__") and attr != "__call__"
        ):  # construction is probed through the class itself; __repr__, __eq__... compute no answer
            out[attr] = member
    return out


def callables(package: Any) -> dict[str, Any]:
    """Every function, class and method defined in the package's modules, by qualified name."""
    found: dict[str, Any] = {}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.endswith("__main__"):
            continue
        try:
            module = importlib.import_module(info.name)
        except BaseException:  # noqa: BLE001 - a module the kernel could not import either
            continue
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__ or not (
                inspect.isfunction(obj) or inspect.isclass(obj)
            ):
                continue
            found[f"{module.__name__}.{name}"] = obj
            if inspect.isclass(obj):
                found.update({f"{module.__name__}.{name}.{a}": m for a, m in _members(obj).items()})
    return found


def is_stub(fn: Any) -> bool:
    """A function the copy withholds: its whole body raises ReferenceUnavailable (calling it cannot leak)."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    return code is not None and code.co_names == ("__import__", "ReferenceUnavailable")


def fresh_copy(value: Any) -> Any:
    """A copy of one input that a call cannot change for the next one (tensors cloned, others deep-copied)."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, (int, float, str, bool, type(None))):
        return value
    return copy.deepcopy(value)


def variants(args: tuple) -> list[tuple]:
    """The whole argument tuple, each shorter prefix of it, and each later argument alone."""
    return [tuple(args)] + [tuple(args[:k]) for k in range(len(args) - 1, 0, -1)] + [(a,) for a in args[1:]]


def candidates(value: Any) -> list[Any]:
    """A returned value and the simple reductions of it a student might take."""
    out = [value]
    if hasattr(value, "mean") and hasattr(value, "sum"):
        for reduce in ("mean", "sum"):
            try:
                out.append(getattr(value.float() if hasattr(value, "float") else value, reduce)())
            except BaseException:  # noqa: BLE001
                pass
    if isinstance(value, tuple) and value:
        out.append(value[0])
    return out


def reproduces(value: Any, want: Any, compare: Any) -> bool:
    for candidate in candidates(value):
        try:
            if compare(candidate, want, atol=1e-4, rtol=1e-3) is None:
                return True
        except BaseException:  # noqa: BLE001
            continue
    return False


def call(fn: Any, args: tuple) -> tuple[bool, Any]:
    """(True, value) when `fn(*args)` returns within 2 s, else (False, None)."""
    signal.setitimer(signal.ITIMER_REAL, 2.0)
    try:
        return True, fn(*args)
    except BaseException:  # noqa: BLE001 - wrong arguments, an error, too slow: no answer
        return False, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def leaks_of(entry: dict, kept: dict[str, Any], state: Any, compare: Any) -> list[str]:
    """The kept callables that reproduce one exercise's answer on every one of its cases (with the same
    choice of inputs: all of them, a prefix, one alone)."""
    found = []
    shapes = len(variants(entry["cases"][0]))
    for qualname, fn in kept.items():
        for v in range(shapes):
            if all(_reproduced(fn, variants(args)[v], len(args), want, entry, state, compare)
                   for args, want in zip(entry["cases"], entry["wants"])):  # fmt: skip
                whole = len(variants(entry["cases"][0])[v]) == len(entry["cases"][0])
                found.append(qualname + ("(...)" if whole else f" on {len(variants(entry['cases'][0])[v])} input(s)"))
    return found


def _reproduced(fn: Any, some: tuple, n_args: int, want: Any, entry: dict, state: Any, compare: Any) -> bool:
    fresh = tuple(fresh_copy(a) for a in some)
    returned, value = call(fn, fresh)
    if returned and len(fresh) == n_args and entry["after_call"]:
        value = (value, *(state(fresh[i]) for i in entry["after_call"]))
    return returned and reproduces(value, want, compare)


def main() -> None:
    folder, cases_file, out_file = sys.argv[1:4]
    sys.path.insert(0, folder)
    import torch

    import lecturekit
    from lecturekit.exercises import argument_state, compare_values

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    table = torch.load(cases_file, weights_only=False)
    every = callables(lecturekit)
    kept = {q: fn for q, fn in every.items() if not is_stub(fn)}
    signal.signal(signal.SIGALRM, _on_alarm)
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        leaks = [
            f"{name}: {q}"
            for name, entry in table.items()
            for q in leaks_of(entry, kept, argument_state, compare_values)
        ]
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
    with open(out_file, "w") as f:
        json.dump({"leaks": sorted(set(leaks)), "callables": len(every), "kept": len(kept)}, f)


if __name__ == "__main__":
    main()
