"""A bug in this party's own code is an internal error that blames nobody, never a peer's fault.

Party 1's own FROST steps are made to fail (a ZeroDivisionError or ValueError, as a bug would raise)
while every peer is honest: party 1 must fail with InternalError (no culprit) and nobody is named.
"""

from __future__ import annotations

import pytest

from signer.protocols.base import InternalError, ProtocolError
from signer.protocols.frost import core, dkg
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from tests.support import driver

OURS = 1


def _key_shares() -> dict[int, bytes]:
    sessions = {i: FrostDkgSession("fault-dkg", i, 2, (1, 2, 3)) for i in (1, 2, 3)}
    driver.run_ok(sessions)
    return {i: s.result.key_share for i, s in sessions.items()}


def _assert_only_ours_failed_blaming_nobody(sessions, error: type[Exception]) -> None:
    failures = driver.run(sessions)
    assert set(failures) == {OURS}
    failure = failures[OURS]
    assert isinstance(failure, InternalError) and not isinstance(failure, ProtocolError)
    assert isinstance(failure.__cause__, error)
    assert sessions[OURS].failed and sessions[OURS].expected() is None


@pytest.mark.parametrize("error", [ZeroDivisionError, ValueError])
def test_local_fault_in_signing_blames_nobody(monkeypatch, error) -> None:
    shares = _key_shares()
    real = core.sign

    def faulty(suite, key_package, nonces, ctx):
        if key_package.identifier == OURS:
            raise error("injected local fault")
        return real(suite, key_package, nonces, ctx)

    monkeypatch.setattr(core, "sign", faulty)
    sessions = {i: FrostSignSession("fault-sign", i, shares[i], b"m", (1, 2, 3)) for i in (1, 2, 3)}
    _assert_only_ours_failed_blaming_nobody(sessions, error)


@pytest.mark.parametrize("error", [ZeroDivisionError, ValueError])
def test_local_fault_in_dkg_blames_nobody(monkeypatch, error) -> None:
    real = dkg.part3

    def faulty(suite, secret, received):
        if secret.round1.identifier == OURS:
            raise error("injected local fault")
        return real(suite, secret, received)

    monkeypatch.setattr(dkg, "part3", faulty)
    sessions = {i: FrostDkgSession("fault-dkg", i, 2, (1, 2, 3)) for i in (1, 2, 3)}
    _assert_only_ours_failed_blaming_nobody(sessions, error)
