"""Hash commitments (GG20 "[C, D] = Com(m)"), bound to the session, the committing party and a purpose.

Com(m) = SHA-256(domain, session id, party, purpose, salt, m) with a fresh 32-byte salt; every field is
length-prefixed, so two different openings never hash the same input. Binding comes from SHA-256's
collision resistance, hiding from the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct

SALT_LEN = 32
COMMITMENT_LEN = 32
_DOMAIN = b"mpc-signer/gg20/commit/v1"


def _digest(session_id: str, party: int, purpose: bytes, salt: bytes, message: bytes) -> bytes:
    h = hashlib.sha256()
    for part in (_DOMAIN, session_id.encode("utf-8"), struct.pack(">I", party), purpose, salt, message):
        h.update(struct.pack(">Q", len(part)))
        h.update(part)
    return h.digest()


def commit(session_id: str, party: int, purpose: bytes, message: bytes) -> tuple[bytes, bytes]:
    """Returns (commitment, salt); the opening is (salt, message)."""
    salt = secrets.token_bytes(SALT_LEN)
    return _digest(session_id, party, purpose, salt, message), salt


def opens(commitment: bytes, session_id: str, party: int, purpose: bytes, salt: bytes, message: bytes) -> bool:
    """True iff (salt, message) opens `commitment` made by `party` in this session for this purpose."""
    return hmac.compare_digest(commitment, _digest(session_id, party, purpose, salt, message))
