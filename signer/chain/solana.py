"""Solana: an address is the Base58 of the 32-byte Ed25519 public key; signatures are the raw 64 bytes.

An address of a signing key must be a point on the curve (program-derived addresses are deliberately off it),
so the key is checked with libsodium before it is encoded.
"""

from __future__ import annotations

import nacl.bindings
import nacl.exceptions
import nacl.signing

from signer.chain.encoding import b58encode


def _check_public_key(public_key: bytes) -> bytes:
    if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(bytes(public_key)):
        raise ValueError("public key is not a valid Ed25519 point")
    return bytes(public_key)


def address(public_key: bytes) -> str:
    """Base58 of the Ed25519 key: what Solana wallets and explorers show."""
    return b58encode(_check_public_key(public_key))


def chain_signature(public_key: bytes, signature: bytes, message: bytes) -> bytes:
    """The 64-byte R||S signature, unchanged, once it verifies (RFC 8032) for this key and message."""
    key = _check_public_key(public_key)
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != 64:
        raise ValueError("an Ed25519 signature is 64 bytes")
    try:
        nacl.signing.VerifyKey(key).verify(bytes(message), bytes(signature))
    except nacl.exceptions.BadSignatureError as exc:
        raise ValueError("signature does not verify for this key and message") from exc
    return bytes(signature)
