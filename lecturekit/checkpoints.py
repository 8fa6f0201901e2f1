"""Checkpoints that know what they are: model kind, config, data fingerprint, metrics, kit version.

Loading checks all of it, so a checkpoint for another model, or one trained on another palette or
vocabulary, is refused with a message that says what to do instead of a shape error from torch.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from lecturekit.datasets import weights_dir
from lecturekit.i18n import _

FORMAT = "lecturekit-checkpoint"
FORMAT_VERSION = 1

_MODELS: dict[str, type[nn.Module]] = {}
T = TypeVar("T", bound=type)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used here; the message says why and what to do."""


def register_model(kind: str) -> Callable[[T], T]:
    """Class decorator: models are rebuilt from `kind` and their `config` dict (`cls(**config)`)."""

    def wrap(cls: T) -> T:
        _MODELS[kind] = cls
        cls.kind = kind  # type: ignore[attr-defined]
        return cls

    return wrap


def registered_models() -> dict[str, type[nn.Module]]:
    """Model kinds that checkpoints can hold (importing the model modules registers them)."""
    _import_models()
    return dict(_MODELS)


def _import_models() -> None:
    import importlib
    import pkgutil

    import lecturekit.models as models

    for info in pkgutil.iter_modules(models.__path__):
        importlib.import_module(f"lecturekit.models.{info.name}")


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    fingerprints: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
    extra: dict[str, Any] | None = None,
    half: bool = False,
) -> Path:
    """Save weights with metadata. `fingerprints` names the data the model depends on
    (e.g. {"palette": ..., "data": ...} or {"vocab": ...}); `extra` holds plain data (a vocab dict,
    a loss history). `half=True` stores float tensors as float16 to keep shipped files small."""
    kind = getattr(model, "kind", None)
    config = getattr(model, "config", None)
    if kind is None or config is None:
        raise CheckpointError(
            f"{type(model).__name__} is not a registered lecturekit model (no `kind`/`config`): "
            "decorate its class with @register_model(...) and store its constructor arguments in self.config."
        )
    from lecturekit import __version__

    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "config": dict(config),
        "fingerprints": dict(fingerprints or {}),
        "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        "kit_version": __version__,
        "torch_version": torch.__version__.split("+")[0],
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"meta": meta, "state_dict": state, "extra": extra or {}}, tmp)
    tmp.replace(path)  # never leave a half-written checkpoint behind
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw checkpoint dict ({"meta", "state_dict", "extra"}), after checking it is one of ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            _("no checkpoint at {path}: check the path, or train one with `lecturekit train`.").format(path=path)
        )
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise CheckpointError(
            _(
                "{path} is not a readable checkpoint ({error}). It may be truncated or not a torch file: "
                "re-download or re-train it."
            ).format(path=path, error=f"{type(exc).__name__}: {str(exc)[:200]}")
        ) from None
    if not isinstance(blob, dict) or not isinstance(blob.get("meta"), dict) or blob["meta"].get("format") != FORMAT:
        raise CheckpointError(
            _(
                "{path} is a torch file but not a lecturekit checkpoint (no lecturekit metadata). "
                "Save models with lecturekit.checkpoints.save_checkpoint()."
            ).format(path=path)
        )
    return blob


def load_checkpoint(
    path: str | Path,
    *,
    kind: str | None = None,
    fingerprints: dict[str, str] | None = None,
    device: torch.device | str | None = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model stored at `path`; return (model in eval mode, checkpoint dict).

    `kind` refuses a checkpoint of another model; `fingerprints` refuses one trained on other data
    (only the keys present in both are compared).
    """
    blob = read_checkpoint(path)
    meta = blob["meta"]
    if kind is not None and meta["kind"] != kind:
        raise CheckpointError(
            _(
                "{path} holds a {have} model, not a {want} model: load it with kind={have}, or pick the {kind} "
                "checkpoint."
            ).format(path=path, have=repr(meta["kind"]), want=repr(kind), kind=kind)
        )
    for key, want in (fingerprints or {}).items():
        have = meta["fingerprints"].get(key)
        if have is not None and have != want:
            from lecturekit.datasets import checkpoint_hint

            raise CheckpointError(
                _(
                    "{path} was trained on data with {key} fingerprint {have}, but the data here has {want}: its "
                    "outputs would mean other {things}. Train a new model on this data (`python -m lecturekit "
                    "train ...`) or load the data it was trained on."
                ).format(
                    path=path, key=key, have=have, want=want, things=_("colours") if key == "palette" else f"{key}s"
                )
                + checkpoint_hint(meta)
            )
    models = registered_models()
    if meta["kind"] not in models:
        raise CheckpointError(
            f"{path} holds a {meta['kind']!r} model, which this version of lecturekit "
            f"({', '.join(sorted(models))}) does not know: upgrade lecturekit."
        )
    model = models[meta["kind"]](**meta["config"])
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{path}: the weights do not fit a {meta['kind']} model with config {meta['config']} "
            f"({str(exc).splitlines()[0][:200]}). The file may be from another version: re-train it."
        ) from None
    model.to(torch.device(device) if device is not None else torch.device("cpu"))
    model.eval()
    return model, blob


def pretrained_names() -> list[str]:
    """Names accepted by load_pretrained (the shipped checkpoints)."""
    return sorted(p.stem for p in weights_dir().glob("*.pt"))


def _kit_fallback(name: str, missing: Path) -> Path:
    """Under a course data set, a model that does not depend on the sprites (the sentence VAE) comes from
    the kit's weights; a sprite model of the kit's is refused, naming the switch. Else `missing` unchanged."""
    from lecturekit import datasets
    from lecturekit.paths import kit_weights_dir

    current = datasets.active()
    kit_path = kit_weights_dir() / f"{name}.pt"
    if current.is_kit or not kit_path.is_file():
        return missing
    meta = read_checkpoint(kit_path)["meta"]
    if "palette" not in meta["fingerprints"]:
        return kit_path
    raise CheckpointError(
        f"{current.chosen_by} selects the course data set {current.name!r}, which has no {name!r} model "
        f"({missing} is missing), and the kit's {name}.pt belongs to the kit's own sprites. Train it with "
        f"`python -m lecturekit course-data ... --name {current.name}` (a re-run trains only what is missing), "
        f"or switch back with lecturekit.use_data(None) / unset {datasets.ENV_VAR}."
    )


def _pretrained_path(name: str) -> Path:
    """The file `load_pretrained(name)` reads: the data set in force's, else the kit's (see `_kit_fallback`)."""
    path = weights_dir() / f"{name}.pt"
    if not path.is_file():
        path = _kit_fallback(name, path)
    if not path.is_file():
        raise CheckpointError(
            _("no shipped weights called {name}; available: {names}.").format(
                name=repr(name), names=", ".join(pretrained_names()) or _("none")
            )
        )
    return path


def load_pretrained(name: str, device: torch.device | str | None = None) -> nn.Module:
    """Load a shipped model by name (see pretrained_names()), checked against the shipped data.
    Under `LECTUREKIT_DATA` / `lecturekit.use_data(...)`, the course data set's model of that name,
    checked against its sprites.

    The checkpoint dict stays available as `model.checkpoint` (metrics, history, vocab...).
    """
    path = _pretrained_path(name)
    expected: dict[str, str] = {}
    blob_meta = read_checkpoint(path)["meta"]
    if "palette" in blob_meta["fingerprints"]:
        from lecturekit.data import load_sprites

        expected["palette"] = load_sprites().palette_fingerprint()
    model, blob = load_checkpoint(path, fingerprints=expected, device=device)
    model.checkpoint = blob  # type: ignore[assignment]
    return model


def retraining_estimate(name: str) -> str:
    """One line for a notebook: about how long retraining the shipped model `name` takes on this machine, from
    its weights' own record (`train_seconds`, `epochs`, and where recorded `threads` and `train_cpu_seconds`)
    and this machine's device and CPU threads. (The figures in docs/developers.md come from one idle machine; a notebook
    runs elsewhere.)

    With the CPU time recorded, the run's CPU time spread over its threads is what it would have taken on an
    idle machine; without it, the wall time is all there is, and the line says that the load is unknown. Fewer
    threads here than recorded scale the estimate up; more are not assumed to help (these models are small)."""
    from lecturekit.device import get_device

    metrics = read_checkpoint(_pretrained_path(name))["meta"]["metrics"]
    if "train_seconds" not in metrics:
        return _("retraining {name}: its weights record no training time").format(name=name)
    wall, epochs = float(metrics["train_seconds"]), int(metrics.get("epochs", 0))
    then, cpu = metrics.get("threads"), metrics.get("train_cpu_seconds")
    if then and cpu:
        seconds = float(cpu) / float(then)
        record = _(
            "its weights record {epochs} epochs in {wall} minutes of wall time, {cpu} minutes of CPU time on "
            "{then} thread(s)"
        ).format(epochs=epochs, wall=f"{wall / 60:.1f}", cpu=f"{float(cpu) / 60:.1f}", then=int(then))
    else:
        seconds = wall
        record = _(
            "its weights record {epochs} epochs in {wall} minutes of wall time, on a machine whose load was not "
            "recorded: less if this one is idle and that one was busy"
        ).format(epochs=epochs, wall=f"{wall / 60:.1f}")
    device, now = get_device(), torch.get_num_threads()
    if then and device.type == "cpu":
        seconds *= max(1.0, float(then) / now)
    if device.type != "cpu":
        return _("retraining {name} here, on a GPU ({device}): less than about {minutes} minutes ({record})").format(
            name=name, device=device.type, minutes=f"{seconds / 60:.1f}", record=record
        )
    return _("retraining {name} here, on the CPU with {now} thread(s): about {minutes} minutes ({record})").format(
        name=name, now=now, minutes=f"{seconds / 60:.1f}", record=record
    )
