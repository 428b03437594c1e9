"""RFC 9380 expand_message_xmd(SHA-256) against the RFC's appendix K.1 vectors, and hash_to_field's sizing."""

import pytest

from signer.crypto.hash_to_field import expand_message_xmd_sha256, expansion_length, hash_to_field_sha256
from signer.crypto.secp256k1 import ORDER

DST = b"QUUX-V01-CS02-with-expander-SHA256-128"

# RFC 9380 K.1 (expand_message_xmd, SHA-256, the DST above): msg, len_in_bytes, uniform_bytes.
K1 = [
    (b"", 0x20, "68a985b87eb6b46952128911f2a4412bbc302a9d759667f87f7a21d803f07235"),
    (b"abc", 0x20, "d8ccab23b5985ccea865c6c97b6e5b8350e794e603b4b97902f53a8a0d605615"),
    (
        b"",
        0x80,
        "af84c27ccfd45d41914fdff5df25293e221afc53d8ad2ac06d5e3e29485dadbee0d121587713a3e0dd4d5e69e93eb7cd4f5df4cd"
        "103e188cf60cb02edc3edf18eda8576c412b18ffb658e3dd6ec849469b979d444cf7b26911a08e63cf31f9dcc541708d3491184472"
        "c2c29bb749d4286b004ceb5ee6b9a7fa5b646c993f0ced",
    ),
]


@pytest.mark.parametrize(("msg", "length", "expected"), K1, ids=["empty-32", "abc-32", "empty-128"])
def test_expand_message_xmd_rfc9380_vectors(msg: bytes, length: int, expected: str) -> None:
    assert expand_message_xmd_sha256(msg, DST, length).hex() == expected


def test_hash_to_field_for_secp256k1_scalars() -> None:
    # L = ceil((256 + 128) / 8) = 48 for secp256k1's group order (RFC 9591 6.5 says L = 48).
    assert expansion_length(ORDER) == 48
    (u,) = hash_to_field_sha256(b"abc", DST, ORDER)
    assert u == int.from_bytes(expand_message_xmd_sha256(b"abc", DST, 48), "big") % ORDER
    two = hash_to_field_sha256(b"abc", DST, ORDER, count=2)
    uniform = expand_message_xmd_sha256(b"abc", DST, 96)
    assert two == [int.from_bytes(uniform[:48], "big") % ORDER, int.from_bytes(uniform[48:], "big") % ORDER]


def test_expand_message_xmd_limits() -> None:
    with pytest.raises(ValueError):
        expand_message_xmd_sha256(b"", DST, 256 * 32)
    with pytest.raises(ValueError):
        expand_message_xmd_sha256(b"", b"d" * 256, 32)
