"""A Jupyter kernel that runs ipykernel inside the grading sandbox, for nbgrader users.

`python -m lecturekit sandbox-kernel install` installs a kernel spec ("lecturekit-sandbox") whose
command is this module. Then

    nbgrader autograde ASSIGNMENT --ExecutePreprocessor.kernel_name=lecturekit-sandbox \\
        --KernelManager.transport=ipc

runs every student notebook in the same bubblewrap sandbox as `lecturekit grade`: the system and
Python read-only, the kit's package and data read-only, the notebook's own folder writable, nothing
else; no network, no other processes; never root (started by root, the kernel runs as a uid of its own,
so it writes into the notebook's folder only where that folder lets others write), no capability, the
same seccomp filter. One difference from `lecturekit grade`: nbgrader runs its test code inside the
student's kernel, so the kit's reference implementations stay available there (the tests call them).

How the kernel is reached without a network: the connection file asks for ipc sockets at some paths
(`IP-N`). The kernel is given a copy of it whose sockets lie in a private folder mounted into the
sandbox, so it creates them there and sees no other kernel's files; outside, each `IP-N` is a link
to its socket in that folder, through which the client connects.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from lecturekit.grading import bwrap, sandbox

KERNEL_NAME = "lecturekit-sandbox"
_PORTS = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")


class SandboxKernelError(RuntimeError):
    """The kernel cannot be started in the sandbox (the message says what to change)."""


def kernel_spec() -> dict:
    return {
        "argv": [sys.executable, "-m", "lecturekit.grading.sandbox_kernel", "-f", "{connection_file}"],
        "display_name": "Python 3 (lecturekit grading sandbox)",
        "language": "python",
        "metadata": {"debugger": False},
    }


def install(name: str = KERNEL_NAME, user: bool = False, prefix: str | None = None) -> str:
    """Install the kernel spec (default: into this Python environment, where its Jupyter finds it)."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "kernel.json").write_text(json.dumps(kernel_spec(), indent=1))
        if not user and prefix is None:
            prefix = sys.prefix
        return KernelSpecManager().install_kernel_spec(folder, name, user=user, prefix=prefix)


IPC_MOUNT = "/run/lecturekit-ipc"  # the private folder, inside the sandbox


def command(workdir: Path, private: Path, package: Path, uid: int | None = None) -> bwrap.SandboxCommand:
    """bwrap's command: the kernel reads the connection file that `prepare` wrote into the private folder."""
    from lecturekit.paths import data_dir

    kernel = [*sandbox.kernel_argv(bwrap.PACKAGE_MOUNT)[:-1], f"{IPC_MOUNT}/connection.json"]
    return bwrap.sandbox_command(
        workdir,
        package,
        data_dir(),
        kernel,
        uid=uid,
        course_data=sandbox.course_data_folder(own_uid=uid is not None),
        binds=((private, IPC_MOUNT),),
    )


def client_folder() -> Path:
    """The working folder of the process that started this kernel (the Jupyter client), else ours."""
    try:
        return Path(os.readlink(f"/proc/{os.getppid()}/cwd"))
    except OSError:
        return Path.cwd()


def prepare(connection_file: Path, private: Path) -> list[Path]:
    """The kernel's connection file, with its sockets moved into the private folder, and a link from each
    socket path the client will use to the socket the kernel makes there; returns the links."""
    info = json.loads(connection_file.read_text())
    if info.get("transport") != "ipc":
        raise SandboxKernelError(
            "the lecturekit-sandbox kernel has no network, so it can only be reached over ipc sockets: run nbgrader "
            "(or jupyter) with --KernelManager.transport=ipc"
        )
    links = []
    for key in _PORTS:
        outside = Path(f"{info['ip']}-{info[key]}")
        if not outside.is_absolute():  # the client resolves it from its own folder: our parent's
            outside = client_folder() / outside
        if outside.is_symlink() or outside.exists():
            outside.unlink()
        outside.symlink_to(private / f"kernel-{info[key]}")
        links.append(outside)
    (private / "connection.json").write_text(json.dumps({**info, "ip": f"{IPC_MOUNT}/kernel"}))
    return links


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lecturekit.grading.sandbox_kernel")
    parser.add_argument("-f", dest="connection_file", required=True)
    args = parser.parse_args(argv)
    problem = bwrap.sandbox_problem()
    if problem:
        print(f"lecturekit-sandbox kernel: {problem}", file=sys.stderr)
        return 1
    from lecturekit.grading.withheld import package_copy

    connection_file = Path(args.connection_file).resolve()
    private = Path(tempfile.mkdtemp(prefix="lksandbox-"))
    package = Path(tempfile.mkdtemp(prefix="lksandbox-site-"))
    links: list[Path] = []
    try:
        package.chmod(0o755)
        package_copy([], package)  # nbgrader's tests call the references: nothing is withheld
        try:
            links = prepare(connection_file, private)
        except (SandboxKernelError, OSError, KeyError, ValueError) as exc:
            print(f"lecturekit-sandbox kernel: {exc}", file=sys.stderr)
            return 1
        uid = bwrap.take_uid()
        if uid is not None:  # root: the kernel runs as a uid of its own, which owns the private folder
            for path in [private, *private.iterdir()]:
                os.chown(path, uid, uid, follow_symlinks=False)
        env = sandbox.kernel_env(Path.cwd(), sandboxed=True, course_data=sandbox.course_data_folder(uid is not None))
        launch = command(Path.cwd(), private, package, uid)
        try:
            process = subprocess.Popen(launch.argv, env=env, pass_fds=launch.pass_fds)
        finally:
            launch.close()
        for sig in (signal.SIGTERM, signal.SIGINT):  # passed on; the sandbox dies with this process anyway
            signal.signal(sig, lambda s, _f: process.send_signal(s))
        return process.wait()
    finally:
        for link in links:
            link.unlink(missing_ok=True)
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(package, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
