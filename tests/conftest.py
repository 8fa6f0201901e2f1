"""Set-up shared by every test: the workers' schedule (xdist_schedule.py), nbval's figures kept for the claims
tests (nbval_claims.py), and torch on one CPU thread. The models under test are small, and on a
shared 2-core machine extra threads only wait on each other (tests once set this module by module)."""

from __future__ import annotations

from collections.abc import Iterator

import nbval_claims
import pytest
import torch
import xdist_schedule


def pytest_configure(config: pytest.Config) -> None:
    # hooks for every collected item, nbval's notebook cells under solutions/ too (a conftest's own hooks
    # reach only the items below it)
    config.pluginmanager.register(xdist_schedule, "lecturekit-schedule")
    config.pluginmanager.register(nbval_claims, "lecturekit-nbval-claims")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
