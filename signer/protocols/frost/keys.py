"""The stored FROST key share: a versioned encoding of a party's key package and the public key package.

This is exactly `DkgResult.key_share`; `FrostSignSession` takes it back, and the engine reads its public
parts (`FrostKeyInfo`) to validate a StartSign without touching the secret.

Layout (after the codec's kind and version bytes): suite id (u8), identifier (u16), threshold (u16),
party count n (u16), n x (index u16 || verifying share), group public key, signing share.
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto.codec import Reader, Writer
from signer.crypto.errors import DecodeError
from signer.protocols.frost.ciphersuite import SUITES, Ciphersuite
from signer.protocols.frost.core import KeyPackage, PublicKeyPackage
from signer.protocols.params import MAX_PARTIES

KIND_KEY_SHARE = 0x31
VERSION = 1


@dataclass(frozen=True)
class FrostKeyInfo:
    """The public facts about a stored key share that the engine needs to validate a signing request."""

    threshold: int
    parties: tuple[int, ...]
    party_index: int
    public_key: bytes


@dataclass(frozen=True)
class FrostKeyShare:
    """A decoded key share: the suite, this party's key package and the group's public key package."""

    suite: Ciphersuite
    key_package: KeyPackage
    public: PublicKeyPackage

    @property
    def info(self) -> FrostKeyInfo:
        g = self.suite.group
        return FrostKeyInfo(
            threshold=self.key_package.threshold,
            parties=tuple(sorted(self.public.verifying_shares)),
            party_index=self.key_package.identifier,
            public_key=g.encode_point(self.public.group_public_key),
        )

    def encode(self) -> bytes:
        g = self.suite.group
        kp = self.key_package
        w = Writer(KIND_KEY_SHARE, VERSION).u8(self.suite.suite_id).u16(kp.identifier).u16(kp.threshold)
        w.u16(len(self.public.verifying_shares))
        for j, share in sorted(self.public.verifying_shares.items()):
            w.u16(j).point(g, share)
        return w.point(g, self.public.group_public_key).scalar(g, kp.signing_share).done()

    @classmethod
    def decode(cls, data: bytes) -> FrostKeyShare:
        """Decode and check consistency: indices 1-based, increasing, threshold 2..n, the party is one of
        them, the group key matches, and the signing share matches the party's verifying share."""
        r = Reader(data, KIND_KEY_SHARE, VERSION)
        suite = SUITES.get(r.u8())
        if suite is None:
            raise DecodeError("unknown FROST ciphersuite")
        g = suite.group
        identifier, threshold, n = r.u16(), r.u16(), r.u16()
        if not 2 <= n <= MAX_PARTIES or not 2 <= threshold <= n:
            raise DecodeError("key share has an invalid threshold or party count")
        shares = {}
        previous = 0
        for _ in range(n):
            j = r.u16()
            if j <= previous:
                raise DecodeError("key share party indices must be increasing and >= 1")
            shares[j] = r.point(g)
            previous = j
        group_public_key = r.point(g)
        signing_share = r.scalar(g)
        r.end()
        if identifier not in shares:
            raise DecodeError("key share identifier is not one of its parties")
        if g.base_mul(signing_share) != shares[identifier]:
            raise DecodeError("signing share does not match the verifying share")
        kp = KeyPackage(identifier, signing_share, shares[identifier], group_public_key, threshold)
        return cls(suite, kp, PublicKeyPackage(shares, group_public_key))


def key_share_info(key_share: bytes) -> FrostKeyInfo:
    """The public facts of a stored key share (raises DecodeError if it is malformed)."""
    return FrostKeyShare.decode(key_share).info


def public_key_of(key_share: bytes) -> bytes:
    """The group public key (32-byte RFC 8032 encoding for Ed25519) of a stored key share."""
    return key_share_info(key_share).public_key
