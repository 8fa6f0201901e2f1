"""Which tests share a worker, and in what order the workers take them (`make test` runs pytest-xdist with
`--dist loadfile --no-loadscope-reorder`, and this plugin's scheduler in place of loadfile's own).

A worker takes a whole group at a time. A group is a file, so that a module's fixtures (a graded class,
a built site, a running JupyterLab) are made once, except where the tests of a file are independent
(each its own group, so both workers share the file) or a module fixture is parametrized (one group per
value: the red team's root and user runs go to both workers). (xdist's `loadgroup` would do this with
marks, but it renames node ids in a way pytest 9 no longer reads.)

Groups start longest first, so that the two workers end together instead of one finishing a
several-minute file alone, with two exceptions: nbval's English solution notebooks start first, and the
claims tests come last, because the claims tests read the figures that nbval's run recorded
(tests/nbval_claims.py) instead of running each notebook a second time.
"""

from __future__ import annotations

from typing import Any

import pytest

# files whose tests share nothing: each test is a group of its own
EACH_TEST_APART = {
    "tests/test_student_notebooks.py",
    "tests/test_notebook_claims.py",
    "tests/exercises/test_exercise_answers.py",
}
# files with a parametrized module fixture: one group per value of it (a value is one of the "-"-separated
# parts of a test's id)
EACH_VALUE_APART = {"tests/grading/test_red_team.py": ("root", "user")}
# the groups known to take minutes, longest first (measured by `--durations` on the CI machine)
LONGEST_FIRST = [
    "tests/browser/test_site_in_browser.py",
    "tests/browser/test_widgets_in_browser.py",
    "tests/grading/test_red_team.py[user]",
    "tests/grading/test_red_team.py[root]",
    "tests/test_course_data.py",
    "tests/test_grading_scale.py",
    "tests/test_grading_sandbox.py",
    "tests/test_grading.py",
    "tests/test_nbgrader_compat.py",
    "tests/test_translations.py",
    "tests/test_grading_adversarial.py",
]
LAST = "tests/test_notebook_claims.py"


def group_of(nodeid: str) -> str:
    """The group of a test: its file, its own node id, or its file and its value of a module parameter."""
    path = nodeid.split("::", 1)[0]
    if path in EACH_TEST_APART:
        return nodeid
    values = EACH_VALUE_APART.get(path, ())
    parts = nodeid.rpartition("[")[2].rstrip("]").split("-") if nodeid.endswith("]") else []
    return next((f"{path}[{v}]" for v in values if v in parts), path)


def _rank(nodeid: str) -> int:
    group = group_of(nodeid)
    path = nodeid.split("::", 1)[0]
    if path.startswith("solutions/") and path.count("/") == 1:  # nbval, English: the claims tests read its run
        return 0
    if group in LONGEST_FIRST:
        return 1 + LONGEST_FIRST.index(group)
    return 10_000 if path == LAST else 1 + len(LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: _rank(item.nodeid))  # stable: a group's tests keep their order


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """loadfile's scheduler, its work units our groups (in the order collected, with --no-loadscope-reorder)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return GroupScheduling(config, log)
