"""Identity keys and signatures (`signer.crypto.identity`): checked against pynacl and `cryptography` directly,
with the malformed inputs an attacker would send (wrong sizes, points off the curve, non-canonical DER)."""

from __future__ import annotations

import nacl.signing
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from signer.crypto.identity import ECDSA_P256_SHA256, ED25519, IdentityError, IdentityKey, fingerprint, verify

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # the order of P-256


def test_ed25519_signatures_are_rfc8032():
    key = IdentityKey.generate(ED25519)
    signature = key.sign(b"m")
    nacl.signing.VerifyKey(key.public_key).verify(b"m", signature)
    verify(ED25519, key.public_key, b"m", signature)
    for bad in (signature[:-1], signature + b"\x00", bytes(64), b""):
        with pytest.raises(IdentityError):
            verify(ED25519, key.public_key, b"m", bad)
    with pytest.raises(IdentityError):
        verify(ED25519, key.public_key, b"other", signature)
    with pytest.raises(IdentityError):
        verify(ED25519, key.public_key[:31], b"m", signature)


def test_p256_signatures_are_der_and_both_s_values_verify():
    device = ec.generate_private_key(ec.SECP256R1())
    key = IdentityKey.from_p256(device)
    signature = key.sign(b"m")
    device.public_key().verify(signature, b"m", ec.ECDSA(hashes.SHA256()))
    verify(ECDSA_P256_SHA256, key.public_key, b"m", signature)
    r, s = decode_dss_signature(signature)
    verify(ECDSA_P256_SHA256, key.public_key, b"m", encode_dss_signature(r, N - s))  # secure hardware's high s
    uncompressed = device.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    verify(ECDSA_P256_SHA256, uncompressed, b"m", signature)
    # Non-canonical DER (a long-form length, trailing bytes) and garbage are refused.
    body = signature[2:]
    for bad in (b"\x30\x81" + bytes([len(body)]) + body, signature + b"\x00", b"\x30\x00", bytes(70)):
        with pytest.raises(IdentityError):
            verify(ECDSA_P256_SHA256, key.public_key, b"m", bad)


def test_malformed_keys_and_schemes_are_refused():
    for scheme, public_key in [
        (ECDSA_P256_SHA256, b"\x02" + b"\xff" * 32),  # x beyond the field: no point
        (ECDSA_P256_SHA256, b"\x04" + bytes(64)),
        (ECDSA_P256_SHA256, bytes(32)),
        (3, bytes(32)),
        (0, bytes(32)),
    ]:
        with pytest.raises(IdentityError):
            verify(scheme, public_key, b"m", b"\x30\x06\x02\x01\x01\x02\x01\x01")


def test_key_file_round_trip_and_fingerprint():
    for scheme in (ED25519, ECDSA_P256_SHA256):
        key = IdentityKey.generate(scheme)
        assert IdentityKey.from_text(key.to_text()) == key
        assert key.secret.hex() not in repr(key)
    for text in ("rsa:00", "ed25519:zz", "ed25519:00", "ecdsa-p256-sha256:" + "00" * 32):
        with pytest.raises(IdentityError):
            IdentityKey.from_text(text)
    assert fingerprint(bytes(32)) == "6668 7aad f862 bd77"  # SHA-256 of 32 zero bytes starts 66687aadf862bd77
