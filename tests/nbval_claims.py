"""nbval's run of an English solution notebook, kept for the claims tests, so that `make test` executes each
notebook once.

When nbval has run every cell of `solutions/<name>.ipynb` and all passed, the figures that the cells
recorded (`lecturekit.claims.RECORDED`) are read from nbval's kernel before it stops and written to
`figures_path(...)`, beside the site's executed notebooks and under a key of the same kind: the notebook's
bytes, the kit's code and data, and the package versions. `tests/test_notebook_claims.py` reads them from
there, or runs the notebook itself when nbval did not (a test run without nbval, or a failed cell).

A lock per notebook, taken before nbval's first cell and released after its last, makes a claims test on
the other worker wait for nbval's figures instead of running the notebook a second time.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"


def figures_path(stem: str) -> Path:
    """Where the figures recorded by one run of solutions/<stem>.ipynb are kept, as JSON."""
    from lecturekit.site.execute import cache_key, default_cache_dir

    notebook = SOLUTIONS / f"{stem}.ipynb"
    return default_cache_dir() / "claims" / f"{stem}-{cache_key(notebook)}.json"


def locked(path: Path) -> IO[str]:
    """An open lock file beside `path`, held (exclusively) until it is closed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = open(f"{path}.lock", "w")  # noqa: SIM115 - held across hooks, closed by the caller
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def save_from_kernel(path: Path, run_cell: Callable[[str], object]) -> None:
    """Keep at `path` the figures a kernel's cells recorded: `run_cell` runs one more cell in that kernel,
    which writes `lecturekit.claims.RECORDED` beside `path` (a file, not printed output, so nothing the notebook
    prints can be taken for it); it is moved into place whole."""
    written = path.with_suffix(".kernel")
    written.unlink(missing_ok=True)
    run_cell(
        "import json as _json\nfrom lecturekit import claims as _claims\n"
        f"open({str(written)!r}, 'w').write(_json.dumps(_claims.RECORDED))"
    )
    if written.is_file():
        written.replace(path)


class _Run:
    def __init__(self, stem: str, cells: int) -> None:
        self.path = figures_path(stem)
        self.lock = locked(self.path)
        self.cells = cells
        self.passed = 0


_RUNS: dict[Any, _Run] = {}


def _english_solution(item: pytest.Item) -> str | None:
    """The stem of the English solution notebook that this nbval cell belongs to, else None."""
    path = Path(str(getattr(item, "fspath", "")))
    if type(item).__name__ != "IPyNbCell" or path.parent != SOLUTIONS:
        return None
    return path.stem


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    stem = _english_solution(item)
    if stem is not None and item.parent not in _RUNS:
        cells = sum(1 for other in item.session.items if other.parent is item.parent)
        _RUNS[item.parent] = _Run(stem, cells)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = (yield).get_result()
    run = _RUNS.get(item.parent)
    if run is not None and report.when == "call" and report.passed:
        run.passed += 1


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    run = _RUNS.get(item.parent)
    if run is None or (nextitem is not None and nextitem.parent is item.parent):
        return
    del _RUNS[item.parent]
    try:
        kernel = getattr(item.parent, "kernel", None)
        if run.passed == run.cells and kernel is not None and kernel.is_alive():
            save_from_kernel(
                run.path, lambda code: kernel.await_reply(kernel.execute_cell_input(code, allow_stdin=False), 60)
            )
    finally:
        run.lock.close()
