"""Builders of small nbgrader notebooks for the tests: cells with the metadata `solutions/` notebooks carry
(solution, graded test, locked setup cell), so a test can make a course of its own."""

from __future__ import annotations

from typing import Any

import nbformat

from lecturekit.colab import SETUP_CELL
from lecturekit.notebooks import BEGIN_SOLUTION, NotebookSourceError


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: float = 0) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def markdown_cell(text: str) -> Any:
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code_cell(code: str) -> Any:
    return nbformat.v4.new_code_cell(code.strip("\n"))


def solution_cell(code: str, grade_id: str) -> Any:
    """An exercise: the student writes the code between the solution markers."""
    if BEGIN_SOLUTION not in code:
        raise NotebookSourceError(f"solution cell {grade_id!r} has no {BEGIN_SOLUTION} marker")
    cell = code_cell(code)
    cell.metadata["nbgrader"] = _nbgrader(grade_id, solution=True, grade=False, locked=False)
    return cell


def test_cell(code: str, grade_id: str, points: float) -> Any:
    """A graded, locked test cell: visible checks, then hidden tests between the hidden markers."""
    cell = code_cell(code)
    cell.metadata["nbgrader"] = _nbgrader(grade_id, solution=False, grade=True, locked=True, points=points)
    return cell


test_cell.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, though its name starts so


def setup_cell() -> Any:
    """The first code cell of every notebook (see lecturekit.colab)."""
    cell = code_cell(SETUP_CELL)
    cell.metadata["nbgrader"] = _nbgrader("setup", solution=False, grade=False, locked=True)
    return cell


def new_notebook(cells: list[Any]) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb
