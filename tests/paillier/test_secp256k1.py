"""secp256k1 points and scalars, checked against the independent `ecdsa` package."""

from __future__ import annotations

import ecdsa
import pytest

from signer.crypto.errors import DecodeError
from signer.crypto.secp256k1 import (
    FIELD_PRIME,
    GENERATOR,
    IDENTITY,
    ORDER,
    SECP256K1,
    InvalidPoint,
    InvalidScalar,
    Point,
    base_mul,
    random_scalar,
    scalar_from_bytes,
    scalar_to_bytes,
)

REF_G = ecdsa.SECP256k1.generator


def ref_encode(k: int) -> bytes:
    P = REF_G * k
    return bytes([2 + (P.y() & 1)]) + P.x().to_bytes(32, "big")


def test_constants_match_reference():
    assert ORDER == ecdsa.SECP256k1.order
    assert FIELD_PRIME == ecdsa.SECP256k1.curve.p()
    assert GENERATOR.encode() == ref_encode(1)


@pytest.mark.parametrize("k", [1, 2, 3, ORDER - 1, 0xDEADBEEF, 2**255 + 12345])
def test_base_mul_matches_reference(k):
    assert base_mul(k).encode() == ref_encode(k)


def test_arithmetic_matches_reference():
    for _ in range(5):
        a, b = random_scalar(), random_scalar()
        A, B = base_mul(a), base_mul(b)
        assert (A + B).encode() == ref_encode((a + b) % ORDER)
        assert (A - B).encode() == ref_encode((a - b) % ORDER)
        assert (A * b).encode() == ref_encode(a * b % ORDER)
        assert (b * A) == A * b
        assert (-A).encode() == ref_encode(ORDER - a)


def test_identity_handling():
    P = base_mul(7)
    assert (P - P).is_identity
    assert (P + -P) == IDENTITY
    assert P + IDENTITY == P and IDENTITY + P == P
    assert (P * 0).is_identity and (P * ORDER).is_identity and base_mul(0).is_identity
    assert -IDENTITY == IDENTITY
    with pytest.raises(InvalidPoint):
        IDENTITY.encode()


def test_decode_rejects_bad_points():
    good = base_mul(5).encode()
    assert Point.decode(good) == base_mul(5)
    with pytest.raises(DecodeError):
        Point.decode(good[:-1])
    with pytest.raises(InvalidPoint):
        Point.decode(b"\x04" + good[1:])  # uncompressed prefix with compressed length
    with pytest.raises(InvalidPoint):
        Point.decode(b"\x02" + FIELD_PRIME.to_bytes(32, "big"))  # x not canonical
    with pytest.raises(InvalidPoint):
        Point.decode(b"\x00" * 33)  # identity-style encoding
    # x = 5 has no point on secp256k1 (5^3 + 7 = 132 is a non-residue mod p)
    assert pow(132, (FIELD_PRIME - 1) // 2, FIELD_PRIME) != 1
    with pytest.raises(InvalidPoint):
        Point.decode(b"\x02" + (5).to_bytes(32, "big"))


def test_scalars():
    assert scalar_from_bytes(scalar_to_bytes(ORDER - 1)) == ORDER - 1
    with pytest.raises(InvalidScalar):
        scalar_from_bytes(ORDER.to_bytes(32, "big"))
    with pytest.raises(InvalidScalar):
        scalar_from_bytes(b"\x01" * 31)
    with pytest.raises(InvalidScalar):
        scalar_to_bytes(ORDER)
    with pytest.raises(InvalidScalar):
        base_mul("1")  # type: ignore[arg-type]
    assert all(0 < random_scalar() < ORDER for _ in range(20))


def test_group_interface():
    g = SECP256K1
    P = g.base_mul(11)
    assert g.decode_point(g.encode_point(P)) == P
    assert g.is_identity(g.sub(P, P)) and g.is_identity(g.identity())
    assert g.mul(3, P) == g.add(P, g.add(P, P))
    assert g.sum([P, P, g.neg(P)]) == P
    assert g.decode_scalar(g.encode_scalar(ORDER + 5)) == 5
    with pytest.raises(DecodeError):
        g.decode_scalar(ORDER.to_bytes(32, "big"))
