"""RFC 9380 hashing to a prime field: `expand_message_xmd` (section 5.3.1) and `hash_to_field` (section 5.2).

RFC 9591's secp256k1 and P-256 suites derive every scalar this way (H1, H2, H3, and the DKG's HDKG), so
the FROST scalars are unbiased and domain-separated by the DST rather than by a prefix of the hashed data.
Only the SHA-256 instance is needed here; `hash_to_field` takes the field's prime and the security level k
to size L = ceil((ceil(log2(p)) + k) / 8) as the RFC prescribes (48 bytes for secp256k1's group order).
"""

from __future__ import annotations

import hashlib

SHA256_BLOCK = 64  # s_in_bytes: SHA-256's input block size
SHA256_SIZE = 32  # b_in_bytes: SHA-256's output size
MAX_DST = 255


def expand_message_xmd_sha256(msg: bytes, dst: bytes, len_in_bytes: int) -> bytes:
    """RFC 9380 5.3.1 with H = SHA-256: a uniform `len_in_bytes`-byte string from (msg, DST)."""
    ell = -(-len_in_bytes // SHA256_SIZE)
    if ell > 255 or len_in_bytes > 65535:
        raise ValueError("expand_message_xmd: requested length too large")
    if len(dst) > MAX_DST:
        # RFC 9380 5.3.3 reduces an oversized DST by hashing it; no caller here needs that.
        raise ValueError("expand_message_xmd: DST longer than 255 bytes")
    dst_prime = dst + bytes([len(dst)])
    b0 = hashlib.sha256(bytes(SHA256_BLOCK) + msg + len_in_bytes.to_bytes(2, "big") + b"\x00" + dst_prime).digest()
    b = hashlib.sha256(b0 + b"\x01" + dst_prime).digest()
    out = [b]
    b0_int = int.from_bytes(b0, "big")
    for i in range(2, ell + 1):
        mixed = (b0_int ^ int.from_bytes(b, "big")).to_bytes(SHA256_SIZE, "big")  # strxor(b_0, b_(i-1))
        b = hashlib.sha256(mixed + bytes([i]) + dst_prime).digest()
        out.append(b)
    return b"".join(out)[:len_in_bytes]


def expansion_length(prime: int, security_bits: int = 128) -> int:
    """RFC 9380 5's L = ceil((ceil(log2(p)) + k) / 8)."""
    return -(-((prime - 1).bit_length() + security_bits) // 8)


def hash_to_field_sha256(msg: bytes, dst: bytes, prime: int, count: int = 1, security_bits: int = 128) -> list[int]:
    """RFC 9380 5.2 hash_to_field for m = 1 (a prime field) with expand_message_xmd(SHA-256)."""
    length = expansion_length(prime, security_bits)
    uniform = expand_message_xmd_sha256(msg, dst, count * length)
    return [int.from_bytes(uniform[i * length : (i + 1) * length], "big") % prime for i in range(count)]
