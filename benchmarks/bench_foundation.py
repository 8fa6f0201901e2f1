"""Foundation rows: import time, data loading, data generation."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from notebook_timing import notebook_seconds


def _import_seconds() -> dict[str, tuple[float, str]]:
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import lecturekit"], check=True)
        runs.append(time.perf_counter() - start)
    return {"import_lecturekit_seconds": (sorted(runs)[1], "s")}


def _load_seconds() -> dict[str, tuple[float, str]]:
    from lecturekit.data import load_corpus, load_sprites

    start = time.perf_counter()
    sprites = load_sprites()
    sprites_s = time.perf_counter() - start
    start = time.perf_counter()
    corpus = load_corpus()
    corpus_s = time.perf_counter() - start
    return {
        "load_sprites_seconds": (sprites_s, "s"),
        "load_corpus_seconds": (corpus_s, "s"),
        "sprites_count": (len(sprites), "sprites"),
        "sprites_test_count": (len(load_sprites("test")), "sprites"),
        "palette_colours": (len(sprites.palette), "colours"),
        "corpus_sentences": (len(corpus), "sentences"),
    }


def _generate_seconds() -> dict[str, tuple[float, str]]:
    from lecturekit.build_data import build_sprites
    from lecturekit.corpus import build_corpus

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build_sprites(Path(tmp) / "sprites")
        sprites_s = time.perf_counter() - start
        start = time.perf_counter()
        build_corpus(Path(tmp) / "corpus")
        corpus_s = time.perf_counter() - start
    return {"generate_sprites_seconds": (sprites_s, "s"), "generate_corpus_seconds": (corpus_s, "s")}


BENCHMARKS = [
    (("import_lecturekit_seconds",), _import_seconds),
    (
        (
            "load_sprites_seconds",
            "load_corpus_seconds",
            "sprites_count",
            "sprites_test_count",
            "palette_colours",
            "corpus_sentences",
        ),
        _load_seconds,
    ),
    (("generate_sprites_seconds", "generate_corpus_seconds"), _generate_seconds),
    (("notebook_seconds_00",), lambda: {"notebook_seconds_00": (notebook_seconds("00_start_here"), "s")}),
]
