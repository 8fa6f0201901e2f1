"""The student copies as a student first meets them: every exercise unwritten. Run top to bottom with
errors allowed, only the exercises' own check cells may fail (saying the exercise is not done), and
every other cell must run, on the kit's fallbacks, so a student can work on one exercise at a time."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
STUDENT = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _graded(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


@pytest.mark.slow
@pytest.mark.parametrize("path", STUDENT, ids=[p.stem for p in STUDENT])
def test_untouched_student_notebook_fails_only_in_its_checks(path: Path, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    failed = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                failed.append((index, _graded(cell), out.get("ename"), out.get("evalue", "")[:200]))
    wrong_place = [f for f in failed if not f[1]]
    assert not wrong_place, f"cells that are not exercise checks failed: {json.dumps(wrong_place)}"
    checks = [c for c in nb.cells if c.cell_type == "code" and _graded(c)]
    assert len(failed) == len(checks), "every check cell of an untouched copy must fail"
    assert all(f[2] == "ExerciseNotDone" and "not" in f[3] for f in failed), failed
