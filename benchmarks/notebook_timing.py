"""Time a solution notebook from top to bottom in a fresh kernel (the notebook_seconds_NN rows)."""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def notebook_seconds(name: str, timeout: int = 600) -> float:
    """Wall seconds to run solutions/<name>.ipynb with nbclient, CPU, shipped weights."""
    import nbformat
    from nbclient import NotebookClient

    path = ROOT / "solutions" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("LECTUREKIT_PROGRESS", "text")
    os.environ.setdefault("MPLBACKEND", "Agg")
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start
