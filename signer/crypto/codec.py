"""Versioned, length-checked byte encodings for protocol messages and stored key material.

Every encoding starts with a one-byte kind tag and a one-byte version, so a payload of one kind can
never be mistaken for another. Fields are fixed-size (integers, scalars, points) or u32-length-prefixed
with a caller-given maximum; the reader raises `DecodeError` on anything short, oversized, out of range
or left over, and never any other exception.
"""

from __future__ import annotations

import struct
from typing import TypeVar

from signer.crypto.errors import DecodeError
from signer.crypto.group import Group

P = TypeVar("P")


class Writer:
    """Builds an encoding: `Writer(kind, version).u16(x).point(g, p).done()`."""

    __slots__ = ("_parts",)

    def __init__(self, kind: int, version: int) -> None:
        self._parts: list[bytes] = [bytes((kind, version))]

    def u8(self, v: int) -> Writer:
        self._parts.append(struct.pack(">B", v))
        return self

    def u16(self, v: int) -> Writer:
        self._parts.append(struct.pack(">H", v))
        return self

    def u32(self, v: int) -> Writer:
        self._parts.append(struct.pack(">I", v))
        return self

    def fixed(self, data: bytes) -> Writer:
        self._parts.append(bytes(data))
        return self

    def var(self, data: bytes) -> Writer:
        self._parts.append(struct.pack(">I", len(data)))
        self._parts.append(bytes(data))
        return self

    def scalar(self, group: Group, k: int) -> Writer:
        self._parts.append(group.encode_scalar(k))
        return self

    def point(self, group: Group[P], p: P) -> Writer:
        self._parts.append(group.encode_point(p))
        return self

    def done(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    """Parses an encoding made by `Writer`; call `end()` last to reject trailing bytes."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes, kind: int, version: int) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise DecodeError("payload must be bytes")
        self._data = bytes(data)
        self._pos = 0
        header = self.fixed(2)
        if header[0] != kind:
            raise DecodeError(f"wrong message kind {header[0]} (expected {kind})")
        if header[1] != version:
            raise DecodeError(f"unsupported version {header[1]} of message kind {kind}")

    def fixed(self, n: int) -> bytes:
        end = self._pos + n
        if end > len(self._data):
            raise DecodeError("payload truncated")
        out = self._data[self._pos : end]
        self._pos = end
        return out

    def u8(self) -> int:
        return self.fixed(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.fixed(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.fixed(4))[0]

    def var(self, max_len: int) -> bytes:
        n = self.u32()
        if n > max_len:
            raise DecodeError(f"field length {n} exceeds the maximum {max_len}")
        return self.fixed(n)

    def scalar(self, group: Group) -> int:
        return group.decode_scalar(self.fixed(group.scalar_size))

    def point(self, group: Group[P]) -> P:
        return group.decode_point(self.fixed(group.point_size))

    def end(self) -> None:
        if self._pos != len(self._data):
            raise DecodeError(f"{len(self._data) - self._pos} trailing bytes")
