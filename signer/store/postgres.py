"""The PostgreSQL backend: asyncpg with a connection pool, hosted in Trio through trio-asyncio.

Every operation is one asyncpg call chain run with `trio_asyncio.aio_as_trio`, so it needs the
trio-asyncio loop: `open_postgres` uses the caller's loop when it runs inside
`trio_asyncio.open_loop()` (the service does, for grpclib) and opens one of its own otherwise.

Concurrency across replicas: a claim is a single `DELETE ... WHERE seq = (SELECT ... FOR UPDATE SKIP
LOCKED) RETURNING ...`, so two replicas never delete (and so never return) the same row, and neither
waits on the other's row lock. `synchronous_commit` is forced on for our sessions: a claim or a key
share is on disk before the call returns.

Who uses the store: each opener holds a session-level advisory lock on a connection of its own, keyed by
the schema, shared by nodes and exclusive (try-lock) for `signer kek rotate`, so a rotation cannot run
under a live node.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
import trio_asyncio

from signer.store import errors
from signer.store.backend import (
    COMMITTED,
    IN_USE,
    KEK_ROTATED,
    SUPERSEDED,
    AuditWrite,
    Backend,
    OnWait,
    retry_transient,
    wait_until_reachable,
)
from signer.store.errors import SchemaError, StoreConfigError, StoreError, StoreInUse, WrongKek
from signer.store.records import (
    PENDING,
    POOL_PRESIGNATURE,
    REPLACED,
    RETIRED,
    AuditEntry,
    KeyInfo,
    PoolRow,
    SchemaStatus,
    ShareRow,
    VersionRow,
)
from signer.store.schema import AUDIT_COLS, POOL_COLS, POSTGRES_MIGRATIONS, SHARE_COLS, VERSION_COLS

T = TypeVar("T")

# Arbitrary constant naming the migration advisory lock (replicas starting together migrate once).
_MIGRATION_LOCK = 0x6D70_6373_6967_6E72 & 0x7FFF_FFFF_FFFF_FFFF
# The in-use lock: (this class id, hash of the schema), so stores in other schemas of one database are apart.
_IN_USE_LOCK = 0x6D70_6375
_IN_USE_KEY = f"{_IN_USE_LOCK}, hashtext(current_schema())"

_TRANSIENT = (
    asyncpg.exceptions.PostgresConnectionError,  # class 08: connection failures, incl. "does not exist"
    asyncpg.exceptions.AdminShutdownError,  # 57P01: pg_terminate_backend, fast shutdown
    asyncpg.exceptions.CrashShutdownError,  # 57P02
    asyncpg.exceptions.CannotConnectNowError,  # 57P03: server starting up
    asyncpg.exceptions.TooManyConnectionsError,  # 53300
    asyncpg.exceptions.SerializationError,  # 40001
    asyncpg.exceptions.DeadlockDetectedError,  # 40P01
    OSError,  # refused / reset sockets and timeouts on the connect path
    # The server's "terminating connection" notice racing the next query on an idle pooled connection
    # leaves the client protocol in a state it refuses to continue from; a fresh connection is fine.
    asyncpg.exceptions.InternalClientError,
)


class _OneLine(logging.Filter):
    """asyncpg's pool logs a full traceback each time it fails to reconnect (every 1 to 60 s while the
    server is down): keep its message and the error, on one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            record.msg, record.args = f"{record.getMessage()} ({type(error).__name__}: {error})", ()
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("asyncpg.pool").addFilter(_OneLine())


def is_transient(exc: BaseException) -> bool:
    """Connection loss, server restart, overload or a serialization conflict; never a constraint."""
    if isinstance(exc, _TRANSIENT):
        return True
    if isinstance(exc, asyncpg.exceptions.InterfaceError):
        return "closed" in str(exc).lower()
    return False


def fault(exc: BaseException) -> StoreError | None:
    """The store fault for an error left after the retries (by SQLSTATE class), None for anything else."""
    if isinstance(exc, asyncpg.exceptions.DiskFullError):
        return errors.StoreFull(f"PostgreSQL: {exc}")
    if isinstance(exc, asyncpg.exceptions.DataCorruptedError | asyncpg.exceptions.IndexCorruptedError):
        return errors.StoreCorrupt(f"PostgreSQL: {exc}")
    if is_transient(exc) or isinstance(
        exc,
        asyncpg.exceptions.InsufficientResourcesError  # class 53: out of memory, too many connections
        | asyncpg.exceptions.ReadOnlySQLTransactionError  # a standby, e.g. during a failover
        | asyncpg.exceptions.OperatorInterventionError,  # class 57: shutdown, cancelled by an operator
    ):
        return errors.StoreUnavailable(f"PostgreSQL: {type(exc).__name__}: {exc}")
    return None


async def _insert_audit(c: asyncpg.Connection, audit: AuditWrite) -> None:
    entry_id, e = audit
    await c.execute(
        "INSERT INTO audit_log (entry_id, at, node_id, session_id, key_id, operation, message_digest, "
        "result, client_identity, evidence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT (entry_id) DO NOTHING",
        entry_id, e.at, e.node_id, e.session_id, e.key_id, e.operation, e.message_digest, e.result,
        e.client_identity, e.evidence,
    )  # fmt: skip


def _dsn(url: str) -> str | None:
    """A bare scheme means: everything from the standard PG* environment variables."""
    return None if url.rstrip("/") in ("postgresql:", "postgres:") else url


def _share(r: Any) -> ShareRow:
    return ShareRow(
        r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7], r[8], bytes(r[12]), bytes(r[13]), bytes(r[9]), r[10],
        r[11],
    )  # fmt: skip


def _share_values(row: ShareRow) -> tuple[Any, ...]:
    """A share row's values in the order of `SHARE_COLS, wrapped_key, ciphertext`."""
    return (
        row.key_id, row.protocol, row.curve, row.public_key, row.threshold, row.parties, row.party_index,
        row.record_version, row.created_at, row.party_identities, row.key_version, row.updated_at, row.wrapped_key,
        row.ciphertext,
    )  # fmt: skip


def _version(r: Any) -> VersionRow:
    """A key_share_versions row selected as VERSION_COLS (no ciphertext: empty bytes)."""
    share = ShareRow(
        r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7], r[8], bytes(r[11] or b""), bytes(r[12] or b""),
        bytes(r[9]), r[10],
    )  # fmt: skip
    return VersionRow(share, r[13], r[14], bytes(r[15]), bytes(r[16]))


def _info(r: Any) -> KeyInfo:
    return KeyInfo(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[8], bytes(r[9]), r[10], r[11])


def _pool(r: Any) -> PoolRow:
    return PoolRow(r[0], r[1], r[2], r[3], bytes(r[4]), bytes(r[5]), r[6])


def _audit(r: Any) -> AuditEntry:
    digest = None if r[6] is None else bytes(r[6])
    evidence = None if r[9] is None else bytes(r[9])
    return AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], digest, r[7], r[8], evidence)


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, pool: asyncpg.Pool, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        super().__init__(is_transient, fault)
        self._pool = pool
        self._connect = connect
        self._in_use: asyncpg.Connection | None = None

    async def hold(self, exclusive: bool) -> None:
        # Its own connection, outside the pool: a session-level lock lives as long as the connection.
        async def take() -> asyncpg.Connection:
            conn = await self._connect()
            try:
                if exclusive:
                    got = await conn.fetchval(f"SELECT pg_try_advisory_lock({_IN_USE_KEY})")
                else:  # waits while a rotation holds it exclusively (one transaction: seconds at most)
                    await conn.execute(f"SELECT pg_advisory_lock_shared({_IN_USE_KEY})")
                    got = True
            except BaseException:
                await conn.close()
                raise
            if not got:
                await conn.close()
                raise StoreInUse(IN_USE)
            return conn

        self._in_use = await self._retry(trio_asyncio.aio_as_trio(take))

    async def _run(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async def on_asyncio() -> T:
            async with self._pool.acquire() as conn:
                return await fn(conn)

        async def attempt() -> T:
            return await trio_asyncio.aio_as_trio(on_asyncio)()

        return await self._retry(attempt)

    async def _tx(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async def in_tx(conn: asyncpg.Connection) -> T:
            async with conn.transaction():
                return await fn(conn)

        return await self._run(in_tx)

    async def _write_sealed(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """A write of sealed records, checking first that the KEK is still ours; FOR SHARE waits for a
        rotation holding the row FOR UPDATE, then reads what it committed."""
        check = self.kek_check

        async def guarded(c: asyncpg.Connection) -> T:
            if check is not None:
                stored = await c.fetchval("SELECT value FROM meta WHERE name = 'kek_check' FOR SHARE")
                if stored is None or bytes(stored) != check:
                    raise WrongKek(KEK_ROTATED)
            return await fn(c)

        return await self._tx(guarded)

    # -- schema ---------------------------------------------------------------------------------

    async def migrate(self) -> list[tuple[int, str]]:
        latest = POSTGRES_MIGRATIONS[-1][0]

        async def fn(c: asyncpg.Connection) -> list[tuple[int, str]]:
            await c.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            await c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
            )
            current = await c.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            if current > latest:
                raise SchemaError(f"database schema version {current} is newer than this program ({latest})")
            applied = []
            for version, description, statements in POSTGRES_MIGRATIONS:
                if version <= current:
                    continue
                for sql in statements:
                    await c.execute(sql)
                await c.execute("INSERT INTO schema_migrations VALUES ($1, $2, now())", version, description)
                applied.append((version, description))
            return applied

        return await self._tx(fn)

    async def status(self) -> SchemaStatus:
        async def fn(c: asyncpg.Connection) -> list[Any]:
            if await c.fetchval("SELECT to_regclass('schema_migrations')") is None:
                return []
            return await c.fetch("SELECT version, description, applied_at FROM schema_migrations ORDER BY version")

        rows = await self._run(fn)
        applied = tuple((r[0], r[1], r[2]) for r in rows)
        current = applied[-1][0] if applied else 0
        pending = tuple((v, d) for v, d, _ in POSTGRES_MIGRATIONS if v > current)
        return SchemaStatus(current, POSTGRES_MIGRATIONS[-1][0], applied, pending)

    async def init_meta(self, name: str, value: bytes) -> bytes:
        async def fn(c: asyncpg.Connection) -> bytes:
            await c.execute("INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, value)
            return bytes(await c.fetchval("SELECT value FROM meta WHERE name = $1", name))

        return await self._tx(fn)

    # -- key shares -------------------------------------------------------------------------------

    async def insert_share(self, row: ShareRow, audit: AuditWrite | None = None) -> bool:
        async def fn(c: asyncpg.Connection) -> None:
            await c.execute(
                f"INSERT INTO key_shares ({SHARE_COLS}, wrapped_key, ciphertext) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                *_share_values(row),
            )
            if audit is not None:
                await _insert_audit(c, audit)

        try:
            await self._write_sealed(fn)
            return True
        except asyncpg.exceptions.UniqueViolationError:
            # Not retried. The row may be our own attempt whose commit reply a dropped connection lost:
            # its ciphertext (fresh data key, random nonce) is then byte-identical to ours.
            existing = await self.fetch_share(row.key_id)
            return existing is not None and existing.ciphertext == row.ciphertext

    async def fetch_share(self, key_id: str) -> ShareRow | None:
        async def fn(c: asyncpg.Connection) -> Any:
            return await c.fetchrow(
                f"SELECT {SHARE_COLS}, wrapped_key, ciphertext FROM key_shares WHERE key_id = $1", key_id
            )

        r = await self._run(fn)
        return None if r is None else _share(r)

    async def fetch_key_info(self, key_id: str) -> KeyInfo | None:
        async def fn(c: asyncpg.Connection) -> Any:
            return await c.fetchrow(f"SELECT {SHARE_COLS} FROM key_shares WHERE key_id = $1", key_id)

        r = await self._run(fn)
        return None if r is None else _info(r)

    async def list_key_info(self) -> list[KeyInfo]:
        async def fn(c: asyncpg.Connection) -> list[Any]:
            return await c.fetch(f"SELECT {SHARE_COLS} FROM key_shares ORDER BY key_id")

        return [_info(r) for r in await self._run(fn)]

    async def delete_share(self, key_id: str) -> bool:
        async def fn(c: asyncpg.Connection) -> bool:
            await c.execute("DELETE FROM secret_pool WHERE owner = $1", key_id)
            await c.execute("DELETE FROM key_share_versions WHERE key_id = $1", key_id)
            return await c.execute("DELETE FROM key_shares WHERE key_id = $1", key_id) == "DELETE 1"

        return await self._tx(fn)

    # -- key versions -----------------------------------------------------------------------------

    async def insert_pending(self, row: VersionRow, audit: AuditWrite | None = None) -> bool:
        s = row.share

        async def fn(c: asyncpg.Connection) -> bool:
            status = await c.execute(
                f"INSERT INTO key_share_versions ({VERSION_COLS}) VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) ON CONFLICT DO NOTHING",
                s.key_id, s.protocol, s.curve, s.public_key, s.threshold, s.parties, s.party_index, s.record_version,
                s.created_at, s.party_identities, s.key_version, s.wrapped_key or None, s.ciphertext or None,
                PENDING, row.session_id, row.confirm_digest, row.resume,
            )  # fmt: skip
            if status == "INSERT 0 1":
                if audit is not None:
                    await _insert_audit(c, audit)
                return True
            held = await c.fetchval(
                "SELECT session_id FROM key_share_versions WHERE key_id = $1 AND key_version = $2 AND state = $3",
                s.key_id, s.key_version, PENDING,
            )  # fmt: skip
            return held == row.session_id  # our own earlier attempt

        return await self._write_sealed(fn)

    async def commit_pending(
        self, key_id: str, key_version: int, session_id: str, at: datetime, audit: AuditWrite | None = None
    ) -> str | None:
        async def fn(c: asyncpg.Connection) -> str | None:
            # The current row first, locked: two replicas committing the same version serialise here.
            current_row = await c.fetchrow(
                f"SELECT {SHARE_COLS}, wrapped_key, ciphertext FROM key_shares WHERE key_id = $1 FOR UPDATE", key_id
            )
            r = await c.fetchrow(
                f"SELECT {VERSION_COLS} FROM key_share_versions "
                "WHERE key_id = $1 AND key_version = $2 AND state = $3 AND session_id = $4 FOR UPDATE",
                key_id, key_version, PENDING, session_id,
            )  # fmt: skip
            if r is None:
                done = await c.fetchval(
                    "SELECT state FROM key_share_versions WHERE key_id = $1 AND key_version = $2 AND session_id = $3",
                    key_id, key_version, session_id,
                )  # fmt: skip
                if done == RETIRED:
                    return RETIRED
                return COMMITTED if current_row is not None and current_row[10] == key_version else None
            pending = _version(r)
            created = at
            if current_row is not None:
                cur = _share(current_row)
                created = cur.created_at
                await c.execute(
                    f"INSERT INTO key_share_versions ({VERSION_COLS}) VALUES "
                    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, $12, $13, ''::bytea, ''::bytea) "
                    "ON CONFLICT DO NOTHING",
                    cur.key_id, cur.protocol, cur.curve, cur.public_key, cur.threshold, cur.parties, cur.party_index,
                    cur.record_version, cur.created_at, cur.party_identities, cur.key_version, REPLACED, session_id,
                )  # fmt: skip
                await c.execute("DELETE FROM key_shares WHERE key_id = $1", key_id)
            await c.execute(
                "INSERT INTO used_once (kind, item_id, used_at) SELECT $1, item_id, $2 FROM secret_pool "
                "WHERE kind = $3 AND owner = $4 ON CONFLICT DO NOTHING",
                SUPERSEDED, at, POOL_PRESIGNATURE, key_id,
            )  # fmt: skip
            await c.execute("DELETE FROM secret_pool WHERE kind = $1 AND owner = $2", POOL_PRESIGNATURE, key_id)
            if pending.share.ciphertext:
                new = replace(pending.share, created_at=created, updated_at=at)
                await c.execute(
                    f"INSERT INTO key_shares ({SHARE_COLS}, wrapped_key, ciphertext) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    *_share_values(new),
                )
                await c.execute(
                    "DELETE FROM key_share_versions WHERE key_id = $1 AND key_version = $2", key_id, key_version
                )
                outcome = COMMITTED
            else:
                await c.execute(
                    "UPDATE key_share_versions SET state = $1 WHERE key_id = $2 AND key_version = $3",
                    RETIRED, key_id, key_version,
                )  # fmt: skip
                outcome = RETIRED
            if audit is not None:
                await _insert_audit(c, audit)
            return outcome

        return await self._write_sealed(fn)

    async def rollback_pending(
        self, key_id: str, key_version: int, session_id: str, audit: AuditWrite | None = None
    ) -> bool:
        async def fn(c: asyncpg.Connection) -> bool:
            status = await c.execute(
                "DELETE FROM key_share_versions WHERE key_id = $1 AND key_version = $2 AND state = $3 "
                "AND session_id = $4",
                key_id, key_version, PENDING, session_id,
            )  # fmt: skip
            if status == "DELETE 1" and audit is not None:
                await _insert_audit(c, audit)
            return status == "DELETE 1"

        return await self._tx(fn)

    async def list_versions(self, key_id: str | None, state: str | None) -> list[VersionRow]:
        async def fn(c: asyncpg.Connection) -> list[Any]:
            return await c.fetch(
                f"SELECT {VERSION_COLS} FROM key_share_versions WHERE ($1::text IS NULL OR key_id = $1) "
                "AND ($2::text IS NULL OR state = $2) ORDER BY key_id, key_version",
                key_id,
                state,
            )

        return [_version(r) for r in await self._run(fn)]

    async def is_used(self, kind: str, item_id: str) -> bool:
        async def fn(c: asyncpg.Connection) -> bool:
            sql = "SELECT 1 FROM used_once WHERE kind = $1 AND item_id = $2"
            return await c.fetchval(sql, kind, item_id) is not None

        return await self._run(fn)

    # -- single-use pools -------------------------------------------------------------------------

    async def pool_add(self, rows: list[PoolRow], at: datetime) -> None:
        async def fn(c: asyncpg.Connection) -> None:
            await c.executemany(
                f"INSERT INTO secret_pool ({POOL_COLS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (item_id) DO NOTHING",
                [
                    (r.kind, r.owner, r.item_id, r.record_version, r.wrapped_key, r.ciphertext, r.key_version, at)
                    for r in rows
                ],
            )

        await self._write_sealed(fn)

    async def pool_put(self, row: PoolRow, at: datetime, audit: AuditWrite | None = None) -> bool:
        async def fn(c: asyncpg.Connection) -> bool:
            status = await c.execute(
                f"INSERT INTO secret_pool ({POOL_COLS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (item_id) DO NOTHING",
                row.kind,
                row.owner,
                row.item_id,
                row.record_version,
                row.wrapped_key,
                row.ciphertext,
                row.key_version,
                at,
            )
            if status == "INSERT 0 1":
                if audit is not None:
                    await _insert_audit(c, audit)
                return True
            held = await c.fetchval("SELECT ciphertext FROM secret_pool WHERE item_id = $1", row.item_id)
            return held is not None and bytes(held) == row.ciphertext

        return await self._write_sealed(fn)

    async def pool_claim(
        self, kind: str, owner: str, item_id: str | None = None, audit: AuditWrite | None = None
    ) -> PoolRow | None:
        async def fn(c: asyncpg.Connection) -> Any:
            if item_id is not None:
                # One statement: of two concurrent claims of the same id, the second waits for the first's
                # row lock, then finds the row gone and returns nothing.
                r = await c.fetchrow(
                    f"DELETE FROM secret_pool WHERE item_id = $1 AND kind = $2 AND owner = $3 RETURNING {POOL_COLS}",
                    item_id,
                    kind,
                    owner,
                )
            else:
                r = await c.fetchrow(
                    "DELETE FROM secret_pool WHERE seq = (SELECT seq FROM secret_pool WHERE kind = $1 AND owner = $2 "
                    f"ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING {POOL_COLS}",
                    kind,
                    owner,
                )
            if r is not None and audit is not None:
                await _insert_audit(c, audit)
            return r

        r = await (self._run(fn) if audit is None else self._tx(fn))
        return None if r is None else _pool(r)

    async def pool_get(self, kind: str, owner: str, item_id: str) -> PoolRow | None:
        async def fn(c: asyncpg.Connection) -> Any:
            return await c.fetchrow(
                f"SELECT {POOL_COLS} FROM secret_pool WHERE item_id = $1 AND kind = $2 AND owner = $3",
                item_id,
                kind,
                owner,
            )

        r = await self._run(fn)
        return None if r is None else _pool(r)

    async def pool_count(self, kind: str, owner: str | None) -> int:
        async def fn(c: asyncpg.Connection) -> int:
            return await c.fetchval(
                "SELECT COUNT(*) FROM secret_pool WHERE kind = $1 AND ($2::text IS NULL OR owner = $2)", kind, owner
            )

        return await self._run(fn)

    async def consume_once(self, kind: str, item_id: str, at: datetime) -> bool:
        async def fn(c: asyncpg.Connection) -> bool:
            status = await c.execute(
                "INSERT INTO used_once (kind, item_id, used_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                kind,
                item_id,
                at,
            )
            return status == "INSERT 0 1"

        return await self._run(fn)

    # -- audit ------------------------------------------------------------------------------------

    async def audit_append(self, entry_id: str, entry: AuditEntry) -> None:
        await self._run(lambda c: _insert_audit(c, (entry_id, entry)))

    async def audit_read(self, key_id: str | None, session_id: str | None, limit: int | None) -> list[AuditEntry]:
        async def fn(c: asyncpg.Connection) -> list[Any]:
            return await c.fetch(
                f"SELECT {AUDIT_COLS} FROM audit_log WHERE ($1::text IS NULL OR key_id = $1) "
                "AND ($2::text IS NULL OR session_id = $2) ORDER BY seq LIMIT $3",
                key_id,
                session_id,
                limit,
            )

        return [_audit(r) for r in await self._run(fn)]

    # -- KEK rotation -----------------------------------------------------------------------------

    async def rotate(
        self,
        old_check: bytes,
        new_check: bytes,
        rewrap_share: Callable[[ShareRow], bytes],
        rewrap_pool: Callable[[PoolRow], bytes],
    ) -> int:
        async def fn(c: asyncpg.Connection) -> int:
            stored = await c.fetchval("SELECT value FROM meta WHERE name = 'kek_check' FOR UPDATE")
            if stored is None or bytes(stored) != old_check:
                raise WrongKek("the current KEK does not match this store")
            shares = [_share(r) for r in await c.fetch(f"SELECT {SHARE_COLS}, wrapped_key, ciphertext FROM key_shares")]
            await c.executemany(
                "UPDATE key_shares SET wrapped_key = $1 WHERE key_id = $2",
                [(rewrap_share(s), s.key_id) for s in shares],
            )
            pending = [
                _version(r).share
                for r in await c.fetch(
                    f"SELECT {VERSION_COLS} FROM key_share_versions WHERE wrapped_key IS NOT NULL FOR UPDATE"
                )
            ]
            await c.executemany(
                "UPDATE key_share_versions SET wrapped_key = $1 WHERE key_id = $2 AND key_version = $3",
                [(rewrap_share(v), v.key_id, v.key_version) for v in pending],
            )
            pool = [_pool(r) for r in await c.fetch(f"SELECT {POOL_COLS} FROM secret_pool FOR UPDATE")]
            await c.executemany(
                "UPDATE secret_pool SET wrapped_key = $1 WHERE item_id = $2",
                [(rewrap_pool(p), p.item_id) for p in pool],
            )
            await c.execute("UPDATE meta SET value = $1 WHERE name = 'kek_check'", new_check)
            return len(shares) + len(pending) + len(pool)

        return await self._tx(fn)

    async def aclose(self) -> None:
        if self._in_use is not None:
            conn, self._in_use = self._in_use, None
            await trio_asyncio.aio_as_trio(conn.close)()  # releases the in-use lock
        await trio_asyncio.aio_as_trio(self._pool.close)()


@asynccontextmanager
async def open_postgres(
    url: str, *, pool_size: int = 10, connect_timeout_s: float | None = None, on_wait: OnWait | None = None
) -> AsyncIterator[PostgresBackend]:
    """Connect a pool inside the caller's trio-asyncio loop or our own.

    Without `connect_timeout_s` an unreachable server gets the usual few quick retries; with it (the node
    at start-up) the connection is tried until it works or that many seconds passed (`wait_until_reachable`).
    """
    if not 1 <= pool_size <= 1000:
        raise StoreConfigError("storage pool size must be in [1, 1000]")
    settings = {"synchronous_commit": "on"}
    if "application_name" not in url:
        settings["application_name"] = "mpc-signer"
    own_loop = trio_asyncio.current_loop.get() is None
    try:
        async with AsyncExitStack() as stack:
            if own_loop:
                await stack.enter_async_context(trio_asyncio.open_loop())

            async def create() -> asyncpg.Pool:
                return await trio_asyncio.aio_as_trio(asyncpg.create_pool)(
                    dsn=_dsn(url), min_size=1, max_size=pool_size, server_settings=settings
                )

            try:
                if connect_timeout_s is None:
                    pool = await retry_transient(create, is_transient)
                else:
                    pool = await wait_until_reachable(create, is_transient, connect_timeout_s, on_wait)
            except asyncpg.exceptions.PostgresError as exc:
                if not is_transient(exc):
                    raise StoreError(f"storage.url: PostgreSQL refused the connection: {exc}") from None
                raise errors.StoreUnavailable(f"storage.url: cannot reach PostgreSQL: {exc}") from None
            except OSError as exc:
                raise errors.StoreUnavailable(f"storage.url: cannot reach PostgreSQL: {exc}") from None
            backend = PostgresBackend(pool, lambda: asyncpg.connect(dsn=_dsn(url), server_settings=settings))
            try:
                yield backend
            finally:
                await backend.aclose()
    except BaseExceptionGroup as group:
        # Our own loop's nursery wraps whatever crossed it; callers expect the store's typed errors.
        if not own_loop:
            raise
        inner: BaseException = group
        while isinstance(inner, BaseExceptionGroup) and len(inner.exceptions) == 1:
            inner = inner.exceptions[0]
        if inner is group:
            raise
        raise inner from None
