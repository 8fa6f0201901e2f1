"""`python -m lecturekit site --out DIR`: the executed course as a static website, in three languages.

The student copies (`notebooks/`, `notebooks/zh_CN/`, `notebooks/zh_TW/`; `--solutions`: `solutions/`)
are executed once each (`site.execute`, cached), their widgets become live figures (`site.live`), and
Sphinx with myst-nb and the Furo theme (all from PyPI) writes one edition per language:

    DIR/index.html            the language choice
    DIR/en/, DIR/zh_CN/, DIR/zh_TW/   an edition: index.html, one page per notebook, search
    DIR/_live/                what the live figures run: ONNX Runtime Web (from web/node_modules), the
                              models exported from the shipped checkpoints, the page script
    DIR/<edition>/_notebooks/ the notebooks to download (as handed out, without outputs)

Nothing is fetched from the web, at build time or when a page is read: the folder works from
`python -m http.server` and from any web space.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from lecturekit.colab import REPO_URL
from lecturekit.i18n import LANGUAGE_NAMES, LANGUAGES, N_, translate
from lecturekit.paths import repo_root
from lecturekit.site import execute
from lecturekit.site.live import LIVE_DIR, LiveAssets, page_notebook

ORT_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")
MATHJAX_FILES = ("es5/tex-chtml.js", "es5/output/chtml/fonts/woff-v2", "es5/input/tex/extensions")
TITLE = N_("Deep generative models, part I")
INTRO = N_(
    "A machine that learns to draw: pixel by pixel with a PixelRNN, from a code with an autoencoder and a VAE, "
    "with a GAN, and sentences with a sentence VAE. These pages are the course's notebooks, run with the kit's "
    "trained models; the figures marked as live run in your browser."
)
STUDENT_NOTE = N_(
    "Exercises are left for you to write: a check that fails says so, and the cells after it go on with the "
    "kit's own answer. Download a notebook or open it in Colab to work on it."
)
SOLUTIONS_NOTE = N_("The instructors' edition: the notebooks with their solutions. Do not publish it.")
COURSE = N_("The course")


def site_url(repo_url: str = REPO_URL) -> str:
    """Where GitHub Pages publishes the site of a repository (https://OWNER.github.io/NAME/)."""
    owner, name = repo_url.removeprefix("https://github.com/").removesuffix(".git").split("/")[:2]
    return f"https://{owner.lower()}.github.io/{name}/"


@dataclass
class SiteReport:
    out: Path
    seconds: float = 0.0
    pages: list[Path] = field(default_factory=list)
    models: dict[str, int] = field(default_factory=dict)


def edition_folder(lang: str) -> str:
    """A notebook folder's sub-folder for an edition ('' for English)."""
    return "" if lang == "en" else lang


def course_notebooks(root: Path, solutions: bool = False) -> dict[str, list[Path]]:
    """The notebooks of each edition, in course order."""
    base = root / ("solutions" if solutions else "notebooks")
    books = {lang: sorted((base / edition_folder(lang)).glob("[0-9][0-9]_*.ipynb")) for lang in LANGUAGES}
    if not books["en"]:
        raise FileNotFoundError(f"no notebooks in {base}: run this in the kit's checkout")
    return books


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first heading of a notebook's first markdown cell."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def _conf(lang: str, solutions: bool, pages: dict[str, str]) -> str:
    """conf.py of one edition (Sphinx reads its settings from a file)."""
    title = translate(TITLE, lang)
    settings: dict[str, Any] = {
        "project": title,
        "html_title": title,
        "language": lang,
        "extensions": ["myst_nb", "lecturekit.site.sphinx_ext"],
        "html_theme": "furo",
        "html_static_path": ["_static"],
        "templates_path": ["_templates"],
        "html_favicon": "_static/favicon.png",
        "html_sidebars": {
            "**": [
                "sidebar/brand.html",
                "sidebar/search.html",
                "lk-languages.html",
                "sidebar/scroll-start.html",
                "sidebar/navigation.html",
                "sidebar/scroll-end.html",
            ]
        },
        "exclude_patterns": ["_build", "_notebooks", "**.ipynb_checkpoints"],
        "nb_execution_mode": "off",
        "nb_merge_streams": True,
        "myst_enable_extensions": ["dollarmath", "amsmath"],
        "mathjax_path": "mathjax/es5/tex-chtml.js",
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_last_updated_fmt": None,
        "suppress_warnings": ["mystnb.unknown_mime_type", "myst.header", "misc.highlighting_failure"],
        "lk_edition": lang,
        "lk_solutions": solutions,
        "lk_pages": pages,
    }
    conf = "".join(f"{key} = {value!r}\n" for key, value in settings.items())
    if lang.startswith("zh"):  # Sphinx splits Chinese search terms with jieba, which logs every load
        conf += "import logging, jieba\njieba.setLogLevel(logging.WARNING)\n"
    return conf


def _index(lang: str, solutions: bool, titles: dict[str, str]) -> str:
    """index.md of one edition: the title, what the site is, and the notebooks in order."""
    t = lambda text: translate(text, lang)  # noqa: E731
    rows = "\n".join(f"- [{title}]({name}.ipynb)" for name, title in titles.items())
    toctree = "\n".join(titles)
    note = t(SOLUTIONS_NOTE) if solutions else t(STUDENT_NOTE)
    return (
        f"# {t(TITLE)}\n\n{t(INTRO)}\n\n{note}\n\n## {t(COURSE)}\n\n{rows}\n\n"
        f"```{{toctree}}\n:hidden:\n:maxdepth: 2\n\n{toctree}\n```\n"
    )


def favicon_png() -> bytes:
    """The site's icon: the kit's first sprite, twice its size."""
    from lecturekit.data import load_sprites
    from lecturekit.widgets import png_bytes

    sprites = load_sprites()
    return png_bytes(sprites.palette[sprites.indices[0]], scale=2)


def _copy_tree_parts(source: Path, target: Path, parts: tuple[str, ...]) -> None:
    for part in parts:
        src, dst = source / part, target / part
        if not src.exists():
            raise FileNotFoundError(f"{src} is missing: run `npm ci` in {source.parents[1]} (make site does it)")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def write_edition_source(
    src: Path, lang: str, notebooks: list[Path], executed: list[Path], assets: LiveAssets, solutions: bool, web: Path
) -> dict[str, str]:
    """The Sphinx project of one edition in `src`: conf.py, index.md, the pages' notebooks, static files.
    Returns {page name: the notebook's path in the repository} (for the Colab links)."""
    if src.exists():
        shutil.rmtree(src)
    (src / "_static").mkdir(parents=True)
    (src / "_templates").mkdir()
    (src / "_templates" / "lk-languages.html").write_text("{{ lk_languages_html }}\n", encoding="utf-8")
    (src / "_static" / "favicon.png").write_bytes(favicon_png())
    titles, pages = {}, {}
    root = repo_root() or Path.cwd()
    for notebook, run in zip(notebooks, executed):
        nb = page_notebook(nbformat.read(run, as_version=4), assets, lang)
        nbformat.write(nb, src / notebook.name)
        titles[notebook.stem] = notebook_title(nb, notebook.stem)
        pages[notebook.stem] = notebook.relative_to(root).as_posix()
    (src / "conf.py").write_text(_conf(lang, solutions, pages), encoding="utf-8")
    (src / "index.md").write_text(_index(lang, solutions, titles), encoding="utf-8")
    shutil.copy2(web / "lk-site.css", src / "_static" / "lk-site.css")
    _copy_tree_parts(web / "node_modules" / "mathjax", src / "_static" / "mathjax", MATHJAX_FILES)
    return pages


def _sphinx(src: Path, out: Path) -> subprocess.Popen:
    """Start one edition's Sphinx build (a process of its own: the editions build side by side)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-d", str(src / "_doctrees")]
    return subprocess.Popen([*command, str(src), str(out)], env=env)


def root_index(titles: dict[str, str]) -> str:
    """DIR/index.html: the course's title in each language, each a link to its edition."""
    links = "\n".join(
        f'<li><a href="{lang}/index.html" lang="{lang.replace("_", "-")}">{title}</a> '
        f'<span class="lk-lang">{LANGUAGE_NAMES[lang]}</span></li>'
        for lang, title in titles.items()
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{next(iter(titles.values()))}</title><link rel="icon" href="{next(iter(titles))}/_static/favicon.png">
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.6}}
li{{font-size:1.3rem;margin:.6rem 0}} .lk-lang{{color:#666;font-size:1rem;margin-left:.5rem}}</style>
</head><body><h1>lecturekit</h1><ul>
{links}
</ul></body></html>
"""


def build_site(
    out: Path,
    solutions: bool = False,
    jobs: int = 2,
    cache_dir: Path | None = None,
    languages: tuple[str, ...] = LANGUAGES,
    log: Any = print,
) -> SiteReport:
    """Build the whole site into `out` (see the module's docstring); returns what it made."""
    start = time.perf_counter()
    root = repo_root()
    if root is None:
        raise FileNotFoundError("the site is built from the kit's checkout (its notebooks/ and web/): run it there")
    web = root / "web"
    out = Path(out).resolve()
    cache = Path(cache_dir) if cache_dir is not None else execute.default_cache_dir()
    books = {lang: paths for lang, paths in course_notebooks(root, solutions).items() if lang in languages}
    everything = [p for paths in books.values() for p in paths]
    runs = dict(zip(everything, execute.executed(everything, cache, jobs=jobs, log=log)))
    if out.exists():
        shutil.rmtree(out)
    live = out / LIVE_DIR
    (live / "ort").mkdir(parents=True)
    _copy_tree_parts(web / "node_modules" / "onnxruntime-web" / "dist", live / "ort", ORT_FILES)
    shutil.copy2(web / "lk-live.js", live / "lk-live.js")
    assets = LiveAssets(live / "models", cache / f"models-{execute.kit_fingerprint()}")
    work = cache.parent / ("site-src-solutions" if solutions else "site-src")
    builds, titles = [], {}
    for lang, paths in books.items():
        src = work / lang
        write_edition_source(src, lang, paths, [runs[p] for p in paths], assets, solutions, web)
        builds.append((lang, _sphinx(src, out / lang)))
        titles[lang] = translate(TITLE, lang)
    log(f"Sphinx: {len(builds)} editions")
    failed = [lang for lang, proc in builds if proc.wait() != 0]
    if failed:
        raise RuntimeError(f"Sphinx failed for {', '.join(failed)} (its messages are above)")
    for lang, paths in books.items():
        downloads = out / lang / "_notebooks"
        downloads.mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copy2(path, downloads / path.name)
    (out / "index.html").write_text(root_index(titles), encoding="utf-8")
    (out / ".nojekyll").write_text("", encoding="utf-8")  # GitHub Pages must serve the _static/ folders
    report = SiteReport(out, time.perf_counter() - start, sorted(out.glob("*/*.html")), dict(assets.files))
    (out / LIVE_DIR / "manifest.json").write_text(json.dumps({"models": report.models}, indent=1), encoding="utf-8")
    return report


@contextmanager
def served(site: Path) -> Iterator[str]:
    """The built site served as a course's web space would serve it (plain static files) on 127.0.0.1, quietly,
    for as long as the `with` lasts: its base address. (The browser tests and the benchmarks look at it so.)"""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # whoever reads the pages reports failures itself
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def main(argv: list[str] | None = None) -> int:
    """The `site` command."""
    import argparse

    parser = argparse.ArgumentParser(prog="lecturekit site", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="the folder to write the site into (emptied first)")
    parser.add_argument("--solutions", action="store_true", help="the instructors' edition, from solutions/")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed side by side (default 2)")
    parser.add_argument("--cache", default=None, help="the executed notebooks' cache (default build/site-cache)")
    parser.add_argument("--languages", default=",".join(LANGUAGES), help="editions to build (default: all three)")
    args = parser.parse_args(argv)
    languages = tuple(lang.strip() for lang in args.languages.split(",") if lang.strip())
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)}: choose from {', '.join(LANGUAGES)}")
    report = build_site(Path(args.out), args.solutions, args.jobs, args.cache and Path(args.cache), languages)
    sizes = ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sorted(report.models.items()))
    print(f"site: {len(report.pages)} pages in {report.out} ({report.seconds:.0f} s); models: {sizes}")
    print(f"serve it with: python -m http.server -d {report.out} 8000  (then open http://127.0.0.1:8000/)")
    return 0
