"""The limits around a student's kernel, and no process left behind.

By default each kernel runs in a bubblewrap sandbox (bwrap.py): it sees the system and its Python
read-only, a package copy with the graded references withheld (withheld.py), and one writable work
folder; nothing of the course, the instructor or the other students; no network; no other
processes. With `--no-sandbox` it runs as the grader's OS user, as nbgrader does: its own temp
folder as cwd and TMPDIR, an environment without the checkout on any path, and the same resource
limits, but code that looks for files by absolute path can read and write whatever that user can.
Either way the grader's defences do not depend on secrecy: tests and points are read into memory
before any student code runs, verdicts are computed outside the kernel on inputs drawn from a secret
seed, results come back as plain arrays, grades are written after every kernel is gone, and files of
the course or of the package that appear, change or disappear during a run are reported.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from pathlib import Path

import lecturekit
from lecturekit.grading.kernel_code import kernel_source, launch_kernel

PACKAGE_DIR = Path(lecturekit.__file__).resolve().parent
_ENV_KEEP = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "USER",
    "LOGNAME",
    "SHELL",
    "SYSTEMROOT",
    "MPLCONFIGDIR",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
)


def hidden_paths(extra: list[Path] | None = None) -> list[str]:
    """Folders taken off the kernel's sys.path: the checkout's root (an editable install puts it there)."""
    out = []
    root = PACKAGE_DIR.parent
    if (root / "solutions").is_dir() or (root / "pyproject.toml").is_file():
        out.append(str(root))
    out += [str(Path(p).resolve()) for p in extra or []]
    return out


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP}
    env.update(
        {
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "LECTUREKIT_PROGRESS": "off",
            "LECTUREKIT_DEVICE": "cpu",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONIOENCODING": "utf-8",
            "CUDA_VISIBLE_DEVICES": "",
        }
    )
    return env


def course_data_folder(own_uid: bool = True) -> Path | None:
    """The folder of the course data set in force (`LECTUREKIT_DATA` / `use_data`), None for the kit's own data.

    A grading kernel must use the data the instructor selected: its folder is bound read-only into the
    sandbox at the same path, and the kernel is told it by its full path (a NAME would be looked up in a home
    folder the kernel does not have)."""
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


def kernel_env(
    workdir: Path,
    memory_mb: int,
    file_mb: int = 1024,
    hide: list[Path] | None = None,
    processes: int = 0,
    package: str | None = None,
    uid: int | None = None,
) -> dict[str, str]:
    """The kernel's environment: the package copy first on the path, no checkout, its own TMPDIR, the limits."""
    env = base_env()
    env["TMPDIR"] = str(workdir)
    if package is None:  # a plain package copy, nothing withheld (kernels started outside `grade`)
        from lecturekit.grading.withheld import cached_package_copy

        package = str(cached_package_copy([], link_data=True))
    env["PYTHONPATH"] = package
    env["LK_GRADE_HIDE"] = os.pathsep.join(hidden_paths(hide))
    env["LK_GRADE_MEMORY"] = str(int(memory_mb) * 2**20 if memory_mb else 0)
    env["LK_GRADE_FSIZE"] = str(int(file_mb) * 2**20 if file_mb else 0)
    env["LK_GRADE_NPROC"] = str(int(processes))
    course_data = course_data_folder(own_uid=bool(uid))
    if course_data is not None:
        from lecturekit.datasets import ENV_VAR

        env[ENV_VAR] = str(course_data)
    if uid:
        env["LK_GRADE_UID"] = str(uid)
        env["USER"] = env["LOGNAME"] = "student"
    return env


def kernel_argv() -> list[str]:
    return [sys.executable, "-c", kernel_source(launch_kernel), "-f", "{connection_file}"]


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
    with _lock:
        keep = _baseline | _active
        children = psutil.Process().children()
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
