"""The course website's rows: the build (cold and cached), the weight of its heaviest page and of each model
file, and the live figures' speed in headless Chromium (/usr/bin/chromium, driven by Playwright)."""

from __future__ import annotations

import gzip
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from urllib.parse import unquote, urlparse

CHROMIUM = "/usr/bin/chromium"


def _build(out: Path, cache: Path | None) -> tuple[float, object]:
    from lecturekit.site.build import build_site

    start = time.perf_counter()
    report = build_site(out, jobs=2, cache_dir=cache, log=lambda *_: None)
    return time.perf_counter() - start, report


def _site_rows() -> dict[str, tuple[float, str]]:
    """A cold build (the execution cache, build/site-cache or LECTUREKIT_SITE_CACHE, emptied first: every
    notebook of the three editions runs; the cache is full afterwards), the same build again (every notebook
    from the cache), and the model files' sizes."""
    import shutil

    from lecturekit.site.execute import default_cache_dir

    shutil.rmtree(default_cache_dir(), ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="lk-site-bench-") as tmp:
        cold, report = _build(Path(tmp) / "site", None)
        cached, report = _build(Path(tmp) / "site", None)
        pages = len(report.pages)  # type: ignore[attr-defined]
        load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end"
        rows = {
            "site_build_seconds": (cold, f"s (cold: 3 editions, {pages} pages, 21 notebooks run 2 at a time; {load})"),
            "site_build_seconds_cached": (cached, "s (the same build again: every notebook from the cache)"),
        }
        for name, size in sorted(report.models.items()):  # type: ignore[attr-defined]
            key = name.split("-")[0].removesuffix(".onnx").removesuffix(".json").replace(".", "_")
            rows[f"site_model_megabytes_{key}"] = (size / 1e6, f"MB ({name})")
    return rows


def _page_rows_built() -> dict[str, tuple[float, str]]:
    """The site built from the execution cache (warm after site_build_seconds), then measured in Chromium."""
    with tempfile.TemporaryDirectory(prefix="lk-site-bench-") as tmp:
        _, report = _build(Path(tmp) / "site", None)
        return _page_rows(report.out, report.pages)  # type: ignore[attr-defined]


@contextmanager
def _browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


READY = (
    "() => [...document.querySelectorAll('.lk-live')].every(e => ['ready','failed','static'].includes(e.dataset.state))"
)


def _page_bytes(browser: object, base: str, site: Path, path: str) -> tuple[int, int]:
    """Everything a fresh browser loads for one page (the files behind each request): bytes as stored, and
    gzipped (what a web space that compresses, as GitHub Pages does, sends)."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    seen: set[str] = set()
    page.on("request", lambda r: seen.add(r.url))
    page.goto(f"{base}/{path}")
    page.wait_for_function(READY, timeout=300_000)
    context.close()
    total = zipped = 0
    for url in seen:
        file = site / unquote(urlparse(url).path).lstrip("/")
        if url.startswith(base) and file.is_file():
            total += file.stat().st_size
            zipped += len(gzip.compress(file.read_bytes(), compresslevel=6))
    return total, zipped


def _figure(page: object, name: str, code: str) -> object:
    return page.evaluate(  # type: ignore[attr-defined]
        f"async () => {{ const f = document.querySelector(\".lk-live[data-figure='{name}']\").lkFigure; {code} }}"
    )


def _page_rows(site: Path, pages: list[Path]) -> dict[str, tuple[float, str]]:
    """The built site in Chromium: page weights and figure speeds."""
    from lecturekit.site.build import served

    with served(site) as base, _browser() as browser:
        weights = {
            p.relative_to(site).as_posix(): _page_bytes(browser, base, site, p.relative_to(site).as_posix())
            for p in pages
        }
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(f"{base}/{next(p for p in weights if p.startswith('en/04_'))}")
        page.wait_for_function(READY, timeout=300_000)
        slider_ms = _figure(  # 50 updates first: the browser compiles the hot wasm code while it runs
            page,
            "latent-sliders",
            "for (let i = 0; i < 50; i++) { f.code[1] = -2.5 + 0.1 * i; await f.redraw(); }"
            " f.timings.length = 0; for (let i = 0; i < 100; i++) { f.code[0] = -2.5 + 0.05 * i; await f.redraw(); }"
            " return f.timings.slice();",
        )
        page.goto(f"{base}/{next(p for p in weights if p.startswith('en/03_'))}")
        page.wait_for_function(READY, timeout=300_000)
        sample_s = _figure(
            page,
            "pixelrnn-sampler",
            "f.mode = 'sample'; f.temperature = 1.0; const s = []; f.batch += 1; await f.redraw();"
            " for (let i = 0; i < 3; i++) { f.batch += 1; await f.redraw(); s.push(f.seconds); }"
            " return [s, f.spec.n];",
        )
    heaviest = max(weights, key=lambda p: weights[p][0])
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    return {
        "site_page_megabytes": (weights[heaviest][0] / 1e6, f"MB (the heaviest page, {heaviest}, with all it loads)"),
        "site_page_megabytes_gzip": (weights[heaviest][1] / 1e6, "MB (the same, gzipped as a web space sends it)"),
        "site_slider_update_ms": (
            median(slider_ms),
            f"ms (median of 100 after 50: VAE decode + draw in the page; {load})",
        ),
        "site_slider_update_ms_fastest": (min(slider_ms), "ms (the fastest of those 100: the page's speed unhindered)"),
        "site_pixelrnn_sample_seconds_16": (
            median(sample_s[0]),
            f"s (median of 3 after one: {sample_s[1]} sprites at T = 1 drawn in the page, 1 wasm thread; {load})",
        ),
    }


MODEL_ROWS = tuple(
    f"site_model_megabytes_{name}"
    for name in (
        "vae_decoder",
        "pixelrnn_step",
        "gan_path",
        "sentence_vae_encoder",
        "sentence_vae_decoder",
        "sentence_vae_text",
    )
)
PAGE_ROWS = (
    "site_page_megabytes",
    "site_page_megabytes_gzip",
    "site_slider_update_ms",
    "site_slider_update_ms_fastest",
    "site_pixelrnn_sample_seconds_16",
)
BENCHMARKS = [
    (("site_build_seconds", "site_build_seconds_cached", *MODEL_ROWS), _site_rows),
    (PAGE_ROWS, _page_rows_built),
]
