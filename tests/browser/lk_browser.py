"""JupyterLab in a headless Chromium: the machinery of the browser tests (fixtures in conftest.py).

`JupyterLab` starts `jupyter lab` on 127.0.0.1 (a free port, a random token) in a temporary copy of
`solutions/`, with its own config, data, settings and workspace folders so nothing of the
developer's setup leaks in and nothing reaches the network (no news, no update check, no PyPI
extension manager). `Chromium` drives the system browser (/usr/bin/chromium, never a downloaded one)
through Playwright with a fresh profile. Both are context managers that stop everything they started,
even when the test inside fails: the server gets a clean `/api/shutdown`, then its whole process
group is killed, then any kernel (kernels run in their own process groups) still alive is killed by
pid. `leftover_processes()` lists what is still running afterwards, so tests can prove it is nothing.

Without Playwright or the browser these tests skip, unless LECTUREKIT_REQUIRE_BROWSER=1 (set by
tests/run_all.sh, i.e. `make test` and CI), where they fail and say what to install.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LECTUREKIT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("LECTUREKIT_SCREENSHOTS", ROOT / "tests" / "screenshots"))
# What JupyterLab must never fetch: news, update checks, the PyPI extension listing.
LAB_CONFIG = {
    "LabApp": {
        "news_url": None,
        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
        "extension_manager": "readonly",
        "expose_app_in_browser": True,
    },
    "ServerApp": {
        "open_browser": False,
        "password": "",
        # the instructor's nbgrader (installed with the test extras) is no part of a student's JupyterLab
        "jpserver_extensions": {
            f"nbgrader.server_extensions.{name}": False
            for name in ("assignment_list", "course_list", "formgrader", "validate_assignment")
        },
    },
}
PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True, "@jupyter/nbgrader": True}}
# Render every cell (JupyterLab 4 may leave off-screen cells out of the page) and never autosave.
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # belt and braces: nothing may fetch a browser


def unavailable(reason: str) -> None:
    """Skip (a developer without the browser) or fail (CI, LECTUREKIT_REQUIRE_BROWSER=1) with the fix."""
    fix = (
        "install it with `apt-get install -y chromium chromium-driver` and `pip install -e '.[browser]'` "
        "(Playwright drives the system Chromium; never run `playwright install`)"
    )
    if os.environ.get("LECTUREKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests cannot run: {reason}; {fix}", pytrace=False)
    pytest.skip(f"{reason}; {fix}")


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM (and shuts its kernels down) if pytest itself is killed."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - elsewhere the fixtures' teardown is the only guard
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process_tree(pid: int) -> list[Any]:
    import psutil

    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(processes: list[Any]) -> list[Any]:
    import psutil

    alive = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive


def _kill_each(processes: list[Any]) -> None:
    """SIGTERM, then SIGKILL, exactly these processes (ones this test session started)."""
    import psutil

    for sig in (signal.SIGTERM, signal.SIGKILL):
        alive = _alive(processes)
        for proc in alive:
            try:
                proc.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=5)


def describe(processes: list[Any]) -> str:
    out = []
    for proc in processes:
        try:
            out.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
        except Exception:  # noqa: BLE001 - it went away while we looked
            out.append(str(proc.pid))
    return "; ".join(out)


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 serving a temporary copy of `solutions/` (plus `extra` notebooks)."""

    def __init__(self, workdir: Path, extra_notebooks: dict[str, Any] | None = None, startup_s: float = 120) -> None:
        self.workdir = Path(workdir)
        self.root = self.workdir / "root"
        self.extra_notebooks = extra_notebooks or {}
        self.startup_s = startup_s
        self.token = secrets.token_hex(24)
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "jupyter-lab.log"
        self._seen: dict[int, Any] = {}

    # ---- the temporary tree and an isolated Jupyter setup ----
    def _prepare(self) -> dict[str, str]:
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / "solutions", self.root / "solutions", dirs_exist_ok=True)
        for name, nb in self.extra_notebooks.items():
            nbformat.write(nb, self.root / name)
        home = self.workdir / "jupyter"
        config, settings = home / "config", home / "settings"
        (config / "labconfig").mkdir(parents=True, exist_ok=True)
        (config / "jupyter_server_config.json").write_text(json.dumps(LAB_CONFIG))
        (config / "labconfig" / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
        for rel, values in USER_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)  # let the kernel show figures inline, as for a student
        env.update(
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_DATA_DIR=str(home / "data"),
            JUPYTER_RUNTIME_DIR=str(home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
            IPYTHONDIR=str(home / "ipython"),
            JUPYTER_PLATFORM_DIRS="0",
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> JupyterLab:
        env = self._prepare()
        for _attempt in range(3):  # the free port may be taken between choosing and binding it
            self.port = free_port()
            command = [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                f"--IdentityProvider.token={self.token}",
                "--ServerApp.password=",
                "--LabApp.expose_app_in_browser=True",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.root_dir={self.root}",
                "--LabApp.extension_manager=readonly",  # news and update checks are off in the config file
            ]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                command.append("--allow-root")  # CI containers run as root
            log = open(self.log_path, "ab")  # noqa: SIM115 - closed when the server is stopped
            self.process = subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
            log.close()
            if self._wait_ready():
                return self
            self.stop()
        raise RuntimeError(f"JupyterLab did not start; its log ({self.log_path}):\n{self.log_tail()}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                self.api("GET", "/api/status")
                self.api("GET", "/lab/api/settings")  # the lab extension is loaded too
                return True
            except (OSError, urllib.error.URLError):
                time.sleep(0.5)
        return False

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    # ---- talking to it ----
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The address of a notebook in JupyterLab (`reset`: a fresh workspace, no tabs restored)."""
        return f"{self.base_url}/lab/tree/{path}?reset&token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10) -> Any:
        request = urllib.request.Request(
            self.base_url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1 only
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End every session (and so its kernel): each notebook test starts from a quiet server."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def processes(self) -> list[Any]:
        """The server and everything it started that is running now (kernels included)."""
        if self.process is None:
            return []
        tree = _process_tree(self.process.pid)
        for proc in tree:
            self._seen[proc.pid] = proc
        return tree

    # ---- stopping it, whatever happened ----
    def stop(self) -> None:
        if self.process is None:
            return
        self.processes()  # remember the kernels now: killed servers orphan them
        if self.process.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=5)
                self.process.wait(timeout=20)
            except Exception:  # noqa: BLE001 - not answering: the signals below stop it
                pass
        try:
            pgid = os.getpgid(self.process.pid)
        except ProcessLookupError:
            pgid = None
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if pgid is None or self.process.poll() is not None:
                break
            try:
                os.killpg(pgid, sig)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        if pgid is not None:
            try:
                os.killpg(pgid, signal.SIGKILL)  # anything else left in the server's group
            except ProcessLookupError:
                pass
        self.process.wait(timeout=10)
        _kill_each(list(self._seen.values()))

    def leftover_processes(self) -> list[Any]:
        """Processes this server ever ran (as far as `processes()` saw) that are still running."""
        return _alive(list(self._seen.values()))

    def __enter__(self) -> JupyterLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Chromium:
    """The system Chromium in headless mode, driven by Playwright, with a fresh profile."""

    def __init__(self, workdir: Path, viewport: tuple[int, int] = (1280, 1000)) -> None:
        self.workdir = Path(workdir)
        self.viewport = viewport
        self.context: Any = None
        self._playwright: Any = None
        self._seen: dict[int, Any] = {}
        self._before: set[int] = set()
        self.blocked: list[str] = []  # requests for anything but 127.0.0.1, refused

    def start(self) -> Chromium:
        from playwright.sync_api import sync_playwright

        profile = self.workdir / "chromium-profile"
        profile.mkdir(parents=True, exist_ok=True)
        self._before = {p.pid for p in _process_tree(os.getpid())}
        self._playwright = sync_playwright().start()
        try:
            self.context = self._playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": self.viewport[0], "height": self.viewport[1]},
                device_scale_factor=1,
            )
            self.context.route("**/*", self._local_only)
        except Exception:
            self.stop()
            raise
        self.processes()
        return self

    def _local_only(self, route: Any) -> None:
        """Let the page talk to the local server only; anything else is refused and remembered."""
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def processes(self) -> list[Any]:
        """The Playwright driver and the browser processes running now."""
        tree = [p for p in _process_tree(os.getpid()) if p.pid not in self._before]
        mine = []
        for proc in tree:
            try:
                line = " ".join(proc.cmdline())
            except Exception:  # noqa: BLE001
                continue
            if "playwright" in line or "chrom" in line:
                mine.append(proc)
                self._seen[proc.pid] = proc
        return mine

    def new_page(self) -> Any:
        page = self.context.new_page()
        page.set_default_timeout(60_000)
        return page

    def stop(self) -> None:
        self.processes()
        try:
            if self.context is not None:
                self.context.close()
        except Exception:  # noqa: BLE001 - a crashed browser: the kill below still runs
            pass
        try:
            if self._playwright is not None:
                self._playwright.stop()
        except Exception:  # noqa: BLE001
            pass
        self.context = self._playwright = None
        import psutil

        psutil.wait_procs(_alive(list(self._seen.values())), timeout=10)
        _kill_each(list(self._seen.values()))

    def leftover_processes(self) -> list[Any]:
        return _alive(list(self._seen.values()))

    def __enter__(self) -> Chromium:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- driving a notebook in the page ----

KERNEL_READY_JS = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.sessionContext || !w.content) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle';
}"""

RUN_STATE_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const cells = w.content.model.cells;
  let pending = 0, code = 0;
  const errors = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    code += 1;
    if (c.executionCount === null) pending += 1;
    for (let j = 0; j < c.outputs.length; j++) {
      const o = c.outputs.get(j).toJSON();
      if (o.output_type === 'error') errors.push('cell ' + i + ': ' + o.ename + ': ' + o.evalue);
    }
  }
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return {pending: pending, code: code, errors: errors, status: k ? k.status : 'none'};
}"""


def open_notebook(page: Any, lab: JupyterLab, path: str, timeout_s: float = 180) -> None:
    """Open a notebook in JupyterLab and wait until its kernel is up and idle."""
    page.goto(lab.url(path), wait_until="domcontentloaded", timeout=timeout_s * 1000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=timeout_s * 1000)
    page.wait_for_function(KERNEL_READY_JS, timeout=timeout_s * 1000, polling=500)


def wait_kernel_idle(page: Any, settle_ms: int = 300, timeout_s: float = 90) -> None:
    """Wait until the kernel has handled every widget message sent so far (typing sends one per key)."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_function(KERNEL_READY_JS, timeout=timeout_s * 1000, polling=100)


def run_all_cells(page: Any, timeout_s: float = 360) -> dict[str, Any]:
    """Run every cell as a person would (Run > Run All Cells) and wait for the last one to finish.
    Fails with the notebook's own error message when a cell raises."""
    page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + timeout_s
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE_JS)
        if state["errors"]:
            pytest.fail("a notebook cell failed in JupyterLab: " + " | ".join(state["errors"]), pytrace=False)
        if state["pending"] == 0 and state["status"] == "idle":
            return state
        time.sleep(1)
    pytest.fail(f"the notebook did not finish in {timeout_s:.0f} s in JupyterLab (last state {state})", pytrace=False)


def output_of(page: Any, selector: str) -> Any:
    """The output area (whole widget) holding the element matched by `selector`, for screenshots."""
    return page.locator(".jp-OutputArea-output", has=page.locator(selector)).first


def screenshot(locator: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path), animations="disabled")
    return path
