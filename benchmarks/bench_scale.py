"""Grading at scale: what sharding costs, and one Gradescope submission.

`grade_shards_overhead_percent`: copies of notebook 01 (solved, untouched, first answer only, as in
bench_grading.py) graded by one `grade` process, then by 4 `grade --shard K/4` processes one after
another plus `grade-merge`, one kernel at a time; the extra wall-clock time of the shards in percent
(the processes' fixed cost: Python, torch, the course and the package copy, paid once per shard). The
merged CSV must equal the single run's, else the row fails. The goal (within 10%) needs a run long enough
to pay for 3 more process starts: the row uses 100 copies (LECTUREKIT_BENCH_SHARD_COPIES changes it).

`gradescope_submission_seconds`: `run_autograder` from a zip written by `lecturekit gradescope`, in a
folder laid out like Gradescope's /autograder, for one submission (median of a solved and an untouched
copy): the process, the grader and the kernel, not Gradescope's container start.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARD_COPIES = int(os.environ.get("LECTUREKIT_BENCH_SHARD_COPIES", "100"))
SHARDS = 4


def _bench_grading():
    spec = importlib.util.spec_from_file_location("bench_grading", HERE / "bench_grading.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "JOB_COMPLETION"))}
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _timed(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and the exit status of a command."""
    start = time.perf_counter()
    code = subprocess.run(argv, env=_env(), stdout=subprocess.DEVNULL).returncode
    return time.perf_counter() - start, code


def _shards_overhead() -> dict[str, tuple[float, str]]:
    grading = _bench_grading()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        course = root / "course" / "solutions"  # a course folder of its own, as the recipes have it
        course.mkdir(parents=True)
        shutil.copy(grading._notebook(), course)
        copies = [str(p) for p in grading._copies(root / "subs", SHARD_COPIES)]
        grade = [sys.executable, "-m", "lecturekit", "grade", *copies, "--solutions", str(course), "--seed", "1"]
        grade += ["--jobs", "1", "-q"]
        wall1, code = _timed([*grade, "--out", str(root / "single" / "grades.csv")])
        if code not in (0, 1):
            raise RuntimeError(f"the single run failed (exit status {code})")
        wall4 = 0.0
        for k in range(SHARDS):
            wall, code = _timed([*grade, "--shard", f"{k}/{SHARDS}", "--out", str(root / f"s{k}" / "grades.csv")])
            if code not in (0, 1):
                raise RuntimeError(f"shard {k} failed (exit status {code})")
            wall4 += wall
        shards = [str(root / f"s{k}") for k in range(SHARDS)]
        merged = root / "merged" / "grades.csv"
        wall, code = _timed([sys.executable, "-m", "lecturekit", "grade-merge", *shards, "--out", str(merged)])
        if code not in (0, 1) or merged.read_bytes() != (root / "single" / "grades.csv").read_bytes():
            raise RuntimeError(f"the merged shards differ from the single run (grade-merge exit status {code})")
        wall4 += wall
    print(f"  {SHARD_COPIES} copies: one run {wall1:.1f} s, {SHARDS} shards + merge {wall4:.1f} s", file=sys.stderr)
    return {"grade_shards_overhead_percent": (100 * (wall4 / wall1 - 1), "%")}


def _gradescope_submission() -> dict[str, tuple[float, str]]:
    from lecturekit.grading.gradescope_build import main as build

    grading = _bench_grading()
    solution = grading._notebook()
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "autograder"
        if build([solution.stem, "--out", str(Path(tmp) / "ag.zip"), "--seed", "1"]) != 0:
            raise RuntimeError("lecturekit gradescope failed")
        with zipfile.ZipFile(Path(tmp) / "ag.zip") as zf:
            zf.extractall(root / "source")
        shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
        for copy in grading._copies(Path(tmp) / "subs", 2):  # solved, untouched
            shutil.rmtree(root / "submission", ignore_errors=True)
            shutil.copytree(copy, root / "submission")
            env = {**_env(), "LECTUREKIT_GRADESCOPE_ROOT": str(root), "LECTUREKIT_PYTHON": sys.executable}
            start = time.perf_counter()
            subprocess.run(["bash", str(root / "run_autograder")], env=env, stdout=subprocess.DEVNULL, check=True)
            seconds.append(time.perf_counter() - start)
            doc = json.loads((root / "results" / "results.json").read_text())
            if not doc.get("tests"):
                raise RuntimeError(f"run_autograder wrote no tests: {doc.get('output')}")
    return {"gradescope_submission_seconds": (statistics.median(seconds), "s")}


BENCHMARKS = [
    (("grade_shards_overhead_percent",), _shards_overhead),
    (("gradescope_submission_seconds",), _gradescope_submission),
]
