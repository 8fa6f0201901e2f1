"""What a kernel holds out of sight is counted: unlinked files it keeps open, memfds, folders it hides."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lecturekit.grading import bwrap
from lecturekit.grading.usage import folder_usage, open_files_held

MB = 2**20


def test_unlinked_files_and_memfds_held_open_are_counted_once(tmp_path: Path) -> None:
    before = open_files_held([os.getpid()])
    path = tmp_path / "held"
    with open(path, "wb") as f:
        f.write(b"1" * 3 * MB)
        f.flush()
        os.fsync(f.fileno())
        again = os.dup(f.fileno())  # two descriptors, one file
        path.unlink()
        memfd = os.memfd_create("held")
        os.write(memfd, b"2" * 2 * MB)
        try:
            held = open_files_held([os.getpid(), os.getpid()])
        finally:
            os.close(again)
            os.close(memfd)
    assert 3 * MB <= held.disk - before.disk < 4 * MB
    assert 2 * MB <= held.memory - before.memory < 3 * MB
    assert held.descriptors >= before.descriptors + 2
    after = open_files_held([os.getpid()])
    assert (after.disk, after.memory) == (before.disk, before.memory)


def test_a_file_with_a_name_is_left_to_the_folder_walk(tmp_path: Path) -> None:
    with open(tmp_path / "named", "wb") as f:
        f.write(b"1" * MB)
        f.flush()
        assert open_files_held([os.getpid()]).disk < MB


def test_folder_usage_counts_until_the_limit(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"{i}").write_bytes(b"1" * MB)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deeper").write_bytes(b"1" * MB)
    (tmp_path / "link").symlink_to("/usr")  # never followed
    got = folder_usage(tmp_path, 100 * MB, 1000)
    assert 6 * MB <= got.bytes < 7 * MB and got.entries == 8 and got.hidden == 0
    assert folder_usage(tmp_path, 0, 1000).bytes == MB  # stops at the first file past the limit
    assert folder_usage(tmp_path, 100 * MB, 2).entries == 3


@pytest.mark.skipif(not bwrap.is_root() or not Path("/usr/bin/setpriv").exists(), reason="needs root to switch uids")
def test_a_folder_hidden_by_its_owner_is_opened_and_one_of_another_user_is_reported() -> None:
    """As an ordinary user the grader is the kernel's owner: it gives itself the read right back. A folder
    it still cannot list is reported as hidden, never counted as empty."""
    with tempfile.TemporaryDirectory(dir="/tmp") as name:  # reachable by the user (pytest's tmp is root's only)
        _hidden_folders(Path(name))


def _hidden_folders(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    owned = tmp_path / "owned"
    owned.mkdir()
    (owned / "hidden").mkdir()
    (owned / "hidden" / "data").write_bytes(b"1" * 2 * MB)
    (owned / "hidden").chmod(0o300)
    other = tmp_path / "other"
    other.mkdir()
    (other / "hidden").mkdir()
    (other / "hidden" / "data").write_bytes(b"1" * 2 * MB)
    uid = 3_800_123
    subprocess.run(["chown", "-R", f"{uid}:{uid}", str(owned)], check=True)
    (other / "hidden").chmod(0o300)  # root's, not the user's
    other.chmod(0o755)
    probe = (
        "import sys\nfrom pathlib import Path\nfrom lecturekit.grading.usage import folder_usage\n"
        "for p in sys.argv[1:]:\n    u = folder_usage(Path(p), 2**40, 10**6)\n    print(u.bytes, u.hidden)"
    )
    done = subprocess.run(
        [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            sys.executable,
            "-c",
            probe,
            str(owned),
            str(other),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr
    (owned_bytes, owned_hidden), (other_bytes, other_hidden) = [
        map(int, ln.split()) for ln in done.stdout.split("\n")[:2]
    ]
    assert owned_bytes >= 2 * MB and owned_hidden == 0
    assert other_bytes == 0 and other_hidden == 1
