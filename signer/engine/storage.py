"""What the engine needs of a store, as a typed protocol.

`signer.store.Store` (SQLite or PostgreSQL) is the real one; tests use an in-memory one. Both are
checked against `EngineStore` by mypy and by one contract test run over all three. Errors are the store's
own: `get_share`/`key_info` raise KeyNotFound for an unknown key id, `put_share` KeyExists for a taken
one, `add_presignature` ItemExists for a taken item id, `consume_once` AlreadyConsumed for a used one,
`claim_presignature` StalePresignature for one made under another key version, `prepare_version` KeyExists
when the key already has a pending version, `commit_version` KeyNotFound for no such pending version;
anything else (a StoreError) is a storage failure.
"""

from __future__ import annotations

from typing import Protocol

from signer.store.records import AuditEvent, KeyInfo, PendingVersion, StoredKeyShare


class EngineStore(Protocol):
    """Key shares, the pre-parameter pool, presignatures and the audit log, as the engine uses them."""

    async def key_info(self, key_id: str) -> KeyInfo:
        """The public metadata of a stored key share."""
        ...

    async def get_share(self, key_id: str) -> StoredKeyShare:
        """The decrypted key share with its metadata."""
        ...

    async def put_share(
        self,
        key_id: str,
        share: bytes,
        *,
        protocol: str,
        curve: str,
        public_key: bytes,
        threshold: int,
        parties: int,
        party_index: int,
        party_identities: bytes = b"",
        audit: AuditEvent | None = None,
    ) -> KeyInfo:
        """Store a DKG's key share once, with every party's identity key (public metadata), in one
        transaction with its `audit` row."""
        ...

    async def prepare_version(
        self,
        key_id: str,
        share: bytes | None,
        *,
        key_version: int,
        session_id: str,
        confirm_digest: bytes,
        resume: bytes,
        protocol: str,
        curve: str,
        public_key: bytes,
        threshold: int,
        parties: int,
        party_index: int,
        party_identities: bytes = b"",
        audit: AuditEvent | None = None,
    ) -> PendingVersion:
        """Keep a new key version as pending (None: this party leaves the key), durably, with `audit`."""
        ...

    async def commit_version(
        self, key_id: str, key_version: int, session_id: str, *, audit: AuditEvent | None = None
    ) -> KeyInfo | None:
        """Pending -> current in one transaction (old secret and the key's presignatures deleted), with
        `audit`; None when this party left the key. Repeatable."""
        ...

    async def rollback_version(
        self, key_id: str, key_version: int, session_id: str, *, audit: AuditEvent | None = None
    ) -> bool:
        """Drop the pending version with `audit`; False if there was none."""
        ...

    async def pending_versions(self) -> list[PendingVersion]:
        """Every pending version's public data (a restart finishes or rolls back each)."""
        ...

    async def add_preparams(self, blob: bytes) -> str:
        """Add one pre-parameter set to the pool; returns its item id."""
        ...

    async def claim_preparams(self) -> bytes | None:
        """Remove and return one pre-parameter set (durably, before returning); None if the pool is empty."""
        ...

    async def count_preparams(self) -> int: ...

    async def add_presignature(
        self,
        key_id: str,
        blob: bytes,
        item_id: str | None = None,
        *,
        key_version: int = 1,
        audit: AuditEvent | None = None,
    ) -> str:
        """Keep one presignature for `key_id`, made under `key_version`, under `item_id` (a random id if None),
        in one transaction with its `audit` row; returns the id."""
        ...

    async def claim_presignature(
        self, key_id: str, item_id: str | None = None, *, audit: AuditEvent | None = None
    ) -> bytes | None:
        """Remove and return one presignature of `key_id` (that item, or the oldest), in one transaction with
        its `audit` row (written only when an item was claimed); None if there is none."""
        ...

    async def count_presignatures(self, key_id: str | None = None) -> int:
        """Presignatures ready for `key_id`, or for all keys when None."""
        ...

    async def consume_once(self, kind: str, item_id: str) -> None:
        """Mark (kind, item_id) used, durably and atomically; AlreadyConsumed for every call after the first
        (the engine keeps started session ids this way, so none is ever started twice)."""
        ...

    async def append_audit(
        self,
        *,
        session_id: str,
        key_id: str,
        operation: str,
        message_digest: bytes | None,
        result: str,
        client_identity: str,
        evidence: bytes | None = None,
    ) -> None:
        """Append one audit row; `evidence` is a failed session's blame evidence (docs/contract.md §11.8)."""
        ...
