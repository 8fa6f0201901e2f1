"""The submission reader under fuzzing: whatever a student hands in (malformed JSON, odd metadata, odd file
names, links, FIFOs, folders named like notebooks), reading and matching never raise, never block, never
follow a link, and each file is either read as plain cells or refused with a reason."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lecturekit.grading.matching import gather, match_student, read_cells
from lecturekit.grading.plan import build_plan
from lecturekit.grading.untrusted import json_shape

JSON_LEAVES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)
GRADE_IDS = st.one_of(st.text(max_size=300), st.integers(), st.lists(st.text(max_size=5), max_size=3), JSON)
CELL = st.fixed_dictionaries(
    {},
    optional={
        "cell_type": st.one_of(st.sampled_from(["code", "markdown", "raw", "heading"]), JSON),
        "source": st.one_of(st.text(max_size=200), st.lists(st.text(max_size=40), max_size=5), JSON),
        "metadata": st.one_of(
            st.fixed_dictionaries({"nbgrader": st.fixed_dictionaries({}, optional={"grade_id": GRADE_IDS})}), JSON
        ),
    },
)
NOTEBOOK = st.one_of(
    st.fixed_dictionaries({"cells": st.lists(st.one_of(CELL, JSON), max_size=8)}, optional={"metadata": JSON}), JSON
)
NAMES = st.text(alphabet=string.printable + "äé中\u202e\x00\x7f", min_size=1, max_size=40)


def _check_read(path: Path) -> None:
    cells, problem = read_cells(path)
    assert (cells is None) != (problem is None)
    for cell in cells or []:
        assert cell["cell_type"] in ("code", "markdown", "raw")
        assert isinstance(cell["source"], str)
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        assert gid is None or (isinstance(gid, str) and len(gid) <= 200)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(notebook=NOTEBOOK)
def test_any_json_is_read_as_plain_cells_or_refused(tmp_path, course, notebook):
    path = tmp_path / "alice__01_fuzz.ipynb"
    path.write_text(json.dumps(notebook))
    _check_read(path)
    students = gather([path])
    for entry in students.values():
        matched, notes = match_student(entry, course)
        assert all(isinstance(n, str) for n in notes)
        for sub in matched.values():
            if sub.cells is not None:
                build_plan(course[sub.assignment], sub)  # the plan of any readable copy can be made


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_any_bytes_are_read_or_refused(tmp_path, data):
    path = tmp_path / "x.ipynb"
    path.write_bytes(data)
    _check_read(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES, min_size=1, max_size=6, unique=True), kinds=st.lists(st.integers(0, 4), min_size=6))
def test_odd_folders_are_walked_without_following_or_blocking(tmp_path, course, names, kinds):
    """Files, links (to the solutions, to a folder, dangling), FIFOs and folders named *.ipynb, with odd names."""
    top = tmp_path / "subs"
    top.mkdir(exist_ok=True)
    student = top / "bob"
    student.mkdir(exist_ok=True)
    target = tmp_path / "secret.ipynb"
    target.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "SECRET", "metadata": {}}]}))
    made = []
    for name, kind in zip(names, kinds):
        safe = name.replace("/", "_").replace("\x00", "_").strip() or "x"
        path = student / (safe[:30] + ".ipynb")
        if path.exists() or path.is_symlink():
            continue
        try:
            if kind == 0:
                path.write_text(json.dumps({"cells": []}))
            elif kind == 1:
                path.symlink_to(target)
            elif kind == 2:
                os.mkfifo(path)
            elif kind == 3:
                path.mkdir()
            else:
                path.symlink_to(tmp_path / "nowhere")
        except OSError:
            continue
        made.append(path)
    students = gather([student])
    for entry in students.values():
        assert all(not p.is_symlink() and p.is_file() for p in entry.files)
        matched, _ = match_student(entry, course)
        for sub in matched.values():
            assert "SECRET" not in json.dumps(sub.cells)


@given(depth=st.integers(0, 300), width=st.integers(0, 50))
def test_json_shape_counts_nesting_and_values(depth, width):
    text = "[" * depth + ",".join(["1"] * width) + "]" * depth
    got_depth, items = json_shape(text.encode())
    assert got_depth == depth
    assert items == depth + max(width - 1, 0)
