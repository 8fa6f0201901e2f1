"""The student copies as a student first meets them: every exercise unwritten. Run top to bottom with
errors allowed, only the exercises' own check cells may fail (saying the exercise is not done), and
every other cell must run, on the kit's fallbacks, so a student can work on one exercise at a time.
The Chinese editions (notebooks/zh_CN, notebooks/zh_TW) too, and their check cells fail in Chinese.
The executions are the course site's (shared cache: see lecturekit/site/execute.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STUDENT = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# zh_TW runs the same code as zh_CN, only its strings converted by OpenCC (tests/test_translations.py
# checks the code token by token), so one zh_TW notebook is run here, for its setup cell and messages.
EDITIONS = {
    "en": STUDENT,
    "zh_CN": sorted((ROOT / "notebooks" / "zh_CN").glob("[0-9][0-9]_*.ipynb")),
    "zh_TW": sorted((ROOT / "notebooks" / "zh_TW").glob("01_*.ipynb")),
}
CASES = [(lang, p) for lang, paths in EDITIONS.items() for p in paths]


def _graded(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lang", "path"), CASES, ids=[p.stem if lang == "en" else f"{lang}-{p.stem}" for lang, p in CASES]
)
def test_untouched_student_notebook_fails_only_in_its_checks(lang: str, path: Path) -> None:
    # run top to bottom in a fresh kernel, errors allowed, no LECTUREKIT_LANG (the Chinese copies set their
    # language themselves); the executed copy is the course site's (lecturekit.site.execute: cached by the
    # notebook's and the kit's contents, so `make test` runs each notebook once for this test and the site)
    from lecturekit.site.execute import executed_notebook

    nb = executed_notebook(path)
    failed = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                failed.append((index, _graded(cell), out.get("ename"), out.get("evalue", "")[:200]))
    wrong_place = [f for f in failed if not f[1]]
    assert not wrong_place, f"cells that are not exercise checks failed: {json.dumps(wrong_place)}"
    checks = [c for c in nb.cells if c.cell_type == "code" and _graded(c)]
    assert len(failed) == len(checks), "every check cell of an untouched copy must fail"
    assert all(f[2] == "ExerciseNotDone" for f in failed), failed
    if lang == "en":
        assert all("not" in f[3] for f in failed), failed
    elif failed:  # e.g. "pad_prefix() 还没有写：把 `raise NotImplementedError()` 换成你的代码。"
        assert all(re.search("還沒有寫" if lang == "zh_TW" else "还没有写", f[3]) for f in failed), failed
        printed = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not any("the cells below use the kit's version" in t for t in printed), "a fallback note in English"
        if any("yours_or_reference(" in c.source for c in nb.cells):
            assert any("注意：" in t for t in printed), "the fallback notes are in Chinese too"
