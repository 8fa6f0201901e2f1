"""Progress bars that work in JupyterLab, in Colab and in a plain terminal or CI log.

Notebook bars (tqdm.auto) need a working widget front end; Colab's custom widget manager and old
ipywidgets can break them. `set_progress_bars("text")` falls back to plain-text bars, `False`
turns bars off everywhere (also `LECTUREKIT_PROGRESS=text|off`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

_mode: str | None = None  # "auto" | "text" | "off"; None: read the environment


def set_progress_bars(mode: bool | str = True) -> None:
    """True/"auto": tqdm.auto; "text": plain text bars; False/"off": no bars."""
    global _mode
    if mode is True:
        mode = "auto"
    elif mode is False:
        mode = "off"
    if mode not in {"auto", "text", "off"}:
        raise ValueError(f"progress bar mode {mode!r}: use True, False, 'auto', 'text' or 'off'.")
    _mode = mode


def progress_mode() -> str:
    """The mode in force: the last `set_progress_bars`, else LECTUREKIT_PROGRESS, else auto."""
    if _mode is not None:
        return _mode
    env = os.environ.get("LECTUREKIT_PROGRESS", "").strip().lower()
    return env if env in {"auto", "text", "off"} else "auto"


def progress(iterable: Iterable[Any] | None = None, **kwargs: Any) -> Any:
    """A tqdm bar in the mode in force (same arguments as tqdm)."""
    mode = progress_mode()
    if mode == "off":
        kwargs["disable"] = True
    if mode == "auto":
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm

        kwargs.setdefault("file", sys.stdout)
        kwargs.setdefault("ascii", True)
        kwargs.setdefault("mininterval", 2.0)
    return tqdm(iterable, **kwargs)
