"""A minimal prime-order group interface shared by the threshold protocols.

FROST and GG20 need the same handful of operations from a curve: canonical scalar and point encodings
with full validation, point addition, scalar multiplication and a random scalar. Keeping the interface
this small lets Feldman VSS (`signer.crypto.vss`) and the protocol cores stay generic, while each curve
(`signer.crypto.ed25519` on pynacl, `signer.crypto.secp256k1` on coincurve) owns its encodings.

Scalars are plain Python ints in [0, order); points are an implementation-defined immutable value that
supports `==` (for example the canonical encoding itself). Hashing to scalars is left to each
ciphersuite, because every protocol domain-separates its hashes differently.

Scalars are plain ints, so arithmetic on secret scalars is variable-time Python unless it goes through
`scalar_muladd`, which a group backed by a library with constant-time scalar functions overrides (the
stance and what uses it: signer/crypto/vss.py).

Decoders raise `signer.crypto.errors.DecodeError` (no culprit: crypto does not know who sent the bytes);
protocol code that knows the sender names it.
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Generic, TypeVar

from signer.crypto.errors import DecodeError

P = TypeVar("P")


class Group(ABC, Generic[P]):
    """A cyclic group of prime order `order` with a fixed generator."""

    name: str
    order: int
    scalar_size: int
    point_size: int

    # --- points -------------------------------------------------------------------------------------
    @abstractmethod
    def identity(self) -> P:
        """The neutral element (never accepted by `decode_point`)."""

    @abstractmethod
    def is_identity(self, p: P) -> bool: ...

    @abstractmethod
    def add(self, a: P, b: P) -> P: ...

    @abstractmethod
    def neg(self, a: P) -> P: ...

    @abstractmethod
    def mul(self, k: int, p: P) -> P:
        """k * p for any int k (reduced mod order)."""

    @abstractmethod
    def base_mul(self, k: int) -> P:
        """k * G for the group generator G."""

    @abstractmethod
    def encode_point(self, p: P) -> bytes:
        """The canonical encoding of a non-identity point."""

    @abstractmethod
    def decode_point(self, data: bytes) -> P:
        """Decode and fully validate: canonical, on the curve, in the prime-order subgroup, not identity."""

    # --- derived point helpers ----------------------------------------------------------------------
    def sub(self, a: P, b: P) -> P:
        return self.add(a, self.neg(b))

    def sum(self, points: Iterable[P]) -> P:
        acc: P | None = None
        for p in points:
            acc = p if acc is None else self.add(acc, p)
        return self.identity() if acc is None else acc

    # --- scalars ------------------------------------------------------------------------------------
    @abstractmethod
    def encode_scalar(self, k: int) -> bytes:
        """The canonical fixed-size encoding of k mod order."""

    @abstractmethod
    def _scalar_from_bytes(self, data: bytes) -> int:
        """The integer that `data` encodes (no range check); data has length `scalar_size`."""

    def decode_scalar(self, data: bytes) -> int:
        """Decode a canonical scalar: exactly `scalar_size` bytes encoding a value < order."""
        if len(data) != self.scalar_size:
            raise DecodeError(f"{self.name} scalar must be {self.scalar_size} bytes")
        k = self._scalar_from_bytes(data)
        if k >= self.order:
            raise DecodeError(f"{self.name} scalar is not canonical (>= group order)")
        return k

    def scalar_muladd(self, a: int, b: int, c: int) -> int:
        """(a·b + c) mod order for secret scalars; plain Python ints unless the group overrides it."""
        return (a * b + c) % self.order

    def random_scalar(self) -> int:
        """A uniformly random non-zero scalar from the OS CSPRNG."""
        return secrets.randbelow(self.order - 1) + 1
