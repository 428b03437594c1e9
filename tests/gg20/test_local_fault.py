"""A bug in this party's own code is an internal error that blames nobody, never a peer's fault.

Party 1's MtA code is made to fail (as a ZeroDivisionError or ValueError would if it had a bug) while it
handles an honest peer's valid messages, inside the very blocks that attribute decoding and proof failures
to the sender. Party 1 must fail with InternalError (no culprit) and no party may name anyone.
"""

from __future__ import annotations

import pytest

from signer.crypto import mta
from signer.protocols.base import InternalError, ProtocolError
from signer.protocols.gg20 import Gg20PresignSession
from tests.support.driver import run

OURS = 1


def _faulty(monkeypatch: pytest.MonkeyPatch, name: str, our_position: int, error: type[Exception]) -> None:
    """Replace mta.<name> by a version that raises `error` when called by party OURS."""
    real = getattr(mta, name)

    def faulty(*args, **kwargs):
        if args[our_position] == OURS:
            raise error("injected local fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(mta, name, faulty)


@pytest.mark.parametrize(
    ("name", "our_position", "error"),
    [("respond_many", 2, ZeroDivisionError), ("finish", 1, ValueError)],
    ids=["bob-respond-zero-division", "alice-finish-value-error"],
)
def test_local_fault_blames_nobody(keys, monkeypatch, name, our_position, error) -> None:
    shares = {i: s.result.key_share for i, s in keys[(2, 3)].items()}
    sessions = {i: Gg20PresignSession(f"local-fault-{name}", i, shares[i], (1, 2, 3)) for i in (1, 2, 3)}
    _faulty(monkeypatch, name, our_position, error)
    failures = run(sessions)
    assert set(failures) == {OURS}
    failure = failures[OURS]
    assert isinstance(failure, InternalError) and not isinstance(failure, ProtocolError)
    assert isinstance(failure.__cause__, error)
    assert sessions[OURS].failed and sessions[OURS].expected() is None
    assert all(getattr(f, "culprits", ()) == () for f in failures.values())
