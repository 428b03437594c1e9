"""The minimal RLP encoder Ethereum transactions need (Yellow Paper, appendix B).

Items are `bytes` or lists of items; integers are encoded by the caller with `rlp_int` (big-endian, no
leading zeros, zero as the empty string) so that a stray int can never be serialized ambiguously.
"""

from __future__ import annotations

RlpItem = bytes | list["RlpItem"]


def rlp_int(value: int) -> bytes:
    """A non-negative integer as RLP wants it: minimal big-endian bytes, 0 -> b''."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("RLP integers are non-negative ints")
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _length_prefix(length: int, short_base: int) -> bytes:
    # short_base is 0x80 for strings and 0xc0 for lists; long forms add 55 plus the length's length
    if length <= 55:
        return bytes([short_base + length])
    n = rlp_int(length)
    return bytes([short_base + 55 + len(n)]) + n


def rlp_encode(item: RlpItem) -> bytes:
    """RLP(item): a single byte < 0x80 is itself; strings and lists get a length prefix."""
    if isinstance(item, (bytes, bytearray)):
        if len(item) == 1 and item[0] < 0x80:
            return bytes(item)
        return _length_prefix(len(item), 0x80) + bytes(item)
    if isinstance(item, list):
        body = b"".join(rlp_encode(x) for x in item)
        return _length_prefix(len(body), 0xC0) + body
    raise TypeError(f"RLP encodes bytes and lists, not {type(item).__name__}")
