"""Pick the fastest device there is, and make runs repeatable."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

_ENV = "LECTUREKIT_DEVICE"


def get_device() -> torch.device:
    """CUDA, then Apple MPS, then CPU; `LECTUREKIT_DEVICE=cpu|cuda|mps` forces one."""
    forced = os.environ.get(_ENV, "").strip().lower()
    if forced:
        if forced not in {"cpu", "cuda", "mps"}:
            raise ValueError(f"{_ENV}={forced!r} is not a device: use cpu, cuda or mps (or unset it).")
        if forced == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{_ENV}=cuda but this machine has no CUDA GPU: unset {_ENV} to use the CPU.")
        if forced == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"{_ENV}=mps but Apple MPS is not available here: unset {_ENV}.")
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (all devices) so a notebook re-run gives the same figures."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
