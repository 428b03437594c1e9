"""The Ed25519 prime-order subgroup on pynacl's low-level libsodium API.

Points are held as their canonical 32-byte RFC 8032 encodings, because that is what libsodium's
`crypto_core_ed25519_*` and `crypto_scalarmult_ed25519_*noclamp` functions take and return; two equal
points therefore compare equal as bytes. Scalars are Python ints mod L: Python arithmetic on them is far
cheaper than a round trip through libsodium's scalar functions.

libsodium's no-clamp multiplications refuse a zero scalar and an identity input or result with a bare
RuntimeError; the wrappers below handle those cases explicitly so callers never see that error.
"""

from __future__ import annotations

import nacl.bindings as sodium

from signer.crypto.errors import DecodeError
from signer.crypto.group import Group

L = 2**252 + 27742317777372353535851937790883648493
_IDENTITY = b"\x01" + b"\x00" * 31


class Ed25519Group(Group[bytes]):
    """Ed25519's subgroup of prime order L with the RFC 8032 base point."""

    name = "ed25519"
    order = L
    scalar_size = 32
    point_size = 32

    def identity(self) -> bytes:
        return _IDENTITY

    def is_identity(self, p: bytes) -> bool:
        return p == _IDENTITY

    def add(self, a: bytes, b: bytes) -> bytes:
        return sodium.crypto_core_ed25519_add(a, b)

    def neg(self, a: bytes) -> bytes:
        return sodium.crypto_core_ed25519_sub(_IDENTITY, a)

    def sub(self, a: bytes, b: bytes) -> bytes:
        return sodium.crypto_core_ed25519_sub(a, b)

    def mul(self, k: int, p: bytes) -> bytes:
        k %= L
        if k == 0 or p == _IDENTITY:
            return _IDENTITY
        # p is a validated prime-order point and 0 < k < L, so the product is never the identity.
        return sodium.crypto_scalarmult_ed25519_noclamp(k.to_bytes(32, "little"), p)

    def base_mul(self, k: int) -> bytes:
        k %= L
        if k == 0:
            return _IDENTITY
        return sodium.crypto_scalarmult_ed25519_base_noclamp(k.to_bytes(32, "little"))

    def encode_point(self, p: bytes) -> bytes:
        if p == _IDENTITY:
            raise ValueError("the identity has no wire encoding here")
        return p

    def decode_point(self, data: bytes) -> bytes:
        if len(data) != 32:
            raise DecodeError("ed25519 point must be 32 bytes")
        data = bytes(data)
        # libsodium's check: canonical y, on the curve, not of small order (so not the identity),
        # and in the prime-order subgroup (multiplication by L gives the identity).
        if not sodium.crypto_core_ed25519_is_valid_point(data):
            raise DecodeError("invalid ed25519 point (non-canonical, small order or outside the subgroup)")
        return data

    def encode_scalar(self, k: int) -> bytes:
        return (k % L).to_bytes(32, "little")

    def _scalar_from_bytes(self, data: bytes) -> int:
        return int.from_bytes(data, "little")


ED25519 = Ed25519Group()
