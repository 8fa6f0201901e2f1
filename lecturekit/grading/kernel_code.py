"""Code that runs inside a student's kernel, kept here so that linters and readers see it as code.

The grader never imports these functions into the kernel (the kernel's package copy may be anything a
student made of it): it sends each one's source as text (`kernel_source`), under a name no student
code uses, calls it once and deletes it. So each function is self-contained: it imports what it needs
inside its body and uses no module-level name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def kernel_source(fn: Callable[..., Any], *args: Any) -> str:
    """The text that defines `fn` in the kernel as `__lk_NAME`, calls it with `args` (as literals) and
    removes the name again."""
    name = f"__lk_{fn.__name__}"
    source = inspect.getsource(fn).replace(f"def {fn.__name__}(", f"def {name}(", 1)
    call = f"{name}({', '.join(repr(a) for a in args)})"
    return f"{source}\ntry:\n    {call}\nfinally:\n    del {name}\n"


def launch_kernel() -> None:
    """Run by the kernel's python before ipykernel starts: the resource limits, then (root only) its own
    unprivileged uid, then the kernel. JPY_PARENT_PID goes: in a new pid namespace ipykernel's parent
    poller would take its parent for dead and exit (bwrap's --die-with-parent does that job)."""
    import os
    import sys

    os.environ.pop("JPY_PARENT_PID", None)
    try:
        import resource

        for name, value in (
            ("RLIMIT_AS", int(os.environ.pop("LK_GRADE_MEMORY", "0"))),
            ("RLIMIT_FSIZE", int(os.environ.pop("LK_GRADE_FSIZE", "0"))),
            ("RLIMIT_NPROC", int(os.environ.pop("LK_GRADE_NPROC", "0"))),
            ("RLIMIT_CORE", 0),
        ):
            if hasattr(resource, name) and (value or name == "RLIMIT_CORE"):
                limit = getattr(resource, name)
                soft, hard = resource.getrlimit(limit)
                value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                resource.setrlimit(limit, (value, value))
    except ImportError:
        pass
    uid = int(os.environ.pop("LK_GRADE_UID", "0") or 0)
    if uid:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        if os.getuid() != uid or os.geteuid() != uid:
            sys.exit("the grading kernel could not drop to its own uid")
    hidden = {os.path.realpath(p) for p in os.environ.pop("LK_GRADE_HIDE", "").split(os.pathsep) if p}
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.getcwd()) not in hidden]
    if sys.path and sys.path[0] in ("", "."):
        sys.path[0] = os.getcwd()
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


def install_guard(token: str) -> None:  # noqa: C901 - split after the grading rework lands (issue 14)
    """Snapshot, right after the setup cell, what student code may replace (builtins, numpy, torch, the
    kit's exercises, the IPython shell), as the module `__lk_guard__` whose `restore()` puts it back and
    answers `token` (see integrity.py)."""
    import builtins
    import sys
    import types

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
    snapshots = {name: dict(vars(m)) for name, m in modules.items()}
    shell = get_ipython()
    classes = [c for c in type(shell).__mro__ if c is not object]
    class_snapshots = [(c, dict(vars(c))) for c in classes]
    instance = dict(vars(shell))
    lists = {
        name: list(getattr(shell, name))
        for name in ("ast_transformers", "input_transformers_post", "input_transformers_cleanup")
        if hasattr(shell, name)
    }
    callbacks = {k: list(v) for k, v in shell.events.callbacks.items()}
    hooks = (sys.excepthook, sys.displayhook, shell.custom_exceptions, shell.input_transformer_manager)

    def restore():  # noqa: C901 - split after the grading rework lands (issue 14)
        for name, module in modules.items():
            sys.modules[name] = module
            namespace = vars(module)
            for key, value in snapshots[name].items():
                if namespace.get(key, restore) is not value:
                    namespace[key] = value
        for cls, snap in class_snapshots:
            for key, value in snap.items():
                if vars(cls).get(key, restore) is not value:
                    try:
                        setattr(cls, key, value)
                    except (AttributeError, TypeError):
                        pass
            for key in [k for k in vars(cls) if k not in snap]:
                try:
                    delattr(cls, key)
                except (AttributeError, TypeError):
                    pass
        for key in [k for k in vars(shell) if k not in instance and callable(vars(shell)[k])]:
            del vars(shell)[key]
        for key, value in instance.items():
            if callable(value) and vars(shell).get(key, restore) is not value:
                vars(shell)[key] = value
        for name, items in lists.items():
            getattr(shell, name)[:] = items
        for key, items in callbacks.items():
            shell.events.callbacks[key] = list(items)
        sys.excepthook, sys.displayhook, shell.custom_exceptions, shell.input_transformer_manager = hooks
        return token

    guard = types.ModuleType("__lk_guard__")
    guard.restore = restore
    sys.modules["__lk_guard__"] = guard


def call_for_grader(args_path: str, out_prefix: str, fname: str, token: str, budget: float) -> None:  # noqa: C901 - split after the grading rework lands (issue 14)
    """Call the student's `fname` on the grader's cases (a torch file), within `budget` seconds in all, and
    write what came back as plain data: a JSON skeleton and an .npz of arrays (see execute._read_results)."""
    import json
    import signal
    import time
    import traceback

    import numpy as np
    import torch
    from IPython import get_ipython

    fn = get_ipython().user_ns.get(fname)
    report = {"token": token, "defined": callable(fn), "kind": type(fn).__name__, "cases": []}
    arrays = {}
    counter = [0]

    def encode(value, depth=0):  # noqa: C901 - split after the grading rework lands (issue 14)
        if depth > 20 or counter[0] > 20000:
            return {"t": "other", "type": "too deeply nested"}
        counter[0] += 1
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
        if isinstance(value, np.generic):
            key = f"a{len(arrays)}"
            arrays[key] = np.asarray(value)
            return {"t": "npscalar", "k": key}
        if value is None or isinstance(value, (bool, int, float, str)):
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
        if isinstance(value, (tuple, list)) and len(value) <= 10000:
            kind = "tuple" if isinstance(value, tuple) else "list"
            return {"t": kind, "items": [encode(v, depth + 1) for v in value]}
        if isinstance(value, dict) and len(value) <= 10000 and all(isinstance(k, str) for k in value):
            return {"t": "dict", "items": {k: encode(v, depth + 1) for k, v in value.items()}}
        return {"t": "other", "type": type(value).__name__}

    if callable(fn):
        cases = torch.load(args_path, weights_only=False)

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
                    report["cases"].append({"error": {"type": "Timeout", "message": "not run: time was up"}})
                    continue
                try:
                    signal.setitimer(signal.ITIMER_REAL, left)
                    try:
                        value = fn(*args)
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                    report["cases"].append({"value": encode(value)})
                except GraderTimeout:
                    report["cases"].append({"error": {"type": "Timeout", "message": "time was up"}})
                except BaseException as err:
                    frames = traceback.extract_tb(err.__traceback__)[1:]
                    where = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()[:160]}" for f in frames[-3:]]
                    report["cases"].append(
                        {"error": {"type": type(err).__name__, "message": str(err)[:600], "where": where}}
                    )
        finally:
            signal.signal(signal.SIGALRM, previous)
    np.savez(out_prefix + ".npz", **arrays)
    with open(out_prefix + ".json", "w") as f:
        json.dump(report, f)
