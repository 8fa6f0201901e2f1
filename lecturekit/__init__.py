"""lecturekit: the notebooks' shared code for the lecture "deep generative models, part I"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from lecturekit.device import get_device, seed_everything  # noqa: E402

if TYPE_CHECKING:
    from torch import nn

__all__ = ["__version__", "get_device", "seed_everything", "load_pretrained"]


def load_pretrained(name: str, device: Any = None) -> nn.Module:
    """Load one of the kit's shipped models by name (e.g. "pixelrnn"), checked against the shipped data."""
    from lecturekit.checkpoints import load_pretrained as _load

    return _load(name, device=device)
