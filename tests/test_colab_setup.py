"""The setup cell that opens every notebook, run as Colab would run it (with a fake Colab module)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from lecturekit import colab, progress
from lecturekit.colab import SETUP_CELL, colab_url, install_spec

ROOT = Path(__file__).resolve().parent.parent


def _fake_colab(calls: list[str]) -> dict[str, types.ModuleType]:
    google = types.ModuleType("google")
    google_colab = types.ModuleType("google.colab")
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enable_custom_widget_manager")
    google_colab.output = output
    google.colab = google_colab
    return {"google": google, "google.colab": google_colab, "google.colab.output": output}


def test_in_colab_the_cell_installs_the_kit_then_enables_widgets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    for name, module in _fake_colab(calls).items():
        monkeypatch.setitem(sys.modules, name, module)
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "lecturekit" else real_find_spec(name, *a)
    )
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append("pip:" + " ".join(cmd[1:])))
    monkeypatch.setattr(progress, "_mode", None)
    monkeypatch.delenv("LECTUREKIT_PROGRESS", raising=False)  # the test runner sets it: the cell must choose
    namespace: dict = {}
    exec(SETUP_CELL, namespace)
    assert calls == [f"pip:-m pip install -q {install_spec()}", "enable_custom_widget_manager"]
    assert namespace["DEVICE"].type in {"cpu", "cuda", "mps"}
    assert progress.progress_mode() == "text"  # notebook bars break under Colab's widget manager


def test_in_colab_with_the_kit_installed_nothing_is_installed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    for name, module in _fake_colab(calls).items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append("pip"))
    monkeypatch.setattr(progress, "_mode", None)
    exec(SETUP_CELL, {})
    assert calls == ["enable_custom_widget_manager"]


def test_outside_colab_the_cell_only_imports_and_reports(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("nothing may be installed outside Colab"))
    monkeypatch.setattr(progress, "_mode", None)
    monkeypatch.delenv("LECTUREKIT_PROGRESS", raising=False)  # the test runner sets it: the cell must not choose
    namespace: dict = {}
    exec(SETUP_CELL, namespace)
    out = capsys.readouterr().out
    assert "lecturekit" in out and "device:" in out and "Colab" not in out
    assert progress.progress_mode() == "auto"  # notebook bars, where they work


def test_a_colab_without_the_widget_manager_still_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []
    modules = _fake_colab(calls)

    def broken() -> None:
        raise AttributeError("no widget manager in this Colab")

    modules["google.colab.output"].enable_custom_widget_manager = broken
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(progress, "_mode", None)
    colab.setup_notebook()
    assert "widget manager could not be enabled" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("lang", "labels", "note"),
    [
        ("en", ("device: ", "language: en (English)", "data: "), "widget manager could not be enabled"),
        ("zh_CN", ("设备：", "语言：zh_CN（简体中文）", "数据："), "无法启用 Colab 的控件管理器"),
        ("zh_TW", ("裝置：", "語言：zh_TW（繁體中文）", "資料："), "無法啟用 Colab 的控制項管理器"),
    ],
)
def test_each_editions_setup_cell_reports_in_its_language(
    lang: str, labels: tuple[str, ...], note: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The edition's own setup cell, outside Colab and in a Colab without the widget manager: the report line's
    labels and the note are in the edition's language (versions, device and Colab are names)."""
    from lecturekit import i18n

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(progress, "_mode", None)
    try:
        exec(colab.setup_cell_source(lang), {})
        out = capsys.readouterr().out
        assert all(label in out for label in labels) and "lecturekit " in out and "Colab" not in out, out
        if lang != "en":
            assert "device:" not in out and "language:" not in out and "data:" not in out, out

        def broken() -> None:
            raise AttributeError("no widget manager in this Colab")

        modules = _fake_colab([])
        modules["google.colab.output"].enable_custom_widget_manager = broken
        for name, module in modules.items():
            monkeypatch.setitem(sys.modules, name, module)
        colab.setup_notebook(lang=lang)
        out = capsys.readouterr().out
        assert note in out and "| Colab |" in out, out
    finally:
        i18n.set_language(None)


def test_every_notebook_starts_with_the_setup_cell() -> None:
    for folder in ("solutions", "notebooks"):
        paths = sorted((ROOT / folder).glob("*.ipynb"))
        assert paths, folder
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            first_code = next(c for c in nb.cells if c.cell_type == "code")
            assert first_code.source == SETUP_CELL, path


def test_colab_links_and_install_come_from_one_url() -> None:
    assert install_spec() == f"lecturekit @ git+{colab.REPO_URL}@{colab.BRANCH}"
    url = colab_url("notebooks/03_pixelrnn.ipynb")
    assert url.startswith("https://colab.research.google.com/github/")
    assert url.endswith(f"/blob/{colab.BRANCH}/notebooks/03_pixelrnn.ipynb")
    readme = (ROOT / "README.md").read_text()
    assert colab_url("notebooks/00_start_here.ipynb") in readme
