"""The store's retry policy (backend.retry_transient): a first attempt that works costs no retry machinery;
transient failures are retried, RETRY_ATTEMPTS attempts in all, each retry counted; other errors at once."""

from __future__ import annotations

import pytest
from trio.testing import MockClock

from signer.store.backend import RETRY_ATTEMPTS, retry_transient


class Busy(Exception):
    pass


@pytest.fixture
def clock() -> MockClock:
    """Virtual time: the backoff's pauses pass at once."""
    return MockClock(autojump_threshold=0)


def _attempts(failures: int, error: type[Exception] = Busy):
    calls = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise error("failed")
        return "done"

    return attempt, calls


@pytest.mark.parametrize("failures", [0, 1, RETRY_ATTEMPTS - 1])
async def test_transient_failures_are_retried_and_counted(failures, clock):
    attempt, calls = _attempts(failures)
    retried = []
    assert await retry_transient(attempt, lambda e: isinstance(e, Busy), lambda: retried.append(1)) == "done"
    assert len(calls) == failures + 1 and len(retried) == failures


async def test_the_last_transient_failure_propagates_after_all_attempts(clock):
    attempt, calls = _attempts(RETRY_ATTEMPTS)
    with pytest.raises(Busy):
        await retry_transient(attempt, lambda e: isinstance(e, Busy))
    assert len(calls) == RETRY_ATTEMPTS


async def test_other_errors_are_not_retried(clock):
    attempt, calls = _attempts(1, ValueError)
    with pytest.raises(ValueError):
        await retry_transient(attempt, lambda e: isinstance(e, Busy))
    assert len(calls) == 1
