"""The OS sandbox around each grading kernel: a bubblewrap (`bwrap`) command line.

Inside, a kernel sees the system and its Python environment read-only, the kit's package (a copy
whose graded reference implementations are withheld, see withheld.py) and the kit's data read-only
(under the data switch also the course data set in force, read-only at its own path), one writable
work folder holding the submission being graded, and empty size-limited tmpfs folders for /tmp and
the home folder. Nothing else: no course folder, no other student's files, no
instructor home, no network (its own empty network namespace), no other processes (its own pid
namespace, in which it is pid 2 and dies with the grader).

Run as root, the kernel drops to an unprivileged uid of its own (one per concurrent kernel), so the
process-count limit applies (the kernel exempts root from RLIMIT_NPROC) and the kernel holds no
capability. Run as an ordinary user, bwrap puts it in a new user namespace, where the same limit
counts the sandbox's processes only.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import threading
from functools import lru_cache
from pathlib import Path

INSTALL_HINT = (
    "install bubblewrap: `sudo apt-get install bubblewrap` (Debian/Ubuntu), `sudo dnf install "
    "bubblewrap` (Fedora), `sudo pacman -S bubblewrap` (Arch)"
)
NO_SANDBOX_HINT = (
    "or grade without the sandbox with --no-sandbox (student code then runs as you and can read "
    "and change your files: grade on an account that holds nothing else of value)"
)

PACKAGE_MOUNT = "/opt/lecturekit-grader"  # where the package copy appears inside the sandbox
TMPFS_BYTES = 256 * 2**20  # /tmp and the home folder inside the sandbox (RAM-backed, so capped)
_ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "nsswitch.conf",
    "passwd",
    "group",
    "localtime",
    "alternatives",
    "fonts",
    "mime.types",
)
_UID_BASE = 3_900_000  # unprivileged uids for kernels started by root: far above any real account


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot make a sandbox on this machine."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def namespace_flags(own_uid: bool = True) -> list[str]:
    """Every namespace but the user one as root (with `own_uid` the kernel then drops to a uid of its own,
    for which it keeps the two capabilities it needs until then); all of them otherwise."""
    if is_root():
        caps = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if own_uid else []
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", *caps]
    return ["--unshare-all", "--unshare-user", "--disable-userns"]


@lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """Why no sandbox can be made here (None: it can). Tried once: bwrap must exist and start a process."""
    if not sys.platform.startswith("linux"):
        return (
            f"the grading sandbox needs Linux (bubblewrap); this is {sys.platform}. On macOS or Windows, grade "
            "inside a Linux virtual machine or container (e.g. WSL2 or Docker with Debian), where you can "
            f"{INSTALL_HINT}; {NO_SANDBOX_HINT}"
        )
    path = bwrap_path()
    if path is None:
        return (
            f"the grading sandbox needs bubblewrap (`bwrap`), which is not installed: {INSTALL_HINT}; {NO_SANDBOX_HINT}"
        )
    probe = [
        path,
        *namespace_flags(),
        "--die-with-parent",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "true",
    ]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not be run ({exc}); {NO_SANDBOX_HINT}"
    if done.returncode != 0:
        why = (done.stderr or done.stdout).strip()[:300]
        return (
            f"bubblewrap is installed but cannot make a sandbox here ({why}). Unprivileged user namespaces may "
            "be switched off (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu 24.04 "
            f"kernel.apparmor_restrict_unprivileged_userns=0), or grade as root; {NO_SANDBOX_HINT}"
        )
    return None


def require_sandbox() -> None:
    problem = sandbox_problem()
    if problem:
        raise SandboxUnavailable(problem)


def python_roots() -> list[Path]:
    """The folders the kernel's Python needs: its prefixes and site-packages (read-only inside)."""
    candidates = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
    }
    candidates |= set(site.getsitepackages()) | {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]}
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user_site and os.path.isdir(user_site) and user_site in sys.path:
        candidates.add(user_site)
    roots: list[Path] = []
    for path in sorted({Path(os.path.realpath(c)) for c in candidates if c and os.path.isdir(c)}):
        if path.parts[:2] == ("/", "usr") or any(path.is_relative_to(r) for r in roots):
            continue
        roots.append(path)
    for path in [Path(p) for p in {sys.prefix, sys.exec_prefix}]:  # a venv's own path, as the kernel will call it
        if (
            path.is_dir()
            and not path.parts[:2] == ("/", "usr")
            and path not in roots
            and not any(path.is_relative_to(r) for r in roots)
        ):
            roots.append(path)
    return roots


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in _ETC:
        path = Path("/etc") / name
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


_uids_lock = threading.Lock()
_uids_taken: set[int] = set()


def take_uid() -> int | None:
    """An unprivileged uid for one kernel started by root (None when not root)."""
    if not is_root():
        return None
    with _uids_lock:
        uid = next(_UID_BASE + n for n in range(100_000) if _UID_BASE + n not in _uids_taken)
        _uids_taken.add(uid)
        return uid


def give_back_uid(uid: int | None) -> None:
    with _uids_lock:
        _uids_taken.discard(uid)  # type: ignore[arg-type]


def _with_parents(args: list[str], made: set[Path]) -> list[str]:
    """Each mount point's missing parent folders made first, readable by all (bwrap would make them 0700,
    which a kernel running as its own uid could not pass through)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] in ("--ro-bind", "--bind", "--symlink"):
            target = Path(args[i + 2])
            for parent in reversed(target.parents):
                if parent != Path("/") and parent not in made:
                    out += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            made.add(target)
            out += args[i : i + 3]
            i += 3
        elif args[i] == "--tmpfs":
            made.add(Path(args[i + 1]))
            out += args[i : i + 2]
            i += 2
        else:
            out.append(args[i])
            i += 1
    return out


def bwrap_argv(
    workdir: Path,
    package_dir: Path,
    data_dir: Path,
    command: list[str],
    own_uid: bool = True,
    course_data: Path | None = None,
) -> list[str]:
    """bwrap's command line for `command` in a sandbox whose only writable folder is `workdir`; `course_data`
    (the course data set in force, if any) is bound read-only at its own path."""
    home = Path(os.environ.get("HOME") or "/home/student")
    args = [
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
        str(TMPFS_BYTES),
        "--tmpfs",
        "/tmp",
    ]
    if home != Path("/tmp") and not Path("/tmp").is_relative_to(home):
        args += ["--perms", "1777", "--size", str(TMPFS_BYTES), "--tmpfs", str(home)]
    for root in python_roots():  # after the tmpfs: a Python under the home folder (pyenv, conda) shows through
        args += ["--ro-bind", str(root), str(root)]
    inside = Path(PACKAGE_MOUNT)
    args += [
        "--ro-bind",
        str(package_dir),
        str(inside),
        "--ro-bind",
        str(data_dir.resolve()),
        str(inside / "lecturekit" / "_data"),
    ]
    if course_data is not None:  # after the tmpfs folders: a data set under the home folder shows through
        args += ["--ro-bind", str(course_data.resolve()), str(course_data.resolve())]
    args += [
        "--bind",
        str(workdir),
        str(workdir),
    ]
    return [
        bwrap_path() or "bwrap",
        *namespace_flags(own_uid),
        "--die-with-parent",
        "--new-session",
        *_with_parents(args, {Path("/usr"), Path("/proc"), Path("/dev")}),
        "--chdir",
        str(workdir),
        "--",
        *command,
    ]
