"""Executing the course's notebooks once, and keeping what they printed and drew.

A notebook is run top to bottom in a fresh kernel (errors allowed: a student copy's checks fail on
the exercises left unwritten, and the cells after them run on the kit's reference through
`yours_or_reference`), in a temporary folder, with inline figures and no progress bars. The executed
copy is cached under a key made of the notebook's own bytes and everything its outputs depend on: the
kit's code and data (weights, sprites, corpus), and the versions of Python and of the packages that
compute. A notebook run again with nothing of that changed comes from the cache at once; anything
changed runs again. The site build and the student-copy test share the cache, so `make test` runs
each notebook once.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import tempfile
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nbformat

from lecturekit.paths import repo_root

CACHE_ENV = "LECTUREKIT_SITE_CACHE"
# how every kernel runs: figures inline (an MPLBACKEND=Agg from a test run would drop them), no progress
# bars (they would print their redraws into the page), the language set by the notebook's own setup cell
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "LECTUREKIT_PROGRESS": "off"}
KERNEL_ENV_REMOVED = ("LECTUREKIT_LANG",)
TIMEOUT = 600  # seconds per cell


def default_cache_dir() -> Path:
    """LECTUREKIT_SITE_CACHE, else build/site-cache in the checkout."""
    return Path(os.environ.get(CACHE_ENV) or repo_root() / "build" / "site-cache")


# the site builder's own modules: no kernel imports them, so they change no notebook's outputs
BUILDER_ONLY = ("site/build.py", "site/live.py", "site/sphinx_ext.py", "site/execute.py")


def _hash_files(digest: Any, root: Path, patterns: Iterable[str], skip: tuple[str, ...] = ()) -> None:
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts and path.relative_to(root).as_posix() not in skip:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())


@functools.lru_cache(maxsize=1)
def kit_fingerprint() -> str:
    """A hash of what a notebook's outputs depend on besides the notebook: the kit's code, messages and
    data, and the versions of Python and the computing packages."""
    import ipywidgets
    import matplotlib
    import numpy
    import torch

    root = repo_root()
    digest = hashlib.sha256()
    _hash_files(digest, root / "lecturekit", ["**/*.py", "**/*.mo"], skip=BUILDER_ONLY)
    _hash_files(digest, root / "data", ["**/*"])
    versions = [platform.python_version(), torch.__version__, numpy.__version__, matplotlib.__version__]
    digest.update(" ".join([*versions, ipywidgets.__version__]).encode())
    return digest.hexdigest()[:20]


def cache_key(notebook: Path) -> str:
    """The cache key of a notebook: its bytes and `kit_fingerprint()`."""
    digest = hashlib.sha256(Path(notebook).read_bytes())
    digest.update(kit_fingerprint().encode())
    return digest.hexdigest()[:24]


def cached_path(notebook: Path, cache_dir: Path | None = None) -> Path:
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return cache / f"{Path(notebook).stem}-{cache_key(notebook)}.ipynb"


def _execute(notebook: str, target: str, threads: int = 0) -> str:
    """Run one notebook (in a worker process) and write the executed copy to `target`; `threads` > 0 caps the
    kernel's compute threads (notebooks run side by side share the cores)."""
    import fcntl

    with open(f"{target}.lock", "w") as lock:  # another build (or test worker) running it: wait, then reuse its copy
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not Path(target).is_file():
            _run_into(notebook, target, threads)
    return target


def _run_into(notebook: str, target: str, threads: int) -> None:
    from nbclient import NotebookClient

    for name in KERNEL_ENV_REMOVED:
        os.environ.pop(name, None)
    os.environ.update(KERNEL_ENV)
    if threads > 0:
        os.environ["OMP_NUM_THREADS"] = str(threads)
    nb = nbformat.read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="lk-run-") as work:
        client = NotebookClient(
            nb, timeout=TIMEOUT, allow_errors=True, kernel_name="python3", resources={"metadata": {"path": work}}
        )
        client.execute()
    tmp = Path(target).with_suffix(".tmp")
    nbformat.write(nb, tmp)
    tmp.replace(target)  # never leave a half-written copy in the cache


def executed(notebooks: list[Path], cache_dir: Path | None = None, jobs: int = 2, log: Any = print) -> list[Path]:
    """The executed copy of each notebook (paths in the cache), running those not cached, `jobs` at a time."""
    targets = [cached_path(nb, cache_dir) for nb in notebooks]
    todo = [(str(nb), str(t)) for nb, t in zip(notebooks, targets) if not t.is_file()]
    if targets:
        targets[0].parent.mkdir(parents=True, exist_ok=True)
    log(f"notebooks: {len(notebooks) - len(todo)} from the cache, {len(todo)} to run ({jobs} at a time)")
    if todo:
        workers = max(1, min(jobs, len(todo)))
        threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done in pool.map(functools.partial(_execute, threads=threads), *zip(*todo)):
                log(f"  ran {Path(done).name}")
    return targets


def executed_notebook(notebook: Path, cache_dir: Path | None = None) -> nbformat.NotebookNode:
    """One notebook, executed (from the cache when it is there)."""
    (path,) = executed([Path(notebook)], cache_dir, jobs=1, log=lambda *_: None)
    return nbformat.read(path, as_version=4)
