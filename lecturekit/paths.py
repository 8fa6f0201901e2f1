"""Where the kit's own data and weights live, in a checkout and in an installed wheel (the data set in force,
which may be a course's, is `lecturekit.datasets`'s)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir() -> Path:
    """The folder holding the kit's data: `lecturekit/_data` in a wheel, `data/` in a checkout."""
    bundled = _PACKAGE / "_data"
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent / "data"


def kit_weights_dir() -> Path:
    """The shipped checkpoints (`data/weights`) whatever data set is in force."""
    return data_dir() / "weights"


def repo_root() -> Path | None:
    """The checkout's root when running from one (it holds `solutions/`), else None."""
    root = _PACKAGE.parent
    return root if (root / "solutions").is_dir() else None
