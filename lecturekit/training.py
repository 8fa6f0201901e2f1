"""The one training loop that every model in the kit shares.

It keeps a history of losses (for the loss curves in the notebooks), moves batches to the device,
clips gradients, stops after a number of epochs or of minutes of wall time, and shows a progress bar.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from lecturekit.device import get_device
from lecturekit.i18n import N_, _
from lecturekit.progress import progress

Batch = Any
LossOutput = torch.Tensor | tuple[torch.Tensor, dict[str, float]]


@dataclass
class History:
    """What happened during training: one record per step and one per epoch."""

    steps: list[dict[str, float]] = field(default_factory=list)
    epochs: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False

    @property
    def losses(self) -> list[float]:
        """The training loss of every step."""
        return [s["loss"] for s in self.steps]

    def epoch_values(self, key: str = "loss") -> list[float]:
        """One metric per epoch (e.g. "loss", or a key that eval_fn returned)."""
        return [e[key] for e in self.epochs if key in e]

    def to_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "epochs": self.epochs, "seconds": self.seconds}


def _to_device(batch: Batch, device: torch.device) -> Batch:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def make_batches(
    data: torch.Tensor | tuple[torch.Tensor, ...], batch_size: int, *, shuffle: bool, generator: torch.Generator
) -> list[Batch]:
    """Split tensors (sharing their first dimension) into batches, in a seeded order."""
    tensors = data if isinstance(data, tuple) else (data,)
    n = tensors[0].shape[0]
    if n == 0:
        raise ValueError("cannot train on an empty data set: check the data you passed to fit().")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    batches = []
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        parts = tuple(t[idx] for t in tensors)
        batches.append(parts if isinstance(data, tuple) else parts[0])
    return batches


def _split_loss(out: LossOutput) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(out, tuple):
        loss, logs = out
        return loss, {k: float(v) for k, v in logs.items()}
    return out, {}


def fit(
    model: nn.Module,
    data: torch.Tensor | tuple[torch.Tensor, ...] | Iterable[Batch],
    loss_fn: Callable[[nn.Module, Batch], LossOutput],
    *,
    epochs: int | None = 1,
    max_minutes: float | None = None,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: torch.optim.Optimizer | None = None,
    schedule: Callable[[int], float] | None = None,
    clip_grad: float | None = 1.0,
    device: torch.device | str | None = None,
    seed: int = 0,
    shuffle: bool = True,
    eval_fn: Callable[[nn.Module], dict[str, float]] | None = None,
    on_epoch_end: Callable[[int, nn.Module, History], None] | None = None,
    progress_bar: bool = True,
    desc: str = N_("training"),
) -> History:
    """Train `model` by minimising `loss_fn(model, batch)`; return the History.

    `data` is a tensor (or tuple of tensors) batched here in a seeded order, or any re-iterable of
    batches. `loss_fn` returns the loss, or `(loss, {"name": value})` to log more per step.
    `schedule(step)` multiplies the learning rate. Training stops after `epochs` or `max_minutes`,
    whichever comes first (at least one step runs). `eval_fn(model)` runs after each epoch in eval
    mode under no_grad, and its numbers go into `history.epochs`.
    """
    if epochs is None and max_minutes is None:
        raise ValueError("fit() needs epochs or max_minutes, or it would never stop.")
    rules = _prepare_training(model, loss_fn, optimizer, lr, weight_decay, schedule, clip_grad, device, max_minutes)
    generator = torch.Generator().manual_seed(seed)
    history = History()
    step = 0
    epoch = 0
    total_epochs = epochs if epochs is not None else 10**9
    bar = _training_bar(data, batch_size, epochs, desc, progress_bar)
    while epoch < total_epochs:
        batches = _epoch_batches(data, batch_size, shuffle, generator)
        model.train()
        if hasattr(bar, "set_description"):
            bar.set_description(_("{desc} epoch {n}").format(desc=_(desc), n=epoch + 1))
        mean_loss, step = _train_epoch(model, batches, rules, history, epoch, step, bar)
        history.epochs.append(_epoch_record(model, epoch, mean_loss, time.perf_counter() - rules.start, eval_fn))
        if on_epoch_end is not None:
            on_epoch_end(epoch, model, history)
        epoch += 1
        if history.stopped_early or time.perf_counter() > rules.deadline:
            history.stopped_early = history.stopped_early or epoch < total_epochs
            break
    if hasattr(bar, "close"):
        bar.close()
    model.eval()
    history.seconds = time.perf_counter() - rules.start
    return history


def _training_bar(data: Any, batch_size: int, epochs: int | None, desc: str, progress_bar: bool) -> Any:
    """One progress bar for the whole training, every epoch's steps (a bar per epoch stacks up dozens of bars
    in a notebook); its length is known when the data's size and the number of epochs are."""
    per_epoch = None
    if isinstance(data, (torch.Tensor, tuple)):
        first = data[0] if isinstance(data, tuple) else data
        per_epoch = math.ceil(first.shape[0] / batch_size)
    elif hasattr(data, "__len__"):
        per_epoch = len(data)
    total = per_epoch * epochs if per_epoch is not None and epochs is not None else None
    return progress(total=total, desc=_(desc), disable=None if progress_bar else True)


def _prepare_training(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, Batch], LossOutput],
    optimizer: torch.optim.Optimizer | None,
    lr: float,
    weight_decay: float,
    schedule: Callable[[int], float] | None,
    clip_grad: float | None,
    device: torch.device | str | None,
    max_minutes: float | None,
) -> _StepRules:
    """The step rules of one `fit` call: the model moved to its device, an Adam optimiser unless one was
    passed, and the clock started (the deadline counts from here)."""
    device = torch.device(device) if device is not None else get_device()
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    start = time.perf_counter()
    return _StepRules(
        loss_fn,
        optimizer,
        [g["lr"] for g in optimizer.param_groups],
        schedule,
        clip_grad,
        device,
        lr,
        start=start,
        deadline=start + max_minutes * 60 if max_minutes is not None else math.inf,
    )


def _epoch_batches(
    data: torch.Tensor | tuple[torch.Tensor, ...] | Iterable[Batch],
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator,
) -> Iterable[Batch]:
    """This epoch's batches: tensors are cut here in a fresh seeded order, anything else is the caller's batches."""
    if isinstance(data, (torch.Tensor, tuple)):
        return make_batches(data, batch_size, shuffle=shuffle, generator=generator)
    return data


def _epoch_record(
    model: nn.Module,
    epoch: int,
    mean_loss: float,
    seconds: float,
    eval_fn: Callable[[nn.Module], dict[str, float]] | None,
) -> dict[str, float]:
    """The epoch's line in `history.epochs`, with `eval_fn`'s numbers (eval mode, no gradients: held-out data)."""
    record = {"epoch": epoch, "loss": mean_loss, "seconds": seconds}
    if eval_fn is not None:
        model.eval()
        with torch.no_grad():
            record.update({k: float(v) for k, v in eval_fn(model).items()})
    return record


@dataclass
class _StepRules:
    """How every step of one `fit` call updates the model, in one object so the epoch helper stays short."""

    loss_fn: Callable[[nn.Module, Batch], LossOutput]
    optimizer: torch.optim.Optimizer
    base_lrs: list[float]
    schedule: Callable[[int], float] | None
    clip_grad: float | None
    device: torch.device
    lr: float  # only for the error message
    start: float  # time.perf_counter() when training started
    deadline: float  # time.perf_counter() value; math.inf without max_minutes


def _train_step(model: nn.Module, batch: Batch, rules: _StepRules, step: int) -> tuple[float, dict[str, float]]:
    """One optimisation step (scheduled rate, loss, clipped gradient, update); refuses a non-finite loss early."""
    if rules.schedule is not None:
        for g, base in zip(rules.optimizer.param_groups, rules.base_lrs):
            g["lr"] = base * rules.schedule(step)
    loss, logs = _split_loss(rules.loss_fn(model, _to_device(batch, rules.device)))
    if not torch.isfinite(loss):
        raise FloatingPointError(
            f"the loss became {loss.item()} at step {step}: lower the learning rate (lr={rules.lr}) "
            "or check the loss function for a log of zero."
        )
    rules.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if rules.clip_grad is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), rules.clip_grad)
    rules.optimizer.step()
    return float(loss.detach()), logs


def _train_epoch(
    model: nn.Module,
    batches: Iterable[Batch],
    rules: _StepRules,
    history: History,
    epoch: int,
    step: int,
    bar: Any,
) -> tuple[float, int]:
    """One pass over `batches`, each step logged in `history` and counted on the training's progress bar;
    stops at the deadline (setting `history.stopped_early`). Returns the epoch's mean training loss and the
    next step number."""
    running, count = 0.0, 0
    for batch in batches:
        value, logs = _train_step(model, batch, rules, step)
        history.steps.append({"step": step, "epoch": epoch, "loss": value, **logs})
        running += value
        count += 1
        step += 1
        if hasattr(bar, "update"):
            bar.update(1)
            if count % 5 == 0:
                bar.set_postfix(loss=f"{running / count:.4f}")
        if time.perf_counter() > rules.deadline:
            history.stopped_early = True
            break
    return running / max(count, 1), step
