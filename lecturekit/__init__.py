"""lecturekit: the notebooks' shared code for the lecture "deep generative models, part I"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from lecturekit.device import get_device, seed_everything  # noqa: E402

if TYPE_CHECKING:
    from torch import nn

__all__ = ["__version__", "get_device", "seed_everything", "load_pretrained", "use_data"]


def load_pretrained(name: str, device: Any = None) -> nn.Module:
    """Load one of the kit's shipped models by name (e.g. "pixelrnn"), checked against the shipped data."""
    from lecturekit.checkpoints import load_pretrained as _load

    return _load(name, device=device)


def use_data(name_or_path: Any) -> Any:
    """Switch the whole kit to a course data set made by `python -m lecturekit course-data` (its NAME or
    folder), or back to the kit's own sprites with None; the same as `LECTUREKIT_DATA=NAME-or-path`."""
    from lecturekit.datasets import use_data as _use

    return _use(name_or_path)
