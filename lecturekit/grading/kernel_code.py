"""Code that runs inside a student's kernel, kept here so that linters and readers see it as code.

The grader never imports these functions into the kernel (the kernel's package copy may be anything a
student made of it): it sends each one's source as text (`kernel_source`), under a name no student
code uses, calls it once and deletes it. So each function is self-contained: it imports what it needs
inside its body and uses no module-level name, except its helpers: the functions KERNEL_HELPERS lists
for it are sent with it under `__lk_` names (their annotations name builtins only: they are evaluated in
the kernel), and whatever runs after student code (the guard's `restore`, the encoding of return values)
reaches them through references taken before any student code ran.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any


def kernel_source(fn: Callable[..., Any], *args: Any) -> str:
    """The text that defines `fn` (and its helpers, see KERNEL_HELPERS) in the kernel as `__lk_NAME`, calls
    it with `args` (as literals) and removes the names again."""
    functions = (fn, *KERNEL_HELPERS.get(fn.__name__, ()))
    names = [f.__name__ for f in functions]
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")
    sources = [pattern.sub(lambda m: f"__lk_{m.group(1)}", inspect.getsource(f)) for f in functions]
    call = f"__lk_{fn.__name__}({', '.join(repr(a) for a in args)})"
    return "\n".join(sources) + f"\ntry:\n    {call}\nfinally:\n    del {', '.join(f'__lk_{n}' for n in names)}\n"


def launch_kernel(package: str, memory: int, fsize: int, nproc: int, nofile: int, sandboxed: bool) -> None:
    """Run by the kernel's isolated python (-I) before ipykernel starts: refuse to run as root in the
    sandbox (without it, the kernel is the grader's user, as the instructor chose), set the
    resource limits, put the package copy first on sys.path, start the kernel. Nothing here reads the
    environment or the work folder: with -I no module of the work folder can shadow `resource` or anything
    else imported here. JPY_PARENT_PID goes: in a new pid namespace ipykernel's parent poller would take its
    parent for dead and exit (bwrap's --die-with-parent does that job)."""
    import os
    import sys

    if sandboxed and (os.getuid() == 0 or os.geteuid() == 0):
        sys.exit("a grading kernel never runs as root (the grader switches it to a uid of its own)")
    os.environ.pop("JPY_PARENT_PID", None)
    import resource

    for limit, value in (
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_FSIZE, fsize),
        (resource.RLIMIT_NPROC, nproc),
        (resource.RLIMIT_NOFILE, nofile),  # also bounds what open-but-unlinked files and memfds can hold
        (resource.RLIMIT_CORE, 0),
    ):
        soft, hard = resource.getrlimit(limit)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        if value or limit == resource.RLIMIT_CORE:
            resource.setrlimit(limit, (value, value))
    sys.path.insert(0, package)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def install_guard(token: str) -> None:
    """Snapshot, right after the setup cell, what student code may replace (builtins, numpy, torch, the
    kit's exercises, the IPython shell), as the module `__lk_guard__` whose `restore()` puts it back and
    answers `token` (see integrity.py)."""
    import sys
    import types

    state = _guard_snapshot()
    steps = (_restore_modules, _restore_classes, _restore_shell)  # bound now: these names are gone when it runs

    def restore():
        for step in steps:
            step(state)
        return token

    guard = types.ModuleType("__lk_guard__")
    guard.restore = restore
    sys.modules["__lk_guard__"] = guard


def _guard_snapshot() -> dict:
    """The guard's snapshot: the modules' namespaces, the shell's classes, attributes, transformers, hooks."""
    import builtins
    import sys

    import numpy
    import numpy.testing
    from IPython import get_ipython

    modules = {"builtins": builtins, "numpy": numpy, "numpy.testing": numpy.testing}
    for name in ("torch", "torch.testing", "lecturekit.exercises"):
        try:
            __import__(name)
            modules[name] = sys.modules[name]
        except Exception:
            pass
    shell = get_ipython()
    classes = [c for c in type(shell).__mro__ if c is not object]
    return {
        "sys": sys,
        "missing": object(),  # a default no namespace holds
        "modules": modules,
        "snapshots": {name: dict(vars(m)) for name, m in modules.items()},
        "shell": shell,
        "class_snapshots": [(c, dict(vars(c))) for c in classes],
        "instance": dict(vars(shell)),
        "lists": {
            name: list(getattr(shell, name))
            for name in ("ast_transformers", "input_transformers_post", "input_transformers_cleanup")
            if hasattr(shell, name)
        },
        "callbacks": {k: list(v) for k, v in shell.events.callbacks.items()},
        "hooks": (sys.excepthook, sys.displayhook, shell.custom_exceptions, shell.input_transformer_manager),
    }


def _restore_modules(state: dict) -> None:
    """Put the snapshotted modules back in sys.modules, and their replaced names back (builtins first)."""
    sys, missing = state["sys"], state["missing"]
    for name, module in state["modules"].items():
        sys.modules[name] = module
        namespace = vars(module)
        for key, value in state["snapshots"][name].items():
            if namespace.get(key, missing) is not value:
                namespace[key] = value


def _restore_classes(state: dict) -> None:
    """Put back the shell's class attributes (methods) and remove the ones added since."""
    missing = state["missing"]
    for cls, snap in state["class_snapshots"]:
        for key, value in snap.items():
            if vars(cls).get(key, missing) is not value:
                try:
                    setattr(cls, key, value)
                except (AttributeError, TypeError):
                    pass
        for key in [k for k in vars(cls) if k not in snap]:
            try:
                delattr(cls, key)
            except (AttributeError, TypeError):
                pass


def _restore_shell(state: dict) -> None:
    """Put back the shell instance's callables, transformers, event callbacks and the sys/shell hooks."""
    shell, instance, missing = state["shell"], state["instance"], state["missing"]
    for key in [k for k in vars(shell) if k not in instance and callable(vars(shell)[k])]:
        del vars(shell)[key]
    for key, value in instance.items():
        if callable(value) and vars(shell).get(key, missing) is not value:
            vars(shell)[key] = value
    for name, items in state["lists"].items():
        getattr(shell, name)[:] = items
    for key, items in state["callbacks"].items():
        shell.events.callbacks[key] = list(items)
    sys = state["sys"]
    sys.excepthook, sys.displayhook, shell.custom_exceptions, shell.input_transformer_manager = state["hooks"]


def call_for_grader(
    args_path: str, out_prefix: str, fname: str, token: str, budget: float, after_call: tuple = ()
) -> None:
    """Call the student's `fname` on the grader's cases (a torch file), within `budget` seconds in all, and
    write what came back as plain data: a JSON skeleton and an .npz of arrays (see execute._read_results).
    With `after_call` (argument positions), each answer is (returned value, state of those arguments after
    the call), as `lecturekit.exercises.answer_of` makes it for the reference."""
    import json
    import signal
    import time
    import traceback

    import numpy as np
    import torch
    from IPython import get_ipython

    fn = get_ipython().user_ns.get(fname)
    report = {"token": token, "defined": callable(fn), "kind": type(fn).__name__, "cases": []}
    # what the calls and the encoding need, bound before any student code runs (it may rebind the kernel's names)
    ctx = {
        "np": np,
        "torch": torch,
        "signal": signal,
        "time": time,
        "traceback": traceback,
        "arrays": {},
        "count": 0,
        "call_one": _call_one,
        "after_call": tuple(after_call),
        "argument_state": _argument_state,
        "module_type": torch.nn.Module,
        "state_dict": torch.nn.Module.state_dict,
        "encode": _encode,
        "encode_array": _encode_array,
        "encode_plain": _encode_plain,
    }
    if callable(fn):
        _call_cases(fn, torch.load(args_path, weights_only=False), budget, report["cases"], ctx)
    np.savez(out_prefix + ".npz", **ctx["arrays"])
    with open(out_prefix + ".json", "w") as f:
        json.dump(report, f)


def _call_cases(fn: object, cases: object, budget: float, out: list, ctx: dict) -> None:
    """Call `fn` on each case under one SIGALRM deadline, appending to `out` a value or an error per case."""
    signal, time = ctx["signal"], ctx["time"]

    class GraderTimeout(BaseException):
        pass

    def on_alarm(signum, frame):
        raise GraderTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    deadline = time.monotonic() + budget
    try:
        for args in cases:
            left = deadline - time.monotonic()
            if left <= 0:
                out.append({"error": {"type": "Timeout", "message": "not run: time was up"}})
                continue
            out.append(ctx["call_one"](fn, args, left, GraderTimeout, ctx))
    finally:
        signal.signal(signal.SIGALRM, previous)


def _call_one(fn: object, args: object, left: float, timeout_error: type, ctx: dict) -> dict:
    """One case: its encoded value, or the error it raised (type, message, the last lines of student code)."""
    signal = ctx["signal"]
    try:
        signal.setitimer(signal.ITIMER_REAL, left)
        try:
            value = fn(*args)
            if ctx["after_call"]:
                value = (value, *(ctx["argument_state"](args[i], ctx) for i in ctx["after_call"]))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return {"value": ctx["encode"](value, ctx)}
    except timeout_error:
        return {"error": {"type": "Timeout", "message": "time was up"}}
    except BaseException as err:
        frames = ctx["traceback"].extract_tb(err.__traceback__)[1:]
        where = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()[:160]}" for f in frames[-3:]]
        return {"error": {"type": type(err).__name__, "message": str(err)[:600], "where": where}}


def _argument_state(value: object, ctx: dict) -> object:
    """An argument's state after the call: a module's parameters and buffers by name, a tensor's values."""
    torch = ctx["torch"]
    if isinstance(value, ctx["module_type"]):
        return {str(k): t.detach().cpu().clone() for k, t in ctx["state_dict"](value).items()}
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    return None


def _encode(value: object, ctx: dict, depth: int = 0) -> dict:
    """A returned value as a JSON skeleton (arrays go to ctx["arrays"]); anything else becomes "other"."""
    if depth > 20 or ctx["count"] > 20000:
        return {"t": "other", "type": "too deeply nested"}
    ctx["count"] += 1
    np, torch, encode = ctx["np"], ctx["torch"], ctx["encode"]
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        return ctx["encode_array"](value, ctx)
    if value is None or isinstance(value, (bool, int, float, str)):
        return ctx["encode_plain"](value)
    if isinstance(value, (tuple, list)) and len(value) <= 10000:
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "items": [encode(v, ctx, depth + 1) for v in value]}
    if isinstance(value, dict) and len(value) <= 10000 and all(isinstance(k, str) for k in value):
        return {"t": "dict", "items": {k: encode(v, ctx, depth + 1) for k, v in value.items()}}
    return {"t": "other", "type": type(value).__name__}


def _encode_array(value: object, ctx: dict) -> dict:
    """A tensor (dense, on the CPU, half precisions as float32), an array of plain values, a numpy scalar."""
    np, torch, arrays = ctx["np"], ctx["torch"], ctx["arrays"]
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.layout != torch.strided:
            t = t.to_dense()
        dtype = str(t.dtype)
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()
        key = f"a{len(arrays)}"
        arrays[key] = t.numpy()
        return {"t": "tensor", "k": key, "dtype": dtype}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OV":
            return {"t": "other", "type": "numpy array of Python objects"}
        key = f"a{len(arrays)}"
        arrays[key] = np.ascontiguousarray(value)
        return {"t": "ndarray", "k": key}
    key = f"a{len(arrays)}"
    arrays[key] = np.asarray(value)
    return {"t": "npscalar", "k": key}


def _encode_plain(value: object) -> dict:
    """None, a bool, an int (a big one as text), a float (nan and infinities as text), a string (not a huge one)."""
    if isinstance(value, str) and len(value) > 100000:
        return {"t": "other", "type": f"str of {len(value)} characters"}
    if isinstance(value, bool):
        return {"t": "py", "v": bool(value)}
    if isinstance(value, int):
        value = int(value)
        return {"t": "bigint", "v": str(value)} if abs(value) > 2**62 else {"t": "py", "v": value}
    if isinstance(value, float):
        value = float(value)
        ok = value == value and value not in (float("inf"), float("-inf"))
        return {"t": "py", "v": value} if ok else {"t": "float", "v": repr(value)}
    return {"t": "py", "v": None if value is None else str(value)}


# the helpers each kernel-side function uses, sent with it by kernel_source
KERNEL_HELPERS: dict[str, tuple[Callable[..., Any], ...]] = {
    "install_guard": (_guard_snapshot, _restore_modules, _restore_classes, _restore_shell),
    "call_for_grader": (_call_cases, _call_one, _argument_state, _encode, _encode_array, _encode_plain),
}
