"""The autograder on a small course the tests write: full marks for the solutions, zero for an
untouched copy, the points of what a half-done copy did, matching of renamed files, and the outputs.

The course's exercises are registered here, in the grader's process only (the grader never asks the
student's kernel to check anything), so these tests do not depend on the real notebooks. The test
at the end grades the real solutions/ notebooks when they exist.
"""

from __future__ import annotations

import csv
import json
import symtable
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from notebook_cells import code_cell, markdown_cell, new_notebook, setup_cell, solution_cell, test_cell

from lecturekit.exercises import Exercise, register
from lecturekit.grading import Options, grade, write_csv, write_feedback
from lecturekit.grading.cli import main as grade_main
from lecturekit.grading.course import CourseError, load_course
from lecturekit.grading.execute import _decode
from lecturekit.grading.matching import Submission
from lecturekit.grading.plan import build_plan, is_cheap, names_of
from lecturekit.notebooks import clean_notebook, student_notebook

ROOT = Path(__file__).resolve().parent.parent
HIDDEN_MARKER = "HIDDEN-MARKER-5e1d"  # only in the hidden tests: must never reach a student


def _add_cases(seed: int) -> list[tuple]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(int(torch.randint(1, 6, (1,), generator=g)), 3, generator=g),) for _ in range(3)]


def _softmax_cases(seed: int) -> list[tuple]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(2 + i, 4, generator=g) * 3,) for i in range(4)]


def _noise_cases(seed: int) -> list[tuple]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(3, generator=g), torch.Generator().manual_seed(seed + i)) for i in range(2)]


register(Exercise("demo.add_one", "add_one", lambda x: x + 1, _add_cases, hint="add one"))
register(Exercise("demo.softmax", "row_softmax", lambda x: torch.softmax(x, -1), _softmax_cases))
register(Exercise("demo.noise", "add_noise", lambda x, g: x + torch.randn(x.shape, generator=g), _noise_cases))
register(Exercise("demo.other", "triple", lambda x: 3 * x, _add_cases))

ADD_ONE = "def add_one(x):\n    ### BEGIN SOLUTION\n    return x + ONE\n    ### END SOLUTION"
SOFTMAX = (
    "def row_softmax(x):\n    ### BEGIN SOLUTION\n    e = torch.exp(x - x.max(-1, keepdim=True).values)\n"
    "    return e / e.sum(-1, keepdim=True)\n    ### END SOLUTION"
)
NOISE = (
    "def add_noise(x, generator):\n    ### BEGIN SOLUTION\n"
    "    return x + torch.randn(x.shape, generator=generator)\n    ### END SOLUTION"
)
COUNT = (
    "def count_positive(values):\n    ### BEGIN SOLUTION\n    return sum(1 for v in values if v > 0)\n"
    "    ### END SOLUTION"
)


def _graded(code: str, grade_id: str, points: float, exercises: list[str] | None = None, partial: bool = False):
    cell = test_cell(code, grade_id, points)
    if exercises:
        cell.metadata["lecturekit"] = {"exercises": exercises, **({"partial": True} if partial else {})}
    return cell


def course_notebooks() -> dict[str, nbformat.NotebookNode]:
    demo = new_notebook(
        [
            markdown_cell("# Demo course"),
            setup_cell(),
            code_cell("import time\nimport numpy as np\nimport torch\nfrom lecturekit.exercises import check"),
            code_cell("ONE = 1"),
            code_cell("time.sleep(4)\nSLOW_TABLE = [1, 2, 3]"),
            solution_cell(ADD_ONE, "add_one"),
            _graded('check("demo.add_one", add_one)', "test_add_one", 2, ["demo.add_one"]),
            solution_cell(SOFTMAX, "row_softmax"),
            _graded('check("demo.softmax", row_softmax)', "test_softmax", 3, ["demo.softmax"], partial=True),
            solution_cell(NOISE, "add_noise"),
            _graded('check("demo.noise", add_noise)', "test_noise", 1, ["demo.noise"]),
            solution_cell(COUNT, "count_positive"),
            _graded(
                "np.testing.assert_equal(count_positive([1, -2, 3]), 2)\n### BEGIN HIDDEN TESTS\n"
                f"# {HIDDEN_MARKER}\nnp.testing.assert_equal(count_positive([]), 0)\n"
                "np.testing.assert_equal(count_positive([5, 0, 7]), 2)\n### END HIDDEN TESTS",
                "test_count",
                1,
            ),
            code_cell("time.sleep(30)  # after the last graded cell: never run by the grader"),
        ]
    )
    other = new_notebook(
        [
            setup_cell(),
            solution_cell("def triple(x):\n    ### BEGIN SOLUTION\n    return 3 * x\n    ### END SOLUTION", "triple"),
            _graded(
                'from lecturekit.exercises import check\ncheck("demo.other", triple)', "test_triple", 2, ["demo.other"]
            ),
        ]
    )
    return {"01_demo": demo, "02_other": other}


def make_course(root: Path) -> Path:
    """solutions/ and notebooks/ (student copies) of the demo course under root."""
    (root / "solutions").mkdir(parents=True, exist_ok=True)
    (root / "notebooks").mkdir(exist_ok=True)
    for name, nb in course_notebooks().items():
        nbformat.write(clean_notebook(nb), root / "solutions" / f"{name}.ipynb")
        nbformat.write(student_notebook(nb, name), root / "notebooks" / f"{name}.ipynb")
    return root / "solutions"


def with_answers(root: Path, answers: dict[str, str], name: str = "01_demo", drop: tuple[str, ...] = ()) -> dict:
    """A student copy whose answer cells (by grade id) hold `answers`; cells with ids in `drop` removed."""
    nb = json.loads((root / "notebooks" / f"{name}.ipynb").read_text())
    cells = []
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in drop:
            continue
        if gid in answers:
            cell["source"] = answers[gid]
        cells.append(cell)
    nb["cells"] = cells
    return nb


def put(folder: Path, nb: dict | str, name: str = "01_demo.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(nb if isinstance(nb, str) else json.dumps(nb))
    return folder


def by_key(report) -> dict[tuple[str, str, str], object]:
    return {(r.student, r.notebook, r.grade_id): r for r in report.rows()}


# ---- no kernel: plan, names, decoding ----


@pytest.fixture(scope="module")
def course_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    make_course(root)
    return root


def test_plan_runs_only_what_the_graded_functions_need(course_root):
    course = load_course(course_root / "solutions")
    demo = course["01_demo"]
    nb = json.loads((course_root / "notebooks" / "01_demo.ipynb").read_text())
    plan = build_plan(demo, Submission("s", "01_demo", cells=nb["cells"]))
    sources = [s.source for s in plan.steps]
    assert any("ONE = 1" in s for s in sources)
    assert not any("time.sleep(4)" in s for s in sources), "a slow cell nobody needs must be skipped"
    assert not any("time.sleep(30)" in s for s in sources), "cells after the last graded cell never run"
    assert [s.kind for s in plan.steps].count("exercise") == 3 and plan.steps[0].source.startswith("# Setup")
    # a student whose function reads SLOW_TABLE makes the slow cell needed
    nb2 = with_answers(course_root, {"add_one": "def add_one(x):\n    return x + SLOW_TABLE[0]"})
    plan2 = build_plan(demo, Submission("s", "01_demo", cells=nb2["cells"]))
    assert any("time.sleep(4)" in s.source for s in plan2.steps)
    full = build_plan(demo, Submission("s", "01_demo", cells=nb["cells"]), full=True)
    assert any("time.sleep(4)" in s.source for s in full.steps)
    assert not any("time.sleep(30)" in s.source for s in full.steps)


def test_names_and_cheap_cells():
    defined, used = names_of("import torch\nx = f(y)\ndef g():\n    return z + x\n%matplotlib inline")
    assert {"torch", "x", "g"} <= defined and {"f", "y", "z"} <= used and "print" not in used
    assert is_cheap("import os\nA = 3\nB = (1, 'a')\ndef f():\n    return train()")
    assert not is_cheap("model = train()") and not is_cheap("%time x = 1")


def _global_reads(table: symtable.SymbolTable) -> set[str]:
    """Names a piece of code reads from its module's namespace (or builtins), in every nested scope."""
    out = {
        s.get_name()
        for s in table.get_symbols()
        if s.is_referenced() and (s.is_global() or table.get_type() == "module")
    }
    for child in table.get_children():
        out |= _global_reads(child)
    return out


def test_the_code_sent_to_a_kernel_brings_every_name_it_uses():
    """kernel_code's functions reach the kernel as text: with their helpers (renamed __lk_...), reading no other
    module-level name (not even in annotations, which the kernel evaluates), and all removed again."""
    import builtins

    from lecturekit.grading.kernel_code import call_for_grader, install_guard, kernel_source, launch_kernel

    for fn, args in ((install_guard, ("t",)), (call_for_grader, ("a", "b", "f", "t", 1.0)), (launch_kernel, ())):
        source = kernel_source(fn, *args)
        table = symtable.symtable(source, "<kernel>", "exec")
        defined = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
        assert not _global_reads(table) - defined - set(dir(builtins)), fn.__name__
        assert defined == {n for n in defined if n.startswith("__lk_")}
        last = source.splitlines()[-1]
        assert last.startswith("    del ") and set(last[len("    del ") :].split(", ")) == defined


def test_results_from_the_kernel_are_never_unpickled(tmp_path):
    np.savez(tmp_path / "ok.npz", a0=np.arange(3, dtype=np.float32), a1=np.array(["x", None], dtype=object))
    with np.load(tmp_path / "ok.npz", allow_pickle=False) as arrays:
        assert _decode({"t": "tensor", "k": "a0", "dtype": "torch.float32"}, arrays).dtype == torch.float32
        assert _decode({"t": "tuple", "items": [{"t": "py", "v": 2}, {"t": "float", "v": "nan"}]}, arrays)[0] == 2
        with pytest.raises(ValueError):  # the object array would need pickle
            _decode({"t": "ndarray", "k": "a1"}, arrays)
        with pytest.raises(ValueError):
            _decode({"t": "tensor", "k": "a0", "dtype": "os.system"}, arrays)


# ---- grading the course ----


@pytest.fixture(scope="module")
def graded(course_root, tmp_path_factory):
    """One grading run over the usual kinds of submission (two kernels at a time)."""
    subs = tmp_path_factory.mktemp("subs")
    root = course_root
    put(subs / "alice", (root / "solutions" / "01_demo.ipynb").read_text())  # the solution: full marks
    put(subs / "bob", (root / "notebooks" / "01_demo.ipynb").read_text())  # untouched: zero
    put(
        subs / "carol",
        with_answers(
            root,
            {  # half done: add_one right, softmax right for 2 of 4 shapes
                "add_one": "def add_one(x):\n    return x + 1",
                "row_softmax": "def row_softmax(x):\n    if x.shape[0] > 3:\n        return x\n"
                "    return torch.softmax(x, -1)",
            },
        ),
    )
    # dave: a renamed file, a test cell edited to pass, its points changed, an answer without its metadata,
    # and a cell of his own that the grader does not run
    nb = with_answers(
        root,
        {
            "add_one": "def add_one(x):\n    return x",
            "count_positive": "def count_positive(v):\n    return len([1 for a in v if a > 0])",
        },
    )
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "test_add_one":
            cell["source"], meta["points"] = "pass", 100
        if meta.get("grade_id") == "row_softmax":
            cell["source"], cell["metadata"] = "def row_softmax(x):\n    return torch.softmax(x, dim=-1)", {}
    nb["cells"].append(
        {
            "cell_type": "code",
            "metadata": {},
            "source": "add_one = lambda x: x + 1",
            "outputs": [],
            "execution_count": None,
        }
    )
    put(subs / "dave", nb, "my homework (1).ipynb")
    erin = subs / "erin__01_demo.ipynb"  # a single file, student id from the name; invalid JSON
    erin.write_text('{"cells": [')
    frank = put(
        subs / "frank", with_answers(root, {"triple": "def triple(x):\n    return x * 3"}, "02_other"), "01_demo.ipynb"
    )  # the wrong notebook under 01's name
    # gina's function reads a global by name, which the cell selection cannot see: the grader reruns in full
    put(subs / "gina", with_answers(root, {"add_one": "def add_one(x):\n    return x + eval('SLOW_TABLE')[0]"}))
    report = grade(
        [subs / "alice", subs / "bob", subs / "carol", subs / "dave", erin, frank, subs / "gina"],
        root / "solutions",
        Options(timeout=20, jobs=2, seed=7, quiet=True),
    )
    return report, subs


@pytest.mark.slow
def test_solution_full_marks_untouched_zero(graded):
    report, _ = graded
    rows = by_key(report)
    assert rows[("alice", "ALL", "TOTAL")].points == 7 and rows[("alice", "ALL", "TOTAL")].max_points == 9
    assert all(
        rows[("alice", "01_demo", g)].status == "passed"
        for g in ("test_add_one", "test_softmax", "test_noise", "test_count")
    )
    assert rows[("bob", "ALL", "TOTAL")].points == 0
    assert {rows[("bob", "01_demo", g)].status for g in ("test_add_one", "test_softmax", "test_count")} == {"missing"}
    assert rows[("bob", "02_other", "test_triple")].status == "missing"  # not handed in


@pytest.mark.slow
def test_half_done_gets_what_it_did(graded):
    rows = by_key(graded[0])
    assert rows[("carol", "01_demo", "test_add_one")].points == 2
    softmax = rows[("carol", "01_demo", "test_softmax")]
    assert softmax.status == "failed" and softmax.points == pytest.approx(1.5)  # partial: 2 of 4 cases per seed
    assert "2 of 4" not in " ".join(softmax.messages) and "6 of 12 hidden cases right" in " ".join(softmax.messages)
    assert rows[("carol", "01_demo", "test_noise")].status == "missing"
    assert rows[("carol", "ALL", "TOTAL")].points == pytest.approx(3.5)


@pytest.mark.slow
def test_tests_come_from_the_solutions_and_renamed_files_match(graded):
    report, _ = graded
    rows = by_key(report)
    assert rows[("dave", "01_demo", "test_add_one")].status == "failed"  # his edited test cell does not count
    assert rows[("dave", "01_demo", "test_add_one")].max_points == 2
    assert rows[("dave", "01_demo", "test_softmax")].status == "passed"  # found by the function it defines
    assert rows[("dave", "01_demo", "test_count")].status == "passed"
    dave = next(r for r in report.reports if r.student == "dave" and r.notebook == "01_demo")
    assert any("you added were not run" in n for n in dave.notes)
    assert {rows[("erin", "01_demo", g)].status for g in ("test_add_one", "test_count")} == {"error"}
    assert "not valid JSON" in " ".join(rows[("erin", "01_demo", "test_add_one")].messages)
    assert rows[("frank", "02_other", "test_triple")].status == "passed"  # graded as the notebook it is
    assert rows[("frank", "01_demo", "test_add_one")].status == "missing"
    assert rows[("gina", "01_demo", "test_add_one")].status == "passed"
    assert next(r for r in report.reports if r.student == "gina" and r.notebook == "01_demo").mode.startswith("full")


@pytest.mark.slow
def test_csv_and_feedback(graded, tmp_path):
    report, _ = graded
    write_csv(report, tmp_path / "grades.csv")
    write_feedback(report, tmp_path / "feedback")
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert list(rows[0]) == ["student", "notebook", "grade_id", "points", "max_points", "status"]
    students = {r["student"] for r in rows}
    assert students == {"alice", "bob", "carol", "dave", "erin", "frank", "gina"}
    assert len(rows) == len(students) * (5 + 1)  # 5 graded cells in 2 notebooks, plus the total
    assert {r["status"] for r in rows if r["grade_id"] != "TOTAL"} <= {
        "passed",
        "failed",
        "error",
        "timeout",
        "missing",
    }
    carol = (tmp_path / "feedback" / "carol.md").read_text()
    assert "3.5 / 9" in carol and "row_softmax()" in carol and "test_softmax" in carol
    for text in (p.read_text() for p in (tmp_path / "feedback").glob("*.md")):
        assert HIDDEN_MARKER not in text and "count_positive([5, 0, 7])" not in text


@pytest.mark.slow
def test_cli(course_root, tmp_path, capsys):
    subs = tmp_path / "subs"
    put(
        subs / "zoe",
        with_answers(course_root, {"triple": "def triple(x):\n    return x + x + x"}, "02_other"),
        "02_other.ipynb",
    )
    out = tmp_path / "out" / "grades.csv"
    code = grade_main(
        [
            str(subs / "zoe"),
            "--solutions",
            str(course_root / "solutions"),
            "--out",
            str(out),
            "--jobs",
            "1",
            "--timeout",
            "20",
            "-q",
        ]
    )
    assert code in (0, 1)  # 1: a file of the package changed during the run (someone editing the checkout)
    rows = list(csv.DictReader(out.open()))
    assert [(r["grade_id"], r["points"], r["status"]) for r in rows] == [
        ("test_triple", "2", "passed"),
        ("TOTAL", "2", "passed"),
    ]
    assert (tmp_path / "out" / "feedback" / "zoe.md").is_file()
    assert (tmp_path / "out" / "grades_review.csv").is_file()
    assert "seed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        grade_main(["--help"])
    assert "alice__03_pixelrnn.ipynb" in capsys.readouterr().out
    assert grade_main([str(subs), "--solutions", str(tmp_path / "nowhere"), "--out", str(out), "-q"]) == 2


# ---- the real notebooks ----


def _real_graded_notebooks() -> list[Path]:
    try:
        return [a.path for a in load_course(ROOT / "solutions").values()]
    except CourseError:
        return []


@pytest.mark.slow
@pytest.mark.skipif(not _real_graded_notebooks(), reason="no graded solution notebook yet")
def test_real_notebooks_solution_full_untouched_zero(tmp_path):
    """Every graded solutions/ notebook: its solution gets full marks, its notebooks/ copy gets zero."""
    subs = tmp_path / "subs"
    for path in _real_graded_notebooks():
        put(subs / "solution", path.read_text(), path.name)
        student = ROOT / "notebooks" / path.name
        nb = (
            student.read_text()
            if student.is_file()
            else json.dumps(student_notebook(nbformat.read(path, as_version=4)))
        )
        put(subs / "untouched", nb, path.name)
    report = grade(
        [subs / "solution", subs / "untouched"], ROOT / "solutions", Options(timeout=60, jobs=2, seed=3, quiet=True)
    )
    rows = report.rows()
    bad = [
        (r.notebook, r.grade_id, r.status, r.messages) for r in rows if r.student == "solution" and r.status != "passed"
    ]
    assert not bad
    assert all(r.points == 0 for r in rows if r.student == "untouched")


def test_a_cell_that_kills_its_kernel_at_once_is_the_one_blamed(tmp_path):
    """SIGKILL can kill the kernel before its iopub 'busy' message leaves it; the kernel answered a
    kernel_info request just before the cell, so the cell is known to have started (the CI flake)."""
    from dataclasses import replace

    from lecturekit.grading.execute import KernelSession
    from lecturekit.grading.sandbox import LIMITS

    work = tmp_path / "work"
    work.mkdir()
    session = KernelSession(work, replace(LIMITS, memory_mb=2048))
    try:
        session.start()
        assert session.responsive() is True
        assert session.run("x = 1", 30).status == "ok"
        for _ in range(3):
            out = session.run("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", 30)
            assert (out.status, out.started) == ("dead", True)
            assert session.responsive() is False
            later = session.run("x = 2", 30)
            assert (later.status, later.started) == ("dead", False)
            session.restart()
    finally:
        session.close()


@pytest.mark.parametrize("edition", ["", "zh_CN", "zh_TW"])
def test_a_copy_of_any_edition_has_no_cells_of_its_own_until_the_student_adds_one(edition):
    """The Chinese editions' given cells differ from the English solutions only in comments and strings: they
    are the course's cells, not cells the student added (the grader's note about those would mislead)."""
    from lecturekit.grading.course import load_course
    from lecturekit.grading.matching import Submission
    from lecturekit.grading.plan import student_answers

    course = load_course(ROOT / "solutions")
    for name, assignment in course.items():
        cells = nbformat.read(ROOT / "notebooks" / edition / f"{name}.ipynb", as_version=4)["cells"]
        _, notes = student_answers(assignment, Submission("s", name, cells=cells))
        assert not any("you added" in n for n in notes), (edition, name, notes)
        added = [*cells, nbformat.v4.new_code_cell("def helper(x):\n    return x + 1  # mine")]
        _, notes = student_answers(assignment, Submission("s", name, cells=added))
        assert any("1 code cell(s) you added were not run" in n for n in notes), (edition, name, notes)
