"""secp256k1 points and scalars on coincurve (libsecp256k1), with validating decoders.

Why: every point a peer sends must be checked (on the curve, not the identity) before any arithmetic,
and every scalar must be canonical (< q). coincurve cannot represent the identity, so `Point` carries
it explicitly: sums such as P + (-P) are legal intermediate values, but the identity is never encoded
and never accepted from the wire.

Public API:
    ORDER (q), FIELD_PRIME, SCALAR_LEN = 32, POINT_LEN = 33
    InvalidPoint, InvalidScalar           (DecodeError and ValueError subclasses)
    SECP256K1: Secp256k1Group             the `signer.crypto.group.Group[Point]` implementation
    Point.decode(data) -> Point            33-byte compressed SEC1, on curve, not identity
    Point.encode() -> bytes                33 bytes (raises InvalidPoint for the identity)
    P + Q, P - Q, -P, k * P, P * k, P == Q, hash(P), P.is_identity, P.x, P.y
    Point.generator(), Point.identity(), GENERATOR, IDENTITY
    base_mul(k) -> Point                   k * G
    random_scalar() -> int                 uniform in [1, q)
    scalar_from_bytes(b) -> int            32 bytes big-endian, canonical (< q)
    scalar_to_bytes(k) -> bytes            32 bytes big-endian
"""

from __future__ import annotations

import secrets

from coincurve import PrivateKey, PublicKey
from gmpy2 import mpz

from signer.crypto.errors import DecodeError
from signer.crypto.group import Group

ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
FIELD_PRIME = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F
SCALAR_LEN = 32
POINT_LEN = 33


class InvalidPoint(DecodeError, ValueError):
    """A point encoding that is malformed, off the curve, or the identity."""


class InvalidScalar(DecodeError, ValueError):
    """A scalar that is not canonical (wrong length, >= q) or out of the allowed range."""


def _check_int(k: object) -> int:
    if isinstance(k, mpz):
        return int(k)
    if not isinstance(k, int) or isinstance(k, bool):
        raise InvalidScalar("scalar must be an int")
    return k


class Point:
    """A point of secp256k1, possibly the identity (which is never encoded or decoded)."""

    __slots__ = ("_pk", "_enc")

    def __init__(self, pk: PublicKey | None) -> None:
        self._pk = pk
        self._enc: bytes | None = None if pk is None else pk.format(compressed=True)

    @classmethod
    def decode(cls, data: bytes) -> Point:
        """Decode a 33-byte compressed SEC1 point; rejects bad length, off-curve and identity."""
        if not isinstance(data, bytes | bytearray) or len(data) != POINT_LEN or data[0] not in (2, 3):
            raise InvalidPoint("point must be 33-byte compressed SEC1")
        x = int.from_bytes(data[1:], "big")
        if x >= FIELD_PRIME:
            raise InvalidPoint("point x coordinate not canonical")
        try:
            pk = PublicKey(bytes(data))
        except Exception:  # coincurve raises ValueError/TypeError variants
            raise InvalidPoint("point not on secp256k1") from None
        return cls(pk)

    @classmethod
    def generator(cls) -> Point:
        return GENERATOR

    @classmethod
    def identity(cls) -> Point:
        return IDENTITY

    @property
    def is_identity(self) -> bool:
        return self._pk is None

    def encode(self) -> bytes:
        if self._enc is None:
            raise InvalidPoint("the identity has no encoding")
        return self._enc

    @property
    def x(self) -> int:
        if self._pk is None:
            raise InvalidPoint("the identity has no coordinates")
        return self._pk.point()[0]

    @property
    def y(self) -> int:
        if self._pk is None:
            raise InvalidPoint("the identity has no coordinates")
        return self._pk.point()[1]

    def __neg__(self) -> Point:
        if self._enc is None:
            return self
        flipped = bytes([self._enc[0] ^ 1]) + self._enc[1:]
        return Point(PublicKey(flipped))

    def __add__(self, other: Point) -> Point:
        if not isinstance(other, Point):
            return NotImplemented
        if self._pk is None:
            return other
        if other._pk is None:
            return self
        assert self._enc is not None and other._enc is not None
        if self._enc[1:] == other._enc[1:] and self._enc[0] != other._enc[0]:
            return IDENTITY  # P + (-P)
        return Point(PublicKey.combine_keys([self._pk, other._pk]))

    def __sub__(self, other: Point) -> Point:
        if not isinstance(other, Point):
            return NotImplemented
        return self + (-other)

    def __mul__(self, k: int) -> Point:
        k = _check_int(k) % ORDER
        if k == 0 or self._pk is None:
            return IDENTITY
        return Point(self._pk.multiply(k.to_bytes(SCALAR_LEN, "big")))

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Point):
            return NotImplemented
        return self._enc == other._enc

    def __hash__(self) -> int:
        return hash(self._enc)

    def __repr__(self) -> str:
        return "Point(identity)" if self._enc is None else f"Point({self._enc.hex()})"


GENERATOR = Point(PrivateKey.from_int(1).public_key)
IDENTITY = Point(None)


def base_mul(k: int) -> Point:
    """k * G for any int k (reduced mod q); 0 gives the identity."""
    k = _check_int(k) % ORDER
    if k == 0:
        return IDENTITY
    # Not PrivateKey(k).public_key: that also derives the x-only key, doubling the cost.
    return Point(PublicKey.from_valid_secret(k.to_bytes(SCALAR_LEN, "big")))


def random_scalar() -> int:
    """A uniformly random non-zero scalar."""
    return 1 + secrets.randbelow(ORDER - 1)


def scalar_from_bytes(data: bytes) -> int:
    """Decode a 32-byte big-endian scalar; rejects wrong length and values >= q."""
    if not isinstance(data, bytes | bytearray) or len(data) != SCALAR_LEN:
        raise InvalidScalar("scalar must be 32 bytes")
    k = int.from_bytes(data, "big")
    if k >= ORDER:
        raise InvalidScalar("scalar not canonical")
    return k


def scalar_to_bytes(k: int) -> bytes:
    """Encode a scalar in [0, q) as 32 bytes big-endian."""
    k = _check_int(k)
    if not 0 <= k < ORDER:
        raise InvalidScalar("scalar out of range")
    return k.to_bytes(SCALAR_LEN, "big")


class Secp256k1Group(Group[Point]):
    """secp256k1 behind the generic `Group` interface (used by Feldman VSS and the GG20 core)."""

    name = "secp256k1"
    order = ORDER
    scalar_size = SCALAR_LEN
    point_size = POINT_LEN

    def identity(self) -> Point:
        return IDENTITY

    def is_identity(self, p: Point) -> bool:
        return p.is_identity

    def add(self, a: Point, b: Point) -> Point:
        return a + b

    def neg(self, a: Point) -> Point:
        return -a

    def mul(self, k: int, p: Point) -> Point:
        return p * k

    def base_mul(self, k: int) -> Point:
        return base_mul(k)

    def encode_point(self, p: Point) -> bytes:
        return p.encode()

    def decode_point(self, data: bytes) -> Point:
        return Point.decode(data)

    def encode_scalar(self, k: int) -> bytes:
        return scalar_to_bytes(_check_int(k) % ORDER)

    def _scalar_from_bytes(self, data: bytes) -> int:
        return int.from_bytes(data, "big")


SECP256K1 = Secp256k1Group()
