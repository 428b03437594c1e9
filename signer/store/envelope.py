"""Envelope encryption: every record under its own AES-256-GCM data key, wrapped by the KEK.

Why envelopes: rotating the KEK re-wraps 60-byte data keys and never touches (or even decrypts into
a long-lived buffer) the records themselves. The associated data binds everything that identifies a
record (its table, key id / item id, node id, protocol, record version and, for shares, the public
metadata), and it is used both for the record and for its wrapped key, so a row copied to another key
id or node, or a wrapped key swapped between rows, fails authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from signer.store.errors import DecryptionFailed
from signer.store.records import PoolRow, ShareRow

_NONCE = 12
_DOMAIN = b"mpc-signer/store/v1"
_CHECK_LABEL = b"mpc-signer/store/kek-check/v1"


def _encode(*fields: bytes | str | int) -> bytes:
    """Length-prefixed encoding of the associated-data fields (no two field lists encode alike)."""
    out = [_DOMAIN]
    for f in fields:
        if isinstance(f, int):
            b = f.to_bytes(8, "big", signed=True)
        elif isinstance(f, str):
            b = f.encode()
        else:
            b = bytes(f)
        out.append(struct.pack(">I", len(b)))
        out.append(b)
    return b"".join(out)


def share_aad(node_id: str, row: ShareRow) -> bytes:
    """The party identities are bound only when there are some, and the key version only from version 2
    on, so a record made before either existed keeps its associated data. The version is bound so that a
    share cannot be passed off as another version of its key (it moves from the pending row to the current
    one unchanged, under the same associated data)."""
    identities = (row.party_identities,) if row.party_identities else ()
    version = (f"key_version={row.key_version}",) if row.key_version != 1 else ()
    return _encode(
        "share",
        node_id,
        row.key_id,
        row.protocol,
        row.record_version,
        row.curve,
        row.public_key,
        row.threshold,
        row.parties,
        row.party_index,
        *identities,
        *version,
    )


def pool_aad(node_id: str, row: PoolRow) -> bytes:
    return _encode("pool", node_id, row.kind, row.owner, row.item_id, row.record_version)


def kek_check(kek: bytes) -> bytes:
    """A value that identifies the KEK without revealing it: HMAC-SHA256(KEK, label)."""
    return hmac.new(kek, _CHECK_LABEL, hashlib.sha256).digest()


def seal(kek: bytes, aad: bytes, plaintext: bytes) -> tuple[bytes, bytes]:
    """Encrypt under a fresh data key; returns (wrapped data key, ciphertext), each nonce-prefixed."""
    data_key = AESGCM.generate_key(bit_length=256)
    n1 = secrets.token_bytes(_NONCE)
    ciphertext = n1 + AESGCM(data_key).encrypt(n1, plaintext, aad)
    return wrap(kek, aad, data_key), ciphertext


def wrap(kek: bytes, aad: bytes, data_key: bytes) -> bytes:
    n = secrets.token_bytes(_NONCE)
    return n + AESGCM(kek).encrypt(n, data_key, aad)


def unwrap(kek: bytes, aad: bytes, wrapped: bytes, what: str) -> bytes:
    try:
        return AESGCM(kek).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], aad)
    except (InvalidTag, ValueError):
        raise DecryptionFailed(f"{what}: data key does not authenticate") from None


def open_sealed(kek: bytes, aad: bytes, wrapped: bytes, ciphertext: bytes, what: str) -> bytes:
    """Decrypt a sealed record; DecryptionFailed names the record (`what`) but nothing secret."""
    data_key = unwrap(kek, aad, wrapped, what)
    try:
        return AESGCM(data_key).decrypt(ciphertext[:_NONCE], ciphertext[_NONCE:], aad)
    except (InvalidTag, ValueError):
        raise DecryptionFailed(f"{what}: record does not authenticate") from None


def rewrap(old_kek: bytes, new_kek: bytes, aad: bytes, wrapped: bytes, what: str) -> bytes:
    """Re-wrap one data key under a new KEK; the record's ciphertext is untouched."""
    return wrap(new_kek, aad, unwrap(old_kek, aad, wrapped, what))
