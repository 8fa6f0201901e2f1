"""The OS sandbox around each grading kernel: a bubblewrap (`bwrap`) command line, a seccomp filter, no privilege.

Inside, a kernel sees the system and its Python environment read-only (with any complete copy of the kit
in it, e.g. a non-editable install, covered by an empty folder), the kit's package (a copy whose
functions that could compute a graded answer are withheld, see withheld.py) and the kit's data read-only
(under the data switch also the course data set in force, read-only at a fixed path), one writable work
folder holding only the submission being graded, and empty size-limited tmpfs folders for /tmp and the home
folder. Nothing else: no course folder, no other student's files, no instructor home, no network (its own
empty network namespace), no other processes (its own pid namespace, in which it dies with the grader).

No privilege, from the first instruction: the kernel is never uid 0 and never holds a capability.
- Run by an ordinary user, bwrap makes a user namespace that maps the kernel's uid to that user's (never
  root), with every capability dropped and no further user namespaces.
- Run by root, bwrap builds the namespaces and then runs `setpriv`, which switches to an unprivileged uid
  of the kernel's own (one per concurrent kernel, with no supplementary group), clears the capability
  bounding set and sets no_new_privs before Python starts; bwrap passes setpriv only CAP_SETUID, CAP_SETGID
  and CAP_SETPCAP, which the switch to a non-zero uid takes away. (A user namespace made by root would map
  the kernel's uid to root outside, which is worse.)
Either way a seccomp filter refuses what student code never needs (mounts, namespaces, ptrace, kexec, bpf,
keyrings, perf events, device nodes, io_uring, file handles, System V shared memory...), and Python starts
isolated (`-I`: no work folder on sys.path, no user site, no PYTHON* variables; see sandbox.kernel_argv).
"""

from __future__ import annotations

import errno
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
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
COURSE_DATA_MOUNT = "/opt/lecturekit-course-data"  # where the course data set in force appears (data switch)
HOME_INSIDE = "/home/student"  # the kernel's home folder: an empty tmpfs
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

# what student code never needs; each refused with EPERM (clone3 with ENOSYS, so that the C library falls
# back to clone, whose namespace flags the filter can see)
_REFUSED_SYSCALLS = (
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "open_by_handle_at",
    "name_to_handle_at",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "syslog",
    "iopl",
    "ioperm",
    "userfaultfd",
    "fanotify_init",
    "lookup_dcookie",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "uselib",
    "vhangup",
    # System V shared memory, queues and semaphores: their memory belongs to no process and no file, so
    # neither the watchdog nor RLIMIT_AS would count it; student code never needs them (POSIX shm is /dev/shm)
    "shmget",
    "shmat",
    "shmctl",
    "shmdt",
    "msgget",
    "msgsnd",
    "msgrcv",
    "msgctl",
    "semget",
    "semop",
    "semtimedop",
    "semctl",
)
_CLONE_NAMESPACES = (0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x80)
_DEVICE_NODES = (0o020000, 0o060000)  # S_IFCHR, S_IFBLK


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot make a sandbox on this machine."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def namespace_flags() -> list[str]:
    """Every namespace; as an ordinary user also a user namespace (no nested ones); no capability kept,
    except, as root, the three that setpriv needs to switch to the kernel's own uid (gone after the switch)."""
    if is_root():
        caps = ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", *caps]  # fmt: skip
    return ["--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL"]


def drop_to(uid: int | None) -> list[str]:
    """The command prefix that switches a process started by root inside the sandbox to `uid`, with no group,
    no capability and no_new_privs, before it runs anything else (empty for an ordinary user)."""
    if uid is None:
        return []
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


@lru_cache(maxsize=1)
def seccomp_program() -> bytes:
    """The seccomp filter (BPF, for this machine's architecture) that bwrap loads before the kernel starts."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # the package, or libseccomp itself, is missing
        raise SandboxUnavailable(
            f"the grading sandbox's system-call filter needs libseccomp and the pyseccomp package ({exc}): "
            "pip install 'lecturekit[instructor]' and `sudo apt-get install libseccomp2`; " + NO_SANDBOX_HINT
        ) from None
    refuse = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in _REFUSED_SYSCALLS:
        _add_rule(rules, refuse, name)
    _add_rule(rules, seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in _CLONE_NAMESPACES:
        _add_rule(rules, refuse, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    for kind in _DEVICE_NODES:
        _add_rule(rules, refuse, "mknod", seccomp.Arg(1, seccomp.MASKED_EQ, 0o170000, kind))
        _add_rule(rules, refuse, "mknodat", seccomp.Arg(2, seccomp.MASKED_EQ, 0o170000, kind))
    read, write = os.pipe()
    try:
        with os.fdopen(write, "wb") as out:
            rules.export_bpf(out)
        with os.fdopen(read, "rb") as f:
            return f.read()
    finally:
        for fd in (read, write):
            try:
                os.close(fd)
            except OSError:
                pass


def _add_rule(rules: object, action: int, name: str, *args: object) -> None:
    """One rule; a system call this architecture does not have is skipped."""
    try:
        rules.add_rule(action, name, *args)  # type: ignore[attr-defined]
    except (ValueError, OSError, RuntimeError):
        pass


def _program_fd() -> int:
    """A pipe's read end holding the seccomp program, for bwrap's --seccomp (one per sandbox started)."""
    program = seccomp_program()
    read, write = os.pipe()
    try:
        os.write(write, program)  # a few KB: fits in the pipe's buffer
    finally:
        os.close(write)
    return read


@dataclass
class SandboxCommand:
    """bwrap's command line and the descriptors it must inherit (the seccomp program); `close` them once the
    process is started."""

    argv: list[str]
    pass_fds: tuple[int, ...]

    def close(self) -> None:
        for fd in self.pass_fds:
            try:
                os.close(fd)
            except OSError:
                pass


@lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """Why no sandbox can be made here (None: it can). Tried once: bwrap must start a process the way the
    grader will (every namespace, the filter, and as root the switch to an unprivileged uid)."""
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
    if is_root() and not shutil.which("setpriv"):
        return f"grading as root needs `setpriv` (util-linux) to run kernels as an unprivileged uid; {NO_SANDBOX_HINT}"
    try:
        fd = _program_fd()
    except SandboxUnavailable as exc:
        return str(exc)
    probe = [path, *namespace_flags(), "--die-with-parent", "--seccomp", str(fd)]
    probe += ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", *drop_to(_UID_BASE - 1 if is_root() else None)]
    try:
        done = subprocess.run([*probe, "true"], capture_output=True, text=True, timeout=30, pass_fds=(fd,))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not be run ({exc}); {NO_SANDBOX_HINT}"
    finally:
        os.close(fd)
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


def kit_copies(roots: list[Path]) -> list[Path]:
    """Every folder holding the kit's complete source that the sandbox's read-only binds would show (the
    system's /usr and `roots`): a non-editable install in site-packages, a system-wide one, another Python's.
    The sandbox lays an empty tmpfs over each, so the package a kernel can read is the withheld copy alone."""
    import glob
    import importlib.util

    found: set[str] = set()
    spec = importlib.util.find_spec("lecturekit")
    if spec is not None and spec.submodule_search_locations:
        found |= set(spec.submodule_search_locations)
    for entry in [*sys.path, *site.getsitepackages()]:
        found.add(os.path.join(entry or ".", "lecturekit"))
    for base in ["/usr", "/usr/local", *map(str, roots)]:
        found |= set(glob.glob(os.path.join(base, "lib*", "python3*", "*-packages", "lecturekit")))
    shown = [Path("/usr"), *roots]
    out = {Path(os.path.realpath(f)) for f in found}
    return sorted(p for p in out if p.is_dir() and any(p.is_relative_to(r) for r in shown))


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
_uids_taken: dict[int, int] = {}  # uid -> the descriptor of its lock file, held while a kernel uses it
UID_LOCKS = Path("/run/lecturekit-uids")  # one lock file per kernel uid in use, shared by every grader of the machine


def take_uid() -> int | None:
    """An unprivileged uid for one kernel started by root (None when not root), used by no other kernel of
    this grader or of another grader running on the machine at the same time (two courses, parallel tests):
    kernels sharing a uid would share its process limit and could signal each other."""
    if not is_root():
        return None
    import fcntl

    UID_LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(UID_LOCKS)
    if info.st_uid != 0 or info.st_mode & 0o022 or not os.path.isdir(UID_LOCKS) or UID_LOCKS.is_symlink():
        raise RuntimeError(f"{UID_LOCKS} must be a folder of root's that only root may write: remove it")
    with _uids_lock:
        for uid in range(_UID_BASE, _UID_BASE + 100_000):
            if uid in _uids_taken:
                continue
            fd = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            _uids_taken[uid] = fd
            return uid
    raise RuntimeError("no free kernel uid: 100,000 kernels are running on this machine")


def give_back_uid(uid: int | None) -> None:
    with _uids_lock:
        fd = _uids_taken.pop(uid, None)  # type: ignore[arg-type]
    if fd is not None:
        os.close(fd)  # the lock goes with it


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


def sandbox_command(
    workdir: Path,
    package_dir: Path,
    data_dir: Path,
    command: list[str],
    uid: int | None = None,
    course_data: Path | None = None,
    binds: tuple[tuple[Path, str], ...] = (),
) -> SandboxCommand:
    """bwrap's command line for `command` in a sandbox whose only writable folders are `workdir` and the
    extra `binds` (host folder, path inside); run as `uid` (root only: see `drop_to`); `course_data` (the
    course data set in force, if any) is bound read-only at COURSE_DATA_MOUNT."""
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
        "--perms",
        "1777",
        "--size",
        str(TMPFS_BYTES),
        "--tmpfs",
        HOME_INSIDE,
    ]
    roots = python_roots()
    for root in roots:
        args += ["--ro-bind", str(root), str(root)]
    for copy in kit_copies(roots):  # the complete kit must not be readable beside the withheld copy
        args += ["--perms", "0555", "--size", str(2**20), "--tmpfs", str(copy)]
    inside = Path(PACKAGE_MOUNT)
    args += ["--ro-bind", str(package_dir), str(inside)]
    args += ["--ro-bind", str(data_dir.resolve()), str(inside / "lecturekit" / "_data")]
    if course_data is not None:
        args += ["--ro-bind", str(course_data.resolve()), COURSE_DATA_MOUNT]
    args += ["--bind", str(workdir), str(workdir)]
    for host, target in binds:
        args += ["--bind", str(host), target]
    fd = _program_fd()
    argv = [
        bwrap_path() or "bwrap",
        *namespace_flags(),
        "--die-with-parent",
        "--new-session",
        "--seccomp",
        str(fd),
        *_with_parents(args, {Path("/usr"), Path("/proc"), Path("/dev")}),
        "--chdir",
        str(workdir),
        "--",
        *drop_to(uid),
        *command,
    ]
    return SandboxCommand(argv, (fd,))
