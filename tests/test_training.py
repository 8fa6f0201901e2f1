"""The shared training loop: losses go down, runs repeat, time limits hold, bad input is refused."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lecturekit.training import History, fit, make_batches


def _regression_data(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.01 * torch.randn(n, 1, generator=g)
    return x, y


def _mse(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


def test_fit_lowers_the_loss_and_records_history() -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    history = fit(model, _regression_data(), _mse, epochs=20, batch_size=32, lr=0.05, device="cpu", progress_bar=False)
    assert isinstance(history, History)
    assert len(history.epochs) == 20 and len(history.steps) == 20 * 8
    first, last = history.epoch_values("loss")[0], history.epoch_values("loss")[-1]
    assert last < first / 20
    assert not model.training  # left in eval mode for sampling


def test_fit_is_repeatable_with_the_same_seed() -> None:
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = nn.Linear(4, 1)
        runs.append(fit(model, _regression_data(), _mse, epochs=2, seed=3, device="cpu", progress_bar=False).losses)
    assert runs[0] == runs[1]


def test_fit_logs_extra_values_and_runs_eval_fn() -> None:
    model = nn.Linear(4, 1)

    def loss_fn(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]):
        loss = _mse(m, batch)
        return loss, {"double": 2 * loss.item()}

    history = fit(
        model,
        _regression_data(64),
        loss_fn,
        epochs=2,
        device="cpu",
        progress_bar=False,
        eval_fn=lambda m: {"weight_norm": float(m.weight.norm())},
    )
    assert history.steps[0]["double"] == pytest.approx(2 * history.steps[0]["loss"])
    assert len(history.epoch_values("weight_norm")) == 2


def test_fit_stops_on_the_time_limit() -> None:
    model = nn.Linear(4, 1)
    history = fit(model, _regression_data(), _mse, epochs=None, max_minutes=0.0, device="cpu", progress_bar=False)
    assert history.stopped_early and len(history.steps) == 1


def test_fit_refuses_endless_or_empty_training() -> None:
    model = nn.Linear(4, 1)
    with pytest.raises(ValueError, match="epochs or max_minutes"):
        fit(model, _regression_data(), _mse, epochs=None)
    with pytest.raises(ValueError, match="empty data set"):
        fit(model, (torch.zeros(0, 4), torch.zeros(0, 1)), _mse, device="cpu", progress_bar=False)


def test_fit_stops_with_a_clear_message_when_the_loss_explodes() -> None:
    model = nn.Linear(4, 1)
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        fit(model, _regression_data(), lambda m, b: _mse(m, b) * float("nan"), device="cpu", progress_bar=False)


def test_make_batches_covers_every_row_once() -> None:
    data = torch.arange(10)
    batches = make_batches(data, 3, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(torch.cat(batches).tolist()) == list(range(10))


def test_steps_are_numbered_across_epochs_and_the_schedule_sees_every_step() -> None:
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    seen: list[int] = []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    lrs: list[float] = []

    def schedule(step: int) -> float:
        seen.append(step)
        return 1.0 / (1 + step)

    def loss(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        lrs.append(optimizer.param_groups[0]["lr"])
        return _mse(m, batch)

    history = fit(
        model,
        _regression_data(64),
        loss,
        epochs=3,
        batch_size=16,
        optimizer=optimizer,
        schedule=schedule,
        device="cpu",
        progress_bar=False,
    )
    assert seen == list(range(12))  # 4 batches x 3 epochs, numbered on across epochs
    assert [s["step"] for s in history.steps] == seen
    assert [s["epoch"] for s in history.steps] == [0] * 4 + [1] * 4 + [2] * 4
    assert lrs == pytest.approx([0.1 / (1 + s) for s in seen])
    epoch_means = [sum(s["loss"] for s in history.steps[4 * e : 4 * e + 4]) / 4 for e in range(3)]
    assert history.epoch_values("loss") == pytest.approx(epoch_means)


def test_one_progress_bar_for_the_whole_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bar per epoch stacks dozens of bars in a notebook: fit opens one, as long as all the epochs' steps."""
    import lecturekit.training as training

    bars = []

    class Bar:
        def __init__(self, **kwargs) -> None:
            self.kwargs, self.steps, self.closed, self.descriptions = kwargs, 0, False, []
            bars.append(self)

        def update(self, n: int) -> None:
            self.steps += n

        def set_postfix(self, **kwargs) -> None:
            pass

        def set_description(self, text: str) -> None:
            self.descriptions.append(text)

        def close(self) -> None:
            self.closed = True

    monkeypatch.setattr(training, "progress", lambda iterable=None, **kwargs: Bar(**kwargs))
    x, y = _regression_data()
    fit(torch.nn.Linear(x.shape[1], 1), (x, y), _mse, epochs=3, batch_size=32, device="cpu")
    steps_per_epoch = -(-len(x) // 32)
    assert len(bars) == 1 and bars[0].kwargs["total"] == 3 * steps_per_epoch
    assert bars[0].steps == 3 * steps_per_epoch and bars[0].closed
    assert bars[0].descriptions[-1].endswith("epoch 3")
