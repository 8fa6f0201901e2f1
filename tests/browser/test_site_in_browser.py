"""The course website in a real browser (Debian's Chromium, driven by Playwright, as the widget tests do).

The site is built once for the module (`lecturekit.site.build_site`; the notebooks' executions come from
the shared cache when `make test` has run them already) and served by a plain static file server on
127.0.0.1: nothing else may be reached (the browser refuses any other address, as the page would find
no CDN on a course's own web space). Then:
- every page of every edition loads with no console error, no failed request, and its live figures
  started; the language switch and the download link of every page lead to pages and files that exist;
- the Chinese editions show Chinese (simplified and traditional), search included;
- on each live figure a control is moved with the keyboard (or a button clicked, a sentence typed) and
  the picture changes to what the kernel computes for the same inputs: the kit's widget or the package
  function it calls, on the shipped model. Screenshots go to tests/screenshots/ (LECTUREKIT_SCREENSHOTS).
LECTUREKIT_SITE=DIR tests a site built already (e.g. by `make site`) instead of building one.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from lk_browser import SCREENSHOTS

import lecturekit
from lecturekit.i18n import LANGUAGES
from lecturekit.widgets import grid_rgb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "site"))
from site_reference import differing_share, page_rgb, png_rgb, sample_with_uniforms  # noqa: E402

pytestmark = pytest.mark.browser
LIVE = "[...document.querySelectorAll('.lk-live')]"
READY = f"() => {LIVE}.every(e => ['ready', 'failed', 'static'].includes(e.dataset.state))"
NOT_READY = f"() => {LIVE}.filter(e => e.dataset.state !== 'ready').map(e => e.dataset.figure + ': ' + e.innerText)"
REDRAWS = "['redraw', 'redrawSprite', 'redrawStrip', 'refresh', 'updatePosition']"


@pytest.fixture(scope="module")
def site(browser_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    prebuilt = os.environ.get("LECTUREKIT_SITE")
    if prebuilt:
        return Path(prebuilt)
    from lecturekit.site.build import build_site

    return build_site(tmp_path_factory.mktemp("site") / "site", jobs=2).out


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The site served as a course's web space would serve it: plain static files, on 127.0.0.1."""
    from lecturekit.site.build import served

    with served(site) as base:
        yield base


class Tab:
    """A browser tab that remembers every console error, page error and failed request."""

    def __init__(self, chromium: Any) -> None:
        self.page = chromium.new_page()
        self.chromium = chromium
        self.problems: list[str] = []
        self.page.on(
            "console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed request: {r.url} ({r.failure})"))
        self.page.on(
            "response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
        )

    def open(self, url: str, timeout_s: float = 180) -> Any:
        self.problems.clear()
        self.chromium.blocked.clear()
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function(READY, timeout=timeout_s * 1000)
        failed = self.page.evaluate(NOT_READY)
        assert not failed, f"{url}: live figures that did not start: {failed}"
        return self.page

    def check_clean(self, url: str) -> None:
        problems = self.problems + [f"blocked: {u}" for u in self.chromium.blocked]
        assert not problems, f"{url}: {problems[:8]}"

    def figure(self, name: str) -> str:
        return f".lk-live[data-figure='{name}']"

    def call(self, name: str, code: str) -> Any:
        """Evaluate `code` with `f` the figure object and wait until its pictures are drawn."""
        return self.page.evaluate(
            f'async () => {{ const f = document.querySelector("{self.figure(name)}").lkFigure; {code} }}'
        )

    def settle(self, name: str) -> None:
        self.call(name, f"for (const k of {REDRAWS}) if (f[k]) await f[k].idle();")

    def spec(self, name: str) -> dict:
        return self.call(name, "return f.spec;")

    def picture(self, name: str, method: str = "picture_rgb") -> np.ndarray:
        self.settle(name)
        return page_rgb(self.call(name, f"return f.{method}();"))

    def shot(self, name: str, selector: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def tab(chromium: Any, server: str) -> Iterator[Tab]:
    t = Tab(chromium)
    try:
        yield t
    finally:
        t.page.close()


def page_of(site: Path, lang: str, prefix: str) -> str:
    found = sorted((site / lang).glob(f"{prefix}_*.html"))
    assert found, f"the site has no {lang}/{prefix}_*.html"
    return f"{lang}/{found[0].name}"


def shipped(spec: dict) -> Any:
    """The shipped model a figure runs (the one whose weights match the figure's)."""
    from lecturekit.site.live import LiveAssets

    name = LiveAssets(Path("unused")).shipped_name(spec["model"]["kind"], spec["model"]["fingerprint"])
    assert name, f"the figure's model is not a shipped one: {spec['model']}"
    return lecturekit.load_pretrained(name, device="cpu")


# ---------------------------------------------------------------------------------------------- every page
def test_every_page_of_every_edition_loads_cleanly(site: Path, server: str, tab: Tab) -> None:
    pages = ["index.html"] + [
        p.relative_to(site).as_posix() for lang in LANGUAGES for p in sorted((site / lang).glob("*.html"))
    ]
    assert len(pages) >= 1 + 3 * 9, pages
    for path in pages:
        page = tab.open(f"{server}/{path}")
        tab.check_clean(path)
        if path == "index.html":
            continue
        links = page.evaluate("() => [...document.querySelectorAll('.lk-languages a, a.lk-download')].map(a => a.href)")
        languages = page.evaluate("() => document.querySelectorAll('.lk-languages').length")
        assert languages >= 1, f"{path} has no language switch"
        for href in links:
            target = site / href.removeprefix(server + "/").split("#")[0]
            assert target.is_file(), f"{path} links to {href}, which the site lacks"
        if re.match(r".*/\d\d_", path):
            colab = page.evaluate("() => document.querySelector('a.lk-colab').href")
            assert colab.startswith("https://colab.research.google.com/github/") and colab.endswith(".ipynb")
            assert page.evaluate("() => document.querySelector('a.lk-download').hasAttribute('download')")


def test_chinese_editions_show_chinese_and_search_finds_chinese_words(site: Path, server: str, tab: Tab) -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    for lang, marker in (("zh_CN", "这"), ("zh_TW", "這")):
        page = tab.open(f"{server}/{page_of(site, lang, '04')}")
        text = page.inner_text("article")
        assert len(han.findall(text)) > 300, f"{lang}: too little Chinese on the page"
        assert marker in text
        assert page.evaluate("() => document.documentElement.lang").lower().startswith("zh")
        badge = page.inner_text(".lk-live .lk-badge")
        assert han.search(badge), f"{lang}: the live figure's label is not Chinese: {badge!r}"
        tab.open(
            f"{server}/{lang}/search.html?q=调色板" if lang == "zh_CN" else f"{server}/{lang}/search.html?q=調色盤"
        )
        page.wait_for_selector("#search-results ul.search li", timeout=30_000)
        tab.check_clean(f"{lang}/search.html")
    page = tab.open(f"{server}/en/search.html?q=temperature")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)


# ---------------------------------------------------------------------------------------------- notebook 04
def test_latent_sliders_follow_the_kernel(site: Path, server: str, tab: Tab) -> None:
    from lecturekit.widgets.latent import latent_slider_widget

    name = "latent-sliders"
    tab.open(f"{server}/{page_of(site, 'en', '04')}")
    spec = tab.spec(name)
    vae = shipped(spec)
    kernel = latent_slider_widget(vae)
    before = tab.picture(name)
    slider = tab.page.locator(f"{tab.figure(name)} .lk-slider-2 input")
    slider.focus()
    for _ in range(30):
        slider.press("ArrowRight")  # +1.5 on z[2], a step at a time, as a keyboard user would
    for _ in range(12):
        tab.page.locator(f"{tab.figure(name)} .lk-slider-5 input").press("ArrowLeft")
    code = tab.call(name, "return Array.from(f.code);")
    assert code[2] == pytest.approx(spec["code"][2] + 1.5) and code[5] == pytest.approx(spec["code"][5] - 0.6)
    after = tab.picture(name)
    assert differing_share(before, after) > 0.02, "moving two sliders did not change the sprite"
    kernel.set_code(code)
    assert differing_share(after, png_rgb(kernel.image.value, kernel.scale)) <= 0.01
    if spec["sprite_codes"]:
        tab.page.select_option(f"{tab.figure(name)} .lk-sprite-pick select", "3")
        tab.page.click(f"{tab.figure(name)} .lk-encode")
        kernel.set_code(spec["sprite_codes"][3])
        assert differing_share(tab.picture(name), png_rgb(kernel.image.value, kernel.scale)) <= 0.01
    tab.shot("site_latent_sliders", tab.figure(name))
    tab.check_clean("04 sliders")


def test_latent_grid_follows_the_kernel(site: Path, server: str, tab: Tab) -> None:
    from lecturekit.models.vae import latent_grid

    name = "latent-grid"
    tab.open(f"{server}/{page_of(site, 'en', '04')}")
    spec = tab.spec(name)
    vae = shipped(spec)
    before = tab.picture(name)
    dx = (spec["dims"][0] + 1) % spec["dim"]
    dx = dx if dx != spec["dims"][1] else (dx + 1) % spec["dim"]
    tab.page.select_option(f"{tab.figure(name)} .lk-grid-x select", str(dx))
    tab.page.locator(f"{tab.figure(name)} .lk-grid-span input").press("ArrowLeft")  # span - 0.25
    base = -1
    if spec["sprite_codes"]:
        base = 1
        tab.page.select_option(f"{tab.figure(name)} .lk-grid-base select", str(base))
    after = tab.picture(name)
    assert differing_share(before, after) > 0.05
    code = np.zeros(spec["dim"]) if base < 0 else np.asarray(spec["sprite_codes"][base])
    grid = latent_grid(vae, dx, spec["dims"][1], base=code, steps=spec["steps"], span=spec["span"] - 0.25)
    expected = grid_rgb(grid.reshape(-1, *grid.shape[2:]), columns=spec["steps"])
    assert differing_share(after, expected) <= 0.01
    tab.check_clean("04 grid")


# ---------------------------------------------------------------------------------------------- notebook 03
def test_pixelrnn_sampler_follows_the_kernel(site: Path, server: str, tab: Tab) -> None:
    from lecturekit.widgets.sampler import temperature_sampler

    name = "pixelrnn-sampler"
    tab.open(f"{server}/{page_of(site, 'en', '03')}")
    spec = tab.spec(name)
    model = shipped(spec)
    palette = np.asarray(spec["palette"], dtype=np.uint8)
    n, columns = spec["n"], spec["columns"]
    tab.page.check(f"{tab.figure(name)} input[value=argmax]")
    kernel = temperature_sampler(model, palette, n=n, columns=columns, seed=spec["seed"])
    kernel.mode.value = "argmax"
    argmax_page = tab.picture(name)
    assert np.array_equal(argmax_page, grid_rgb(palette[kernel.sprites], columns)), (
        "argmax: the page draws other sprites"
    )
    tab.page.check(f"{tab.figure(name)} input[value=sample]")
    tab.page.locator(f"{tab.figure(name)} .lk-sampler-temperature input").press("ArrowLeft")  # T - 0.05
    tab.page.click(f"{tab.figure(name)} .lk-sampler-draw")  # the next batch
    tab.settle(name)
    temperature = spec["temperature"] - 0.05
    sampled = tab.call(name, "return {t: f.temperature, batch: f.batch, sprites: Array.from(f.sprites)};")
    assert sampled["t"] == pytest.approx(temperature) and sampled["batch"] == 1
    page_sprites = np.asarray(sampled["sprites"]).reshape(n, model.height, model.width)
    expected = sample_with_uniforms(model, n, temperature, spec["seed"] + 1)
    same = [np.array_equal(a, b) for a, b in zip(page_sprites, expected)]
    assert sum(same) >= n - 1, f"only {sum(same)} of {n} sprites match the kernel's drawing with the same numbers"
    assert np.array_equal(tab.picture(name), grid_rgb(palette[page_sprites], columns))
    assert len({s.tobytes() for s in page_sprites}) > n // 2
    tab.shot("site_pixelrnn_sampler", tab.figure(name))
    tab.check_clean("03 sampler")


# ---------------------------------------------------------------------------------------------- notebook 05
def test_gan_interpolation_follows_the_kernel(site: Path, server: str, tab: Tab) -> None:
    from lecturekit.widgets.interpolation import interpolation_widget

    name = "gan-interpolation"
    tab.open(f"{server}/{page_of(site, 'en', '05')}")
    spec = tab.spec(name)
    model = shipped(spec)
    palette = np.asarray(spec["palette"], dtype=np.uint8)
    kernel = interpolation_widget(model, palette, steps=spec["steps"], scale=spec["scale"])
    kernel.z_a, kernel.z_b = torch.tensor(spec["z_a"]), torch.tensor(spec["z_b"])
    before = tab.picture(name)
    slider = tab.page.locator(f"{tab.figure(name)} .lk-gan-slider input")
    for _ in range(2):
        slider.press("ArrowRight")
    position = tab.call(name, "return f.position;")
    assert position == pytest.approx(min(1.0, spec["position"] + 2 / (spec["steps"] - 1)))
    kernel.slider.value = position
    after = tab.picture(name)
    assert differing_share(before, after) > 0.02
    assert differing_share(after, kernel.render()) <= 0.01
    tab.page.click(f"{tab.figure(name)} .lk-gan-snap input")  # raw colours now
    tab.page.click(f"{tab.figure(name)} .lk-gan-new-b")  # and a new end
    kernel.snap.value = False
    kernel.z_b = torch.tensor(spec["spare_codes"][0])
    raw = tab.picture(name)
    assert np.abs(raw.astype(int) - kernel.render().astype(int)).max() <= 1
    strip = tab.picture(name, "strip_rgb")
    sprites = kernel._decode(kernel.path_codes())
    assert np.abs(strip.astype(int) - grid_rgb(sprites, columns=len(sprites)).astype(int)).max() <= 1
    tab.shot("site_gan_interpolation", tab.figure(name))
    tab.check_clean("05 interpolation")


# ---------------------------------------------------------------------------------------------- notebook 06
def test_sentence_interpolation_follows_the_kernel(site: Path, server: str, tab: Tab) -> None:
    from lecturekit.widgets.sentences import decode_at, interpolation_rows

    name = "sentence-interpolation"
    tab.open(f"{server}/{page_of(site, 'en', '06')}")
    spec = tab.spec(name)
    model = shipped(spec)
    rows = lambda: tab.page.locator(f"{tab.figure(name)} .lk-live-ui td.lk-interp-sentence").all_inner_texts()  # noqa: E731
    first, _notes = interpolation_rows(
        model, spec["sentence_a"], spec["sentence_b"], spec["steps"], method=spec["method"]
    )
    tab.settle(name)
    assert rows() == first
    sentence_b = "my sister went to the park with her dog"
    tab.page.fill(f"{tab.figure(name)} .lk-sentence-b input", sentence_b)
    steps = tab.page.locator(f"{tab.figure(name)} .lk-steps input")
    steps.press("ArrowRight")
    tab.settle(name)
    expected, _ = interpolation_rows(model, spec["sentence_a"], sentence_b, spec["steps"] + 1, method="greedy")
    assert rows() == expected and rows() != first
    tab.page.select_option(f"{tab.figure(name)} .lk-decoding select", "beam")
    tab.settle(name)
    beam, _ = interpolation_rows(model, spec["sentence_a"], sentence_b, spec["steps"] + 1, method="beam")
    assert rows() == beam
    position = tab.page.locator(f"{tab.figure(name)} .lk-position input")
    for _ in range(9):
        position.press("ArrowRight")
    tab.settle(name)
    at = tab.call(name, "return [f.position, f.sentenceAtPosition];")
    assert at[0] == pytest.approx(spec["position"] + 0.45)
    assert at[1] == decode_at(model, spec["sentence_a"], sentence_b, at[0], method="beam")
    tab.page.fill(f"{tab.figure(name)} .lk-sentence-a input", "i saw a zyxwv")
    tab.settle(name)
    note = tab.page.inner_text(f"{tab.figure(name)} .lk-interp-note")
    assert "'zyxwv' is not in the model's vocabulary" in note
    tab.shot("site_sentence_interpolation", tab.figure(name))
    tab.check_clean("06 sentences")
