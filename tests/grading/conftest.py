"""Fixtures shared by the grading tests."""

from __future__ import annotations

import nbformat
import pytest
from notebook_cells import new_notebook, setup_cell, solution_cell, test_cell

from lecturekit.grading.course import load_course
from lecturekit.notebooks import clean_notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory):
    """A course of one notebook with one answer `f` (identity) and one graded cell: the smallest a reader needs."""
    folder = tmp_path_factory.mktemp("onecellcourse") / "solutions"
    folder.mkdir()
    nb = new_notebook(
        [
            setup_cell(),
            solution_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION", "f"),
            test_cell("assert f(1) == 1", "test_f", 1),
        ]
    )
    nbformat.write(clean_notebook(nb), folder / "01_fuzz.ipynb")
    return load_course(folder)
