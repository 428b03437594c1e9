"""Fiat–Shamir transcript: length-prefixed, domain-separated appends; challenges by rejection sampling.

Why: TSSHOCK broke threshold-ECDSA deployments whose hash input was an ambiguous concatenation
(`a || b` equal to `a' || b'`). Every append here is framed as

    kind (1 byte) || len(label) (u32) || label || len(value) (u64) || value

so no two different sequences of appends produce the same byte string (tested with hypothesis).
Integers are framed with a sign byte and their minimal big-endian magnitude, points as 33-byte SEC1.
The transcript is opened with a domain tag and the context it must be bound to (protocol, session id,
party indices, proof name), so a proof for one session or party does not verify under another.

Challenges: the running SHA-512 state, the challenge label and a counter seed SHAKE-256; integers
below a bound are drawn by rejection sampling (no modular bias). Each challenge is appended back
to the transcript, so successive challenges differ.

Public API:
    frame(kind: bytes, label: bytes, value: bytes) -> bytes       the exact framing of one append
    Transcript(domain: str)
    .append_bytes(label, data) / .append_int(label, n) / .append_point(label, P) / .append_ints(label, ns)
    .challenge_bytes(label, n) -> bytes
    .challenge_int(label, bound) -> int in [0, bound)
    .challenge_signed(label, bound) -> int in [-bound, bound]
    .challenge_scalar(label) -> int in [0, q)     (secp256k1 order)
    .challenge_ints(label, bound, count) -> list[int]   each in [0, bound)
    .challenge_bits(label, count) -> list[int]          each 0 or 1
    .copy() -> Transcript
"""

from __future__ import annotations

import hashlib
import struct

from .secp256k1 import ORDER, Point

KIND_BYTES = b"B"
KIND_INT = b"I"
KIND_POINT = b"P"
KIND_INTS = b"L"
KIND_CHALLENGE = b"C"
KIND_DOMAIN = b"D"


def _label(label: str | bytes) -> bytes:
    if isinstance(label, str):
        return label.encode()
    if isinstance(label, bytes | bytearray):
        return bytes(label)
    raise TypeError("label must be str or bytes")


def frame(kind: bytes, label: bytes, value: bytes) -> bytes:
    """The framing of one append: kind || u32 len(label) || label || u64 len(value) || value."""
    if len(kind) != 1:
        raise ValueError("kind is one byte")
    return kind + struct.pack(">I", len(label)) + label + struct.pack(">Q", len(value)) + value


def int_bytes(n: int) -> bytes:
    """Sign byte (0 for >= 0, 1 for < 0) and the minimal big-endian magnitude: injective on ints."""
    n = int(n)
    mag = abs(n)
    return (b"\x01" if n < 0 else b"\x00") + mag.to_bytes((mag.bit_length() + 7) // 8, "big")


class Transcript:
    """A Fiat–Shamir transcript; open one per proof with the context it is bound to."""

    __slots__ = ("_h",)

    def __init__(self, domain: str | bytes) -> None:
        self._h = hashlib.sha512()
        self._h.update(frame(KIND_DOMAIN, b"mpc-signer/transcript/v1", _label(domain)))

    def copy(self) -> Transcript:
        t = Transcript.__new__(Transcript)
        t._h = self._h.copy()
        return t

    def append_bytes(self, label: str | bytes, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray):
            raise TypeError("data must be bytes")
        self._h.update(frame(KIND_BYTES, _label(label), bytes(data)))

    def append_int(self, label: str | bytes, n: int) -> None:
        self._h.update(frame(KIND_INT, _label(label), int_bytes(n)))

    def append_ints(self, label: str | bytes, ns: list[int] | tuple[int, ...]) -> None:
        """A list of ints as one append (count, then each int length-prefixed)."""
        body = struct.pack(">Q", len(ns)) + b"".join(struct.pack(">Q", len(b)) + b for b in (int_bytes(n) for n in ns))
        self._h.update(frame(KIND_INTS, _label(label), body))

    def append_point(self, label: str | bytes, point: Point) -> None:
        self._h.update(frame(KIND_POINT, _label(label), point.encode()))

    def _seed(self, label: bytes) -> bytes:
        """The seed of one challenge; it is appended back so the next challenge differs."""
        state = self._h.copy()
        state.update(frame(KIND_CHALLENGE, label, b""))
        seed = b"mpc-signer/challenge/v1" + state.digest()
        self._h.update(frame(KIND_CHALLENGE, label, seed))
        return seed

    def challenge_bytes(self, label: str | bytes, n: int) -> bytes:
        if n <= 0:
            raise ValueError("n must be positive")
        return hashlib.shake_256(self._seed(_label(label))).digest(n)

    def challenge_ints(self, label: str | bytes, bound: int, count: int) -> list[int]:
        """`count` independent uniform ints in [0, bound), by rejection sampling."""
        if bound < 1 or count < 1:
            raise ValueError("bound and count must be positive")
        seed = self._seed(_label(label))
        nbits = max(1, (bound - 1).bit_length())
        nbytes = (nbits + 7) // 8
        mask = (1 << nbits) - 1
        out: list[int] = []
        produced = 0
        chunk = nbytes * (count + 8)
        buf = b""
        pos = 0
        while len(out) < count:
            if pos + nbytes > len(buf):
                produced += chunk
                buf = hashlib.shake_256(seed).digest(produced)
                buf = buf[produced - chunk :]
                pos = 0
            v = int.from_bytes(buf[pos : pos + nbytes], "big") & mask
            pos += nbytes
            if v < bound:
                out.append(v)
        return out

    def challenge_int(self, label: str | bytes, bound: int) -> int:
        """A uniform int in [0, bound)."""
        return self.challenge_ints(label, bound, 1)[0]

    def challenge_signed(self, label: str | bytes, bound: int) -> int:
        """A uniform int in [-bound, bound] (CGGMP21's e <- ±q)."""
        return self.challenge_int(label, 2 * bound + 1) - bound

    def challenge_scalar(self, label: str | bytes) -> int:
        """A uniform secp256k1 scalar in [0, q)."""
        return self.challenge_int(label, ORDER)

    def challenge_bits(self, label: str | bytes, count: int) -> list[int]:
        """`count` independent uniform bits."""
        raw = self.challenge_bytes(label, (count + 7) // 8)
        return [(raw[i // 8] >> (i % 8)) & 1 for i in range(count)]
