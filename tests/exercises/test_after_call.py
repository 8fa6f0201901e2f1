"""An exercise whose answer includes the state of an argument after the call (a training step that
changes its model in place) is judged on that state, in the visible check and in the grader's verdict."""

from __future__ import annotations

import pytest
import torch
from answer_kit import grader_verdict, visible_message

from lecturekit.exercises import _REGISTRY, Exercise, register


def sgd_step(model: torch.nn.Linear, x: torch.Tensor, lr: float) -> torch.Tensor:
    """One plain SGD step on the mean squared output; returns the loss before the step."""
    loss = (model(x) ** 2).mean()
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.detach()


def _cases(seed: int) -> list[tuple]:
    torch.manual_seed(seed)
    return [(torch.nn.Linear(3, 2), torch.randn(4, 3), 0.1) for _ in range(2)]


@pytest.fixture(scope="module")
def exercise():
    ex = register(Exercise("demo.sgd_step", "sgd_step", sgd_step, _cases, after_call=(0,)))
    yield ex
    _REGISTRY.pop("demo.sgd_step", None)


def test_the_state_after_the_call_is_graded(exercise: Exercise) -> None:
    def no_update(model, x, lr):  # the right loss, but the model is left as it was
        return (model(x) ** 2).mean().detach()

    def right(model, x, lr):
        loss = model(x).pow(2).mean()
        grads = torch.autograd.grad(loss, list(model.parameters()))
        with torch.no_grad():
            for p, g in zip(model.parameters(), grads):
                p.sub_(lr * g)
        return loss.detach()

    assert visible_message("demo.sgd_step", right) is None
    assert grader_verdict(exercise, right).status == "passed"
    shown = visible_message("demo.sgd_step", no_update)
    assert shown is not None and "value 1 of the tuple: bias" in shown
    verdict = grader_verdict(exercise, no_update)
    assert verdict.status == "failed"
