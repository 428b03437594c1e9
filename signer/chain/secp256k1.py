"""The secp256k1 facts the Ethereum and Bitcoin adapters share: key parsing and (r, s) validation.

Chains disagree on encodings but agree on the math, so the checks live once: a public key must be a
valid curve point (coincurve/libsecp256k1 rejects anything else), and r, s must lie in [1, n-1].
Unlike `signer.crypto.secp256k1.Point.decode`, wallets hand us uncompressed keys too, so both forms parse.
"""

from __future__ import annotations

import coincurve

from signer.crypto.secp256k1 import ORDER as N

HALF_N = N // 2


def parse_public_key(public_key: bytes) -> coincurve.PublicKey:
    """A secp256k1 point from 33-byte compressed or 65-byte uncompressed SEC1 bytes; ValueError otherwise."""
    if not isinstance(public_key, (bytes, bytearray)):
        raise ValueError("public key must be bytes")
    if len(public_key) not in (33, 65):
        raise ValueError(f"secp256k1 public key must be 33 or 65 bytes, got {len(public_key)}")
    try:
        return coincurve.PublicKey(bytes(public_key))
    except ValueError as exc:
        raise ValueError("public key is not a valid secp256k1 point") from exc


def split_signature(signature: bytes) -> tuple[int, int]:
    """(r, s) from a 64-byte r||s signature, each checked to lie in [1, n-1]."""
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != 64:
        raise ValueError("ECDSA signature must be 64 bytes r||s")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        raise ValueError("ECDSA signature r or s out of range [1, n-1]")
    return r, s


def check_recovery_id(recovery_id: int) -> int:
    """The recovery id, 0 or 1; 2 and 3 (x(R) >= n) practically never occur and are refused."""
    if not isinstance(recovery_id, int) or isinstance(recovery_id, bool) or recovery_id not in (0, 1):
        raise ValueError("recovery_id must be 0 or 1")
    return recovery_id
