"""A student's cell is read in the grader's process without IPython's transformer (whose cost grows with the
square of a cell's `!` lines), and what the reading keeps of a cell is only what the grader uses."""

from __future__ import annotations

import IPython.core.inputtransformer2 as transformer2
import pytest

from lecturekit.grading.plan import defined_functions, is_cheap, names_of, python_source


@pytest.fixture
def no_ipython_transformer(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("IPython's transformer ran in the grader's process")

    monkeypatch.setattr(transformer2.TransformerManager, "transform_cell", refuse)


def test_shell_escapes_and_magics_are_read_line_by_line(no_ipython_transformer):
    cell = "x = 1\n!ls\nfiles = !ls -la\n%time y = 2\nz?\ndef f():\n    !echo hi\n    return x"
    code = python_source(cell)
    assert code.splitlines() == [
        "x = 1",
        "pass",
        "files = None",
        "pass",
        "pass",
        "def f():",
        "    pass",
        "    return x",
    ]
    defined, used = names_of(cell)
    assert {"x", "files", "f"} <= defined
    assert defined_functions(cell) == {"f"}
    assert not is_cheap("import os\n!pip install something")  # a shell escape never runs as a "cheap" cell


def test_four_thousand_bang_lines_are_read_in_linear_time(no_ipython_transformer):
    cell = "\n".join(f"!echo {i}" for i in range(4000)) + "\ndef answer(x):\n    return x"
    assert defined_functions(cell) == {"answer"}
    assert python_source("%%bash\necho hi\ndef f(): pass") == ""  # a cell magic's body is not Python
    assert python_source("%%time\ndef f():\n    return 1") == "def f():\n    return 1"
