"""The notebooks' widgets in a real JupyterLab + Chromium: a person moves a slider, types a sentence or
presses a button, and the picture or the table on screen changes.

Each notebook test opens a temporary copy of a solution notebook, runs all its cells as a student
would (shipped weights: 10-25 s each here), drives the widget with the keyboard or the
mouse, reads what the browser shows (an image's `src`, a table's text) before and after, and saves
screenshots to tests/screenshots/ (LECTUREKIT_SCREENSHOTS elsewhere). Sprites must show crisp: the
browser must show each image at its own pixel size (the kit sends nearest-upscaled PNGs).
"""

from __future__ import annotations

from typing import Any

import pytest
from lk_browser import (
    ROOT,
    JupyterLab,
    describe,
    open_notebook,
    output_of,
    run_all_cells,
    screenshot,
    wait_kernel_idle,
)
from notebook_cells import code_cell, markdown_cell, new_notebook, setup_cell

pytestmark = pytest.mark.browser

SMOKE = "widget_smoke.ipynb"
SMOKE_CODE = """
import numpy as np
import ipywidgets as widgets
from lecturekit.data import load_sprites
from lecturekit.widgets import image_widget, png_bytes

sprites = load_sprites("test")
pictures = sprites.rgb()[:10]
image = image_widget(pictures[0], scale=8, css_class="lk-smoke-image")
slider = widgets.IntSlider(value=0, min=0, max=len(pictures) - 1, description="sprite")
slider.add_class("lk-smoke-slider")
slider.observe(lambda change: setattr(image, "value", png_bytes(pictures[change["new"]], 8)), names="value")
widgets.VBox([slider, image])
"""


def EXTRA_NOTEBOOKS() -> dict[str, Any]:  # noqa: N802 - read by the `lab` fixture
    """A small notebook of the kit's own: an image widget and a slider, independent of the lessons."""
    return {SMOKE: new_notebook([markdown_cell("# widget smoke test"), setup_cell(), code_cell(SMOKE_CODE)])}


def solution(prefix: str) -> str:
    """The path (relative to the server root) of the solution notebook starting with `prefix`."""
    found = sorted((ROOT / "solutions").glob(f"{prefix}_*.ipynb"))
    if not found:
        pytest.fail(f"solutions/{prefix}_*.ipynb is missing: the browser test of its widget cannot run", pytrace=False)
    return f"solutions/{found[0].name}"


JS_IMG = (
    "(sel) => { const e = document.querySelector(sel); if (!e) return null; "
    "return e.tagName === 'IMG' ? e : e.querySelector('img'); }"
)


def shown_src(page: Any, selector: str) -> str:
    """The `src` of the image the browser shows for an Image widget (a new blob: URL when its bytes change)."""
    return page.evaluate(f"(sel) => {{ const img = ({JS_IMG})(sel); return img ? img.src : ''; }}", selector)


def wait_image_loaded(page: Any, selector: str) -> None:
    page.wait_for_function(
        f"(sel) => {{ const img = ({JS_IMG})(sel); return !!img && img.complete && img.naturalWidth > 0; }}",
        arg=selector,
        timeout=60_000,
        polling=200,
    )


def wait_new_src(page: Any, selector: str, before: str, timeout_s: float = 90) -> str:
    page.wait_for_function(
        f"([sel, before]) => {{ const img = ({JS_IMG})(sel); return !!img && !!img.src "
        "&& img.src !== before && img.complete && img.naturalWidth > 0; }",
        arg=[selector, before],
        timeout=timeout_s * 1000,
        polling=200,
    )
    return shown_src(page, selector)


def assert_crisp(page: Any, selector: str, sprite_px: int = 20) -> dict[str, float]:
    """The browser shows the image 1:1 (no smoothing rescale) and it is an integer upscale of the sprites."""
    img = page.locator(f"{selector}").first
    if img.evaluate("e => e.tagName") != "IMG":
        img = img.locator("img").first
    geometry = img.evaluate(
        "e => ({natural_w: e.naturalWidth, natural_h: e.naturalHeight, "
        "shown_w: e.getBoundingClientRect().width, shown_h: e.getBoundingClientRect().height})"
    )
    assert geometry["natural_w"] >= 2 * sprite_px, f"{selector}: tiny image {geometry}"
    rescaled = (
        abs(geometry["shown_w"] - geometry["natural_w"]) > 0.5 or abs(geometry["shown_h"] - geometry["natural_h"]) > 0.5
    )
    assert not rescaled, (
        f"{selector}: the browser rescales the picture (blurry sprites): {geometry}. Create the ipywidgets.Image "
        "with width= and height= equal to the PNG's size (as lecturekit.widgets.image_widget does; a box stretches "
        "an Image without them) and keep it under ~800 px wide (wider is shrunk to the output area)."
    )
    return geometry


def press_slider(page: Any, selector: str, key: str = "ArrowRight", times: int = 3) -> None:
    """Move an ipywidgets slider as a person does with the keyboard: focus its handle, press arrow keys."""
    handle = page.locator(f"{selector} .noUi-handle, {selector} .ui-slider-handle").first
    handle.scroll_into_view_if_needed()
    handle.click()  # a click on the handle focuses it without moving it
    handle.focus()
    for _ in range(times):
        handle.press(key)
        page.wait_for_timeout(80)
    wait_kernel_idle(page)


def readout(page: Any, selector: str) -> str:
    return page.locator(f"{selector} .widget-readout").first.inner_text()


# ---- the infrastructure itself ----


def test_lab_and_chromium_stop_even_when_the_test_fails(lab_factory: Any, chromium_factory: Any) -> None:
    import psutil

    seen: list[Any] = []
    with pytest.raises(RuntimeError, match="a test failing mid-way"):
        with lab_factory(extra_notebooks=EXTRA_NOTEBOOKS()) as lab, chromium_factory() as browser:
            page = browser.new_page()
            open_notebook(page, lab, SMOKE)  # starts a kernel: its own process group
            server_tree, browser_tree = lab.processes(), browser.processes()
            seen = server_tree + browser_tree
            kernels = [p for p in server_tree if "ipykernel" in " ".join(p.cmdline())]
            assert kernels, f"no kernel among the server's processes: {describe(server_tree)}"
            assert any("chrom" in " ".join(p.cmdline()) for p in browser_tree), describe(browser_tree)
            raise RuntimeError("a test failing mid-way")
    assert len(seen) >= 3
    gone, alive = psutil.wait_procs(seen, timeout=5)
    assert not alive, f"left running after the test failed: {describe(alive)}"
    assert not lab.leftover_processes() and not browser.leftover_processes()
    mine = [p for p in psutil.Process().children(recursive=True) if p.pid in {q.pid for q in seen}]
    assert not mine


def test_a_slider_moved_with_the_keyboard_changes_an_image(page: Any, lab: JupyterLab) -> None:
    open_notebook(page, lab, SMOKE)
    run_all_cells(page)
    image, slider = ".lk-smoke-image", ".lk-smoke-slider"
    wait_image_loaded(page, image)
    geometry = assert_crisp(page, image)
    assert geometry["natural_w"] == 160  # 20 px sprite, 8x nearest upscale, shown 1:1
    before = shown_src(page, image)
    screenshot(output_of(page, image), "smoke_before")
    press_slider(page, slider, times=2)
    after = wait_new_src(page, image, before)
    assert after != before
    assert readout(page, slider) == "2"
    screenshot(output_of(page, image), "smoke_after")


# ---- the notebooks' widgets ----


def test_notebook_03_temperature_sampler(page: Any, lab: JupyterLab) -> None:
    open_notebook(page, lab, solution("03"))
    run_all_cells(page)
    image, slider, button = ".lk-sampler-image", ".lk-sampler-temperature", ".lk-sampler-draw"
    wait_image_loaded(page, image)
    widget = output_of(page, image)
    first = shown_src(page, image)
    screenshot(widget, "03_temperature_sampler_before")
    assert_crisp(page, image)
    temperature = readout(page, slider)
    press_slider(page, slider, times=6)  # +0.30: the same seed at another temperature draws other sprites
    wait_new_src(page, image, first)
    wait_kernel_idle(page)  # each key press redraws: let the last one land before reading the picture
    hotter = shown_src(page, image)
    assert hotter != first and readout(page, slider) != temperature
    screenshot(widget, "03_temperature_sampler_hotter")
    page.locator(f"{button}").first.click()  # a new batch, by mouse
    wait_new_src(page, image, hotter)
    wait_kernel_idle(page)
    new_batch = shown_src(page, image)
    assert len({first, hotter, new_batch}) == 3
    status = page.locator(".lk-sampler-status").first
    page.wait_for_function("(el) => el.innerText.includes('batch 2')", arg=status.element_handle(), timeout=30_000)
    screenshot(widget, "03_temperature_sampler_new_batch")


def test_notebook_04_latent_sliders(page: Any, lab: JupyterLab) -> None:
    open_notebook(page, lab, solution("04"))
    run_all_cells(page)
    image = ".lk-decoded"
    page.wait_for_selector(".lk-latent-sliders .lk-slider-0", timeout=60_000)
    wait_image_loaded(page, image)
    widget = output_of(page, ".lk-latent-sliders")
    before = shown_src(page, image)
    screenshot(widget, "04_latent_sliders_before")
    assert_crisp(page, image)
    press_slider(page, ".lk-latent-sliders .lk-slider-0", times=12)  # z[0] + 0.6
    moved = wait_new_src(page, image, before)
    screenshot(widget, "04_latent_sliders_after_slider_0")
    if page.locator(".lk-latent-sliders .lk-slider-1").count():
        press_slider(page, ".lk-latent-sliders .lk-slider-1", key="ArrowLeft", times=12)  # z[1] - 0.6
        assert wait_new_src(page, image, moved) not in {before, moved}
        screenshot(widget, "04_latent_sliders_after_slider_1")


def test_notebook_05_gan_interpolation(page: Any, lab: JupyterLab) -> None:
    open_notebook(page, lab, solution("05"))
    run_all_cells(page)
    image, strip, slider = ".lk-gan-image", ".lk-gan-strip", ".lk-gan-slider"
    page.wait_for_selector(".lk-gan-interpolation", timeout=60_000)
    wait_image_loaded(page, image)
    wait_image_loaded(page, strip)
    widget = output_of(page, ".lk-gan-interpolation")
    before, strip_before = shown_src(page, image), shown_src(page, strip)
    screenshot(widget, "05_gan_interpolation_before")
    assert_crisp(page, image)
    assert_crisp(page, strip)
    press_slider(page, slider, times=20)  # 20 steps of 0.01: a visible move along the path
    moved = wait_new_src(page, image, before)
    assert shown_src(page, strip) == strip_before  # the path is the same, only the point on it moved
    page.locator(".lk-gan-new-b").first.click()
    wait_new_src(page, strip, strip_before)
    assert wait_new_src(page, image, moved) != moved
    screenshot(widget, "05_gan_interpolation_after")


def _other_sentence(current: set[str]) -> str:
    """A sentence of the corpus that is in neither box now."""
    from lecturekit.paths import data_dir

    for line in (data_dir() / "corpus" / "sentences.txt").read_text().splitlines():
        line = line.strip()
        if line and line not in current and len(line.split()) >= 4:
            return line
    raise AssertionError("no sentence in data/corpus/sentences.txt")


def test_notebook_06_sentence_interpolation(page: Any, lab: JupyterLab) -> None:
    open_notebook(page, lab, solution("06"))
    run_all_cells(page)
    table = page.locator(".lk-interp-table").first
    page.wait_for_function(
        "() => { const t = document.querySelector('.lk-interp-table'); return !!t && t.innerText.trim().length > 0; }",
        timeout=60_000,
    )
    widget = output_of(page, ".lk-interp-table")
    before = table.inner_text()
    rows_before = table.locator("tr").count()
    screenshot(widget, "06_sentence_interpolation_before")
    box = page.locator(".lk-sentence-a input").first
    typed = _other_sentence({box.input_value(), page.locator(".lk-sentence-b input").first.input_value()})
    box.scroll_into_view_if_needed()
    box.click()
    box.press("Control+A")
    box.type(typed, delay=5)  # key by key, as a person types
    box.press("Enter")
    wait_kernel_idle(page)  # every keystroke re-decodes: let the last one land
    page.wait_for_function(
        "(before) => document.querySelector('.lk-interp-table').innerText !== before",
        arg=before,
        timeout=90_000,
        polling=200,
    )
    assert box.input_value() == typed
    after = table.inner_text()
    assert after != before
    screenshot(widget, "06_sentence_interpolation_typed")
    press_slider(page, ".lk-steps", times=2)  # two more steps: two more rows
    page.wait_for_function(
        "(n) => document.querySelectorAll('.lk-interp-table tr').length === n",
        arg=rows_before + 2,
        timeout=90_000,
        polling=200,
    )
    screenshot(widget, "06_sentence_interpolation_more_steps")
    # slide along the path: the sentence decoded at the slider's position follows (t = 0 -> 0.2)
    position = page.locator(".lk-position-sentence").first
    assert "t = 0.00" in position.inner_text()
    press_slider(page, ".lk-position", times=4)  # 4 steps of 0.05
    page.wait_for_function(
        "() => document.querySelector('.lk-position-sentence').innerText.includes('t = 0.20')",
        timeout=90_000,
        polling=200,
    )
    assert readout(page, ".lk-position") == "0.20"
    screenshot(widget, "06_sentence_interpolation_position")


# ---- the Chinese edition ----


def test_chinese_edition_shows_its_widget_in_chinese(page: Any, lab: JupyterLab) -> None:
    """solutions/zh_CN/06 (the shortest notebook with a widget) run in JupyterLab: the setup cell sets the
    language, the interpolation's table and decoding methods are in Chinese (labels from the kit's gettext
    catalogue), and moving the position slider still decodes."""
    open_notebook(page, lab, "solutions/zh_CN/06_sentence_vae.ipynb")
    run_all_cells(page)
    page.wait_for_function(
        "() => { const t = document.querySelector('.lk-interp-table'); return !!t && t.innerText.trim().length > 0; }",
        timeout=60_000,
    )
    widget = output_of(page, ".lk-interp-table")
    text = widget.inner_text()
    assert "解码结果" in text and "束搜索（5）" in text and "decoded" not in text and "beam search" not in text
    report = page.locator(".jp-Notebook").first.inner_text()
    assert "语言：zh_CN（简体中文）" in report and "设备：" in report and "language:" not in report
    press_slider(page, ".lk-position", times=4)  # 4 steps of 0.05
    page.wait_for_function(
        "() => document.querySelector('.lk-position-sentence').innerText.includes('t = 0.20')",
        timeout=90_000,
        polling=200,
    )
    screenshot(widget, "zh_CN_06_sentence_interpolation")
