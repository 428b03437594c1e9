"""The Ed25519 prime-order subgroup on pynacl's low-level libsodium API.

Points are held as their canonical 32-byte RFC 8032 encodings, because that is what libsodium's
`crypto_core_ed25519_*` and `crypto_scalarmult_ed25519_*noclamp` functions take and return; two equal
points therefore compare equal as bytes. Scalars are Python ints mod L: Python arithmetic on them is far
cheaper than a round trip through libsodium's scalar functions, which are used where the scalars are
secret and per-signature (`scalar_muladd`).

libsodium's no-clamp multiplications refuse a zero scalar and an identity input or result with a bare
RuntimeError; the wrappers below handle those cases explicitly so callers never see that error.

Side channels: points are computed by libsodium (constant time in the scalar). Scalars, including
secret shares and nonces, are Python ints: their arithmetic mod L is variable-time (CPython bignum
operations take time that depends on the values' sizes, and `%` of a 2-limb product is not masked).
That is the node's accepted stance: see signer/crypto/vss.py for why, and where libsodium's scalar
functions are used instead.

Two Ed25519 verification equations (RFC 8032 section 5.1.7 allows both; RFC 9591 section 6.1
recommends the cofactored one for signatures from others):
    strict      [z]B = R + [c]A, as libsodium's crypto_sign_open and RFC 8032's "MAY" check; every
                signature this node outputs must pass it, because wallets and chains verify that way.
                It is the FROST ciphersuite's `verify` (signer/protocols/frost/ciphersuite.py).
    cofactored  [8][z]B = [8]R + [8][c]A (`verify_cofactored` below): the same verdict on every
                signature whose R and A are in the prime-order subgroup, and it also accepts R or A with
                a small-order component. Use it wherever the node checks a signature it did not make,
                so that its verdict agrees with every cofactored verifier (ZIP-215, batch verifiers).
"""

from __future__ import annotations

import hashlib

import nacl.bindings as sodium

from signer.crypto.errors import DecodeError
from signer.crypto.group import Group

L = 2**252 + 27742317777372353535851937790883648493
_IDENTITY = b"\x01" + b"\x00" * 31
_FIELD_P = 2**255 - 19


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

    def scalar_muladd(self, a: int, b: int, c: int) -> int:
        """(a·b + c) mod L by libsodium's constant-time scalar functions."""
        product = sodium.crypto_core_ed25519_scalar_mul(self.encode_scalar(a), self.encode_scalar(b))
        return int.from_bytes(sodium.crypto_core_ed25519_scalar_add(product, self.encode_scalar(c)), "little")


ED25519 = Ed25519Group()


def _is_canonical_point_encoding(data: bytes) -> bool:
    """y < p (the sign bit aside): RFC 8032 section 5.1.3 refuses other encodings."""
    return int.from_bytes(data, "little") & ((1 << 255) - 1) < _FIELD_P


def _times_eight(p: bytes) -> bytes | None:
    """[8]p for any point on the curve (small-order components allowed), or None if p is not on it.
    Three doublings by crypto_core_ed25519_add, which (unlike the scalar multiplications) accepts
    points outside the prime-order subgroup."""
    try:
        for _ in range(3):
            p = sodium.crypto_core_ed25519_add(p, p)
    except RuntimeError:  # libsodium's answer for an encoding that is not a curve point
        return None
    return p


def verify_cofactored(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 section 5.1.7 / RFC 9591 section 6.1 cofactored verification: [8][z]B = [8]R + [8][c]A with
    c = SHA-512(R || A || M) mod L. Encodings of R and A must be canonical and on the curve; z < L."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    r_bytes, z_bytes = bytes(signature[:32]), signature[32:]
    z = int.from_bytes(z_bytes, "little")
    if z >= L or not (_is_canonical_point_encoding(r_bytes) and _is_canonical_point_encoding(public_key)):
        return False
    r8, a8 = _times_eight(r_bytes), _times_eight(bytes(public_key))
    if r8 is None or a8 is None:
        return False
    c = int.from_bytes(hashlib.sha512(r_bytes + bytes(public_key) + message).digest(), "little") % L
    # [8]R and [8]A lie in the prime-order subgroup (or are the identity), where the group operations apply.
    return ED25519.base_mul(8 * z) == ED25519.add(r8, ED25519.mul(c, a8))
