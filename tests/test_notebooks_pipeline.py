"""solutions/ -> notebooks/: solution regions become stubs, hidden tests vanish, metadata stays."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from notebook_cells import code_cell, markdown_cell, new_notebook, setup_cell, solution_cell, test_cell

from lecturekit.colab import SETUP_CELL
from lecturekit.notebooks import NotebookSourceError, clean_notebook, student_notebook, sync_notebooks

ROOT = Path(__file__).resolve().parent.parent

SOLUTION = '''def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    y = 2 * x
    return y
    ### END SOLUTION'''

TESTS = """assert double(2) == 4
### BEGIN HIDDEN TESTS
assert double(-3) == -6
### END HIDDEN TESTS
print("ok")"""


def _course() -> nbformat.NotebookNode:
    return new_notebook(
        [
            markdown_cell("# A tiny course"),
            setup_cell(),
            solution_cell(SOLUTION, "double"),
            test_cell(TESTS, "double_test", points=2),
            code_cell("double(5)"),
        ]
    )


def test_student_copy_replaces_solutions_and_removes_hidden_tests() -> None:
    student = student_notebook(_course())
    sol, tst = student.cells[2], student.cells[3]
    assert sol.source == 'def double(x):\n    """Twice x."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'
    assert "HIDDEN" not in tst.source and "-6" not in tst.source
    assert tst.source == 'assert double(2) == 4\nprint("ok")'
    assert tst.metadata["nbgrader"] == {
        "grade": True,
        "grade_id": "double_test",
        "locked": True,
        "points": 2,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    assert sol.metadata["nbgrader"]["solution"] is True
    assert student.cells[1].source == SETUP_CELL


def test_student_copy_fails_where_the_exercise_is_and_solution_passes(tmp_path: Path) -> None:
    namespace: dict = {}
    exec(_course().cells[2].source, namespace)
    exec(_course().cells[3].source, namespace)
    namespace = {}
    exec(student_notebook(_course()).cells[2].source, namespace)
    with pytest.raises(NotImplementedError):
        exec(student_notebook(_course()).cells[3].source, namespace)


def test_unbalanced_markers_are_refused() -> None:
    bad = new_notebook([setup_cell(), solution_cell("def f():\n    ### BEGIN SOLUTION\n    return 1", "f")])
    with pytest.raises(NotebookSourceError, match="never closed"):
        student_notebook(bad)


def test_clean_notebook_drops_outputs() -> None:
    nb = _course()
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", text="10")]
    nb.cells[4].execution_count = 3
    cleaned = clean_notebook(nb)
    assert cleaned.cells[4].outputs == [] and cleaned.cells[4].execution_count is None


def test_sync_writes_then_check_finds_no_difference(tmp_path: Path) -> None:
    (tmp_path / "solutions").mkdir()
    nbformat.write(clean_notebook(_course()), tmp_path / "solutions" / "01_x.ipynb")
    assert sync_notebooks(tmp_path) == ["notebooks/01_x.ipynb written"]
    assert sync_notebooks(tmp_path, check=True) == []
    (tmp_path / "notebooks" / "01_x.ipynb").write_text((tmp_path / "notebooks" / "01_x.ipynb").read_text() + " ")
    assert sync_notebooks(tmp_path, check=True) == ["notebooks/01_x.ipynb differs from its solution"]


def test_a_solution_without_the_setup_cell_is_refused(tmp_path: Path) -> None:
    (tmp_path / "solutions").mkdir()
    nbformat.write(new_notebook([code_cell("print(1)")]), tmp_path / "solutions" / "01_x.ipynb")
    with pytest.raises(NotebookSourceError, match="standard setup cell"):
        sync_notebooks(tmp_path)


def test_the_shipped_notebooks_are_in_sync(tmp_path: Path) -> None:
    """The same check as `python -m lecturekit student --check`, on a copy of the repository's notebooks."""
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    result = subprocess.run(
        [sys.executable, "-m", "lecturekit", "student", "--check", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # and a stale student copy is caught
    stale = tmp_path / "notebooks" / sorted(p.name for p in (tmp_path / "notebooks").glob("*.ipynb"))[0]
    hand_edit = '"cells": [{"cell_type": "markdown", "metadata": {}, "source": "hand edit"},'
    stale.write_text(stale.read_text().replace('"cells": [', hand_edit, 1))
    result = subprocess.run(
        [sys.executable, "-m", "lecturekit", "student", "--check", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "differs from its solution" in result.stdout


def test_solution_cells_get_stable_ids_that_survive_an_inserted_cell(tmp_path: Path) -> None:
    """Translations name cells by id: `student` gives each cell one, and an inserted cell moves no other id."""
    (tmp_path / "solutions").mkdir()
    path = tmp_path / "solutions" / "01_x.ipynb"
    course = _course()
    for cell in course.cells:
        cell.pop("id", None)  # as the solutions were stored before they had ids
    course.nbformat_minor = 4
    path.write_text(json.dumps(course))
    sync_notebooks(tmp_path)
    first = nbformat.read(path, as_version=4)
    ids = [c["id"] for c in first.cells]
    assert len(set(ids)) == len(ids) and all(ids)
    assert "double" in ids and "md-a-tiny-course" in ids  # a graded cell is named by its grade id
    first.cells.insert(1, nbformat.v4.new_markdown_cell("An inserted cell"))
    del first.cells[1]["id"]  # as an author adds a cell by hand
    path.write_text(json.dumps(first))
    assert "solutions/01_x.ipynb is stored with outputs or without cell ids" in sync_notebooks(tmp_path, check=True)
    sync_notebooks(tmp_path)
    second = nbformat.read(path, as_version=4)
    assert [c["id"] for c in second.cells[:1] + second.cells[2:]] == ids
    assert second.cells[1]["id"] == "md-an-inserted-cell"
    student = nbformat.read(tmp_path / "notebooks" / "01_x.ipynb", as_version=4)
    assert all("id" not in c for c in student.cells)  # student copies stay id-free, as nbgrader 0.9 takes them
