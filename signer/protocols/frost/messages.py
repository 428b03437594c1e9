"""FROST wire messages: one dataclass per round payload, each with a versioned, length-checked encoding.

Every payload starts with a kind byte and a version byte (`signer.crypto.codec`); scalars and points
use the suite group's RFC encodings. Decoders validate everything (canonical scalars, points in the
prime-order subgroup and not the identity, exact lengths) and raise only `DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from signer.crypto import e2e
from signer.crypto.codec import Reader, Writer
from signer.protocols.base import DecodeError
from signer.protocols.frost.ciphersuite import Ciphersuite
from signer.protocols.frost.core import SigningCommitments

VERSION = 1
KIND_DKG_ROUND1 = 0x11
KIND_DKG_ROUND2 = 0x12
KIND_DKG_CONFIRM = 0x13
KIND_SIGN_ROUND1 = 0x21
KIND_SIGN_ROUND2 = 0x22

CONFIRM_SIZE = 32


@dataclass(frozen=True)
class DkgRound1:
    """DKG round 1 broadcast: Feldman commitments, a Schnorr proof of knowledge of the constant term
    (R, mu), and the sender's X25519 key for the end-to-end encrypted round-2 shares."""

    commitments: tuple[Any, ...]
    proof_r: Any
    proof_mu: int
    e2e_public: bytes

    def encode(self, suite: Ciphersuite) -> bytes:
        g = suite.group
        w = Writer(KIND_DKG_ROUND1, VERSION).u16(len(self.commitments))
        for c in self.commitments:
            w.point(g, c)
        return w.point(g, self.proof_r).scalar(g, self.proof_mu).fixed(self.e2e_public).done()

    @classmethod
    def decode(cls, suite: Ciphersuite, data: bytes, threshold: int) -> DkgRound1:
        g = suite.group
        r = Reader(data, KIND_DKG_ROUND1, VERSION)
        count = r.u16()
        if count != threshold:
            raise DecodeError(f"expected {threshold} commitments, got {count}")
        commitments = tuple(r.point(g) for _ in range(count))
        msg = cls(commitments, r.point(g), r.scalar(g), r.fixed(e2e.PUBLIC_KEY_SIZE))
        r.end()
        return msg


@dataclass(frozen=True)
class DkgRound2:
    """DKG round 2 point-to-point: the sender's share for the recipient, sealed end to end."""

    sealed_share: bytes

    def encode(self, suite: Ciphersuite) -> bytes:
        return Writer(KIND_DKG_ROUND2, VERSION).fixed(self.sealed_share).done()

    @classmethod
    def decode(cls, suite: Ciphersuite, data: bytes) -> DkgRound2:
        r = Reader(data, KIND_DKG_ROUND2, VERSION)
        msg = cls(r.fixed(suite.group.scalar_size + e2e.OVERHEAD))
        r.end()
        return msg


@dataclass(frozen=True)
class DkgConfirm:
    """DKG round 3 broadcast: a digest of every round-1 broadcast and the resulting public key package,
    so that a relay that showed different broadcasts to different parties is detected before any key
    is kept."""

    digest: bytes

    def encode(self, suite: Ciphersuite) -> bytes:
        return Writer(KIND_DKG_CONFIRM, VERSION).fixed(self.digest).done()

    @classmethod
    def decode(cls, suite: Ciphersuite, data: bytes) -> DkgConfirm:
        r = Reader(data, KIND_DKG_CONFIRM, VERSION)
        msg = cls(r.fixed(CONFIRM_SIZE))
        r.end()
        return msg


@dataclass(frozen=True)
class SignRound1:
    """Signing round 1 broadcast: the hiding and binding nonce commitments (RFC 9591 5.1)."""

    commitments: SigningCommitments

    def encode(self, suite: Ciphersuite) -> bytes:
        g = suite.group
        c = self.commitments
        return Writer(KIND_SIGN_ROUND1, VERSION).point(g, c.hiding).point(g, c.binding).done()

    @classmethod
    def decode(cls, suite: Ciphersuite, data: bytes) -> SignRound1:
        g = suite.group
        r = Reader(data, KIND_SIGN_ROUND1, VERSION)
        msg = cls(SigningCommitments(r.point(g), r.point(g)))
        r.end()
        return msg


@dataclass(frozen=True)
class SignRound2:
    """Signing round 2 broadcast: the signature share z_i (RFC 9591 5.2)."""

    share: int

    def encode(self, suite: Ciphersuite) -> bytes:
        return Writer(KIND_SIGN_ROUND2, VERSION).scalar(suite.group, self.share).done()

    @classmethod
    def decode(cls, suite: Ciphersuite, data: bytes) -> SignRound2:
        r = Reader(data, KIND_SIGN_ROUND2, VERSION)
        msg = cls(r.scalar(suite.group))
        r.end()
        return msg
