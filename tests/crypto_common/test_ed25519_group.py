"""The Ed25519 group: arithmetic cross-checked with RFC 8032 key derivation, strict decoding."""

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from signer.crypto.ed25519 import ED25519 as G
from signer.crypto.ed25519 import L
from signer.crypto.errors import DecodeError

P_FIELD = 2**255 - 19
# An Ed25519 point of order 4: y = 0 (x = sqrt(-1)), encoded with the sign bit clear.
ORDER4 = bytes(32)
# The point of order 2: (0, -1).
ORDER2 = (P_FIELD - 1).to_bytes(32, "little")


def test_base_mul_matches_rfc8032_public_key() -> None:
    seed = bytes(range(32))
    h = hashlib.sha512(seed).digest()
    a = bytearray(h[:32])
    a[0] &= 248
    a[31] &= 127
    a[31] |= 64
    expected = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    assert G.base_mul(int.from_bytes(a, "little")) == expected


@given(st.integers(0, L - 1), st.integers(0, L - 1))
def test_homomorphism(a: int, b: int) -> None:
    assert G.add(G.base_mul(a), G.base_mul(b)) == G.base_mul(a + b)
    assert G.sub(G.base_mul(a), G.base_mul(b)) == G.base_mul(a - b)
    assert G.mul(a, G.base_mul(b)) == G.base_mul(a * b)
    assert G.add(G.base_mul(a), G.neg(G.base_mul(a))) == G.identity()


def test_zero_and_identity_edge_cases() -> None:
    assert G.is_identity(G.base_mul(0))
    assert G.is_identity(G.base_mul(L))
    assert G.is_identity(G.mul(0, G.base_mul(7)))
    assert G.is_identity(G.mul(5, G.identity()))
    assert G.sum([]) == G.identity()
    assert G.sum([G.base_mul(2), G.base_mul(3)]) == G.base_mul(5)


def test_decode_accepts_valid_point() -> None:
    p = G.base_mul(123456789)
    assert G.decode_point(p) == p
    assert G.encode_point(p) == p


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x01" + bytes(31), id="identity"),
        pytest.param(ORDER2, id="order-2"),
        pytest.param(ORDER4, id="order-4"),
        pytest.param((P_FIELD + 1).to_bytes(32, "little"), id="non-canonical-y"),
        pytest.param(b"\x02" + bytes(31), id="not-on-curve"),
        pytest.param(bytes(31), id="short"),
        pytest.param(bytes(33), id="long"),
    ],
)
def test_decode_rejects(data: bytes) -> None:
    with pytest.raises(DecodeError):
        G.decode_point(data)


def test_decode_rejects_point_outside_prime_subgroup() -> None:
    mixed = G.add(G.base_mul(9), ORDER4)
    with pytest.raises(DecodeError):
        G.decode_point(mixed)


def test_encode_identity_refused() -> None:
    with pytest.raises(ValueError):
        G.encode_point(G.identity())


def test_scalar_encoding() -> None:
    assert G.decode_scalar(G.encode_scalar(L - 1)) == L - 1
    assert G.encode_scalar(L + 5) == (5).to_bytes(32, "little")
    with pytest.raises(DecodeError):
        G.decode_scalar(L.to_bytes(32, "little"))
    with pytest.raises(DecodeError):
        G.decode_scalar(bytes(31))
    assert 0 < G.random_scalar() < L


@given(st.binary(max_size=40))
def test_decoders_fuzz(data: bytes) -> None:
    for decode in (G.decode_point, G.decode_scalar):
        try:
            decode(data)
        except DecodeError:
            pass
