"""GG20 signing across signer subsets, presign-then-online, BIP-32 derivation, single-use presignatures."""

from __future__ import annotations

import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1

from signer.protocols.gg20 import (
    Gg20PresignSession,
    Gg20SignSession,
    Presignature,
    PresignatureUsed,
    key_share_info,
)
from tests.support.driver import run

from .conftest import assert_valid_signature, digest_of


def _shares(keys, tn) -> dict[int, bytes]:
    return {i: s.result.key_share for i, s in keys[tn].items()}


def _sign(shares, signers, digest, session_id, path=(), presignatures=None):
    sessions = {
        i: Gg20SignSession(
            session_id, i, shares[i], digest, signers, path, None if presignatures is None else presignatures[i]
        )
        for i in signers
    }
    assert run(sessions) == {}
    results = {s.result for s in sessions.values()}
    assert len(results) == 1, "every signer outputs the same signature"
    return results.pop()


@pytest.mark.parametrize(
    ("tn", "signers"),
    [
        ((2, 2), (1, 2)),
        ((2, 3), (1, 2)),
        ((2, 3), (1, 3)),
        ((2, 3), (2, 3)),
        ((2, 3), (1, 2, 3)),
        ((3, 4), (1, 2, 3)),
        ((3, 4), (2, 3, 4)),
    ],
)
def test_sign_verifies_with_independent_libraries(keys, tn, signers) -> None:
    shares = _shares(keys, tn)
    digest = digest_of(f"sign {tn} {signers}")
    result = _sign(shares, signers, digest, f"sign-{tn}-{signers}")
    assert_valid_signature(result, digest, key_share_info(shares[1]).public_key)


def _bip32_child(public_key: bytes, chain_code: bytes, path: tuple[int, ...]) -> bytes:
    node = Bip32Secp256k1.FromPublicKey(public_key, Bip32KeyData(chain_code=chain_code))
    for index in path:
        node = node.ChildKey(index)
    return node.PublicKey().RawCompressed().ToBytes()


def test_presign_then_online_with_derivation(keys) -> None:
    shares = _shares(keys, (2, 3))
    signers = (1, 3)
    presign = {i: Gg20PresignSession("presign-1", i, shares[i], signers) for i in signers}
    assert run(presign) == {}
    presignatures = {i: s.result for i, s in presign.items()}
    assert all(isinstance(p, Presignature) for p in presignatures.values())
    assert len({p.presignature_id for p in presignatures.values()}) == 1
    info = key_share_info(shares[1])
    path = (44, 60, 0, 7)
    digest = digest_of("online with a derived key")
    result = _sign(shares, signers, digest, "online-1", path, presignatures)
    child = _bip32_child(info.public_key, info.chain_code, path)
    assert child != info.public_key
    assert_valid_signature(result, digest, child)
    # single use: the presignature objects have been consumed by the signing above
    with pytest.raises(PresignatureUsed):
        presignatures[1].consume()
    with pytest.raises(PresignatureUsed):
        Gg20SignSession("online-2", 1, shares[1], digest, signers, (), presignatures[1])


def test_sign_with_derivation_in_one_session(keys) -> None:
    shares = _shares(keys, (2, 2))
    info = key_share_info(shares[1])
    path = (0, 5)
    digest = digest_of("derived, full session")
    result = _sign(shares, (1, 2), digest, "derive-full", path)
    assert_valid_signature(result, digest, _bip32_child(info.public_key, info.chain_code, path))


def test_presignature_encoding_is_bound_to_key_and_signers(keys) -> None:
    shares = _shares(keys, (2, 3))
    presign = {i: Gg20PresignSession("presign-2", i, shares[i], (1, 2)) for i in (1, 2)}
    assert run(presign) == {}
    blob = presign[1].result.consume()
    digest = digest_of("x")
    with pytest.raises(ValueError, match="signer set"):
        Gg20SignSession("s", 1, shares[1], digest, (1, 2, 3), (), blob)
    with pytest.raises(ValueError, match="another party"):
        Gg20SignSession("s", 2, shares[2], digest, (1, 2), (), blob)
    other_key = keys[(2, 2)][1].result.key_share
    with pytest.raises(ValueError, match="another party or key"):
        Gg20SignSession("s", 1, other_key, digest, (1, 2), (), blob)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"signers": (1,)}, "at least 2 signers"),
        ({"signers": (2, 3)}, "one of the signers"),
        ({"signers": (1, 4)}, "hold a share"),
        ({"signers": (1, 1)}, "distinct"),
        ({"digest": b"\x00" * 31}, "32 bytes"),
        ({"derivation_path": (2**31,)}, "hardened"),
        ({"party_index": 2}, "belongs to party 1"),
    ],
)
def test_sign_arguments_validated(keys, kwargs, message) -> None:
    args = {
        "session_id": "sid",
        "party_index": 1,
        "key_share": keys[(2, 3)][1].result.key_share,
        "digest": digest_of("m"),
        "signers": (1, 2),
    } | kwargs
    with pytest.raises(ValueError, match=message):
        Gg20SignSession(**args)


def test_round_bookkeeping_and_terminal_failure(keys) -> None:
    from signer.protocols.base import InboxKey, ProtocolError

    shares = _shares(keys, (2, 2))
    session = Gg20PresignSession("bookkeeping", 1, shares[1], (1, 2))
    out = session.start()
    assert {o.to_party for o in out} == {0, 2} and all(o.round == 1 for o in out)
    spec = session.expected()
    assert spec is not None and spec.round == 1
    assert spec.keys() == {InboxKey(2, True), InboxKey(2, False)}
    with pytest.raises(ProtocolError, match="does not match"):
        session.advance({InboxKey(2, True): b""})
    with pytest.raises(ProtocolError, match="already started"):
        session.start()
    # a malformed message fails the session, names the sender, and the session stays dead
    with pytest.raises(ProtocolError) as failed:
        session.advance({InboxKey(2, True): b"\x51\x01", InboxKey(2, False): b""})
    assert failed.value.culprits == (2,)
    assert session.expected() is None
    with pytest.raises(ProtocolError, match="failed"):
        session.advance({InboxKey(2, True): b"", InboxKey(2, False): b""})
    with pytest.raises(ProtocolError):
        session.result  # noqa: B018
    assert "redacted" in repr(session)
