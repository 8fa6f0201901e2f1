"""The site build's pieces without a browser: the execution cache's key, the page notebooks (widgets become
live-figure placeholders), the links on every page, the editions found in the checkout."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from lecturekit.i18n import LANGUAGES
from lecturekit.site import execute
from lecturekit.site.build import _index, course_notebooks, notebook_title, root_index, site_url
from lecturekit.site.live import LIVE_DIR, LiveAssets, labels, page_notebook
from lecturekit.site.sphinx_ext import language_links
from lecturekit.widgets.static import FIGURE_METADATA, WIDGET_VIEW

ROOT = Path(__file__).resolve().parents[2]


def test_cache_key_follows_the_notebook_and_the_kit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = tmp_path / "01_x.ipynb"
    nb.write_text('{"cells": []}')
    key = execute.cache_key(nb)
    assert execute.cache_key(nb) == key
    nb.write_text('{"cells": [1]}')
    assert execute.cache_key(nb) != key
    monkeypatch.setattr(execute, "kit_fingerprint", lambda: "another kit")
    nb.write_text('{"cells": []}')
    assert execute.cache_key(nb) != key
    assert execute.cached_path(nb, tmp_path / "cache").parent == tmp_path / "cache"


def test_three_editions_hold_the_same_notebooks() -> None:
    books = course_notebooks(ROOT)
    assert set(books) == set(LANGUAGES)
    names = [p.name for p in books["en"]]
    assert names and all([p.name for p in books[lang]] == names for lang in LANGUAGES)
    assert books["zh_CN"][0].parent.name == "zh_CN" and books["en"][0].parent.name == "notebooks"
    assert course_notebooks(ROOT, solutions=True)["en"][0].parent.name == "solutions"


class FakeAssets(LiveAssets):
    def __init__(self, shipped: bool) -> None:
        super().__init__(Path("/nonexistent"))
        self.shipped = shipped

    def model_files(self, spec: dict) -> dict | None:
        return {"decoder": "models/vae.decoder.onnx"} if self.shipped else None


def executed_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
    widget = nbformat.v4.new_output(
        "display_data",
        data={WIDGET_VIEW: {"model_id": "abc"}, "image/png": "iVBORw0KGgo=", "text/plain": "a live widget"},
        metadata={
            FIGURE_METADATA: {
                "figure": "latent-sliders",
                "model": {"kind": "vae", "fingerprint": "f"},
                "x": "</script>",
            }
        },
    )
    progress = nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "p"}, "text/plain": "bar"})
    error = nbformat.v4.new_output(
        "error", ename="ExerciseNotDone", evalue="f() is not written yet", traceback=["long", "trace"]
    )
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 04 · A title\n\ntext"),
        nbformat.v4.new_code_cell("ui.widget", outputs=[widget, progress]),
        nbformat.v4.new_code_cell("check()", outputs=[error]),
    ]
    return nb


def test_widget_outputs_become_live_figure_placeholders_in_the_page_language() -> None:
    nb = page_notebook(executed_notebook(), FakeAssets(shipped=True), "zh_CN")
    assert "widgets" not in nb.metadata
    live, progress = nb.cells[1].outputs
    html = live["data"]["text/html"]
    assert list(live["data"]) == ["text/html"]
    assert 'class="lk-live"' in html and f'src="../{LIVE_DIR}/lk-live.js"' in html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html  # the static picture until the figure runs
    payload = html.split('class="lk-live-spec">')[1].split("</script>")[0]
    assert "</script>" not in payload.replace("<\\/", "")  # the description cannot close its script tag
    spec = json.loads(payload)
    assert spec["files"] == {"decoder": "models/vae.decoder.onnx"} and spec["x"] == "</script>"
    assert spec["labels"] == labels("zh_CN") and spec["labels"]["reset"] != "reset"
    assert WIDGET_VIEW not in progress["data"] and progress["data"]["text/plain"] == "bar"
    assert nb.cells[2].outputs[0]["traceback"] == ["ExerciseNotDone: f() is not written yet"]
    assert notebook_title(nb, "x") == "04 · A title"


def test_a_figure_of_another_model_keeps_its_picture() -> None:
    nb = page_notebook(executed_notebook(), FakeAssets(shipped=False), "en")
    spec = json.loads(
        nb.cells[1].outputs[0]["data"]["text/html"].split('class="lk-live-spec">')[1].split("</script>")[0]
    )
    assert spec["files"] is None


def test_every_page_links_the_same_page_in_each_edition() -> None:
    links = language_links("03_pixelrnn", "zh_TW")
    assert [link["href"] for link in links] == [f"../{lang}/03_pixelrnn.html" for lang in LANGUAGES]
    assert [link["current"] for link in links] == [False, False, True]
    assert language_links("search", "en")[1]["href"] == "../zh_CN/search.html"


def test_index_pages_and_site_address() -> None:
    assert site_url("https://github.com/LectureKit/lecturekit") == "https://lecturekit.github.io/lecturekit/"
    index = _index("zh_CN", False, {"00_start_here": "00 · 开始"})
    assert "深度生成模型（一）" in index and "[00 · 开始](00_start_here.ipynb)" in index and "{toctree}" in index
    page = root_index(
        {"en": "Deep generative models, part I", "zh_CN": "深度生成模型（一）", "zh_TW": "深度生成模型（一）"}
    )
    assert 'href="zh_TW/index.html"' in page and "繁體中文" in page and 'href="en/_static/favicon.png"' in page
    assert "Do not publish it" in _index("en", True, {"00_start_here": "00"})
    assert "教师版" in _index("zh_CN", True, {"00_start_here": "00"})
