"""Set-up shared by every test: torch on one CPU thread. The models under test are small, and on a
shared 2-core machine extra threads only wait on each other (tests once set this module by module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
