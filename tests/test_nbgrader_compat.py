"""The kit's notebooks work with nbgrader 0.9.6 (`pip install -e .[instructor]`): `nbgrader
generate_assignment` makes the same student copies as `python -m lecturekit student`, and `nbgrader
autograde` gives a solved copy full marks and an untouched copy zero.

nbgrader shells out to `alembic` and runs `jupyter nbconvert` kernels: the venv's bin/ must be on PATH
(the Makefile's `make test` does that; this test puts it there too).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from notebook_cells import markdown_cell, new_notebook, setup_cell, solution_cell, test_cell

from lecturekit.grading.course import CourseError, load_course
from lecturekit.notebooks import clean_notebook, student_notebook

pytest.importorskip("nbgrader")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REAL = "01_autoregressive_pixels"  # a small real notebook, autograded when it exists


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}".rstrip(os.pathsep)
    env.update(LECTUREKIT_PROGRESS="off", MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    return env


def _nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        str(BIN / "nbgrader"),
        *args,
        "--force",
        f"--CourseDirectory.root={course}",
        f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
        "--ExecutePreprocessor.timeout=300",
    ]
    done = subprocess.run(cmd, cwd=course, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _demo_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        [
            markdown_cell("# nbgrader check"),
            setup_cell(),
            solution_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "double"),
            test_cell(
                "assert double(2) == 4\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS",
                "test_double",
                2,
            ),
            solution_cell("def halve(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION", "halve"),
            test_cell("assert halve(4) == 2", "test_halve", 1),
        ]
    )


def _code_sources(nb: dict) -> list[str]:
    return [
        ("".join(c["source"]) if isinstance(c["source"], list) else c["source"]).strip()
        for c in nb["cells"]
        if c["cell_type"] == "code"
    ]


def _scores(course: Path, assignment: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {
            s: (gb.find_submission(assignment, s).score, gb.find_submission(assignment, s).max_score)
            for s in ("solved", "untouched")
        }


def _graded_solutions() -> list[Path]:
    try:
        return [a.path for a in load_course(ROOT / "solutions").values()]
    except CourseError:
        return []


def test_nbgrader_generate_and_autograde(tmp_path):
    """One nbgrader course: every graded solution notebook (and a test-made one) is released by nbgrader as
    the kit's student copy; the real 01 notebook (else the test-made one) is autograded."""
    if not shutil.which("alembic", path=str(BIN)):
        pytest.skip("nbgrader's alembic is not installed in this environment")
    course = tmp_path / "course"
    solutions = {"demo": clean_notebook(_demo_notebook())}
    solutions.update({p.stem: nbformat.read(p, as_version=4) for p in _graded_solutions()})
    for name, nb in solutions.items():
        (course / "source" / name).mkdir(parents=True)
        nbformat.write(nb, course / "source" / name / f"{name}.ipynb")
    _nbgrader(course, "generate_assignment", "*")
    for name, solution in solutions.items():
        released = json.loads((course / "release" / name / f"{name}.ipynb").read_text())
        ours = json.loads(nbformat.writes(student_notebook(solution, name)))
        assert _code_sources(released) == _code_sources(ours), f"nbgrader's copy of {name} differs from the kit's"

    name = REAL if REAL in solutions else "demo"
    released = json.loads((course / "release" / name / f"{name}.ipynb").read_text())
    untouched = json.loads(nbformat.writes(student_notebook(solutions[name], name)))
    for student, nb in (("solved", copy_with_sources(released, solutions[name])), ("untouched", untouched)):
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        (folder / f"{name}.ipynb").write_text(json.dumps(nb))
    _nbgrader(course, "autograde", name)
    scores = _scores(course, name)
    assert scores["solved"][0] == scores["solved"][1] > 0
    assert scores["untouched"][0] == 0


def copy_with_sources(released: dict, solution: nbformat.NotebookNode) -> dict:
    """The released copy with the solution's answer cells filled in (a student who solved everything)."""
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in solution.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = json.loads(json.dumps(released))
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def test_nbgrader_autograde_runs_student_code_in_the_sandbox_kernel(tmp_path):
    """`python -m lecturekit sandbox-kernel install`, then nbgrader autograde with that kernel: a solved copy
    that is right only where the course folder cannot be seen gets full marks, an untouched one zero."""
    from lecturekit.grading.bwrap import sandbox_problem

    if not shutil.which("alembic", path=str(BIN)):
        pytest.skip("nbgrader's alembic is not installed in this environment")
    if sandbox_problem() and not os.environ.get("LECTUREKIT_REQUIRE_SANDBOX"):
        pytest.skip(sandbox_problem())
    prefix = tmp_path / "prefix"
    done = subprocess.run(
        [sys.executable, "-m", "lecturekit", "sandbox-kernel", "install", "--prefix", str(prefix)],
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    course = tmp_path / "course"
    (course / "source" / "demo").mkdir(parents=True)
    nbformat.write(clean_notebook(_demo_notebook()), course / "source" / "demo" / "demo.ipynb")
    _nbgrader(course, "generate_assignment", "demo")
    released = json.loads((course / "release" / "demo" / "demo.ipynb").read_text())
    solved = copy_with_sources(released, _demo_notebook())
    for cell in solved["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "double":
            cell["source"] = (
                f"import os, socket\nSEEN = os.path.exists({str(course / 'source')!r})\n"
                "def double(x):\n    return 0 if SEEN else 2 * x"
            )
    for student, nb in (("solved", solved), ("untouched", released)):
        folder = course / "submitted" / student / "demo"
        folder.mkdir(parents=True)
        (folder / "demo.ipynb").write_text(json.dumps(nb))
    env = _env()
    env["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    cmd = [
        str(BIN / "nbgrader"),
        "autograde",
        "demo",
        "--force",
        f"--CourseDirectory.root={course}",
        f"--CourseDirectory.db_url=sqlite:///{course / 'gradebook.db'}",
        "--ExecutePreprocessor.timeout=120",
        "--ExecutePreprocessor.kernel_name=lecturekit-sandbox",
        "--KernelManager.transport=ipc",
    ]
    done = subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert _scores(course, "demo") == {"solved": (3.0, 3.0), "untouched": (0.0, 3.0)}
