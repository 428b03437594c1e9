"""An in-memory store with the engine-facing API of signer.store.Store, for mechanics tests only.

Under `MockClock(autojump_threshold=0)` the real SQLite store's worker threads would let virtual time jump
past deadlines while a query runs; tests of the store path itself use the real store and the real clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from datetime import UTC, datetime

import trio

from signer.store.errors import KeyExists, KeyNotFound
from signer.store.records import AuditEvent, KeyInfo, KeyShare


class MemoryStore:
    def __init__(self) -> None:
        self.shares: dict[str, KeyShare] = {}
        self.preparams: deque[bytes] = deque()
        self.audit: list[dict[str, object]] = []

    async def key_info(self, key_id: str) -> KeyInfo:
        return (await self.get_share(key_id)).info

    async def get_share(self, key_id: str) -> KeyShare:
        await trio.lowlevel.checkpoint()
        if key_id not in self.shares:
            raise KeyNotFound(f"no key share with key id {key_id!r}")
        return self.shares[key_id]

    async def put_share(self, key_id: str, share: bytes, *, audit: AuditEvent | None = None, **meta: object) -> KeyInfo:
        await trio.lowlevel.checkpoint()
        if key_id in self.shares:
            raise KeyExists(f"a key share with key id {key_id!r} already exists")
        info = KeyInfo(key_id=key_id, created_at=datetime.now(UTC), **meta)  # type: ignore[arg-type]
        self.shares[key_id] = KeyShare(info, share)
        if audit is not None:
            self.audit.append(asdict(audit))
        return info

    async def add_preparams(self, blob: bytes) -> str:
        await trio.lowlevel.checkpoint()
        self.preparams.append(blob)
        return str(len(self.preparams))

    async def claim_preparams(self) -> bytes | None:
        await trio.lowlevel.checkpoint()
        return self.preparams.popleft() if self.preparams else None

    async def count_preparams(self) -> int:
        await trio.lowlevel.checkpoint()
        return len(self.preparams)

    async def count_presignatures(self, key_id: str | None = None) -> int:
        await trio.lowlevel.checkpoint()
        return 0

    async def append_audit(self, **row: object) -> None:
        await trio.lowlevel.checkpoint()
        self.audit.append(row)


def opaque_set() -> bytes:
    """A pool item for tests of the filler's own error handling, where the content is never used.

    Module-level here (not in a test module) so trio_parallel workers can import it by name.
    """
    return b"opaque set"
