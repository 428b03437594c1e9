"""Versioned codec: exact round trips, and only DecodeError for anything malformed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signer.crypto.codec import Reader, Writer
from signer.crypto.ed25519 import ED25519 as G
from signer.crypto.errors import DecodeError

KIND, VERSION = 7, 1


def _encode(n: int, blob: bytes, k: int) -> bytes:
    return Writer(KIND, VERSION).u8(n % 256).u16(n).u32(n).var(blob).scalar(G, k).point(G, G.base_mul(k)).done()


def _decode(data: bytes) -> tuple:
    r = Reader(data, KIND, VERSION)
    out = (r.u8(), r.u16(), r.u32(), r.var(64), r.scalar(G), r.point(G))
    r.end()
    return out


def test_round_trip() -> None:
    data = _encode(300, b"abc", 42)
    assert _decode(data) == (300 % 256, 300, 300, b"abc", 42, G.base_mul(42))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:-1],
        lambda d: d + b"\x00",
        lambda d: bytes([KIND + 1]) + d[1:],
        lambda d: d[:1] + bytes([VERSION + 1]) + d[2:],
        lambda d: b"",
    ],
    ids=["truncated", "trailing", "kind", "version", "empty"],
)
def test_malformed(mutate) -> None:
    with pytest.raises(DecodeError):
        _decode(mutate(_encode(5, b"xy", 9)))


def test_var_length_limit() -> None:
    data = Writer(KIND, VERSION).var(b"x" * 65).done()
    with pytest.raises(DecodeError):
        Reader(data, KIND, VERSION).var(64)


@given(st.binary(max_size=200))
def test_fuzz_only_decode_error(data: bytes) -> None:
    try:
        _decode(data)
    except DecodeError:
        pass


@given(st.integers(0, 2**16 - 1), st.binary(max_size=64), st.integers(1, 2**252))
def test_fuzz_bit_flips_of_valid(n: int, blob: bytes, k: int) -> None:
    data = bytearray(_encode(n, blob, k))
    data[n % len(data)] ^= 1 << (k % 8)
    try:
        _decode(bytes(data))
    except DecodeError:
        pass
