"""Bitcoin: compressed public key, P2WPKH (BIP-173 Bech32), P2PKH (Base58Check) and P2TR (BIP-350 Bech32m)
addresses, DER signatures.

P2WPKH and P2PKH commit to HASH160(compressed key) = RIPEMD160(SHA256(key)); segwit v0 requires the
compressed form (BIP-143), so the uncompressed form is accepted as input but never hashed. P2TR (BIP-341)
puts the 32-byte x-only output key itself in a witness v1 program; `taproot_output_key` derives it from a
group (internal) key as BIP-86 does for a key-path-only output, or with a script tree's merkle root.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from signer.chain.encoding import b58check_encode, segwit_address, segwit_v0_address
from signer.chain.secp256k1 import HALF_N, N, parse_public_key, split_signature
from signer.crypto import bip340
from signer.crypto.secp256k1 import Point

Network = Literal["mainnet", "testnet"]

_P2PKH_VERSION = {"mainnet": b"\x00", "testnet": b"\x6f"}
_SEGWIT_HRP = {"mainnet": "bc", "testnet": "tb"}


def compressed_public_key(public_key: bytes) -> bytes:
    """The 33-byte SEC1 compressed form (0x02/0x03 || X) of a 33- or 65-byte secp256k1 key."""
    return parse_public_key(public_key).format(compressed=True)


def hash160(data: bytes) -> bytes:
    """RIPEMD160(SHA256(data))."""
    try:
        ripemd = hashlib.new("ripemd160")
    except ValueError as exc:  # OpenSSL 3 builds may ship RIPEMD-160 only in the legacy provider
        raise RuntimeError("this Python's OpenSSL has no RIPEMD-160; Bitcoin addresses need it") from exc
    ripemd.update(hashlib.sha256(data).digest())
    return ripemd.digest()


def p2wpkh_address(public_key: bytes, network: Network = "mainnet") -> str:
    """Native segwit v0 address: Bech32(hrp, [0] + HASH160(compressed key)), 'bc1q…' / 'tb1q…'."""
    return segwit_v0_address(_SEGWIT_HRP[_check_network(network)], hash160(compressed_public_key(public_key)))


def p2pkh_address(public_key: bytes, network: Network = "mainnet") -> str:
    """Legacy address of the compressed key: Base58Check(version || HASH160), '1…' / 'm…'/'n…'."""
    return b58check_encode(_P2PKH_VERSION[_check_network(network)] + hash160(compressed_public_key(public_key)))


def taproot_output_key(public_key: bytes, merkle_root: bytes | None = None) -> bytes:
    """BIP-341's 32-byte x-only output key for an internal key (33/65-byte SEC1, or 32-byte x-only): the
    internal key tweaked by tagged_hash("TapTweak", x(P) || merkle_root); no merkle root is BIP-86's
    key-path-only output."""
    if isinstance(public_key, bytes | bytearray) and len(public_key) == bip340.XONLY_LEN:
        public_key = b"\x02" + bytes(public_key)
    internal = Point.decode(compressed_public_key(public_key))
    return bip340.xonly(bip340.output_key(internal, merkle_root))


def p2tr_address(output_key: bytes, network: Network = "mainnet") -> str:
    """Taproot address of a 32-byte x-only output key: Bech32m(hrp, [1] + key), 'bc1p…' / 'tb1p…'."""
    if not isinstance(output_key, bytes | bytearray) or len(output_key) != bip340.XONLY_LEN:
        raise ValueError("a taproot output key is 32 bytes (x-only)")
    parse_public_key(b"\x02" + bytes(output_key))  # x must be on the curve: else the output is unspendable
    return segwit_address(_SEGWIT_HRP[_check_network(network)], 1, bytes(output_key))


def der_signature(signature: bytes) -> bytes:
    """Strict DER (BIP-66) of a 64-byte r||s, with s normalized to low-s (BIP-146 LOW_S): n - s if s > n/2.

    Bitcoin scripts append the one-byte sighash type after this; that is the transaction builder's choice.
    """
    r, s = split_signature(signature)
    if s > HALF_N:
        s = N - s
    body = _der_integer(r) + _der_integer(s)
    return b"\x30" + bytes([len(body)]) + body


def _der_integer(value: int) -> bytes:
    # minimal big-endian, with a 0x00 pad when the top bit is set so it stays positive
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    return b"\x02" + bytes([len(raw)]) + raw


def _check_network(network: str) -> str:
    if network not in ("mainnet", "testnet"):
        raise ValueError(f"network must be 'mainnet' or 'testnet', got {network!r}")
    return network
