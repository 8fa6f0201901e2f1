"""Withheld by default: no callable that a grading kernel's package copy keeps can compute a graded answer.

For every registered exercise, its inputs (the visible cases and one secret-seed draw) and the reference's
answers are computed here, with the real package; then a fresh Python whose `lecturekit` is the copy calls
every function, class and method the copy defines on those inputs (all of them, each shorter prefix, each
argument alone) and reports any whose result, or its `.mean()` or `.sum()`, equals an answer. A new kit
function that leaks an answer then fails here, with no list of twins to keep by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lecturekit.exercises import _fresh, all_exercises, answer_of, to_numpy
from lecturekit.grading.withheld import package_copy

HERE = Path(__file__).resolve().parent


def _trivial(args: tuple, want: object) -> bool:
    """An answer equal in value to one of the inputs (a warm-up weight of 0 at step 0): any identity matches it."""
    for arg in args:
        if isinstance(arg, torch.Generator):
            continue
        try:
            a, w = np.asarray(to_numpy(arg), dtype=float), np.asarray(to_numpy(want), dtype=float)
        except (TypeError, ValueError):
            continue
        if a.shape == w.shape and np.allclose(a, w):
            return True
    return False


def _table() -> dict:
    """Per exercise: two cases (one visible, one from a secret seed) whose answers no identity reproduces."""
    table = {}
    for name, exercise in sorted(all_exercises().items()):
        chosen = []
        for seed in (0, 7919):
            for args in exercise.cases(seed):
                want = answer_of(exercise, exercise.reference, _fresh(args))
                if not _trivial(args, want):
                    chosen.append((_fresh(args), want))
                    break
        assert chosen, f"{name}: every case's answer equals one of its inputs"
        table[name] = {
            "cases": [c for c, _ in chosen],
            "wants": [w for _, w in chosen],
            "after_call": exercise.after_call,
        }
    return table


@pytest.mark.slow
def test_no_kept_callable_reproduces_an_answer(tmp_path: Path) -> None:
    copy = package_copy(list(all_exercises().values()), tmp_path / "copy", link_data=True)
    cases = tmp_path / "cases.pt"
    torch.save(_table(), cases)
    out = tmp_path / "leaks.json"
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, str(HERE / "withheld_probe.py"), str(copy), str(cases), str(out)],
        cwd=work,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(work),
            "MPLBACKEND": "Agg",
            "LECTUREKIT_PROGRESS": "off",
            "OMP_NUM_THREADS": "1",
        },  # fmt: skip
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["callables"] > 300, report  # the probe saw the whole package
    assert not report["leaks"], "kept callables that compute a graded answer:\n" + "\n".join(report["leaks"])


def test_the_copy_withholds_by_default_and_keeps_what_kernels_need(tmp_path: Path) -> None:
    """A function nobody listed (bits_map, nb03's answer with .mean()) is withheld; the set-up, data loading and
    model classes are not."""
    copy = package_copy([], tmp_path / "copy")
    pixelrnn = (copy / "lecturekit" / "models" / "pixelrnn.py").read_text()
    assert "def bits_map(" in pixelrnn
    body = pixelrnn.split("def bits_map(", 1)[1].split("\ndef ", 1)[0]
    assert "ReferenceUnavailable('lecturekit.models.pixelrnn.bits_map')" in body
    colab = (copy / "lecturekit" / "colab.py").read_text()
    assert "ReferenceUnavailable" not in colab
    forward = pixelrnn.split("    def forward(", 1)[1].split("\n    def ", 1)[0]
    assert "ReferenceUnavailable" not in forward
