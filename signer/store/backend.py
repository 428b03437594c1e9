"""The interface a storage backend implements, and the retry policy both backends share.

Backends move sealed rows; they never see a KEK or plaintext. Every method is one transaction, so a
crash leaves it either fully applied or not at all. Transient failures (a dropped connection, a
server restart, a busy lock) are retried with tenacity; constraint violations and every other error
are not. A database failure left when the retries are over becomes the store's typed fault
(StoreUnavailable, StoreFull or StoreCorrupt), so callers never see a driver's exception. Each operation
is written so that repeating it after a commit whose reply was lost is harmless: inserts of
store-generated ids use ON CONFLICT DO NOTHING, and a share insert that finds an identical row (same
random ciphertext) treats it as its own earlier attempt.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

import trio
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from signer.store.errors import StoreError
from signer.store.records import AuditEntry, KeyInfo, PoolRow, SchemaStatus, ShareRow, VersionRow

T = TypeVar("T")
# An audit row to insert in the same transaction as the result it records: (entry id, entry). The entry
# id is chosen once by the caller, so a retried transaction whose first commit went through adds no second row.
AuditWrite = tuple[str, AuditEntry]
IN_USE = "a node is using this store; stop it first"
# The used_once kind under which a version switch records the presignatures it deleted, so that claiming
# one later is refused as stale (FAILED_PRECONDITION), not reported as never made.
SUPERSEDED = "presignature.superseded"
# commit_pending's outcome for a version that became the current share (RETIRED for a leaving party).
COMMITTED = "committed"
KEK_ROTATED = "the store's KEK was rotated under this node; restart it with the new storage.kek_file"

RETRY_ATTEMPTS = 6
RETRY_MAX_SECONDS = 30.0
# Start-up waits for an unreachable database with pauses doubling from the first to the last.
WAIT_FIRST_S = 0.5
WAIT_MAX_S = 5.0
# Told (error, seconds until the next try) each time a start-up connection attempt failed.
OnWait = Callable[[BaseException, float], None]


async def retry_transient(
    attempt: Callable[[], Awaitable[T]],
    is_transient: Callable[[BaseException], bool],
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Run `attempt`, retrying transient errors only (bounded by count and time); others propagate."""

    def before_sleep(_: RetryCallState) -> None:
        if on_retry is not None:
            on_retry()

    async for state in AsyncRetrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(RETRY_ATTEMPTS) | stop_after_delay(RETRY_MAX_SECONDS),
        wait=wait_exponential(multiplier=0.05, max=2.0) + wait_random(0, 0.05),
        sleep=trio.sleep,
        before_sleep=before_sleep,
        reraise=True,
    ):
        with state:
            return await attempt()
    raise AssertionError("unreachable: tenacity either returns or reraises")


async def wait_until_reachable(
    connect: Callable[[], Awaitable[T]],
    is_transient: Callable[[BaseException], bool],
    timeout_s: float,
    on_wait: OnWait | None = None,
) -> T:
    """Start-up: try `connect` until it works or `timeout_s` passed, pausing with capped exponential backoff.

    A node started before its database (a reboot, a failover) waits instead of exiting at once and tripping
    its service manager's restart limit; `on_wait` reports every failed attempt (log line, systemd STATUS).
    The last error propagates when time is up; a non-transient one (bad password) propagates at once.
    """
    deadline = trio.current_time() + timeout_s
    pause = WAIT_FIRST_S
    while True:
        try:
            return await connect()
        except Exception as exc:
            left = deadline - trio.current_time()
            if not is_transient(exc) or left <= 0:
                raise
            pause = min(pause, left)
            if on_wait is not None:
                on_wait(exc, pause)
            await trio.sleep(pause)
            pause = min(pause * 2, WAIT_MAX_S)


class Backend(ABC):
    """One database. `retries` counts transient failures that were retried (for tests and metrics)."""

    name: str
    retries: int = 0
    # The check value of the KEK this opener seals with (set by the Store once verified). Every write of
    # sealed records verifies it in its own transaction, locked against a rotation, and fails with
    # WrongKek(KEK_ROTATED) if a rotation replaced it: a record the store's KEK cannot open is never written,
    # even by a node that lost its in-use lock (a dropped PostgreSQL session).
    kek_check: bytes | None = None

    def __init__(
        self,
        is_transient: Callable[[BaseException], bool],
        fault: Callable[[BaseException], StoreError | None],
    ) -> None:
        self._is_transient = is_transient
        self._fault = fault
        self.retries = 0

    async def _retry(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run one transaction with the retry policy; a database fault leaves as a typed StoreError."""

        def count() -> None:
            self.retries += 1

        try:
            return await retry_transient(attempt, self._is_transient, count)
        except StoreError:
            raise
        except Exception as exc:
            fault = self._fault(exc)
            if fault is None:
                raise
            raise fault from exc

    @abstractmethod
    async def migrate(self) -> list[tuple[int, str]]:
        """Apply pending migrations in one transaction; returns the (version, description) applied."""

    @abstractmethod
    async def status(self) -> SchemaStatus: ...

    @abstractmethod
    async def init_meta(self, name: str, value: bytes) -> bytes:
        """Set `name` if unset; return the stored value (which may be another opener's)."""

    @abstractmethod
    async def hold(self, exclusive: bool) -> None:
        """Mark the store in use until `aclose`: shared by every node (waiting while an exclusive holder
        runs), exclusive for an operation that must run alone, which fails at once with StoreInUse
        (message `IN_USE`) while any node holds it."""

    @abstractmethod
    async def insert_share(self, row: ShareRow, audit: AuditWrite | None = None) -> bool:
        """Insert once, with `audit` in the same transaction; False if another share already holds the key id."""

    @abstractmethod
    async def fetch_share(self, key_id: str) -> ShareRow | None: ...

    @abstractmethod
    async def fetch_key_info(self, key_id: str) -> KeyInfo | None: ...

    @abstractmethod
    async def list_key_info(self) -> list[KeyInfo]: ...

    @abstractmethod
    async def delete_share(self, key_id: str) -> bool: ...

    @abstractmethod
    async def insert_pending(self, row: VersionRow, audit: AuditWrite | None = None) -> bool:
        """Insert a pending version (state pending) with `audit`; False if the key already has a pending
        version or that version number (an identical earlier attempt of this session: True)."""

    @abstractmethod
    async def commit_pending(
        self, key_id: str, key_version: int, session_id: str, at: datetime, audit: AuditWrite | None = None
    ) -> str | None:
        """In one transaction: the pending version `key_version` of `session_id` becomes the current share
        (COMMITTED) or, without a share, a retirement (RETIRED: the current row is removed); the previous
        current row is kept as `replaced` metadata without its ciphertext; the key's presignatures are
        deleted and recorded under SUPERSEDED; `audit` is written. Repeating a commit that went through
        returns its outcome again; None if there is no such pending version."""

    @abstractmethod
    async def rollback_pending(
        self, key_id: str, key_version: int, session_id: str, audit: AuditWrite | None = None
    ) -> bool:
        """Delete that pending version with `audit`; False if there was none."""

    @abstractmethod
    async def list_versions(self, key_id: str | None, state: str | None) -> list[VersionRow]:
        """key_share_versions rows (of one key and/or state), without ciphertext for other than pending ones."""

    @abstractmethod
    async def is_used(self, kind: str, item_id: str) -> bool:
        """Whether (kind, item_id) was recorded by consume_once or a version switch."""

    @abstractmethod
    async def pool_add(self, rows: list[PoolRow], at: datetime) -> None: ...

    @abstractmethod
    async def pool_put(self, row: PoolRow, at: datetime, audit: AuditWrite | None = None) -> bool:
        """Insert one item under its caller-chosen id, with `audit` in the same transaction; False if
        another item holds that id.

        An identical row already there (same random ciphertext) is this call's own earlier attempt
        whose commit reply was lost: True.
        """

    @abstractmethod
    async def pool_claim(
        self, kind: str, owner: str, item_id: str | None = None, audit: AuditWrite | None = None
    ) -> PoolRow | None:
        """Remove and return, in one committed transaction, the oldest item, or with `item_id` exactly that
        item (if it is of this kind and owner); None when there is no such item. `audit` is written in
        the same transaction when an item was claimed."""

    @abstractmethod
    async def pool_get(self, kind: str, owner: str, item_id: str) -> PoolRow | None:
        """The item with `item_id` if it is of this kind and owner, left in place; None if there is none."""

    @abstractmethod
    async def pool_count(self, kind: str, owner: str | None) -> int:
        """Items of `kind` owned by `owner`, or by anyone when `owner` is None."""

    @abstractmethod
    async def consume_once(self, kind: str, item_id: str, at: datetime) -> bool:
        """Record (kind, item_id) as used; True only for the first caller ever."""

    @abstractmethod
    async def audit_append(self, entry_id: str, entry: AuditEntry) -> None: ...

    @abstractmethod
    async def audit_read(self, key_id: str | None, session_id: str | None, limit: int | None) -> list[AuditEntry]: ...

    @abstractmethod
    async def rotate(
        self,
        old_check: bytes,
        new_check: bytes,
        rewrap_share: Callable[[ShareRow], bytes],
        rewrap_pool: Callable[[PoolRow], bytes],
    ) -> int:
        """Re-wrap every data key and switch the KEK check value in one transaction; returns the count.

        Raises WrongKek if the stored check value is not `old_check`.
        """

    @abstractmethod
    async def aclose(self) -> None: ...
