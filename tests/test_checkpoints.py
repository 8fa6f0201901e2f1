"""Checkpoints carry metadata, and loading refuses the wrong model or the wrong data clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from lecturekit.checkpoints import CheckpointError, load_checkpoint, register_model, save_checkpoint


@register_model("test_linear")
class _Linear(nn.Module):
    def __init__(self, n_in: int = 3, n_out: int = 2) -> None:
        super().__init__()
        self.config = {"n_in": n_in, "n_out": n_out}
        self.layer = nn.Linear(n_in, n_out)


def test_round_trip_keeps_weights_and_metadata(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = _Linear(3, 2)
    path = save_checkpoint(
        tmp_path / "m.pt", model, fingerprints={"palette": "abc"}, metrics={"bpp": 2.5}, extra={"history": [1.0, 0.5]}
    )
    loaded, blob = load_checkpoint(path, kind="test_linear", fingerprints={"palette": "abc"})
    assert torch.equal(loaded.layer.weight, model.layer.weight)
    meta = blob["meta"]
    assert meta["kind"] == "test_linear" and meta["config"] == {"n_in": 3, "n_out": 2}
    assert meta["metrics"]["bpp"] == 2.5 and meta["kit_version"]
    assert blob["extra"]["history"] == [1.0, 0.5]
    assert not loaded.training


def test_half_precision_checkpoints_are_smaller_and_load_as_float(tmp_path: Path) -> None:
    model = _Linear(200, 100)
    full = save_checkpoint(tmp_path / "full.pt", model)
    half = save_checkpoint(tmp_path / "half.pt", model, half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, _ = load_checkpoint(half)
    assert loaded.layer.weight.dtype == torch.float32
    assert torch.allclose(loaded.layer.weight, model.layer.weight, atol=1e-3)


def test_wrong_kind_is_refused(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "m.pt", _Linear())
    with pytest.raises(CheckpointError, match="holds a 'test_linear' model, not a 'pixelrnn' model"):
        load_checkpoint(path, kind="pixelrnn")


def test_another_palette_is_refused(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "m.pt", _Linear(), fingerprints={"palette": "aaa"})
    with pytest.raises(CheckpointError, match="palette fingerprint aaa.*has bbb"):
        load_checkpoint(path, fingerprints={"palette": "bbb"})


def test_files_that_are_not_checkpoints_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file at all")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(garbage)
    plain = tmp_path / "plain.pt"
    torch.save({"weight": torch.zeros(2)}, plain)
    with pytest.raises(CheckpointError, match="not a lecturekit checkpoint"):
        load_checkpoint(plain)


def test_weights_of_another_shape_are_refused(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "m.pt", _Linear(3, 2))
    blob = torch.load(path, weights_only=True)
    blob["meta"]["config"] = {"n_in": 5, "n_out": 2}
    torch.save(blob, path)
    with pytest.raises(CheckpointError, match="do not fit a test_linear model"):
        load_checkpoint(path)


def test_unregistered_models_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not a registered lecturekit model"):
        save_checkpoint(tmp_path / "m.pt", nn.Linear(2, 2))


def test_unknown_pretrained_name_lists_the_shipped_ones() -> None:
    import lecturekit

    with pytest.raises(CheckpointError, match="no shipped weights called 'nope'"):
        lecturekit.load_pretrained("nope")


def test_retraining_estimate_reads_the_weights_own_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimate comes from the checkpoint's metrics and this machine's threads: CPU time over threads when
    the record has them (an idle machine's time), else the wall time with a word that the load is unknown."""
    import lecturekit.checkpoints as checkpoints

    monkeypatch.setattr(checkpoints, "weights_dir", lambda: tmp_path)
    monkeypatch.setenv("LECTUREKIT_DEVICE", "cpu")
    metrics = {"train_seconds": 1200.0, "train_cpu_seconds": 480.0, "threads": 2, "epochs": 30}
    save_checkpoint(tmp_path / "busy.pt", _Linear(), metrics=metrics)
    save_checkpoint(tmp_path / "unknown.pt", _Linear(), metrics={"train_seconds": 600.0, "epochs": 12})
    save_checkpoint(tmp_path / "none.pt", _Linear())
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    line = checkpoints.retraining_estimate("busy")
    assert "about 4.0 minutes" in line and "30 epochs in 20.0 minutes" in line and "8.0 minutes of CPU" in line
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)  # half the threads: twice the time
    assert "about 8.0 minutes" in checkpoints.retraining_estimate("busy")
    unknown = checkpoints.retraining_estimate("unknown")
    assert "about 10.0 minutes" in unknown and "load was not recorded" in unknown
    assert "no training time" in checkpoints.retraining_estimate("none")
