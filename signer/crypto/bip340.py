"""BIP-340 Schnorr facts and BIP-341 key-path tweaking on secp256k1, shared by FROST's Taproot mode and
the Bitcoin chain adapter.

BIP-340 public keys and nonces are x-only: 32 bytes naming the point with that x and an *even* y. A
signature (x(R), s) is valid for key P and message m when s·G - e·P = R with
e = int(tagged_hash("BIP0340/challenge", x(R) || x(P) || m)) mod n. Verification here is libsecp256k1's
own (`coincurve.PublicKeyXOnly.verify`), never our arithmetic, so what we release is what Bitcoin nodes
accept.

BIP-341 key path: the output key is Q = P + t·G with P the even-y lift of the internal key and
t = int(tagged_hash("TapTweak", x(P) || merkle_root)) (no merkle root for a key-path-only output);
t >= n is invalid (BIP-341's `taproot_tweak_pubkey` fails; the odds are about 2^-128).
"""

from __future__ import annotations

import hashlib

from coincurve import PublicKeyXOnly

from signer.crypto.secp256k1 import ORDER, Point, base_mul

XONLY_LEN = 32
SIGNATURE_LEN = 64
MERKLE_ROOT_LEN = 32


def tagged_hash(tag: str, data: bytes) -> bytes:
    """BIP-340: SHA256(SHA256(tag) || SHA256(tag) || data)."""
    tag_digest = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(tag_digest + tag_digest + data).digest()


def xonly(p: Point) -> bytes:
    """The 32-byte x-only encoding of a non-identity point (its compressed encoding without the prefix)."""
    return p.encode()[1:]


def has_even_y(p: Point) -> bool:
    return p.encode()[0] == 2


def even_y(p: Point) -> Point:
    """The point with the same x and an even y: p or -p."""
    return p if has_even_y(p) else -p


def taproot_tweak(internal_key: Point, merkle_root: bytes | None = None) -> int:
    """BIP-341's t for the internal key (any y; only x(P) is hashed) and an optional 32-byte merkle root."""
    if merkle_root is not None and len(merkle_root) != MERKLE_ROOT_LEN:
        raise ValueError("a taproot merkle root is 32 bytes")
    t = int.from_bytes(tagged_hash("TapTweak", xonly(internal_key) + (merkle_root or b"")), "big")
    if t >= ORDER:
        raise ValueError("taproot tweak is not below the group order (BIP-341: invalid output key)")
    return t


def output_key(internal_key: Point, merkle_root: bytes | None = None) -> Point:
    """BIP-341's Q = even_y(P) + t·G (Q itself may have odd y; its x is the output key)."""
    q = even_y(internal_key) + base_mul(taproot_tweak(internal_key, merkle_root))
    if q.is_identity:
        raise ValueError("taproot output key is the point at infinity")
    return q


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """BIP-340 verification by libsecp256k1: 32-byte x-only key, any-length message, 64-byte signature.
    A malformed key (wrong length, x not on the curve) or signature is simply invalid."""
    if len(public_key) != XONLY_LEN or len(signature) != SIGNATURE_LEN:
        return False
    try:
        key = PublicKeyXOnly(bytes(public_key))
    except ValueError:
        return False
    return bool(key.verify(bytes(signature), bytes(message)))
