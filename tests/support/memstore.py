"""An in-memory `EngineStore` with the semantics of signer.store.Store, for engine mechanics tests.

Under `MockClock(autojump_threshold=0)` the real SQLite store's worker threads would let virtual time jump
past deadlines while a query runs; tests of the store path itself use the real store and the real clock.
`tests/store/test_engine_store_contract.py` runs the same contract over this store, SQLite and PostgreSQL,
so it cannot drift from the real one; mypy checks it against `EngineStore` (below).
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import asdict, replace
from datetime import UTC, datetime

import trio

from signer.engine.storage import EngineStore
from signer.store.errors import AlreadyConsumed, ItemExists, KeyExists, KeyNotFound, StalePresignature
from signer.store.records import AuditEvent, KeyInfo, PendingVersion, StoredKeyShare


class MemoryStore:
    """Key shares, pools and audit rows in dicts; every call is a checkpoint, like a real store call."""

    def __init__(self) -> None:
        self.shares: dict[str, StoredKeyShare] = {}
        self.preparams: deque[bytes] = deque()
        # item id -> (key id, presignature, key version), in insertion order (claims without an id take the oldest).
        self.presignatures: dict[str, tuple[str, bytes, int]] = {}
        # key id -> (pending version, its share or None for a retirement)
        self.pending: dict[str, tuple[PendingVersion, bytes | None]] = {}
        # (key id, version, session id) of committed versions: a repeated commit answers the same.
        self.committed: dict[tuple[str, int, str], KeyInfo | None] = {}
        self.superseded: set[str] = set()
        self.audit: list[dict[str, object]] = []
        self.used_once: set[tuple[str, str]] = set()

    async def key_info(self, key_id: str) -> KeyInfo:
        return (await self.get_share(key_id)).info

    async def get_share(self, key_id: str) -> StoredKeyShare:
        await trio.lowlevel.checkpoint()
        if key_id not in self.shares:
            raise KeyNotFound(f"no key share with key id {key_id!r}")
        return self.shares[key_id]

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
        await trio.lowlevel.checkpoint()
        if key_id in self.shares:
            raise KeyExists(f"a key share with key id {key_id!r} already exists")
        info = KeyInfo(
            key_id, protocol, curve, public_key, threshold, parties, party_index, datetime.now(UTC), party_identities
        )
        self.shares[key_id] = StoredKeyShare(info, share)
        self._record(audit)
        return info

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
        await trio.lowlevel.checkpoint()
        held = self.pending.get(key_id)
        if held is not None:
            if held[0].session_id == session_id and held[0].info.key_version == key_version:
                return held[0]
            raise KeyExists(f"key {key_id!r} already has a pending version")
        info = KeyInfo(
            key_id, protocol, curve, public_key, threshold, parties, party_index, datetime.now(UTC),
            party_identities, key_version,
        )  # fmt: skip
        pending = PendingVersion(info, session_id, confirm_digest, resume, share is None)
        self.pending[key_id] = (pending, share)
        self._record(audit)
        return pending

    async def commit_version(
        self, key_id: str, key_version: int, session_id: str, *, audit: AuditEvent | None = None
    ) -> KeyInfo | None:
        await trio.lowlevel.checkpoint()
        done = (key_id, key_version, session_id)
        if done in self.committed:
            return self.committed[done]
        held = self.pending.get(key_id)
        if held is None or (held[0].session_id, held[0].info.key_version) != (session_id, key_version):
            raise KeyNotFound(f"key {key_id!r} has no pending version {key_version} of session {session_id!r}")
        pending, share = self.pending.pop(key_id)
        old = self.shares.pop(key_id, None)
        for item_id in [i for i, (owner, _, _) in self.presignatures.items() if owner == key_id]:
            del self.presignatures[item_id]
            self.superseded.add(item_id)
        info = None
        if share is not None:
            created = pending.info.created_at if old is None else old.info.created_at
            info = replace(pending.info, created_at=created, updated_at=datetime.now(UTC))
            self.shares[key_id] = StoredKeyShare(info, share)
        self.committed[done] = info
        self._record(audit)
        return info

    async def rollback_version(
        self, key_id: str, key_version: int, session_id: str, *, audit: AuditEvent | None = None
    ) -> bool:
        await trio.lowlevel.checkpoint()
        held = self.pending.get(key_id)
        if held is None or (held[0].session_id, held[0].info.key_version) != (session_id, key_version):
            return False
        del self.pending[key_id]
        self._record(audit)
        return True

    async def pending_versions(self) -> list[PendingVersion]:
        await trio.lowlevel.checkpoint()
        return [p for p, _ in self.pending.values()]

    def _record(self, audit: AuditEvent | None) -> None:
        """The audit row that the real store commits in the same transaction as the result."""
        if audit is not None:
            self.audit.append(asdict(audit))

    async def add_preparams(self, blob: bytes) -> str:
        await trio.lowlevel.checkpoint()
        self.preparams.append(blob)
        return secrets.token_hex(16)

    async def claim_preparams(self) -> bytes | None:
        await trio.lowlevel.checkpoint()
        return self.preparams.popleft() if self.preparams else None

    async def count_preparams(self) -> int:
        await trio.lowlevel.checkpoint()
        return len(self.preparams)

    async def add_presignature(
        self,
        key_id: str,
        blob: bytes,
        item_id: str | None = None,
        *,
        key_version: int = 1,
        audit: AuditEvent | None = None,
    ) -> str:
        await trio.lowlevel.checkpoint()
        item_id = secrets.token_hex(16) if item_id is None else item_id
        if item_id in self.presignatures:
            raise ItemExists(f"a pool item with id {item_id!r} already exists")
        self.presignatures[item_id] = (key_id, blob, key_version)
        self._record(audit)
        return item_id

    async def claim_presignature(
        self, key_id: str, item_id: str | None = None, *, audit: AuditEvent | None = None
    ) -> bytes | None:
        await trio.lowlevel.checkpoint()
        mine = [i for i, (owner, _, _) in self.presignatures.items() if owner == key_id]
        if item_id is not None and item_id in self.superseded:
            raise StalePresignature(f"presignature {item_id!r} was deleted when key {key_id!r} changed version")
        if item_id is None:
            item_id = mine[0] if mine else None
        if item_id is None or item_id not in mine:
            return None
        self._record(audit)
        _, blob, version = self.presignatures.pop(item_id)
        current = self.shares.get(key_id)
        if current is not None and current.info.key_version != version:
            raise StalePresignature(f"presignature {item_id!r} was made under another version of key {key_id!r}")
        return blob

    async def count_presignatures(self, key_id: str | None = None) -> int:
        await trio.lowlevel.checkpoint()
        return sum(1 for owner, _, _ in self.presignatures.values() if key_id is None or owner == key_id)

    async def consume_once(self, kind: str, item_id: str) -> None:
        await trio.lowlevel.checkpoint()
        if (kind, item_id) in self.used_once:
            raise AlreadyConsumed(f"{kind} {item_id!r} was already used")
        self.used_once.add((kind, item_id))

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
        await trio.lowlevel.checkpoint()
        self.audit.append(
            dict(
                session_id=session_id,
                key_id=key_id,
                operation=operation,
                message_digest=message_digest,
                result=result,
                client_identity=client_identity,
                evidence=evidence,
            )
        )


def opaque_set() -> bytes:
    """A pool item for tests of the filler's own error handling, where the content is never used.

    Module-level here (not in a test module) so trio_parallel workers can import it by name.
    """
    return b"opaque set"


# mypy checks that the test store is an EngineStore (the contract test checks that it behaves like one).
_: EngineStore = MemoryStore()
