"""End-to-end encryption of point-to-point protocol payloads through an untrusted relay.

Each party makes a fresh X25519 key pair per session and publishes the public key in its round-1
broadcast, where the protocol binds it into a proof or transcript. A point-to-point payload is then
sealed with ChaCha20-Poly1305 under a key derived by HKDF-SHA256 from the X25519 shared secret and the
full message context (protocol label, session id, sender, recipient, round, both public keys). The key
is therefore unique per (session, direction, round), and the same context is the AEAD's associated
data, so a relay can neither read a payload nor move it to another session, round or recipient.

Opening fails with `E2EError`; protocols turn that into `ProtocolError(culprits=[sender])`.
"""

from __future__ import annotations

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PUBLIC_KEY_SIZE = 32
NONCE_SIZE = 12
OVERHEAD = NONCE_SIZE + 16
_DOMAIN = b"mpc-signer/e2e/v1"


class E2EError(Exception):
    """A payload that cannot be opened: wrong key, tampered, replayed elsewhere, or malformed."""


class E2EKeyPair:
    """A per-session X25519 key pair; the private key never appears in repr."""

    __slots__ = ("_private", "public")

    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private
        self.public: bytes = private.public_key().public_bytes_raw()

    @classmethod
    def generate(cls) -> E2EKeyPair:
        return cls(X25519PrivateKey.generate())

    def __repr__(self) -> str:
        return f"E2EKeyPair(public={self.public.hex()}, private=<redacted>)"

    def _key(self, peer_public: bytes, sender_public: bytes, recipient_public: bytes, context: bytes) -> bytes:
        if len(peer_public) != PUBLIC_KEY_SIZE:
            raise E2EError("X25519 public key must be 32 bytes")
        try:
            shared = self._private.exchange(X25519PublicKey.from_public_bytes(peer_public))
        except ValueError as exc:  # a low-order peer key gives the all-zero secret
            raise E2EError("X25519 key agreement failed") from exc
        info = context + sender_public + recipient_public
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)

    def seal(self, recipient_public: bytes, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt to the holder of `recipient_public`; returns nonce || ciphertext || tag."""
        key = self._key(recipient_public, self.public, recipient_public, context)
        nonce = os.urandom(NONCE_SIZE)
        return nonce + ChaCha20Poly1305(key).encrypt(nonce, plaintext, context)

    def open(self, sender_public: bytes, sealed: bytes, context: bytes) -> bytes:
        """Decrypt a payload sealed by the holder of `sender_public` to this key pair."""
        if len(sealed) < OVERHEAD:
            raise E2EError("sealed payload too short")
        key = self._key(sender_public, sender_public, self.public, context)
        try:
            return ChaCha20Poly1305(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], context)
        except InvalidTag as exc:
            raise E2EError("payload failed authentication") from exc


def context(label: bytes, session_id: str, sender: int, recipient: int, round: int) -> bytes:
    """The length-prefixed context bound into both the key derivation and the associated data."""
    sid = session_id.encode("utf-8")
    return (
        _DOMAIN
        + struct.pack(">I", len(label))
        + label
        + struct.pack(">I", len(sid))
        + sid
        + struct.pack(">III", sender, recipient, round)
    )
