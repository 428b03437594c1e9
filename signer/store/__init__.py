"""Encrypted key-share store: embedded SQLite (default) or PostgreSQL, one async repository interface.

    async with open_store("sqlite:///data/signer.db", load_kek("data/kek.hex"), "node-1") as store:
        await store.put_share(key_id, share, protocol="frost", curve="ed25519", ...)

Records are sealed with envelope encryption (`envelope`), single-use secrets are claimed by one atomic
statement, and every operation is one transaction (see `backend`).
"""

from signer.store.errors import (
    AlreadyConsumed,
    DecryptionFailed,
    ItemExists,
    KekFileError,
    KeyExists,
    KeyNotFound,
    NodeMismatch,
    SchemaError,
    StalePresignature,
    StoreConfigError,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreInUse,
    StoreUnavailable,
    WrongKek,
)
from signer.store.kek import create_kek_file, load_kek
from signer.store.records import AuditEntry, AuditEvent, KeyInfo, PendingVersion, SchemaStatus, StoredKeyShare
from signer.store.repository import Store, open_backend, open_store
from signer.store.sqlite import sqlite_url

__all__ = [
    "AlreadyConsumed",
    "AuditEntry",
    "AuditEvent",
    "DecryptionFailed",
    "ItemExists",
    "KekFileError",
    "KeyExists",
    "KeyInfo",
    "KeyNotFound",
    "NodeMismatch",
    "PendingVersion",
    "SchemaError",
    "SchemaStatus",
    "StalePresignature",
    "Store",
    "StoreConfigError",
    "StoreCorrupt",
    "StoreError",
    "StoreFull",
    "StoreInUse",
    "StoreUnavailable",
    "StoredKeyShare",
    "WrongKek",
    "create_kek_file",
    "load_kek",
    "open_backend",
    "open_store",
    "sqlite_url",
]
