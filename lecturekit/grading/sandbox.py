"""The limits around a student's kernel, its whole environment and command line, and no process left behind.

By default each kernel runs in a bubblewrap sandbox (bwrap.py): it sees the system and its Python
read-only, a package copy with the graded answers withheld (withheld.py), and one writable work folder
holding only the submission; nothing of the course, the instructor or the other students; no network; no
other processes; never root, no capability, a seccomp filter. With `--no-sandbox` it runs in its own work
folder as the grader's OS user, as nbgrader does, with the same
resource limits, but code that looks for files by absolute path can read whatever that user can.
Either way the grader's defences do not depend on secrecy: tests and points are read into memory
before any student code runs, verdicts are computed outside the kernel on inputs drawn from a secret
seed, results come back as plain arrays read as hostile data (untrusted.py), grades are written after every
kernel is gone, and files of the course, the package or the grader's own temporary folders that appear,
change or disappear during a run are reported.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import lecturekit
from lecturekit.grading.bwrap import COURSE_DATA_MOUNT, HOME_INSIDE
from lecturekit.grading.kernel_code import kernel_source, launch_kernel

PACKAGE_DIR = Path(lecturekit.__file__).resolve().parent


@dataclass(frozen=True)
class Limits:
    """What one grading kernel may use: the one home of these defaults (the CLI, the grader, the sandbox
    kernel for nbgrader, the Gradescope autograder and the benchmarks read them here)."""

    memory_mb: int = 4096  # address space of each process, and all its processes together (watchdog)
    disk_mb: int = 2048  # what it may write into its work folder
    file_mb: int = 1024  # the largest file it may write (RLIMIT_FSIZE)
    processes: int = 128  # processes and threads (RLIMIT_NPROC, counted per uid)
    files: int = 50_000  # files and folders in its work folder (the watchdog stops it beyond)
    descriptors: int = 1024  # open files, sockets and pipes of each process (RLIMIT_NOFILE)
    seconds: float = 60.0  # per cell, and per exercise call


LIMITS = Limits()
# the limits a command line sets (`grade`, `gradescope`): option, type, Limits field, help
LIMIT_OPTIONS = (
    ("--timeout", float, "seconds", "seconds per cell and per exercise"),
    ("--memory", int, "memory_mb", "memory per kernel in MB, 0 for none"),
    ("--processes", int, "processes", "processes and threads per kernel"),
    ("--disk", int, "disk_mb", "MB a kernel may write into its work folder"),
)


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    """The kernel's limits as options of a command, their defaults LIMITS'."""
    for flag, kind, field, what in LIMIT_OPTIONS:
        default = getattr(LIMITS, field)
        parser.add_argument(flag, type=kind, default=default, help=f"{what} (default {default:g})")


LIMIT_RULES = "--timeout > 0, --memory >= 0, --processes >= 16 and --disk >= 0"


def limit_options_possible(args: argparse.Namespace) -> bool:
    """Whether the limits given on a command line keep LIMIT_RULES."""
    return args.timeout > 0 and args.memory >= 0 and args.processes >= 16 and args.disk >= 0


def kernel_env(workdir: Path, sandboxed: bool, course_data: Path | None = None) -> dict[str, str]:
    """The kernel's whole environment: made here, nothing copied from the grader's (no course path, no
    PYTHON* variable, no home folder of the instructor's). Sandboxed, its home, caches and temp files lie in
    the sandbox's fresh tmpfs folders; without the sandbox, in its own work folder (fresh at each start)."""
    home = HOME_INSIDE if sandboxed else str(workdir)
    scratch = "/tmp" if sandboxed else str(workdir)
    env = {
        "PATH": os.pathsep.join(
            dict.fromkeys([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
        ),
        "HOME": home,
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": scratch,
        "MPLCONFIGDIR": f"{scratch}/.matplotlib",
        "IPYTHONDIR": f"{scratch}/.ipython",
        "XDG_CACHE_HOME": f"{scratch}/.cache",
        "XDG_CONFIG_HOME": f"{scratch}/.config",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "LECTUREKIT_PROGRESS": "off",
        "LECTUREKIT_DEVICE": "cpu",
        "CUDA_VISIBLE_DEVICES": "",
    }
    if course_data is not None:
        from lecturekit.datasets import ENV_VAR

        env[ENV_VAR] = COURSE_DATA_MOUNT if sandboxed else str(course_data)
    return env


def kernel_argv(package: str, limits: Limits = LIMITS, sandboxed: bool = True) -> list[str]:
    """The kernel's command: Python isolated (-I: no work folder or user site on sys.path, PYTHON* variables
    ignored; -B: no bytecode written), the launcher given the package copy's path and the limits as literals."""
    code = kernel_source(
        launch_kernel,
        package,
        limits.memory_mb * 2**20,
        limits.file_mb * 2**20,
        limits.processes,
        limits.descriptors,
        sandboxed,
    )
    return [sys.executable, "-I", "-B", "-X", "utf8", "-c", code, "-f", "{connection_file}"]


def course_data_folder(own_uid: bool = True) -> Path | None:
    """The folder of the course data set in force (`LECTUREKIT_DATA` / `use_data`), None for the kit's own data.

    A grading kernel must use the data the instructor selected: its folder is bound read-only into the
    sandbox, and the kernel is told where. Kernels started by root run under a uid of their own, so every
    file of it must be readable by others (refused up front with the chmod that fixes it)."""
    from lecturekit import datasets

    active = datasets.active()
    if active.is_kit:
        return None
    folder = active.folder.resolve()
    from lecturekit.grading.bwrap import is_root

    hidden = unreadable_by_others(folder) if is_root() and own_uid else []
    if hidden:
        raise ValueError(
            f"the course data set {folder} holds {len(hidden)} file(s) or folder(s) other users cannot read (e.g. "
            f"{hidden[0]}); as root each grading kernel runs under a uid of its own and would not see them. "
            f"Fix: chmod -R o+rX {folder}"
        )
    return folder


def unreadable_by_others(folder: Path) -> list[Path]:
    """The files (no o+r) and folders (no o+rx) under `folder` that a kernel under another uid cannot read."""
    import stat

    found = []
    for path in [folder, *sorted(folder.rglob("*"))]:
        mode = path.stat().st_mode
        need = stat.S_IROTH | stat.S_IXOTH if path.is_dir() else stat.S_IROTH
        if mode & need != need:
            found.append(path)
    return found


# ---- no process left behind ----

_lock = threading.RLock()  # held while a kernel is being started, so a sweep cannot take it for an orphan
_active: set[int] = set()  # pids of kernels in use
_baseline: set[int] = set()  # children of the grader before grading started


def become_subreaper() -> bool:
    """Orphans of a kernel (a daemon that double-forked) become our children, so they can be ended."""
    global _baseline
    try:
        import psutil

        _baseline = {p.pid for p in psutil.Process().children()}
    except ImportError:
        _baseline = set()
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def spawning() -> threading.RLock:
    """Hold this while starting a kernel and registering its pid."""
    return _lock


def stop_subreaper() -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(36, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def kill_active() -> None:
    """End every kernel still running (the instructor pressed Ctrl-C)."""
    with _lock:
        pids = list(_active)
    kill_pids([d for p in pids for d in descendants(p)] + pids)


def register_kernel(pid: int | None, active: bool) -> None:
    if pid is None:
        return
    with _lock:
        (_active.add if active else _active.discard)(pid)


def descendants(pid: int) -> list[int]:
    try:
        import psutil

        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:  # noqa: BLE001 - psutil missing or the process already gone
        return []


def kill_pids(pids: list[int]) -> None:
    import signal

    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except OSError:
            pass


def sweep_orphans() -> int:
    """End processes that kernels left behind (now children of the grader); returns how many."""
    try:
        import psutil
    except ImportError:
        return 0
    from lecturekit.grading.untrusted import OWN_HELPERS, OWN_HELPERS_LOCK

    with _lock, OWN_HELPERS_LOCK:
        children = psutil.Process().children()
        keep = _baseline | _active | OWN_HELPERS
    victims = []
    for child in children:
        if child.pid in keep:
            continue
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)
                continue
        except (psutil.Error, OSError):
            continue
        victims.append(child.pid)
        victims += descendants(child.pid)
    kill_pids(victims)
    return len(victims)
