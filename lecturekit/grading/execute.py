"""Running code in a student's kernel: a fresh ipykernel per submission (jupyter_client), with a
per-cell timeout, capped output, and dead-kernel detection; and the exercise call, which sends
grader-made inputs in through a file and gets the student's return values back as plain arrays.

Nothing the kernel writes is ever unpickled: results come back as a JSON skeleton plus an .npz read
with `allow_pickle=False`, both size-checked, and tied to the call by a random token.
"""

from __future__ import annotations

import builtins
import os
import queue
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zmq
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.connect import channel_socket_types
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import KernelManager

from lecturekit.grading import bwrap, sandbox, usage
from lecturekit.grading.kernel_code import call_for_grader, kernel_source
from lecturekit.grading.message_gate import MessageGate
from lecturekit.grading.untrusted import UntrustedFileError, load_arrays, read_json, remove_tree
from lecturekit.i18n import _

OUTPUT_CAP = 8_000  # characters of a cell's printed output kept (the rest is counted, not stored)
MAX_MESSAGE_BYTES = 32 * 2**20  # a larger message from the kernel drops the connection instead of our memory
MAX_RESULT_BYTES = 64 * 2**20  # the arrays one exercise call returns, all cases together
MAX_JSON_BYTES = 2 * 2**20  # the JSON skeleton of those values
MAX_JSON_DEPTH = 64
MAX_DECODED_NODES = 200_000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


READ_BUDGET_S = 30.0  # the grader's CPU seconds per copy for reading what its kernels send (an honest copy: < 1 s)
MAX_MESSAGE_FRAMES = 16  # a Jupyter message is 7 frames (identity, delimiter, signature, 4 dicts), a widget adds a few
# per channel the grader reads: (the most bytes of one message, the most whole messages zmq may hold unread); the
# grader's zmq holds at most (high-water mark + 1) x bytes per channel, whatever the kernel sends (message_gate.py)
CHANNEL_LIMITS = {
    "shell": (MAX_MESSAGE_BYTES, 2),  # replies, one per request
    "iopub": (8 * 2**20, 4),  # output (8,000 characters kept), status; images and widgets are not read
    "control": (2**16, 1),  # the kernel manager's: never read by the grader
}


def _gated_socket(owner: Any, channel: str, identity: bytes | None) -> zmq.Socket:
    """A socket to `channel` of the kernel, through the owner's message gate (when it has one): frames and
    messages capped, few whole messages held (RCVHWM), so that no message can grow the grader's memory."""
    max_bytes, hwm = CHANNEL_LIMITS.get(channel, (2**16, 1))
    url = owner._make_url(channel)
    gate = getattr(owner, "gate", None) or getattr(getattr(owner, "parent", None), "gate", None)
    if gate is not None and url.startswith("ipc://"):
        url = gate.url(url[len("ipc://") :], MAX_MESSAGE_FRAMES, max_bytes)
    sock = owner.context.socket(channel_socket_types[channel])
    sock.linger = 1000
    sock.setsockopt(zmq.MAXMSGSIZE, max_bytes)
    sock.setsockopt(zmq.RCVHWM, hwm)
    if identity:
        sock.identity = identity
    if getattr(owner, "curve_publickey", None) is not None:
        sock.curve_secretkey = owner.curve_secretkey
        sock.curve_publickey = owner.curve_publickey
        sock.curve_serverkey = owner.curve_publickey
    sock.connect(url)
    return sock


class CappedKernelClient(BlockingKernelClient):
    """A client whose sockets go through its manager's message gate, with messages capped (see `_gated_socket`)."""

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> zmq.Socket:
        return _gated_socket(self, channel, identity)


class CappedKernelManager(KernelManager):
    """A kernel manager whose own control socket is capped and gated too (it is connected, never read)."""

    gate: MessageGate | None = None

    def _create_connected_socket(self, channel: str, identity: bytes | None = None) -> zmq.Socket:
        return _gated_socket(self, channel, identity)


class ReadBudget:
    """The grader's own CPU time for reading what one copy's kernels send (decoding every message, whichever
    request it answers; reading the result files), counted per thread while it reads: a kernel can send, within
    its own limits, message after message that costs far more to parse than to send, and the parsing holds the
    GIL that the other copies' threads need. A copy that spends it all is stopped (KernelSession.run)."""

    def __init__(self, seconds: float = READ_BUDGET_S) -> None:
        self.seconds = seconds
        self.spent = 0.0

    def over(self) -> bool:
        return self.spent > self.seconds

    @contextmanager
    def counting(self) -> Iterator[None]:
        """Count the calling thread's CPU time inside the block (time spent waiting is not counted)."""
        start = time.thread_time()
        try:
            yield
        finally:
            self.spent += time.thread_time() - start

    def why(self) -> str:
        return _("the grader spent more than {n} s reading what its kernel sent").format(n=f"{self.seconds:g}")


class KernelOutput:
    """What a kernel process prints outside Jupyter's channels (startup errors, crashes): read from a pipe
    that a thread drains to the end, keeping only the first OUTPUT_CAP bytes. The kernel never holds a
    file of the grader's open, so it cannot fill the grader's disk."""

    def __init__(self) -> None:
        self._kept = bytearray()
        self._lock = threading.Lock()

    def drain(self, stream: Any) -> None:
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        try:
            while chunk := stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536):
                with self._lock:
                    if len(self._kept) < OUTPUT_CAP:
                        self._kept += chunk[: OUTPUT_CAP - len(self._kept)]
        except (OSError, ValueError):
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def text(self) -> str:
        with self._lock:
            return self._kept.decode("utf-8", "replace")


class Janitor:
    """Removes used work folders in the background (untrusted.remove_tree: no recursion limit, no link
    followed); `wait` returns when every folder handed to it is gone."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Path] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def remove(self, folder: Path) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, daemon=True)
                self._thread.start()
        self._queue.put(Path(folder))

    def _work(self) -> None:
        while True:
            folder = self._queue.get()
            try:
                remove_tree(folder)
            finally:
                self._queue.task_done()

    def wait(self) -> None:
        self._queue.join()


JANITOR = Janitor()


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


class WorkFolders:
    """Fresh work folders for one copy's kernels, each holding only the files the grader hands in (the
    student's notebook): a restarted kernel never sees what an earlier one wrote. Used folders are removed
    by a background janitor, so that a folder a kernel made huge or deep costs no other copy any time."""

    def __init__(self, parent: Path, files: dict[str, bytes]):
        self.parent, self.files, self.count = Path(parent), dict(files), 0

    def fresh(self) -> Path:
        self.count += 1
        folder = self.parent / f"work-{self.count}"
        folder.mkdir()
        folder.chmod(0o711)  # bwrap, as root without capabilities, must pass through it to start the kernel
        for name, data in self.files.items():
            (folder / name).write_bytes(data)
        return folder


class KernelSession:
    """One kernel at a time for one submission, each started in a fresh work folder (`folders`), importing
    `package` (a package copy with the graded answers withheld; None: a plain copy): in a bubblewrap sandbox
    when `sandboxed`, else as the grader's OS user (`--no-sandbox`; as root, as a uid of its own)."""

    def __init__(
        self,
        folders: WorkFolders | Path,
        limits: sandbox.Limits = sandbox.LIMITS,
        startup_timeout: float = 120.0,
        package: Path | None = None,
        sandboxed: bool = False,
        reading: ReadBudget | None = None,
    ):
        self.reading = reading or ReadBudget()  # shared by every kernel of the copy (and its full re-run)
        self.folders = folders if isinstance(folders, WorkFolders) else WorkFolders(Path(folders), {})
        self.workdir = Path(self.folders.parent)  # the current kernel's work folder (set by each start)
        self.limits = limits
        self.startup_timeout = startup_timeout
        self.package = package
        self.sandboxed = sandboxed
        self.km: KernelManager | None = None
        self.kc: CappedKernelClient | None = None
        self.pid: int | None = None
        self.uid: int | None = None
        self.starts = 0
        self.violation = ""  # why the watchdog stopped the kernel (memory or disk over the limit)
        self.gate: MessageGate | None = None  # the relay the grader's sockets go through (message_gate.py)
        self._dropped: list[str] = []  # messages the gate dropped (over a channel's cap), not yet reported
        self.output = KernelOutput()
        self._watchdog: threading.Thread | None = None

    # ---- life cycle ----
    def _command(
        self, km: KernelManager
    ) -> tuple[list[str], dict[str, str], dict[str, Any], bwrap.SandboxCommand | None]:
        """The kernel's command line, environment and extra Popen arguments (and, sandboxed, bwrap's command
        with the descriptors it inherits). The connection goes over ipc sockets in the work folder, which is
        all the sandbox shares with the grader."""
        from lecturekit.paths import data_dir

        if self.package is None:
            from lecturekit.grading.withheld import cached_package_copy

            self.package = cached_package_copy([], link_data=not self.sandboxed)
        self.uid = bwrap.take_uid() if self.sandboxed else None
        km.transport = "ipc"
        km.ip = str(self.workdir / "kernel")
        km.connection_file = str(self.workdir / "kernel.json")
        km.write_connection_file()
        if self.uid is not None:  # root: the kernel runs as its own unprivileged uid, which owns its fresh folder
            for path in [self.workdir, *self.workdir.iterdir()]:
                os.chown(path, self.uid, self.uid, follow_symlinks=False)
        course_data = sandbox.course_data_folder(own_uid=self.uid is not None)
        env = sandbox.kernel_env(self.workdir, self.sandboxed, course_data)
        if not self.sandboxed:
            return sandbox.kernel_argv(str(self.package), self.limits, sandboxed=False), env, {}, None
        kernel = sandbox.kernel_argv(bwrap.PACKAGE_MOUNT, self.limits)
        command = bwrap.sandbox_command(
            self.workdir, self.package, data_dir(), kernel, uid=self.uid, course_data=course_data
        )
        return command.argv, env, {"pass_fds": command.pass_fds}, command

    def start(self) -> None:
        if self.reading.over():
            raise RuntimeError(self.reading.why())
        self.workdir = self.folders.fresh()
        km = CappedKernelManager(client_class="lecturekit.grading.execute.CappedKernelClient")
        try:
            argv, env, extra, command = self._command(km)
        except BaseException:
            bwrap.give_back_uid(self.uid)
            self.uid = None
            raise
        km._kernel_spec = KernelSpec(argv=argv, display_name="lecturekit grader", language="python")
        self.output = KernelOutput()
        if self.gate is not None:  # a kernel started again without close(): its gate goes first
            self.gate.close()
        km.gate = self.gate = MessageGate(self._refuse, self._cut)
        try:
            with sandbox.spawning():
                km.start_kernel(
                    cwd=str(self.workdir), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **extra
                )
                process = getattr(km.provisioner, "process", None)
                self.pid = getattr(process, "pid", None)
                sandbox.register_kernel(self.pid, True)
        except BaseException:
            self.gate.close()
            self.gate = None
            raise
        finally:
            if command is not None:
                command.close()
        if process is not None and process.stdout is not None:
            self.output.drain(process.stdout)
        self.km = km
        self.starts += 1
        self.violation = ""
        if self.pid is not None:
            self._watchdog = threading.Thread(target=self._watch, args=(self.pid, self.workdir), daemon=True)
            self._watchdog.start()
        kc = km.client()
        kc.start_channels(stdin=False, hb=False, control=False)  # the grader reads shell and iopub only
        self.kc = kc
        try:
            kc.wait_for_ready(timeout=self.startup_timeout)
        except RuntimeError as exc:
            detail = self.output.text()
            self.close()
            raise RuntimeError(f"the grading kernel did not start: {exc}\n{detail}") from None

    def _watch(self, pid: int, workdir: Path) -> None:
        """Stop the kernel when its processes together use more memory than the limit (each process's
        address space is capped, many processes are not; memfds count as memory), when its work folder and
        the unlinked files it keeps open hold more than the disk limit, when it made too many files, or when it
        hid a folder from the grader."""
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
            why = self._over_limit(rss, [p.pid for p in tree], workdir if tick % 4 == 0 else None)
            if why:
                self.violation = why
                sandbox.kill_pids([p.pid for p in tree])
                return
            tick += 1
            time.sleep(0.25)

    def _over_limit(self, rss: int, pids: list[int], workdir: Path | None) -> str:
        """Which limit the kernel broke ("" when none): its memory together, or (when a folder is given) the
        disk, the number of files, or a folder it hid."""
        limits = self.limits
        if limits.memory_mb and rss > limits.memory_mb * 2**20:
            return _("its processes used more than {n} MB of memory together").format(n=limits.memory_mb)
        if workdir is None:
            return ""
        held = usage.open_files_held(pids)
        if limits.memory_mb and rss + held.memory > limits.memory_mb * 2**20:
            return _("its processes used more than {n} MB of memory together").format(n=limits.memory_mb)
        folder = usage.folder_usage(workdir, limits.disk_mb * 2**20, limits.files)
        if limits.disk_mb and folder.bytes + held.disk > limits.disk_mb * 2**20:
            return _("it wrote more than {n} MB to disk").format(n=limits.disk_mb)
        if limits.files and folder.entries > limits.files:
            return _("it made more than {n} files and folders").format(n=limits.files)
        if folder.hidden:
            return _("it made a folder the grader may not read")
        return ""

    def _refuse(self, why: str) -> None:
        """The message gate refused what the kernel sent (a message of too many parts): only hostile code sends
        that, so the kernel is stopped, and why is said."""
        pid = self.pid
        self.violation = _("it sent the grader a message of more than {n} parts").format(n=MAX_MESSAGE_FRAMES)
        if pid is not None:
            sandbox.kill_pids([pid, *sandbox.descendants(pid)])

    def _cut(self, why: str) -> None:
        """The gate dropped a message over a channel's cap (called from its thread): kept for `take_dropped`."""
        if len(self._dropped) < 100:  # zmq reconnects after each cut: a kernel may cut a few times a second
            self._dropped.append(f"a message from its kernel was dropped ({why}): its output or reply never came")

    def take_dropped(self) -> list[str]:
        """Why messages were dropped since the last call (each once), for the instructor's review."""
        taken = []
        while self._dropped:  # list.pop is atomic: the gate's thread may append meanwhile
            taken.append(self._dropped.pop(0))
        return list(dict.fromkeys(taken))

    def alive(self) -> bool:
        try:
            return self.km is not None and self.km.is_alive()
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        """Stop the kernel and everything it started; its work folder goes to the janitor."""
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
        if self.gate is not None:
            self.gate.close()
            self.gate = None
        sandbox.register_kernel(self.pid, False)
        bwrap.give_back_uid(self.uid)
        self.uid = None
        if self.km is not None and self.workdir != self.folders.parent:
            JANITOR.remove(self.workdir)
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
        while time.monotonic() < end and not self.reading.over():
            try:
                with self.reading.counting():
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
        if self.reading.over():
            return self._read_enough()
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
            if self.reading.over():
                return self._read_enough(listening.output, now - start)
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

    def _read_enough(self, output: str = "", seconds: float = 0.0) -> Outcome:
        """The copy spent the grader's reading budget: its kernel is stopped, and nothing more of it is read."""
        self.violation = self.reading.why()
        self.close()
        return Outcome("dead", evalue=self.violation, output=output, seconds=seconds)

    def _poll_iopub(self, listening: _Listening) -> bool:
        """One iopub message (waiting 50 ms), passed to `listening`; False when none came."""
        with self.reading.counting():
            try:
                msg = self.kc.get_iopub_msg(timeout=0.05)  # type: ignore[union-attr]
            except Exception:  # noqa: BLE001 - none yet, or a message that cannot be decoded: ignore it
                return False
            listening.take_iopub(msg)
        return True

    def _poll_shell(self, listening: _Listening) -> bool:
        """The shell reply if it is there (no waiting); False when nothing came."""
        try:
            with self.reading.counting():
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
        while time.monotonic() < end and not self.reading.over():
            try:
                with self.reading.counting():
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
        for _attempt in range(10_000):
            if self.reading.over():
                return
            try:
                with self.reading.counting():
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


# how each tensor dtype comes in the .npz (kernel_code._encode_array sends half precisions as float32): a tensor
# node whose array has any other dtype is refused, so that no node can make the grader convert a small array into
# a bigger one (uint8 to complex128 is 16 times the bytes)
_STORED_AS = {
    "torch.float16": "float32",
    "torch.bfloat16": "float32",
    **{d: d.split(".")[1] for d in _TORCH_DTYPES if d not in ("torch.float16", "torch.bfloat16")},
}
_ITEMSIZE = {"torch.float16": 2, "torch.bfloat16": 2}


@dataclass
class DecodeBudget:
    """What decoding one call's results may still cost: JSON nodes, and bytes of arrays as decoded (after any
    dtype conversion); each .npz member may be used by one node only."""

    nodes: int = MAX_DECODED_NODES
    bytes: int = MAX_RESULT_BYTES
    used: set[str] = field(default_factory=set)

    def take_array(self, key: str, nbytes: int) -> None:
        """Count one array reference (ValueError when the member was used before or the bytes run out)."""
        if key in self.used:
            raise ValueError("an array is referenced twice")
        self.used.add(key)
        self.bytes -= nbytes
        if self.bytes < 0:
            raise ValueError("the decoded arrays are over the size limit")


def _decode(node: Any, arrays: Any, budget: DecodeBudget | None = None, depth: int = 0) -> Any:
    """Rebuild one value of the kernel's JSON skeleton (arrays from the .npz); ValueError on anything unexpected
    (too deep, too many values or array bytes in all, an array used twice: `budget` counts them down)."""
    budget = budget if budget is not None else DecodeBudget()
    budget.nodes -= 1
    if depth > 25 or budget.nodes < 0 or not isinstance(node, dict):
        raise ValueError("malformed result")
    kind = node.get("t")
    if kind in ("tensor", "ndarray", "npscalar"):
        key = str(node.get("k"))[:64]
        return _decode_array(node, arrays[key], kind, lambda nbytes: budget.take_array(key, nbytes))
    if kind in ("tuple", "list"):
        items = node.get("items", [])
        if not isinstance(items, list):
            raise ValueError("malformed result")
        decoded = [_decode(v, arrays, budget, depth + 1) for v in items]
        return tuple(decoded) if kind == "tuple" else decoded
    if kind == "dict":
        items = node.get("items", {})
        if not isinstance(items, dict):
            raise ValueError("malformed result")
        return {str(k)[:200]: _decode(v, arrays, budget, depth + 1) for k, v in items.items()}
    return _decode_scalar(node, kind)


def _decode_array(node: dict[str, Any], array: np.ndarray, kind: str, take: Callable[[int], None]) -> Any:
    """A tensor, array or numpy scalar: only plain dtypes, so that nothing of the kernel's is ever unpickled; a
    tensor only of the dtype its array was stored as (never converted to a bigger one); `take` counts the bytes
    it will hold before anything is copied or converted."""
    import torch

    if array.dtype.kind in "OV":
        raise ValueError("object arrays are not accepted")
    if kind == "npscalar" and array.ndim != 0:
        raise ValueError("malformed result")
    if kind in ("ndarray", "npscalar"):
        take(array.nbytes)
        return array if kind == "ndarray" else array[()]
    dtype = str(node.get("dtype"))
    if dtype not in _TORCH_DTYPES:
        raise ValueError(f"unknown tensor dtype {dtype[:40]}")
    if array.dtype != np.dtype(_STORED_AS[dtype]):
        raise ValueError(f"a {dtype} tensor cannot be made from a {array.dtype} array")
    take(array.size * _ITEMSIZE.get(dtype, array.dtype.itemsize))
    return torch.from_numpy(np.asarray(array, order="C")).to(getattr(torch, dtype.split(".")[1]))  # 0-d stays 0-d


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
    problem: str = ""  # the results could not be read (for the student: nothing the kernel wrote is quoted)
    detail: str = ""  # and why, for the instructor's review (it may quote what the kernel wrote)


def call_exercise(
    session: KernelSession,
    function: str,
    cases: list[tuple],
    timeout: float,
    run: Callable[[Callable[[], str], float], Outcome] | None = None,
    after_call: tuple[int, ...] = (),
) -> CallResult:
    """Call `function` (as the kernel's user namespace holds it) on `cases`, inside the kernel. `run` executes
    code there (the session's own, or one that restarts a stopped kernel first); it is given the code as a
    function, called for the kernel that will run it, so that a restarted kernel (in a fresh work folder)
    gets its inputs in its own folder."""
    import torch

    token = secrets.token_hex(16)
    used: list[Path] = []

    def code() -> str:
        args_path = session.workdir / f".lk_args_{token[:8]}.pt"
        out_prefix = session.workdir / f".lk_out_{token[:8]}"
        used[:] = [args_path, Path(f"{out_prefix}.json"), Path(f"{out_prefix}.npz")]
        write_new_file(args_path, lambda f: torch.save(list(cases), f))
        if session.uid is not None:
            os.chown(args_path, session.uid, session.uid, follow_symlinks=False)
        return kernel_source(
            call_for_grader, str(args_path), str(out_prefix), function, token, float(timeout), tuple(after_call)
        )

    try:
        outcome = (run or (lambda make, t: session.run(make(), t)))(code, timeout + 10)
    except OSError as exc:
        return CallResult(Outcome("error"), problem=f"the grader could not hand the inputs over ({exc.strerror})")
    result = CallResult(outcome)
    try:
        if outcome.status == "ok":
            with session.reading.counting():
                _read_results(result, used[1], used[2], token, len(cases))
        elif outcome.status == "error":
            result.problem = _call_problem(function, outcome.ename)
            result.detail = f"{result.problem}: {outcome.ename[:80]}: {outcome.evalue[:200]}"
    finally:
        for path in used:
            try:
                path.unlink()  # unlink never follows a link: whatever the kernel put there, only the name goes
            except OSError:
                pass
    return result


_PYTHON_ERRORS = frozenset(n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException))


def _call_problem(function: str, ename: str) -> str:
    """Why the call failed, for the student: no message, only the type of the error and only one of Python's
    own (the call ran the hidden cases, and the notebook's code, a patched json.dump..., may have raised with
    their inputs in the message or in the name of an exception class made at run time)."""
    ename = ename if ename in _PYTHON_ERRORS else "Error"
    return f"the grader could not call {function}() ({ename} in the notebook's kernel)"


def write_new_file(path: Path, write: Callable[[Any], None]) -> None:
    """Create `path` afresh (never through a link, never over a file a kernel prepared) and let `write` fill it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as f:
        write(f)


def _read_results(result: CallResult, json_path: Path, npz_path: Path, token: str, n_cases: int) -> None:
    """Fill `result` from the files the kernel wrote, read as hostile data (untrusted.py): regular files only,
    size and nesting capped, arrays checked before they are loaded; anything odd becomes `result.problem`."""
    try:
        report = read_json(json_path, MAX_JSON_BYTES, MAX_JSON_DEPTH)
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
        arrays = load_arrays(npz_path, MAX_RESULT_BYTES)
        budget = DecodeBudget()
        for case in cases:
            if isinstance(case, dict) and "error" in case:
                result.errors.append(_case_error(case["error"]))
                result.values.append(None)
            else:
                result.values.append(_decode(case.get("value") if isinstance(case, dict) else None, arrays, budget))
                result.errors.append(None)
    except UntrustedFileError as exc:  # its message may quote the files (an .npy header...): the review's
        result.problem = "the returned values could not be read back"
        result.detail = f"{result.problem}: {exc}"
        result.values, result.errors = [], []
    except (OSError, ValueError, KeyError, TypeError, RecursionError, EOFError) as exc:
        result.problem = f"the returned values could not be read back ({type(exc).__name__})"
        result.values, result.errors = [], []


def _case_error(err: Any) -> dict[str, Any]:
    """One case's error as the kernel reported it, cut to plain short strings."""
    err = err if isinstance(err, dict) else {}
    where = err.get("where") if isinstance(err.get("where"), list) else []
    return {
        "type": str(err.get("type", "Error"))[:100],
        "message": str(err.get("message", ""))[:600],
        "where": [str(w)[:300] for w in where[:3]],  # a line of 160 characters and a long name stay whole
    }
