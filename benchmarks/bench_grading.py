"""Grading rows: seconds per graded notebook copy (CPU, one kernel at a time) in the sandbox (the default)
and without it, the same when every cell up to the last graded one runs (--full, what nbgrader does), and
100 copies with two kernels at a time.

The copies are of the real notebook 01 (solution, untouched student copy, and a copy with the first
answer only), or of the first graded solution notebook when 01 is not there.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _notebook() -> Path:
    preferred = ROOT / "solutions" / "01_autoregressive_pixels.ipynb"
    if preferred.is_file():
        return preferred
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        if any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in json.loads(path.read_text())["cells"]):
            return path
    raise FileNotFoundError("no graded notebook in solutions/")


def _copies(folder: Path, n: int) -> list[Path]:
    """n student folders cycling through: solved, untouched, first answer only."""
    import nbformat

    from lecturekit.notebooks import student_notebook

    path = _notebook()
    solution = nbformat.read(path, as_version=4)
    untouched = student_notebook(solution, path.stem)
    half = json.loads(nbformat.writes(untouched))
    first = next(c for c in solution.cells if c.metadata.get("nbgrader", {}).get("solution"))
    for cell in half["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == first.metadata["nbgrader"]["grade_id"]:
            cell["source"] = first.source
    texts = [path.read_text(), nbformat.writes(untouched), json.dumps(half)]
    out = []
    for i in range(n):
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        (student / path.name).write_text(texts[i % 3])
        out.append(student)
    return out


def _grade(n: int, jobs: int, full: bool = False, sandbox: bool = True) -> tuple[float, list[float]]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from lecturekit.grading import Options, grade

    with tempfile.TemporaryDirectory() as tmp:
        report = grade(
            _copies(Path(tmp), n),
            ROOT / "solutions",
            Options(jobs=jobs, seed=1, full=full, quiet=True, sandbox=sandbox),
        )
    return report.seconds, [r.seconds for r in report.reports]


def _per_submission() -> dict[str, tuple[float, str]]:
    """Sandboxed (the default) and not, in turn, so that both see the same machine load."""
    boxed: list[float] = []
    plain: list[float] = []
    for _ in range(2):
        boxed += _grade(3, 1)[1]
        plain += _grade(3, 1, sandbox=False)[1]
    _, full = _grade(3, 1, full=True)
    sandboxed, unsandboxed = statistics.median(boxed), statistics.median(plain)
    return {
        "grade_seconds_per_submission": (sandboxed, "s"),
        "grade_seconds_per_submission_nosandbox": (unsandboxed, "s"),
        "grade_sandbox_overhead_percent": (100 * (sandboxed / unsandboxed - 1), "%"),
        "grade_seconds_per_submission_full": (statistics.median(full), "s"),
    }


def _hundred() -> dict[str, tuple[float, str]]:
    total, _ = _grade(100, 2)
    return {"grade_100_submissions_seconds": (total, "s")}


BENCHMARKS = [
    (
        (
            "grade_seconds_per_submission",
            "grade_seconds_per_submission_nosandbox",
            "grade_sandbox_overhead_percent",
            "grade_seconds_per_submission_full",
        ),
        _per_submission,
    ),
    (("grade_100_submissions_seconds",), _hundred),
]


def _bomb_zip() -> bytes:
    """An .npz of one float32 array member of 1 GiB of zeros, deflated to about 1 MB."""
    import io
    import zipfile

    import numpy as np

    header = np.lib.format.header_data_from_array_1_0(np.zeros(2**28, np.float32))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("a0.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, header)
            block = bytes(2**24)
            for _ in range(64):
                member.write(block)
    return buffer.getvalue()


def _hostile_copy(folder: Path) -> Path:
    """A copy of the graded notebook built to exhaust the grader: a 1 MB .npz that inflates to 1 GiB (written by
    answer code that replaces numpy.savez once), an added cell of 4,000 `!` lines, 20 MB of added cells, and
    beside it a copy nested 100,000 deep."""
    import base64

    import nbformat

    path = _notebook()
    nb = json.loads(path.read_text())
    bomb = base64.b64encode(_bomb_zip()).decode()
    attack = (
        "import base64, json, os, sys, types, numpy\n"
        f"_BOMB = base64.b64decode({bomb!r})\n"
        "_real_savez = numpy.savez\n"
        "def _savez(path, **arrays):\n    open(path, 'wb').write(_BOMB)\n    numpy.savez = _real_savez\n"
        "numpy.savez = _savez\n"
    )
    first = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
    first["source"] = attack + "".join(first["source"])
    bang = nbformat.v4.new_code_cell("\n".join(f"!echo {i}" for i in range(4000)))
    filler = [nbformat.v4.new_markdown_cell("filler " * 1400) for _ in range(2000)]
    nb["cells"] += [json.loads(json.dumps(bang)), *[json.loads(json.dumps(f)) for f in filler]]
    student = folder / "hostile"
    student.mkdir(parents=True)
    (student / path.name).write_text(json.dumps(nb))
    (student / f"{path.stem} (copy).ipynb").write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return student


_MEASURE = """
import json, resource, sys, tempfile
from pathlib import Path
from lecturekit.grading import Options, grade
report = grade([Path(sys.argv[1])], Path(sys.argv[2]), Options(jobs=1, seed=1, quiet=True))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": report.reports[0].seconds, "peak_mb": peak}))
"""


def _graded_alone(student: Path) -> dict[str, float]:
    """Grade one student's copies in a fresh Python: its seconds and the grader process's own peak memory."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(student), str(ROOT / "solutions")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _hostile() -> dict[str, tuple[float, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        honest = _graded_alone(_copies(Path(tmp) / "honest", 1)[0])
        hostile = _graded_alone(_hostile_copy(Path(tmp)))
    return {
        "grade_hostile_copy_peak_mb": (hostile["peak_mb"], "MB"),
        "grade_honest_copy_peak_mb": (honest["peak_mb"], "MB"),
        "grade_hostile_copy_seconds": (hostile["seconds"], "s"),
        "grade_honest_copy_seconds": (honest["seconds"], "s"),
    }


BENCHMARKS.append(
    (
        (
            "grade_hostile_copy_peak_mb",
            "grade_honest_copy_peak_mb",
            "grade_hostile_copy_seconds",
            "grade_honest_copy_seconds",
        ),
        _hostile,
    )
)
