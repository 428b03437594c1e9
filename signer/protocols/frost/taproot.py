"""FROST for Bitcoin Taproot: BIP-340 signatures under the BIP-341 output key of a FROST(secp256k1) group key.

The construction follows ZcashFoundation's `frost-secp256k1-tr` crate (github.com/ZcashFoundation/frost,
crate frost-secp256k1-tr, its `sign_with_tweak` / `aggregate_with_tweak`), whose facts are:
  * context string "FROST-secp256k1-SHA256-TR-v1" for H1, H3, H4, H5 (RFC 9591 6.5's functions otherwise);
    H2 is BIP-340's challenge hash, e = tagged_hash("BIP0340/challenge", x(R) || x(Q) || m) mod n;
  * the key is made even-y (signing shares, verifying shares and group key all negated if the group key
    has odd y), shifted by the BIP-341 tweak t (s_i + t, Y_i + t·G: Lagrange coefficients at 0 sum to 1),
    then made even-y again, so every signer signs for the even-y lift Q of the x-only output key;
  * the binding factors bind the 33-byte encoding of that Q (0x02 || x(Q));
  * if the group commitment R has odd y, every signer negates its nonces and share verification negates
    each commitment share, so the signature's x(R) names an even-y R;
  * the signature is x(R) || z (64 bytes).
One difference, deliberate: ZF's DKG for this suite pre-tweaks the DKG key; here the DKG key (the FROST
(secp256k1) key share, suite 2) stays the BIP-341 *internal* key and the tweak is applied per signing, so
one key serves plain RFC 9591 signing, key-path-only outputs and outputs with a script tree (merkle root).

Every share is verified before aggregation (culprits named by the session) and the aggregate is verified
by libsecp256k1's BIP-340 verifier against x(Q) before it is released (`Secp256k1TrSha256.verify`).
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto import bip340
from signer.crypto.secp256k1 import Point
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256, Secp256k1Sha256
from signer.protocols.frost.tweak import K, shift


class Secp256k1TrSha256(Secp256k1Sha256):
    """FROST(secp256k1, SHA-256) signing with BIP-340 output. A signing variant, not a key suite: it signs
    with FROST(secp256k1) key shares, so it shares their `suite_id`."""

    context_string = b"FROST-secp256k1-SHA256-TR-v1"

    def H2(self, m: bytes) -> int:
        return int.from_bytes(bip340.tagged_hash("BIP0340/challenge", m), "big") % self.group.order

    def challenge(self, group_commitment: Point, group_public_key: Point, message: bytes) -> int:
        return self.H2(bip340.xonly(group_commitment) + bip340.xonly(group_public_key) + message)

    def negates_nonces(self, group_commitment: Point) -> bool:
        return not bip340.has_even_y(group_commitment)

    def encode_signature(self, group_commitment: Point, z: int) -> bytes:
        return bip340.xonly(group_commitment) + self.group.encode_scalar(z)

    def verify(self, group_public_key: Point, message: bytes, signature: bytes) -> bool:
        """BIP-340 verification by libsecp256k1 against x(group_public_key)."""
        return bip340.verify(bip340.xonly(group_public_key), message, signature)


FROST_SECP256K1_TR_SHA256 = Secp256k1TrSha256()


@dataclass(frozen=True)
class TaprootOutput:
    """Sign for a BIP-341 output key: key path only (no merkle root) or committing to a script tree."""

    merkle_root: bytes | None = None

    def __post_init__(self) -> None:
        if self.merkle_root is not None and (
            not isinstance(self.merkle_root, bytes) or len(self.merkle_root) != bip340.MERKLE_ROOT_LEN
        ):
            raise ValueError("a taproot merkle root is 32 bytes")


def output_key_share(key: K, output: TaprootOutput) -> K:
    """The key share that signs for `output`'s even-y output key Q (see the module docstring)."""
    if key.suite.suite_id != FROST_SECP256K1_SHA256.suite_id:
        raise ValueError("taproot output needs a FROST(secp256k1) key share")
    internal = key.public.group_public_key
    t = bip340.taproot_tweak(internal, output.merkle_root)
    key = shift(key, t, negate=not bip340.has_even_y(internal), suite=FROST_SECP256K1_TR_SHA256)
    if not bip340.has_even_y(key.public.group_public_key):
        key = shift(key, 0, negate=True)
    return key


def output_key(group_public_key: bytes, output: TaprootOutput = TaprootOutput()) -> bytes:
    """The 32-byte x-only BIP-341 output key of a 33-byte FROST(secp256k1) group key."""
    return bip340.xonly(bip340.output_key(Point.decode(group_public_key), output.merkle_root))
