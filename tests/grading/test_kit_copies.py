"""A complete copy of the kit that the sandbox's read-only binds would show (a non-editable install in the
grader's site-packages, as Gradescope's image and `pip install lecturekit` make) is hidden: a kernel that
looks for it by path finds an empty folder, so the withheld copy is the only kit it can read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lecturekit.grading import bwrap

if bwrap.sandbox_problem() and not os.environ.get("LECTUREKIT_REQUIRE_SANDBOX"):
    pytest.skip(f"no sandbox here: {bwrap.sandbox_problem()}", allow_module_level=True)

LOOK = """
import os, sys
site = sys.argv[1]
kit = os.path.join(site, "lecturekit")
print("listing", sorted(os.listdir(kit)) if os.path.isdir(kit) else "absent")
try:
    print("read", open(os.path.join(kit, "models", "pixelrnn.py")).read())
except OSError as exc:
    print("refused", type(exc).__name__)
print("other", sorted(os.listdir(site)))
"""


def _installed(prefix: Path) -> Path:
    site = prefix / "lib" / "python3.11" / "site-packages"
    (site / "lecturekit" / "models").mkdir(parents=True)
    (site / "lecturekit" / "models" / "pixelrnn.py").write_text("REFERENCE = 'the complete kit'\n")
    (site / "other_package").mkdir()
    os.chmod(prefix, 0o755)
    for path in [*prefix.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return site


def test_an_installed_kit_in_a_bound_root_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _installed(tmp_path / "prefix")
    assert bwrap.kit_copies([tmp_path / "prefix"]) == [site / "lecturekit"]
    assert bwrap.kit_copies([tmp_path / "elsewhere"]) == []  # not shown inside: nothing to hide
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])  # found through sys.path too, wherever it lies
    assert site / "lecturekit" in bwrap.kit_copies([tmp_path])


def test_the_sandbox_shows_an_installed_kit_as_an_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = Path("/tmp") / f"lk-kit-copies-{os.getpid()}"  # readable by a kernel's own uid, unlike pytest's tmp
    try:
        site = _installed(prefix)
        roots = [*bwrap.python_roots(), prefix]
        monkeypatch.setattr(bwrap, "python_roots", lambda: roots)
        work = tmp_path / "work"
        work.mkdir()
        work.chmod(0o777)
        (tmp_path / "package" / "lecturekit" / "_data").mkdir(parents=True)
        uid = bwrap.take_uid()
        try:
            command = bwrap.sandbox_command(
                work, tmp_path / "package", tmp_path / "package", [sys.executable, "-I", "-c", LOOK, str(site)], uid
            )
            done = subprocess.run(
                command.argv, pass_fds=command.pass_fds, capture_output=True, text=True, timeout=60, cwd=work
            )
        finally:
            bwrap.give_back_uid(uid)
    finally:
        subprocess.run(["rm", "-rf", str(prefix)], check=False)
    assert done.returncode == 0, done.stderr
    assert "listing []" in done.stdout, done.stdout
    assert "the complete kit" not in done.stdout and "refused" in done.stdout
    assert "other ['lecturekit', 'other_package']" in done.stdout  # the rest of the environment stays usable
