"""A non-editable install (a wheel, as `pip install git+...` in Colab builds) carries data and weights."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

CHECK = textwrap.dedent("""
    import pathlib, sys
    import lecturekit
    from lecturekit.data import load_sprites, load_corpus
    from lecturekit.checkpoints import pretrained_names
    from lecturekit.paths import data_dir
    here = pathlib.Path(lecturekit.__file__).resolve()
    assert str(here).startswith(sys.prefix), (here, sys.prefix)
    sprites = load_sprites()
    assert len(sprites) >= 800 and sprites.palette[0].tolist() == [255, 255, 255]
    assert len(load_corpus()) >= 20000
    names = pretrained_names()
    assert names, "no weights in the wheel"
    model = lecturekit.load_pretrained(names[0])
    assert sum(p.numel() for p in model.parameters()) > 0
    assert not (here.parent / "_solutions").exists(), "students must not receive the solutions"
    print("OK", data_dir(), len(sprites), names)
""")


def test_wheel_installs_into_a_fresh_venv_with_data_and_weights(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(ROOT),
        ],
        check=True,
    )
    wheel = next(wheel_dir.glob("lecturekit-*.whl"))
    assert wheel.stat().st_size < 60e6
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    # the fresh venv borrows the test environment's dependencies (torch...) but not its editable lecturekit:
    # a path in a .pth file adds the folder without running the .pth files inside it.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "borrowed_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    result = subprocess.run([str(python), "-c", CHECK], cwd=outside, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout and "_data" in result.stdout
