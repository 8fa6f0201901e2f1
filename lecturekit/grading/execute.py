"""Running code in a student's kernel: a fresh ipykernel per submission (jupyter_client), with a
per-cell timeout, capped output, and dead-kernel detection; and the exercise call, which sends
grader-made inputs in through a file and gets the student's return values back as plain arrays.

Nothing the kernel writes is ever unpickled: results come back as a JSON skeleton plus an .npz read
with `allow_pickle=False`, both size-checked, and tied to the call by a random token.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import channel_socket_types
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager

from lecturekit.grading import bwrap, sandbox
from lecturekit.grading.kernel_code import call_for_grader, kernel_source
from lecturekit.i18n import N_

OUTPUT_CAP = 8_000  # characters of a cell's printed output kept (the rest is counted, not stored)
MAX_MESSAGE_BYTES = 32 * 2**20  # a larger message from the kernel drops the connection instead of our memory
MAX_RESULT_BYTES = 256 * 2**20
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CappedKernelClient(BlockingKernelClient):
    """A client whose sockets refuse messages over MAX_MESSAGE_BYTES (a student printing gigabytes)."""

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> zmq.Socket:
        url = self._make_url(channel)
        sock = self.context.socket(channel_socket_types[channel])
        sock.linger = 1000
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        if identity:
            sock.identity = identity
        if getattr(self, "curve_publickey", None) is not None:
            sock.curve_secretkey = self.curve_secretkey
            sock.curve_publickey = self.curve_publickey
            sock.curve_serverkey = self.curve_publickey
        sock.connect(url)
        return sock


@dataclass
class Outcome:
    """What one execution did."""

    status: str  # "ok" | "error" | "timeout" | "dead"
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0
    started: bool = True  # False: the kernel was gone before it began this code (an earlier cell's doing)
    expressions: dict[str, Any] = field(default_factory=dict)  # user_expressions of the reply
    exited: bool = False  # the code called exit()/quit(): the kernel stops shortly after replying

    def summary(self, lines: int = 6) -> str:
        if self.status == "timeout":
            return "it did not finish within the time limit (an endless loop, or far too slow)"
        if self.status == "dead":
            return "the Python kernel stopped (your code exited, crashed, or went over the memory limit)" + (
                f": {self.evalue}" if self.evalue else ""
            )
        if self.status == "error":
            text = "\n".join(_ANSI.sub("", t) for t in self.traceback)
            tail = [ln.rstrip() for ln in text.splitlines() if ln.strip() and not set(ln.strip()) <= set("-^~")]
            head = f"{self.ename}: {self.evalue}".strip(": ")
            if not tail or not tail[-1].startswith(self.ename):
                tail.append(head)
            return "\n".join(tail[-lines:])[-1500:]
        return ""


@dataclass
class _Listening:
    """What has come back so far for one execute request, kept apart so that `KernelSession.run` reads as steps."""

    msg_id: str
    started: bool  # the code has begun (a message of it came, or the kernel answered just before)
    parts: list[str] = field(default_factory=list)
    kept: int = 0
    error: dict[str, Any] | None = None
    reply: dict[str, Any] | None = None
    reply_at: float = 0.0
    idle: bool = False

    @property
    def output(self) -> str:
        """The printed output kept so far (at most OUTPUT_CAP characters)."""
        return "".join(self.parts)

    def done(self, now: float) -> bool:
        """The reply is in, and so is the idle status (or 2 s have passed since the reply without it)."""
        return self.reply is not None and (self.idle or now - self.reply_at > 2.0)

    def take_iopub(self, msg: dict[str, Any] | None) -> None:
        """Keep what an iopub message of this request says: output (capped), the error, the kernel going idle."""
        if not (msg and msg.get("parent_header", {}).get("msg_id") == self.msg_id):
            return
        kind, content = msg["msg_type"], msg["content"]
        self.started = True
        if kind == "stream" and self.kept < OUTPUT_CAP:
            text = str(content.get("text", ""))[: OUTPUT_CAP - self.kept]
            self.parts.append(text)
            self.kept += len(text)
        elif kind == "error":
            self.error = content
        elif kind == "status" and content.get("execution_state") == "idle":
            self.idle = True

    def outcome(self, seconds: float) -> Outcome:
        """The Outcome the reply (and the error message, if one came) describes."""
        content = self.reply["content"]  # type: ignore[index]
        payload = content.get("payload") if isinstance(content.get("payload"), list) else []
        exited = any(isinstance(p, dict) and p.get("source") == "ask_exit" for p in payload)
        if content.get("status") == "ok":
            found = content.get("user_expressions")
            return Outcome(
                "ok",
                output=self.output,
                seconds=seconds,
                exited=exited,
                expressions=found if isinstance(found, dict) else {},
            )
        error = self.error or content
        return Outcome(
            "error",
            ename=str(error.get("ename", "Error"))[:200],
            evalue=str(error.get("evalue", ""))[:1000],
            traceback=[str(t)[:2000] for t in (error.get("traceback") or [])[-12:]],
            output=self.output,
            seconds=seconds,
            exited=exited,
        )


class KernelSession:
    """One fresh kernel for one submission, in its own work folder, importing `package` (a package copy
    with the graded references withheld; None: a plain copy): in a bubblewrap sandbox when `sandboxed`,
    else as the grader's OS user (`--no-sandbox`)."""

    def __init__(
        self,
        workdir: Path,
        memory_mb: int = 4096,
        startup_timeout: float = 120.0,
        hide: list[Path] | None = None,
        package: Path | None = None,
        sandboxed: bool = False,
        processes: int = 128,
        disk_mb: int = 2048,
    ):
        self.workdir = workdir
        self.hide = hide
        self.memory_mb = memory_mb
        self.startup_timeout = startup_timeout
        self.package = package
        self.sandboxed = sandboxed
        self.processes = processes
        self.disk_mb = disk_mb
        self.km: KernelManager | None = None
        self.kc: CappedKernelClient | None = None
        self.pid: int | None = None
        self.uid: int | None = None
        self.starts = 0
        self.violation = ""  # why the watchdog stopped the kernel (memory or disk over the limit)
        self._watchdog: threading.Thread | None = None
        self._handed_in = {p.name for p in workdir.iterdir()} if workdir.is_dir() else set()

    # ---- life cycle ----
    def _command(self, km: KernelManager) -> tuple[list[str], dict[str, str]]:
        """The kernel's command line and environment (and, sandboxed, its connection over ipc sockets in
        the work folder, which is all the sandbox shares with the grader)."""
        if not self.sandboxed:
            env = sandbox.kernel_env(
                self.workdir, self.memory_mb, hide=self.hide, package=str(self.package) if self.package else None
            )
            return sandbox.kernel_argv(), env
        assert self.package is not None, "a sandboxed kernel needs its package copy"
        from lecturekit.paths import data_dir

        self.uid = bwrap.take_uid()
        km.transport = "ipc"
        km.ip = str(self.workdir / "kernel")
        km.connection_file = str(self.workdir / "kernel.json")
        km.write_connection_file()
        if self.uid is not None:  # root: the kernel runs as its own unprivileged uid, which owns the work folder
            # and what the grader put there (never what an earlier kernel made: no chown through its links)
            for name in ["", *sorted(self._handed_in), "kernel.json"]:
                os.chown(self.workdir / name, self.uid, self.uid, follow_symlinks=False)
        course_data = sandbox.course_data_folder(own_uid=self.uid is not None)
        argv = bwrap.bwrap_argv(self.workdir, self.package, data_dir(), sandbox.kernel_argv(), course_data=course_data)
        env = sandbox.kernel_env(
            self.workdir, self.memory_mb, processes=self.processes, package=bwrap.PACKAGE_MOUNT, uid=self.uid
        )
        return argv, env

    def start(self) -> None:
        km = KernelManager(client_class="lecturekit.grading.execute.CappedKernelClient")
        argv, env = self._command(km)
        km._kernel_spec = KernelSpec(argv=argv, display_name="lecturekit grader", language="python")
        log = open(self.workdir.parent / f"{self.workdir.name}.kernel.log", "wb")  # noqa: SIM115
        with sandbox.spawning():
            km.start_kernel(cwd=str(self.workdir), env=env, stdout=log, stderr=subprocess.STDOUT)
            self.pid = getattr(getattr(km.provisioner, "process", None), "pid", None)
            sandbox.register_kernel(self.pid, True)
        log.close()
        self.km = km
        self.starts += 1
        self.violation = ""
        if self.pid is not None:
            self._watchdog = threading.Thread(target=self._watch, args=(self.pid,), daemon=True)
            self._watchdog.start()
        kc = km.client()
        kc.start_channels()
        self.kc = kc
        try:
            kc.wait_for_ready(timeout=self.startup_timeout)
        except RuntimeError as exc:
            detail = self._log_tail()
            self.close()
            raise RuntimeError(f"the grading kernel did not start: {exc}\n{detail}") from None

    def _watch(self, pid: int) -> None:
        """Stop the kernel when its processes together use more memory than the limit (each process's
        address space is capped, many processes are not) or its work folder holds more than disk_mb."""
        try:
            import psutil

            root = psutil.Process(pid)
        except Exception:  # noqa: BLE001 - psutil missing or the kernel already gone
            return
        tick = 0
        while self.pid == pid:
            try:
                tree = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in tree if p.is_running())
            except Exception:  # noqa: BLE001 - the kernel is gone
                return
            why = self._over_limit(rss, check_disk=tick % 4 == 0)
            if why:
                self.violation = why
                sandbox.kill_pids([p.pid for p in tree])
                if why.endswith("to disk"):
                    self._empty_workdir()
                return
            tick += 1
            time.sleep(0.25)

    def _over_limit(self, rss: int, check_disk: bool) -> str:
        """Which limit the kernel broke ("" when none): its memory together, or (when asked) the disk."""
        if self.memory_mb and rss > self.memory_mb * 2**20:
            return N_("its processes used more than {n} MB of memory together").format(n=self.memory_mb)
        if self.disk_mb and check_disk and folder_bytes(self.workdir, self.disk_mb * 2**20) > self.disk_mb * 2**20:
            return N_("it wrote more than {n} MB to disk").format(n=self.disk_mb)
        return ""

    def _empty_workdir(self) -> None:
        """Everything the kernel wrote goes, so that a restarted kernel starts from the folder as the grader
        made it (else it would be stopped again at once)."""
        for path in self.workdir.iterdir():
            if path.name in self._handed_in:
                continue
            if path.is_dir() and not path.is_symlink():
                clean_dir(path)
            else:
                path.unlink(missing_ok=True)

    def _log_tail(self) -> str:
        path = self.workdir.parent / f"{self.workdir.name}.kernel.log"
        try:
            with open(path, "rb") as f:
                return f.read(4000).decode("utf-8", "replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        try:
            return self.km is not None and self.km.is_alive()
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        pids = sandbox.descendants(self.pid) if self.pid else []
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if self.km is not None:
            try:
                self.km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - already dead
                pass
        sandbox.kill_pids(pids)
        sandbox.register_kernel(self.pid, False)
        bwrap.give_back_uid(self.uid)
        self.uid = None
        try:
            (self.workdir.parent / f"{self.workdir.name}.kernel.log").unlink()
        except OSError:
            pass
        self.km = self.kc = None
        self.pid = None

    def restart(self) -> None:
        self.close()
        self.start()

    # ---- running code ----
    def responsive(self, timeout: float = 10.0) -> bool | None:
        """Whether the kernel answers a kernel_info request now: True, False (it has died), or None (no
        answer in time, yet alive). Asked before each cell, so that a kernel that dies during the cell is
        known to have been killed by that cell: the iopub "busy" message alone is not proof, since a
        kernel killed at once (SIGKILL) can die before that message leaves it."""
        if self.kc is None or not self.alive():
            return False
        kc = self.kc
        try:
            msg_id = kc.kernel_info()
        except Exception:  # noqa: BLE001
            return False if not self.alive() else None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                reply = kc.get_shell_msg(timeout=0.05)
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    return True
            except (queue.Empty, zmq.ZMQError):
                if not self.alive():
                    return False
            except Exception:  # noqa: BLE001 - a message that cannot be decoded: ignore it
                pass
        return None if self.alive() else False

    def run(self, code: str, timeout: float, expressions: dict[str, str] | None = None) -> Outcome:
        """Execute `code` (then evaluate `expressions`, which bypass IPython's input/AST transformers);
        never raises for anything the code does."""
        answered = self.responsive()
        if self.kc is None or answered is False:
            return Outcome("dead", evalue="it had stopped before this cell", started=False)
        start = time.monotonic()
        msg_id = self.kc.execute(
            code, store_history=False, allow_stdin=False, stop_on_error=False, user_expressions=expressions or {}
        )
        # it answered just now: whatever stops it from here on is this code
        listening = _Listening(msg_id, started=answered is True)
        stopped = self._listen(listening, start, start + timeout)
        if stopped is not None:
            return stopped
        return listening.outcome(time.monotonic() - start)

    def _listen(self, listening: _Listening, start: float, deadline: float) -> Outcome | None:
        """Wait for the reply and the idle status; an Outcome only when the code timed out or the kernel died."""
        while True:
            now = time.monotonic()
            if now > deadline:
                return self._timed_out(listening.msg_id, listening.output, now - start)
            if listening.done(now):
                return None
            got_iopub = self._poll_iopub(listening)
            got_shell = listening.reply is None and self._poll_shell(listening)
            if not (got_iopub or got_shell) and not self.alive():
                return Outcome(
                    "dead",
                    evalue=self.violation,
                    output=listening.output,
                    seconds=time.monotonic() - start,
                    started=listening.started,
                )

    def _poll_iopub(self, listening: _Listening) -> bool:
        """One iopub message (waiting 50 ms), passed to `listening`; False when none came."""
        try:
            msg = self.kc.get_iopub_msg(timeout=0.05)  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - none yet, or a message that cannot be decoded: ignore it
            return False
        listening.take_iopub(msg)
        return True

    def _poll_shell(self, listening: _Listening) -> bool:
        """The shell reply if it is there (no waiting); False when nothing came."""
        try:
            shell = self.kc.get_shell_msg(timeout=0)  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - none yet, or a message that cannot be decoded
            return False
        try:
            if shell.get("parent_header", {}).get("msg_id") == listening.msg_id:
                listening.reply, listening.reply_at = shell, time.monotonic()
        except Exception:  # noqa: BLE001
            pass
        return True

    def _timed_out(self, msg_id: str, output: str, seconds: float) -> Outcome:
        """Interrupt; a kernel that does not come back within 5 s is killed."""
        try:
            self.km.interrupt_kernel()  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001
            pass
        end = time.monotonic() + 5
        while time.monotonic() < end:
            try:
                shell = self.kc.get_shell_msg(timeout=0.2)  # type: ignore[union-attr]
                if shell.get("parent_header", {}).get("msg_id") == msg_id:
                    self._drain()
                    return Outcome("timeout", output=output, seconds=seconds)
            except (queue.Empty, zmq.ZMQError):
                pass
            except Exception:  # noqa: BLE001
                pass
        self.close()
        return Outcome("timeout", output=output, seconds=seconds, evalue="the kernel had to be stopped")

    def _drain(self) -> None:
        for _ in range(10_000):
            try:
                self.kc.get_iopub_msg(timeout=0.05)  # type: ignore[union-attr]
            except Exception:  # noqa: BLE001
                return


# ---- the exercise call ----


class Unsupported:
    """A returned value the grader cannot receive (an object, a model...): it never equals anything."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


_TORCH_DTYPES = {
    "torch.float32",
    "torch.float64",
    "torch.float16",
    "torch.bfloat16",
    "torch.int64",
    "torch.int32",
    "torch.int16",
    "torch.int8",
    "torch.uint8",
    "torch.bool",
    "torch.complex64",
    "torch.complex128",
}


def _decode(node: Any, arrays: Any, depth: int = 0) -> Any:
    """Rebuild one value of the kernel's JSON skeleton (arrays from the .npz); ValueError on anything unexpected."""
    if depth > 25 or not isinstance(node, dict):
        raise ValueError("malformed result")
    kind = node.get("t")
    if kind in ("tensor", "ndarray", "npscalar"):
        return _decode_array(node, arrays[str(node["k"])], kind)
    if kind in ("tuple", "list"):
        items = [_decode(v, arrays, depth + 1) for v in node.get("items", [])]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {str(k): _decode(v, arrays, depth + 1) for k, v in dict(node.get("items", {})).items()}
    return _decode_scalar(node, kind)


def _decode_array(node: dict[str, Any], array: np.ndarray, kind: str) -> Any:
    """A tensor, array or numpy scalar: only plain dtypes, so that nothing of the kernel's is ever unpickled."""
    import torch

    if array.dtype.kind in "OV":
        raise ValueError("object arrays are not accepted")
    if kind == "ndarray":
        return array
    if kind == "npscalar":
        return array[()]
    dtype = str(node.get("dtype"))
    if dtype not in _TORCH_DTYPES:
        raise ValueError(f"unknown tensor dtype {dtype[:40]}")
    return torch.from_numpy(np.array(array)).to(getattr(torch, dtype.split(".")[1]))


def _decode_scalar(node: dict[str, Any], kind: Any) -> Any:
    """A plain Python value, a float JSON cannot hold (nan, inf), a big int, or a type the grader cannot receive."""
    if kind == "py":
        value = node.get("v")
        if not (value is None or isinstance(value, (bool, int, float, str))):
            raise ValueError("malformed result")
        return value
    if kind == "float":
        return float(str(node.get("v")))
    if kind == "bigint":
        return int(str(node.get("v"))[:400])
    if kind == "other":
        return Unsupported(str(node.get("type", "object"))[:80])
    raise ValueError("malformed result")


@dataclass
class CallResult:
    """The student's function on the grader's cases: one entry per case, a value or an error."""

    outcome: Outcome
    defined: bool = False
    kind: str = ""
    values: list[Any] = field(default_factory=list)  # per case: decoded value, or None when errors[i]
    errors: list[dict[str, Any] | None] = field(default_factory=list)
    problem: str = ""  # the results could not be read


def call_exercise(
    session: KernelSession,
    function: str,
    cases: list[tuple],
    timeout: float,
    run: Callable[[str, float], Outcome] | None = None,
    after_call: tuple[int, ...] = (),
) -> CallResult:
    """Call `function` (as the kernel's user namespace holds it) on `cases`, inside the kernel
    (`run` executes code there: the session's own, or one that restarts a stopped kernel first)."""
    import torch

    token = secrets.token_hex(16)
    args_path = session.workdir / f".lk_args_{token[:8]}.pt"
    out_prefix = session.workdir / f".lk_out_{token[:8]}"
    try:
        session.workdir.mkdir(parents=True, exist_ok=True)  # the student's code may have removed it
        torch.save(list(cases), args_path)
    except OSError as exc:
        return CallResult(
            Outcome("error"),
            problem=f"the grader could not hand the inputs over ({exc.strerror}): "
            "did your code change or remove its working folder?",
        )
    code = kernel_source(
        call_for_grader, str(args_path), str(out_prefix), function, token, float(timeout), tuple(after_call)
    )
    outcome = (run or session.run)(code, timeout + 10)
    result = CallResult(outcome)
    try:
        if outcome.status == "ok":
            _read_results(result, Path(str(out_prefix) + ".json"), Path(str(out_prefix) + ".npz"), token, len(cases))
        elif outcome.status == "error":
            result.problem = f"the grader could not call {function}(): {outcome.ename}: {outcome.evalue}"[:600]
    finally:
        for path in (args_path, Path(str(out_prefix) + ".json"), Path(str(out_prefix) + ".npz")):
            try:
                path.unlink()
            except OSError:
                pass
    return result


def _read_results(result: CallResult, json_path: Path, npz_path: Path, token: str, n_cases: int) -> None:
    try:
        if json_path.stat().st_size > 64 * 2**20 or npz_path.stat().st_size > MAX_RESULT_BYTES:
            result.problem = "the returned values are too large to check"
            return
        report = json.loads(json_path.read_text())
        if not isinstance(report, dict) or report.get("token") != token:
            result.problem = "the grader's result file was changed by the notebook's code"
            return
        result.defined = bool(report.get("defined"))
        result.kind = str(report.get("kind", ""))[:80]
        if not result.defined:
            return
        cases = report.get("cases")
        if not isinstance(cases, list) or len(cases) != n_cases:
            result.problem = "the grader's result file is incomplete"
            return
        with np.load(npz_path, allow_pickle=False) as arrays:
            for case in cases:
                if isinstance(case, dict) and "error" in case:
                    err = case["error"] if isinstance(case["error"], dict) else {}
                    result.errors.append(
                        {
                            "type": str(err.get("type", "Error"))[:100],
                            "message": str(err.get("message", ""))[:600],
                            "where": [str(w)[:200] for w in (err.get("where") or [])][:3],
                        }
                    )
                    result.values.append(None)
                else:
                    result.values.append(_decode(case.get("value") if isinstance(case, dict) else None, arrays))
                    result.errors.append(None)
    except (OSError, ValueError, KeyError, TypeError, RecursionError, EOFError) as exc:
        result.problem = f"the returned values could not be read back ({type(exc).__name__})"
        result.values, result.errors = [], []


def folder_bytes(path: Path, stop_at: int) -> int:
    """The bytes of the files under `path`, counted until `stop_at` is passed."""
    total = 0
    stack = [str(path)]
    while stack and total <= stop_at:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
        except OSError:
            continue
    return total


def clean_dir(path: Path) -> None:
    """Remove a submission's temp folder (whatever the student's code left in it)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    if path.exists():  # read-only folders made by the student's code
        for root, dirs, _ in os.walk(path):
            for d in dirs:
                try:
                    os.chmod(os.path.join(root, d), 0o700)
                except OSError:
                    pass
        shutil.rmtree(path, ignore_errors=True)
