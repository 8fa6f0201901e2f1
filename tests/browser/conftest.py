"""Fixtures of the browser tests: a JupyterLab server and the system Chromium (see lk_browser.py).

Both are module-scoped (started by the first test of a module that needs them, stopped after its last)
and checked, once stopped, to leave no process behind. Without Playwright or the browser the tests
skip, unless LECTUREKIT_REQUIRE_BROWSER=1 (`make test`, CI), where they fail and say what to install.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lk_browser import CHROMIUM, Chromium, JupyterLab, describe, unavailable

# ---- fixtures ----


@pytest.fixture(scope="module")
def browser_ready() -> None:
    try:
        import playwright  # noqa: F401
        import psutil  # noqa: F401
    except ImportError as exc:
        unavailable(f"Python package missing ({exc.name})")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"no Chromium at {CHROMIUM}")


@pytest.fixture(scope="module")
def lab_factory(browser_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., JupyterLab]:
    """Make (not start) a JupyterLab for a `with` block: `with lab_factory(extra_notebooks={...}) as lab:`."""
    return lambda **kwargs: JupyterLab(tmp_path_factory.mktemp("lab"), **kwargs)


@pytest.fixture(scope="module")
def chromium_factory(browser_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Chromium]:
    return lambda **kwargs: Chromium(tmp_path_factory.mktemp("chromium"), **kwargs)


@pytest.fixture(scope="module")
def lab(lab_factory: Callable[..., JupyterLab], request: pytest.FixtureRequest) -> Iterator[JupyterLab]:
    """One JupyterLab for the module's tests (notebooks listed in the module's EXTRA_NOTEBOOKS added);
    stopped after them, and checked to leave no process behind."""
    extra = getattr(request.module, "EXTRA_NOTEBOOKS", lambda: {})()
    server = lab_factory(extra_notebooks=extra)
    with server:
        yield server
    left = server.leftover_processes()
    assert not left, f"JupyterLab left processes running: {describe(left)}"


@pytest.fixture(scope="module")
def chromium(chromium_factory: Callable[..., Chromium]) -> Iterator[Chromium]:
    browser = chromium_factory()
    with browser:
        yield browser
    left = browser.leftover_processes()
    assert not left, f"Chromium left processes running: {describe(left)}"


@pytest.fixture
def page(chromium: Chromium, lab: JupyterLab) -> Iterator[Any]:
    """A fresh tab; afterwards the tab is closed and every kernel it started is shut down. The page
    may load nothing but the local server (a notebook must work offline)."""
    tab = chromium.new_page()
    chromium.blocked.clear()
    try:
        yield tab
        assert not chromium.blocked, f"the page tried to reach the network: {chromium.blocked[:5]}"
    finally:
        try:
            tab.close()
        finally:
            try:
                lab.shutdown_kernels()
            except Exception:  # noqa: BLE001 - the module teardown stops the server anyway
                pass
