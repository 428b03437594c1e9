"""Strict and cofactored Ed25519 verification (RFC 8032 5.1.7, RFC 9591 6.1), and libsodium scalar arithmetic.

The small-order test signature is built by hand: with a key a, A = [a]B, a nonce r and a point T of order 8,
R' = [r]B + T, c = SHA-512(R' || A || M) mod L and z = r + c·a. Then [z]B = R' - T + [c]A, so the strict
equation [z]B = R' + [c]A fails by exactly T, while [8]T is the identity and the cofactored equation
[8][z]B = [8]R' + [8][c]A holds. The same construction with A' = A + T (and c over A') gives a key with a
small-order component.
"""

from __future__ import annotations

import hashlib

import nacl.bindings as sodium
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from signer.crypto.ed25519 import ED25519 as G
from signer.crypto.ed25519 import L, verify_cofactored
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512 as SUITE

# A point of order 8 (from libsodium's small-order list).
ORDER8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
MSG = b"small-order component"


def _add_any(p: bytes, q: bytes) -> bytes:
    return sodium.crypto_core_ed25519_add(p, q)  # accepts points outside the prime-order subgroup


def _sign(a: int, public: bytes, r_extra: bytes | None = None) -> bytes:
    r = G.random_scalar()
    big_r = G.base_mul(r) if r_extra is None else _add_any(G.base_mul(r), r_extra)
    c = int.from_bytes(hashlib.sha512(big_r + public + MSG).digest(), "little") % L
    return big_r + G.encode_scalar(r + c * a)


def _strict_verdicts(public: bytes, signature: bytes) -> list[bool]:
    """The node's strict verifier, libsodium (pynacl) and OpenSSL (cryptography)."""
    verdicts = [SUITE.verify(public, MSG, signature)]
    try:
        VerifyKey(public).verify(MSG, signature)
        verdicts.append(True)
    except BadSignatureError:
        verdicts.append(False)
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, MSG)
        verdicts.append(True)
    except InvalidSignature:
        verdicts.append(False)
    return verdicts


def test_order8_point_really_has_order_8() -> None:
    p = ORDER8
    for _ in range(3):
        p = _add_any(p, p)
    assert p == G.identity() and not sodium.crypto_core_ed25519_is_valid_point(ORDER8)


def test_honest_signature_passes_both() -> None:
    a = G.random_scalar()
    public = G.base_mul(a)
    sig = _sign(a, public)
    assert _strict_verdicts(public, sig) == [True, True, True]
    assert verify_cofactored(public, MSG, sig) and SUITE.verify_cofactored(public, MSG, sig)


def test_small_order_component_in_r_accepted_only_by_the_cofactored_verifier() -> None:
    a = G.random_scalar()
    public = G.base_mul(a)
    sig = _sign(a, public, r_extra=ORDER8)
    assert _strict_verdicts(public, sig) == [False, False, False]
    assert verify_cofactored(public, MSG, sig)
    assert SUITE.verify_cofactored(public, MSG, sig)
    # still bound to message, key and z
    assert not verify_cofactored(public, MSG + b"!", sig)
    assert not verify_cofactored(G.base_mul(a + 1), MSG, sig)
    assert not verify_cofactored(public, MSG, sig[:32] + G.encode_scalar(int.from_bytes(sig[32:], "little") + 1))


def test_small_order_component_in_the_key_accepted_only_by_the_cofactored_verifier() -> None:
    a = G.random_scalar()
    public = _add_any(G.base_mul(a), ORDER8)
    while True:  # strict verification fails by [c]T, which is the identity when 8 divides c: avoid that case
        sig = _sign(a, public)
        if int.from_bytes(hashlib.sha512(sig[:32] + public + MSG).digest(), "little") % L % 8:
            break
    assert _strict_verdicts(public, sig) == [False, False, False]
    assert verify_cofactored(public, MSG, sig)


def test_cofactored_verifier_refuses_malformed_input() -> None:
    a = G.random_scalar()
    public = G.base_mul(a)
    sig = _sign(a, public)
    z = int.from_bytes(sig[32:], "little")
    not_on_curve = next(bytes([i]) + bytes(31) for i in range(2, 256) if not _on_curve(bytes([i]) + bytes(31)))
    p_field = 2**255 - 19
    cases = [
        (public, sig[:32] + (z + L).to_bytes(32, "little")),  # z not reduced (malleability)
        (public, sig[:63]),
        (public[:31], sig),
        (public, not_on_curve + sig[32:]),
        (not_on_curve, sig),
        (public, (p_field + 1).to_bytes(32, "little") + sig[32:]),  # non-canonical y for R
    ]
    for key, signature in cases:
        assert not verify_cofactored(key, MSG, signature)


def _on_curve(data: bytes) -> bool:
    try:
        _add_any(data, data)
    except RuntimeError:
        return False
    return True


@given(st.integers(0, L - 1), st.integers(0, L - 1), st.integers(0, L - 1))
def test_scalar_muladd_matches_python(a: int, b: int, c: int) -> None:
    assert G.scalar_muladd(a, b, c) == (a * b + c) % L


@pytest.mark.parametrize(("a", "b", "c"), [(0, 0, 0), (L - 1, L - 1, L - 1), (1, 0, L - 1), (L - 1, 1, 1)])
def test_scalar_muladd_edges(a: int, b: int, c: int) -> None:
    assert G.scalar_muladd(a, b, c) == (a * b + c) % L
