"""Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not SHA3-256's 0x06).

The runtime dependencies have no Keccak: `hashlib.sha3_256` and `cryptography` implement FIPS 202 SHA3,
whose domain-separation padding differs, so addresses and transaction hashes would come out wrong. This is
Keccak-f[1600] straight from the Keccak reference (rate 1088 bits, capacity 512, 24 rounds), on 64-bit
lanes held as Python ints. It hashes public data only (keys, transactions, messages), so it need not be
constant time.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1
_RATE = 136  # bytes: 1600 - 2*256 bits

# Round constants RC[i] of the iota step.
_RC = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip

# Rotation offsets r[x][y] of the rho step, indexed [x + 5*y].
_ROT = (
    0, 1, 62, 28, 27,
    36, 44, 6, 55, 20,
    3, 10, 43, 25, 39,
    41, 45, 15, 21, 8,
    18, 2, 61, 56, 14,
)  # fmt: skip


def _rotl(v: int, n: int) -> int:
    return ((v << n) | (v >> (64 - n))) & _MASK if n else v


def _keccak_f(a: list[int]) -> None:
    """Keccak-f[1600] in place on 25 lanes, lane (x, y) at index x + 5*y."""
    for rc in _RC:
        # theta: C[x] = xor of column x; D[x] = C[x-1] ^ rot(C[x+1], 1)
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        for i in range(25):
            a[i] ^= d[i % 5]
        # rho and pi: B[y, 2x+3y] = rot(A[x, y], r[x, y])
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                i = x + 5 * y
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rotl(a[i], _ROT[i])
        # chi: A[x, y] = B[x, y] ^ (~B[x+1, y] & B[x+2, y])
        for y in range(0, 25, 5):
            row = b[y : y + 5]
            for x in range(5):
                a[y + x] = row[x] ^ ((~row[(x + 1) % 5]) & row[(x + 2) % 5] & _MASK)
        # iota
        a[0] ^= rc


def keccak256(data: bytes) -> bytes:
    """The 32-byte Keccak-256 digest of `data`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("keccak256 takes bytes")
    # pad10*1 with Keccak's domain bits 0x01 (SHA3 would use 0x06)
    padded = bytearray(data)
    padded.append(0x01)
    padded.extend(b"\x00" * (-len(padded) % _RATE))
    padded[-1] |= 0x80
    state = [0] * 25
    for off in range(0, len(padded), _RATE):
        block = padded[off : off + _RATE]
        for i in range(_RATE // 8):
            state[i] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _keccak_f(state)
    return b"".join(state[i].to_bytes(8, "little") for i in range(4))
