"""End-to-end payload encryption: round trip, and every change of key, context or bytes is refused."""

import pytest

from signer.crypto import e2e


def _ctx(**kw: object) -> bytes:
    args = {"label": b"frost-dkg", "session_id": "s1", "sender": 1, "recipient": 2, "round": 2} | kw
    return e2e.context(**args)  # type: ignore[arg-type]


def test_round_trip_and_redaction() -> None:
    alice, bob = e2e.E2EKeyPair.generate(), e2e.E2EKeyPair.generate()
    sealed = alice.seal(bob.public, b"share", _ctx())
    assert b"share" not in sealed
    assert len(sealed) == len(b"share") + e2e.OVERHEAD
    assert bob.open(alice.public, sealed, _ctx()) == b"share"
    assert "redacted" in repr(alice)


@pytest.mark.parametrize(
    "change",
    [
        {"session_id": "s2"},
        {"sender": 3},
        {"recipient": 3},
        {"round": 3},
        {"label": b"gg20"},
    ],
)
def test_context_is_bound(change: dict) -> None:
    alice, bob = e2e.E2EKeyPair.generate(), e2e.E2EKeyPair.generate()
    sealed = alice.seal(bob.public, b"share", _ctx())
    with pytest.raises(e2e.E2EError):
        bob.open(alice.public, sealed, _ctx(**change))


def test_tampering_wrong_keys_and_malformed() -> None:
    alice, bob, eve = (e2e.E2EKeyPair.generate() for _ in range(3))
    sealed = alice.seal(bob.public, b"share", _ctx())
    for i in (0, 12, len(sealed) - 1):
        bad = bytearray(sealed)
        bad[i] ^= 1
        with pytest.raises(e2e.E2EError):
            bob.open(alice.public, bytes(bad), _ctx())
    with pytest.raises(e2e.E2EError):
        eve.open(alice.public, sealed, _ctx())
    with pytest.raises(e2e.E2EError):
        bob.open(eve.public, sealed, _ctx())
    with pytest.raises(e2e.E2EError):
        bob.open(alice.public, sealed[:10], _ctx())
    with pytest.raises(e2e.E2EError):
        bob.open(bytes(32), sealed, _ctx())  # low-order X25519 key
    with pytest.raises(e2e.E2EError):
        alice.seal(b"short", b"x", _ctx())
