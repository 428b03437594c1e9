"""Keccak-256 against published digests and against eth-hash (pycryptodome backend) from the dev deps."""

import hashlib

import pytest
from eth_hash.auto import keccak as reference_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from signer.chain.keccak import keccak256

# Published Keccak-256 digests (the ones every Ethereum library tests: empty input and "abc",
# and the ERC-20 Transfer event topic).
VECTORS = [
    (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    (
        b"Transfer(address,address,uint256)",
        "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
    ),
]


@pytest.mark.parametrize(("data", "digest"), VECTORS)
def test_published_vectors(data: bytes, digest: str) -> None:
    assert keccak256(data).hex() == digest


@pytest.mark.parametrize("length", [0, 1, 134, 135, 136, 137, 271, 272, 273, 1000])
def test_rate_boundaries_match_reference(length: int) -> None:
    # 136 bytes is the rate: lengths around it exercise the one- and two-block padding cases
    data = bytes((i * 7 + 3) & 0xFF for i in range(length))
    assert keccak256(data) == reference_keccak(data)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600))
def test_matches_reference_on_random_input(data: bytes) -> None:
    assert keccak256(data) == reference_keccak(data)


def test_is_not_sha3() -> None:
    # the FIPS 202 padding differs; hashlib.sha3_256 would silently give wrong addresses
    assert keccak256(b"") != hashlib.sha3_256(b"").digest()


def test_rejects_non_bytes() -> None:
    with pytest.raises(TypeError):
        keccak256("abc")  # type: ignore[arg-type]
