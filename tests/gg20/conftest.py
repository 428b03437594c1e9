"""Shared fixtures for the GG20 tests: committed pre-parameters and one key generation per (t, n).

GG20 with 2048-bit Paillier moduli is heavy, so each (t, n) key is generated once per test session
and reused by the signing tests; keygen itself is asserted in test_keygen.py on these same runs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from coincurve import PublicKey
from ecdsa import SECP256k1, VerifyingKey
from ecdsa.util import sigdecode_string, sigencode_der

from signer.crypto.preparams import PreParams, load_fixture_preparams
from signer.crypto.secp256k1 import ORDER
from signer.crypto.vss import lagrange_at_zero
from signer.protocols.base import SignResult
from signer.protocols.gg20 import Gg20KeygenSession, Gg20PresignSession, Gg20SignSession
from signer.protocols.gg20.keyshare import Gg20KeyShare
from tests.support.driver import run

FIXTURES = Path(__file__).resolve().parents[1] / "paillier" / "fixtures" / "preparams.json"


@pytest.fixture(scope="session")
def preparams() -> list[PreParams]:
    return load_fixture_preparams(FIXTURES)


def keygen(preparams: list[PreParams], t: int, n: int, session_id: str) -> dict[int, Gg20KeygenSession]:
    parties = tuple(range(1, n + 1))
    sessions = {i: Gg20KeygenSession(session_id, i, t, parties, preparams[i - 1]) for i in parties}
    assert run(sessions) == {}
    return sessions


@pytest.fixture(scope="session")
def keys(preparams: list[PreParams]) -> dict[tuple[int, int], dict[int, Gg20KeygenSession]]:
    """Finished keygen sessions for (2, 2), (2, 3) and (3, 4), keyed by (t, n) then party."""
    return {(t, n): keygen(preparams, t, n, f"keygen-{t}-of-{n}") for t, n in [(2, 2), (2, 3), (3, 4)]}


def digest_of(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def assert_valid_signature(result: SignResult, digest: bytes, public_key: bytes) -> None:
    """Verified by coincurve (libsecp256k1) and the pure-Python `ecdsa` package; low s; recovery id works."""
    assert result.public_key == public_key
    r = int.from_bytes(result.signature[:32], "big")
    s = int.from_bytes(result.signature[32:], "big")
    assert 0 < r < ORDER and 0 < s <= ORDER // 2
    assert PublicKey(public_key).verify(sigencode_der(r, s, ORDER), digest, hasher=None)
    vk = VerifyingKey.from_string(public_key, curve=SECP256k1)
    assert vk.verify_digest(result.signature, digest, sigdecode=sigdecode_string)
    assert result.recovery_id in (0, 1)
    recovered = PublicKey.from_signature_and_message(
        result.signature + bytes([result.recovery_id]), digest, hasher=None
    )
    assert recovered.format(compressed=True) == public_key


def secret_of(shares: dict[int, Gg20KeyShare]) -> int:
    """The secret these shares interpolate to at zero (the key's x iff they are t consistent shares)."""
    signers = tuple(sorted(shares))
    return sum(s.secret_share * lagrange_at_zero(i, signers, ORDER) for i, s in shares.items()) % ORDER


def presign_and_sign(shares: dict[int, bytes], signers: tuple[int, ...], digest: bytes, sid: str):
    """Presign, then sign online with the presignatures: (failures, None) if a phase fails, else ({}, the
    one signature every signer output)."""
    presign = {i: Gg20PresignSession(f"{sid}-pre", i, shares[i], signers) for i in signers}
    failures = run(presign)
    if failures:
        return failures, None
    sign = {i: Gg20SignSession(f"{sid}-sign", i, shares[i], digest, signers, (), presign[i].result) for i in signers}
    failures = run(sign)
    if failures:
        return failures, None
    results = {s.result for s in sign.values()}
    assert len(results) == 1
    return {}, results.pop()
