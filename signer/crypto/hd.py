"""BIP-32 non-hardened public derivation for threshold keys (secp256k1).

A threshold key has no single private key to run BIP-32's private derivation on, but the *public*
(non-hardened) derivation is an additive tweak: for each path element i,

    I = HMAC-SHA512(chain_code, ser_P(K) || ser32(i)),  IL = I[:32], IR = I[32:]
    K_child = K + IL·G,  chain_code_child = IR                       (BIP-32, "CKDpub")

so the child private key is x + Σ IL. Every signer applies the same public tweak (see gg20/sign.py),
and the derived public key equals what any BIP-32 implementation computes from (K, chain_code).
Hardened indices (i ≥ 2^31) need the private key and are rejected.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from signer.crypto.secp256k1 import ORDER, Point, base_mul

HARDENED = 1 << 31
CHAIN_CODE_LEN = 32


class DerivationError(ValueError):
    """A path that cannot be derived publicly: a hardened index, or an (astronomically rare) invalid child."""


@dataclass(frozen=True)
class Derived:
    """The result of deriving along a path: the summed tweak, the child public key (33 bytes), its chain code."""

    tweak: int
    public_key: bytes
    chain_code: bytes


def derive_public(public_key: bytes, chain_code: bytes, path: tuple[int, ...]) -> Derived:
    """Derive along a non-hardened `path` from a compressed public key and a 32-byte chain code."""
    if len(chain_code) != CHAIN_CODE_LEN:
        raise DerivationError("chain code must be 32 bytes")
    point = Point.decode(public_key)
    tweak = 0
    for index in path:
        if not 0 <= index < HARDENED:
            raise DerivationError(f"path element {index} is hardened or out of range; only 0..2^31-1 derive publicly")
        digest = hmac.new(chain_code, point.encode() + index.to_bytes(4, "big"), hashlib.sha512).digest()
        il = int.from_bytes(digest[:32], "big")
        # BIP-32: "In case parse256(IL) >= n or Ki is the point at infinity, the resulting key is invalid".
        if il == 0 or il >= ORDER:
            raise DerivationError(f"path element {index} gives an invalid child key; use the next index")
        point = point + base_mul(il)
        if point.is_identity:
            raise DerivationError(f"path element {index} gives the point at infinity; use the next index")
        tweak = (tweak + il) % ORDER
        chain_code = digest[32:]
    return Derived(tweak, point.encode(), chain_code)
