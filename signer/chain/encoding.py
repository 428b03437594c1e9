"""Text encodings of chain addresses: Base58 / Base58Check (Bitcoin, Solana), Bech32 (BIP-173) and
Bech32m (BIP-350).

Kept in one place because Bitcoin and Solana share the Base58 alphabet, and because every encoder here
must reject what it cannot represent instead of producing a plausible-looking wrong address.
"""

from __future__ import annotations

import hashlib

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet): the big-endian number in base 58, one '1' per leading zero byte."""
    zeros = len(data) - len(data.lstrip(b"\x00"))
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(B58_ALPHABET[r])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Inverse of `b58encode`; ValueError on a character outside the alphabet."""
    n = 0
    for ch in text:
        if ch not in _B58_INDEX:
            raise ValueError(f"invalid base58 character {ch!r}")
        n = n * 58 + _B58_INDEX[ch]
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * zeros + body


def b58check_encode(payload: bytes) -> str:
    """Base58Check: payload followed by the first 4 bytes of SHA256(SHA256(payload))."""
    checksum = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return b58encode(payload + checksum)


# --- Bech32 (BIP-173) -----------------------------------------------------------------------------

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONST = 1  # BIP-173, witness v0
_BECH32M_CONST = 0x2BC830A3  # BIP-350, witness v1..v16


def _polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _BECH32_GEN[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes, frombits: int, tobits: int) -> list[int]:
    """Regroup 8-bit bytes into 5-bit groups, zero-padding the last one (BIP-173 `convertbits`, pad=True)."""
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for b in data:
        acc = (acc << frombits) | b
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits:
        out.append((acc << (tobits - bits)) & maxv)
    return out


def segwit_v0_address(hrp: str, program: bytes) -> str:
    """Witness v0 address: Bech32 of [0] + program in 5-bit groups (BIP-173 'Segwit address format')."""
    if len(program) not in (20, 32):
        raise ValueError("a witness v0 program is 20 (P2WPKH) or 32 (P2WSH) bytes")
    return segwit_address(hrp, 0, program)


def segwit_address(hrp: str, version: int, program: bytes) -> str:
    """Segwit address of any witness version: [version] + program in 5-bit groups, checksummed with
    Bech32 for v0 (BIP-173) and Bech32m for v1..v16 (BIP-350). Programs are 2..40 bytes (BIP-141)."""
    if hrp not in ("bc", "tb", "bcrt"):
        raise ValueError(f"unknown segwit human-readable part {hrp!r}")
    if not 0 <= version <= 16:
        raise ValueError("witness version must be 0..16")
    if not 2 <= len(program) <= 40:
        raise ValueError("a witness program is 2 to 40 bytes")
    data = [version] + _convert_bits(program, 8, 5)
    polymod = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ (_BECH32_CONST if version == 0 else _BECH32M_CONST)
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def bech32_verify_checksum(address: str) -> bool:
    """True when `address` is well-formed Bech32 (BIP-173) with a valid checksum; used to check vectors."""
    if address.lower() != address and address.upper() != address:
        return False
    address = address.lower()
    pos = address.rfind("1")
    if pos < 1 or pos + 7 > len(address) or len(address) > 90:
        return False
    hrp, rest = address[:pos], address[pos + 1 :]
    if any(ord(c) < 33 or ord(c) > 126 for c in hrp) or any(c not in BECH32_CHARSET for c in rest):
        return False
    return _polymod(_hrp_expand(hrp) + [BECH32_CHARSET.index(c) for c in rest]) == _BECH32_CONST
