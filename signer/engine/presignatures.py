"""Presignatures that stay single-use when the database goes back in time.

A GG20 presignature used for two signatures gives the requester this node's key share (two shares
s = e⁻¹·k·(m + r·x) with the same k are two linear equations in k and x). The store's atomic claim
deletes a presignature before use, but a deleted row comes back with a database restore, a failover
to a standby that had not applied the delete, or an operator re-importing old rows. Three guards,
each checked when a presignature is released for signing (`PresignatureGuard.release`):

  * Epoch. Every stored presignature carries the node's current store epoch in a header inside the
    store's encryption (so the AEAD authenticates it). The node counts its claims in a small state
    file outside the database (`<node.data_dir>/presignature-epoch.json`, fsynced) and, in the same
    order, as single-use markers `presign.claim/<epoch>:<n>` in the database. Before each claim the
    marker for the file's count must already be in the database; if it is not, the database has lost
    claims that happened (restored from a backup, or a standby that missed them): the epoch is rotated
    and every presignature made before is refused. A lost or new state file also starts a new epoch.
  * Lifetime. A presignature older than `presignature_ttl_s` is refused (bounds the window a copy of
    an old row is worth anything, and what a restore from long ago can bring back).
  * Used record. The presignature id (a hash of its session id and R, the same for every copy of the
    row) is marked used in the store's `used_once` table (kind `gg20.R`) before release; a
    re-imported row that the epoch cannot catch (no restore of the rest) is refused by it.

A refused presignature has already been claimed, so it is deleted; the request fails with
FAILED_PRECONDITION (a missing one stays NOT_FOUND). Detection needs a claim after the backup was
taken: a restore to a point after the last claim brings back no used presignature.

Replicas of one node sharing a PostgreSQL each have their own state file, hence their own epoch: a
presignature is released only by the replica that made it (the only one whose state file witnessed
every claim of its epoch), so a signing with a presignature goes to the replica that ran its presigning.
"""

from __future__ import annotations

import json
import os
import secrets
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import trio

from signer.store.errors import AlreadyConsumed

from .errors import FailedPrecondition

STATE_FILE = "presignature-epoch.json"
CLAIM_MARKER = "presign.claim"
USED_KIND = "gg20.R"  # GG20 is the one protocol with presignatures
EPOCH_LEN = 16
_MAGIC = b"MPS1"
_HEADER = struct.Struct(f">4s{EPOCH_LEN}sQB")  # magic, epoch, created (unix seconds), id length


class MarkerStore(Protocol):
    async def consume_once(self, kind: str, item_id: str) -> None:
        """Mark (kind, item_id) used; AlreadyConsumed when it already was."""
        ...


def seal(epoch: bytes, created: int, presignature_id: bytes, blob: bytes) -> bytes:
    """The stored form: header (epoch, creation time, presignature id) then the protocol's encoding."""
    return _HEADER.pack(_MAGIC, epoch, created, len(presignature_id)) + presignature_id + blob


def unseal(stored: bytes) -> tuple[bytes, int, bytes, bytes]:
    """(epoch, created, presignature id, blob); FailedPrecondition for a row without the header (made
    before this check existed, so not bound to any epoch)."""
    if len(stored) < _HEADER.size or stored[:4] != _MAGIC:
        raise FailedPrecondition("presignature has no epoch (made by an older version); make a new one")
    _, epoch, created, id_len = _HEADER.unpack_from(stored)
    start = _HEADER.size + id_len
    return epoch, created, stored[_HEADER.size : start], stored[start:]


class PresignatureGuard:
    """The node's presignature epoch and claim counter; `seal` before storing, `release` after claiming.

    `state_dir` None keeps the epoch in memory (a node without a data directory: every restart is a
    new epoch, which refuses all earlier presignatures)."""

    def __init__(
        self,
        store: MarkerStore,
        state_dir: Path | None,
        ttl_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._path = None if state_dir is None else Path(state_dir) / STATE_FILE
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = trio.Lock()
        self._epoch: bytes | None = None
        self._claims = 0

    async def _mark(self, kind: str, item_id: str) -> bool:
        """Mark (kind, item_id) used; False if it already was."""
        try:
            await self._store.consume_once(kind, item_id)
        except AlreadyConsumed:
            return False
        return True

    def _read_state(self) -> tuple[bytes, int] | None:
        assert self._path is not None
        if not self._path.exists():
            return None
        try:
            doc = json.loads(self._path.read_text())
            return bytes.fromhex(doc["epoch"]), int(doc["claims"])
        except (ValueError, KeyError, TypeError):
            return None  # unreadable: treated like a lost file (a new epoch)

    async def _persist(self) -> None:
        if self._path is not None:
            await trio.to_thread.run_sync(self._write_state, self._path)

    def _write_state(self, path: Path) -> None:
        """Write the epoch and claim count durably: a temporary file, fsync, rename, fsync of the directory."""
        assert self._epoch is not None
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump({"epoch": self._epoch.hex(), "claims": self._claims}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    async def _new_epoch(self) -> None:
        self._epoch, self._claims = secrets.token_bytes(EPOCH_LEN), 0
        await self._mark(CLAIM_MARKER, self._marker())
        await self._persist()

    def _marker(self) -> str:
        assert self._epoch is not None
        return f"{self._epoch.hex()}:{self._claims}"

    async def _current(self) -> bytes:
        """The epoch, rotated first if the database no longer holds the last recorded claim."""
        if self._epoch is None:
            state = None if self._path is None else await trio.to_thread.run_sync(self._read_state)
            if state is None:
                await self._new_epoch()
            else:
                self._epoch, self._claims = state
        if await self._mark(CLAIM_MARKER, self._marker()):
            # The marker was missing (now added, harmlessly): the database is behind this node's claims.
            await self._new_epoch()
        assert self._epoch is not None
        return self._epoch

    async def seal(self, presignature_id: bytes, blob: bytes) -> bytes:
        """The form to store a new presignature in, bound to the current epoch and time."""
        async with self._lock:
            epoch = await self._current()
        return seal(epoch, int(self._clock()), presignature_id, blob)

    async def release(self, stored: bytes) -> bytes:
        """The protocol's encoding of a claimed presignature, or FailedPrecondition (epoch, age, reuse)."""
        async with self._lock:
            epoch = await self._current()
            row_epoch, created, presignature_id, blob = unseal(stored)
            if row_epoch != epoch:
                raise FailedPrecondition(
                    "presignature is not from this node's current store epoch (the database was restored or failed"
                    " over, the node's state file is new, or another replica made it); refused and deleted:"
                    " make new presignatures"
                )
            if not 0 <= self._clock() - created <= self._ttl_s:
                raise FailedPrecondition("presignature has expired (pools.presignature_ttl_s); make a new one")
            if not await self._mark(USED_KIND, presignature_id.hex()):
                raise FailedPrecondition("presignature was already used (a re-imported row); refused")
            self._claims += 1
            # The database first: after a crash in between it is ahead of the file, which passes the check
            # (the marker may then already exist, hence the result is ignored).
            await self._mark(CLAIM_MARKER, self._marker())
            await self._persist()
        return blob
