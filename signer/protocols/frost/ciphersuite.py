"""FROST ciphersuites: a group plus the RFC 9591 hash functions H1..H5 (and the DKG's HDKG).

The protocol core (`core`, `dkg`) only talks to a `Ciphersuite`, so a new suite (secp256k1, BIP-340)
is one subclass here and nothing else. `FROST_ED25519_SHA512` is RFC 9591 section 6.1 exactly and
`FROST_SECP256K1_SHA256` section 6.5 exactly; the BIP-340 (Taproot) signing variant of the latter lives in
`taproot`, through the three hooks below that RFC suites leave at their defaults.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import Any

import nacl.bindings as sodium
from nacl.exceptions import BadSignatureError

from signer.crypto.ed25519 import ED25519, Ed25519Group, verify_cofactored
from signer.crypto.group import Group
from signer.crypto.hash_to_field import hash_to_field_sha256
from signer.crypto.secp256k1 import SECP256K1, Secp256k1Group
from signer.protocols.base import DecodeError


class Ciphersuite(ABC):
    """What the FROST core needs from a suite: RFC 9591 section 6's group and hash functions."""

    suite_id: int  # the one-byte suite tag in stored key packages
    context_string: bytes
    group: Group

    @abstractmethod
    def H1(self, m: bytes) -> int:
        """Binding factor derivation (scalar)."""

    @abstractmethod
    def H2(self, m: bytes) -> int:
        """Challenge computation (scalar)."""

    @abstractmethod
    def H3(self, m: bytes) -> int:
        """Nonce generation (scalar)."""

    @abstractmethod
    def H4(self, m: bytes) -> bytes:
        """Message hash inside the binding factor input."""

    @abstractmethod
    def H5(self, m: bytes) -> bytes:
        """Commitment-list hash inside the binding factor input."""

    @abstractmethod
    def HDKG(self, m: bytes) -> int:
        """The DKG proof-of-knowledge challenge (outside the RFC; as the ZcashFoundation crates do)."""

    def challenge(self, group_commitment: Any, group_public_key: Any, message: bytes) -> int:
        """RFC 9591 4.6 compute_challenge: H2(SerializeElement(R) || SerializeElement(PK) || msg)."""
        g = self.group
        return self.H2(g.encode_point(group_commitment) + g.encode_point(group_public_key) + message)

    def negates_nonces(self, group_commitment: Any) -> bool:
        """Whether every signer negates its nonces (so the signature's R is -R). RFC suites never do; a
        BIP-340 signature carries only x(R) and means the even-y point, so Taproot negates an odd R."""
        return False

    def encode_signature(self, group_commitment: Any, z: int) -> bytes:
        """RFC 9591 appendix A: SerializeElement(R) || SerializeScalar(z)."""
        return self.group.encode_point(group_commitment) + self.group.encode_scalar(z)

    def verify(self, group_public_key: Any, message: bytes, signature: bytes) -> bool:
        """Schnorr verification of (R, z): z * G == R + H2(R || PK || msg) * PK (RFC 9591 appendix B).
        Suites may override it with an equivalent, faster native verifier."""
        g = self.group
        if len(signature) != g.point_size + g.scalar_size:
            return False
        try:
            r = g.decode_point(signature[: g.point_size])
            z = g.decode_scalar(signature[g.point_size :])
        except DecodeError:
            return False
        c = self.H2(signature[: g.point_size] + g.encode_point(group_public_key) + message)
        return g.base_mul(z) == g.add(r, g.mul(c, group_public_key))

    def verify_cofactored(self, group_public_key: Any, message: bytes, signature: bytes) -> bool:
        """The verifier for a signature this node did not make (RFC 9591 section 6.1 recommends the
        cofactored equation). In a prime-order group it is `verify`; suites over a curve with a cofactor
        override it."""
        return self.verify(group_public_key, message, signature)


class Ed25519Sha512(Ciphersuite):
    """FROST(Ed25519, SHA-512), RFC 9591 section 6.1; signatures verify under RFC 8032."""

    suite_id = 1
    context_string = b"FROST-ED25519-SHA512-v1"
    group: Ed25519Group = ED25519

    def _scalar(self, *parts: bytes) -> int:
        # RFC 9591 6.1: "interpret the 64-byte digest as a little-endian integer, reduce mod L".
        return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % self.group.order

    def H1(self, m: bytes) -> int:
        return self._scalar(self.context_string, b"rho", m)

    def H2(self, m: bytes) -> int:
        # No context prefix: the challenge must equal RFC 8032's for plain Ed25519 verifiers.
        return self._scalar(m)

    def H3(self, m: bytes) -> int:
        return self._scalar(self.context_string, b"nonce", m)

    def H4(self, m: bytes) -> bytes:
        return hashlib.sha512(self.context_string + b"msg" + m).digest()

    def H5(self, m: bytes) -> bytes:
        return hashlib.sha512(self.context_string + b"com" + m).digest()

    def HDKG(self, m: bytes) -> int:
        return self._scalar(self.context_string, b"dkg", m)

    def verify(self, group_public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Strict RFC 8032 verification by libsodium, [z]B = R + [c]A (its checks are a superset of the
        generic Schnorr check): for the signatures this node outputs, which every verifier must accept.
        `verify_cofactored` is the one for signatures from others (ed25519.py compares the two)."""
        if len(signature) != 64:
            return False
        try:
            sodium.crypto_sign_open(signature + message, group_public_key)
        except BadSignatureError:
            return False
        return True

    def verify_cofactored(self, group_public_key: bytes, message: bytes, signature: bytes) -> bool:
        """RFC 9591 section 6.1: [8][z]B = [8]R + [8][c]PK (signer.crypto.ed25519.verify_cofactored)."""
        return verify_cofactored(group_public_key, message, signature)


class Secp256k1Sha256(Ciphersuite):
    """FROST(secp256k1, SHA-256), RFC 9591 section 6.5: H1, H2, H3 (and HDKG) are RFC 9380 hash_to_field
    with expand_message_xmd(SHA-256) and DST = context string || tag; H4, H5 are SHA-256 with a prefix."""

    suite_id = 2
    context_string = b"FROST-secp256k1-SHA256-v1"
    group: Secp256k1Group = SECP256K1

    def _scalar(self, tag: bytes, m: bytes) -> int:
        return hash_to_field_sha256(m, self.context_string + tag, self.group.order)[0]

    def H1(self, m: bytes) -> int:
        return self._scalar(b"rho", m)

    def H2(self, m: bytes) -> int:
        return self._scalar(b"chal", m)

    def H3(self, m: bytes) -> int:
        return self._scalar(b"nonce", m)

    def H4(self, m: bytes) -> bytes:
        return hashlib.sha256(self.context_string + b"msg" + m).digest()

    def H5(self, m: bytes) -> bytes:
        return hashlib.sha256(self.context_string + b"com" + m).digest()

    def HDKG(self, m: bytes) -> int:
        # As ZcashFoundation's frost-secp256k1: hash_to_field with the "dkg" tag.
        return self._scalar(b"dkg", m)


FROST_ED25519_SHA512 = Ed25519Sha512()
FROST_SECP256K1_SHA256 = Secp256k1Sha256()
SUITES: dict[int, Ciphersuite] = {s.suite_id: s for s in (FROST_ED25519_SHA512, FROST_SECP256K1_SHA256)}
