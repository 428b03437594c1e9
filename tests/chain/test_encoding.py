"""Base58, Base58Check, Bech32 (BIP-173) and RLP against published vectors and independent libraries."""

import base58
import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from signer.chain.encoding import (
    b58check_encode,
    b58decode,
    b58encode,
    bech32_verify_checksum,
    segwit_v0_address,
)
from signer.chain.rlp import rlp_encode, rlp_int


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=80))
def test_base58_matches_base58_package(data: bytes) -> None:
    assert b58encode(data) == base58.b58encode(data).decode()
    assert b58decode(b58encode(data)) == data


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=40))
def test_base58check_matches_base58_package(data: bytes) -> None:
    assert b58check_encode(data) == base58.b58encode_check(data).decode()


def test_base58_rejects_bad_character() -> None:
    with pytest.raises(ValueError, match="base58"):
        b58decode("0OIl")


def test_base58_of_zero_key_is_system_program() -> None:
    # Solana's System Program id is the 32 zero bytes: 32 '1' characters
    assert b58encode(bytes(32)) == "1" * 32


# BIP-173 "Test vectors": valid Bech32 strings and valid segwit addresses with their scriptPubKeys.
BIP173_VALID_BECH32 = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11" + "q" * 82 + "c8247j",  # the 90-character maximum
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
BIP173_INVALID_BECH32 = [
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # too short checksum
    "A1G7SGD8",  # checksum calculated with uppercase HRP
    "10a06t8",  # empty HRP
    "1qzzfhee",  # empty HRP
]
BIP173_SEGWIT_V0 = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc", "751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "tb",
        "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "tb",
        "000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
]


@pytest.mark.parametrize("text", BIP173_VALID_BECH32)
def test_bip173_valid_checksums(text: str) -> None:
    assert bech32_verify_checksum(text)


@pytest.mark.parametrize("text", BIP173_INVALID_BECH32)
def test_bip173_invalid_checksums(text: str) -> None:
    assert not bech32_verify_checksum(text)


@pytest.mark.parametrize(("address", "hrp", "program"), BIP173_SEGWIT_V0)
def test_bip173_segwit_v0_addresses(address: str, hrp: str, program: str) -> None:
    encoded = segwit_v0_address(hrp, bytes.fromhex(program))
    assert encoded == address.lower()
    assert bech32_verify_checksum(encoded)


def test_segwit_rejects_bad_program_and_hrp() -> None:
    with pytest.raises(ValueError, match="20"):
        segwit_v0_address("bc", bytes(21))
    with pytest.raises(ValueError, match="human-readable"):
        segwit_v0_address("ltc", bytes(20))


_rlp_items = st.recursive(
    st.binary(max_size=70),
    lambda children: st.lists(children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(_rlp_items)
def test_rlp_matches_pyrlp(item) -> None:
    assert rlp_encode(item) == rlp.encode(item)


@pytest.mark.parametrize("value", [0, 1, 0x7F, 0x80, 0xFF, 0x100, 2**64, 2**256 - 1])
def test_rlp_int_matches_pyrlp(value: int) -> None:
    assert rlp_encode(rlp_int(value)) == rlp.encode(value)


def test_rlp_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        rlp_int(-1)
    with pytest.raises(TypeError):
        rlp_encode(5)  # type: ignore[arg-type]
