"""Device choice and seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lecturekit


def test_cpu_is_chosen_without_a_gpu_and_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LECTUREKIT_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if hasattr(torch.backends, "mps"):
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert lecturekit.get_device().type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert lecturekit.get_device().type == "cuda"
    monkeypatch.setenv("LECTUREKIT_DEVICE", "cpu")
    assert lecturekit.get_device().type == "cpu"


def test_forcing_a_missing_device_says_how_to_fix_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("LECTUREKIT_DEVICE", "cuda")
    with pytest.raises(ValueError, match="unset LECTUREKIT_DEVICE"):
        lecturekit.get_device()
    monkeypatch.setenv("LECTUREKIT_DEVICE", "tpu")
    with pytest.raises(ValueError, match="use cpu, cuda or mps"):
        lecturekit.get_device()


def test_seed_everything_repeats_draws() -> None:
    lecturekit.seed_everything(7)
    a = (np.random.rand(3), torch.rand(3))
    lecturekit.seed_everything(7)
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])
    lecturekit.seed_everything(8)
    assert not torch.equal(torch.rand(3), a[1])
