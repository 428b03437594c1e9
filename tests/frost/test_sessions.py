"""DKG and signing sessions run with all parties in memory; signatures checked by pynacl and cryptography."""

import itertools

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from signer.protocols.base import DkgResult, SignResult
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession, key_share_info, public_key_of
from tests.support import driver


def run_dkg(t: int, n: int, session_id: str = "dkg-1") -> dict[int, DkgResult]:
    parties = tuple(range(1, n + 1))
    sessions = {i: FrostDkgSession(session_id, i, t, parties) for i in parties}
    driver.run_ok(sessions)
    return {i: s.result for i, s in sessions.items()}


def run_sign(keys: dict[int, DkgResult], signers: tuple[int, ...], message: bytes) -> dict[int, SignResult]:
    sessions = {i: FrostSignSession("sign-1", i, keys[i].key_share, message, signers) for i in signers}
    driver.run_ok(sessions)
    return {i: s.result for i, s in sessions.items()}


@pytest.mark.parametrize(("t", "n"), [(2, 2), (2, 3), (3, 5)])
def test_dkg_then_every_signer_subset(t: int, n: int) -> None:
    keys = run_dkg(t, n)
    public_keys = {r.public_key for r in keys.values()}
    assert len(public_keys) == 1
    pk = public_keys.pop()
    assert len(pk) == 32
    for i, r in keys.items():
        info = key_share_info(r.key_share)
        assert (info.threshold, info.parties, info.party_index, info.public_key) == (t, tuple(range(1, n + 1)), i, pk)
        assert public_key_of(r.key_share) == pk
        assert r.key_share.hex() not in repr(r)
    for signers in itertools.combinations(range(1, n + 1), t):
        message = f"pay {signers}".encode()
        results = run_sign(keys, signers, message)
        sigs = {r.signature for r in results.values()}
        assert len(sigs) == 1
        sig = sigs.pop()
        assert all(r.public_key == pk and r.recovery_id == 0 for r in results.values())
        VerifyKey(pk).verify(message, sig)
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, message)
        with pytest.raises(BadSignatureError):
            VerifyKey(pk).verify(message + b"x", sig)
        with pytest.raises(InvalidSignature):
            Ed25519PublicKey.from_public_bytes(pk).verify(sig, message + b"x")


def test_more_signers_than_threshold() -> None:
    keys = run_dkg(2, 3)
    results = run_sign(keys, (1, 2, 3), b"all three")
    sig = results[1].signature
    VerifyKey(results[1].public_key).verify(b"all three", sig)


def test_empty_message_and_fresh_nonces() -> None:
    keys = run_dkg(2, 2)
    a = run_sign(keys, (1, 2), b"")[1].signature
    b = run_sign(keys, (1, 2), b"")[1].signature
    assert a[:32] != b[:32]  # new nonces every signing
    VerifyKey(keys[1].public_key).verify(b"", a)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("s", 1, 1, (1, 2)), "threshold"),
        (("s", 1, 3, (1, 2)), "threshold"),
        (("s", 3, 2, (1, 2)), "party_index"),
        (("s", 1, 2, (1, 1)), "distinct"),
        (("s", 0, 2, (0, 1)), "1-based"),
        (("s", 1, 2, [1, 2]), "tuple"),
        (("", 1, 2, (1, 2)), "session_id"),
    ],
)
def test_dkg_constructor_validation(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FrostDkgSession(*args)


def test_sign_constructor_validation() -> None:
    keys = run_dkg(2, 3)
    share = keys[1].key_share
    with pytest.raises(ValueError, match="at least 2"):
        FrostSignSession("s", 1, share, b"m", (1,))
    with pytest.raises(ValueError, match="one of the signers"):
        FrostSignSession("s", 1, share, b"m", (2, 3))
    with pytest.raises(ValueError, match="party_index"):
        FrostSignSession("s", 2, share, b"m", (1, 2))
    with pytest.raises(ValueError, match="hold a share"):
        FrostSignSession("s", 1, share, b"m", (1, 4))
    with pytest.raises(ValueError, match="distinct"):
        FrostSignSession("s", 1, share, b"m", (1, 1, 2))
    with pytest.raises(ValueError, match="key share"):
        FrostSignSession("s", 1, share[:-1], b"m", (1, 2))


def test_secrets_redacted_in_repr() -> None:
    from signer.protocols.frost.keys import FrostKeyShare

    keys = run_dkg(2, 2)
    share = FrostKeyShare.decode(keys[1].key_share)
    secret = share.key_package.signing_share
    assert str(secret) not in repr(share)
    assert share.suite.group.encode_scalar(secret).hex() not in repr(share)
    assert FrostKeyShare.decode(share.encode()) == share
