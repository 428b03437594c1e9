from __future__ import annotations

import pytest
from trio.testing import MockClock


@pytest.fixture
def clock() -> MockClock:
    """Virtual time that jumps whenever every task is blocked: deadlines fire at exact virtual times."""
    return MockClock(autojump_threshold=0)
