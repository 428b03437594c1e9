"""The embedded SQLite backend: stdlib sqlite3 driven from Trio worker threads.

One connection per store, used by one thread at a time under a Trio lock. WAL journal with
synchronous=FULL: a committed transaction is on disk before the call returns, so a claimed
presignature stays claimed across a crash. Write transactions start with BEGIN IMMEDIATE so that two
processes sharing the file serialise on the write lock (busy_timeout waits for it) instead of failing
at commit.

Who uses the store: every opener holds an advisory `flock` on `<database>.lock` beside the file, shared
by nodes and exclusive for `signer kek rotate`, so a rotation cannot run under a live node.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import trio

from signer.store import errors
from signer.store.backend import COMMITTED, IN_USE, KEK_ROTATED, SUPERSEDED, AuditWrite, Backend
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
from signer.store.schema import AUDIT_COLS, POOL_COLS, SHARE_COLS, SQLITE_MIGRATIONS, VERSION_COLS

T = TypeVar("T")

SCHEME = "sqlite:///"
BUSY_TIMEOUT_S = 15.0
# How often a shared opener looks again while `kek rotate` holds the store exclusively.
LOCK_POLL_S = 0.1


def sqlite_path(url: str) -> Path:
    """`sqlite:///relative/path` or `sqlite:////absolute/path` -> the file path."""
    if not url.startswith(SCHEME) or len(url) == len(SCHEME):
        raise StoreConfigError("storage.url: a SQLite URL is sqlite:///<path> (four slashes for an absolute path)")
    path = url[len(SCHEME) :]
    if path == ":memory:" or "?" in path:
        raise StoreConfigError("storage.url: the SQLite store must be a file path without query options")
    return Path(path)


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """The storage URL of a SQLite file (the inverse of `sqlite_path`)."""
    return SCHEME + os.fspath(path)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        msg = str(exc).lower()
        return "locked" in msg or "busy" in msg
    return False


def _fault(path: Path, exc: BaseException) -> StoreError | None:
    """The store fault for an SQLite error (by its primary result code), None for anything else."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == sqlite3.SQLITE_FULL:
        return errors.StoreFull(f"SQLite database {path}: {exc}")
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return errors.StoreCorrupt(f"SQLite database {path}: {exc}")
    if code in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CANTOPEN,
    ):
        return errors.StoreUnavailable(f"SQLite database {path}: {exc}")
    return None


def _insert_audit(c: sqlite3.Connection, audit: AuditWrite) -> None:
    entry_id, e = audit
    c.execute(
        "INSERT INTO audit_log (entry_id, at, node_id, session_id, key_id, operation, message_digest, "
        "result, client_identity, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (entry_id) DO NOTHING",
        (entry_id, _ts(e.at), e.node_id, e.session_id, e.key_id, e.operation, e.message_digest, e.result,
         e.client_identity, e.evidence),
    )  # fmt: skip


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _opt_dt(text: str | None) -> datetime | None:
    return None if text is None else _dt(text)


def _info(r: tuple[Any, ...]) -> KeyInfo:
    return KeyInfo(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], _dt(r[8]), bytes(r[9]), r[10], _opt_dt(r[11]))


def _share(r: tuple[Any, ...]) -> ShareRow:
    return ShareRow(
        r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7], _dt(r[8]), bytes(r[12]), bytes(r[13]), bytes(r[9]),
        r[10], _opt_dt(r[11]),
    )  # fmt: skip


def _version(r: tuple[Any, ...]) -> VersionRow:
    """A key_share_versions row selected as VERSION_COLS (no ciphertext: empty bytes)."""
    share = ShareRow(
        r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7], _dt(r[8]), bytes(r[11] or b""), bytes(r[12] or b""),
        bytes(r[9]), r[10],
    )  # fmt: skip
    return VersionRow(share, r[13], r[14], bytes(r[15]), bytes(r[16]))


def _pool(r: tuple[Any, ...]) -> PoolRow:
    return PoolRow(r[0], r[1], r[2], r[3], bytes(r[4]), bytes(r[5]), r[6])


def _share_values(row: ShareRow) -> tuple[Any, ...]:
    """A share row's values in the order of `SHARE_COLS, wrapped_key, ciphertext`."""
    return (
        row.key_id, row.protocol, row.curve, row.public_key, row.threshold, row.parties, row.party_index,
        row.record_version, _ts(row.created_at), row.party_identities, row.key_version,
        None if row.updated_at is None else _ts(row.updated_at), row.wrapped_key, row.ciphertext,
    )  # fmt: skip


def _audit(r: tuple[Any, ...]) -> AuditEntry:
    digest = None if r[6] is None else bytes(r[6])
    evidence = None if r[9] is None else bytes(r[9])
    return AuditEntry(r[0], _dt(r[1]), r[2], r[3], r[4], r[5], digest, r[7], r[8], evidence)


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        super().__init__(_is_transient, lambda exc: _fault(path, exc))
        self._conn = conn
        self.path = path
        self._lock = trio.Lock()
        self._in_use: int | None = None

    @classmethod
    async def connect(cls, url: str, create: bool = True) -> SqliteBackend:
        path = sqlite_path(url)
        if not create and not path.exists():
            raise StoreConfigError(f"storage.url: no SQLite database at {path}")
        conn = await trio.to_thread.run_sync(cls._open, path)
        return cls(conn, path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        """Open (creating if needed) for reading and writing; a one-line StoreConfigError otherwise."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                # The file holds only ciphertext, but its metadata is nobody else's business either.
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, stat.S_IRUSR | stat.S_IWUSR))
            for needed in (path, path.parent):  # WAL keeps its -wal and -shm files beside the database
                if not os.access(needed, os.W_OK):
                    raise StoreConfigError(f"storage.url: {needed} is read-only; the node must be able to write it")
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreConfigError(f"storage.url: cannot open SQLite database {path}: {exc}") from None
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode != "wal":
                raise StoreConfigError(f"storage.url: {path} cannot use WAL journaling (got {mode})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreConfigError(f"storage.url: cannot use SQLite database {path}: {exc}") from None
        except StoreConfigError:
            conn.close()
            raise
        return conn

    async def hold(self, exclusive: bool) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, stat.S_IRUSR | stat.S_IWUSR)
        except OSError as exc:
            raise StoreConfigError(f"storage.url: cannot open the lock file {lock_path}: {exc.strerror}") from None
        try:
            while True:
                try:
                    fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if exclusive:
                        raise StoreInUse(IN_USE) from None
                    await trio.sleep(LOCK_POLL_S)  # a KEK rotation is running: it takes seconds at most
        except BaseException:
            os.close(fd)
            raise
        self._in_use = fd

    async def _run(self, fn: Callable[[sqlite3.Connection], T], write: bool) -> T:
        def body() -> T:
            c = self._conn
            c.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = fn(c)
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise
            return result

        async def attempt() -> T:
            async with self._lock:
                return await trio.to_thread.run_sync(body)

        return await self._retry(attempt)

    async def _write_sealed(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A write of sealed records, checking first (under the write lock) that the KEK is still ours."""
        check = self.kek_check

        def guarded(c: sqlite3.Connection) -> T:
            if check is not None:
                stored = c.execute("SELECT value FROM meta WHERE name = 'kek_check'").fetchone()
                if stored is None or bytes(stored[0]) != check:
                    raise WrongKek(KEK_ROTATED)
            return fn(c)

        return await self._run(guarded, write=True)

    # -- schema ---------------------------------------------------------------------------------

    @staticmethod
    def _current(c: sqlite3.Connection) -> int:
        exists = c.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'").fetchone()
        if not exists:
            return 0
        return c.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]

    async def migrate(self) -> list[tuple[int, str]]:
        latest = SQLITE_MIGRATIONS[-1][0]

        def fn(c: sqlite3.Connection) -> list[tuple[int, str]]:
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current = self._current(c)
            if current > latest:
                raise SchemaError(f"database schema version {current} is newer than this program ({latest})")
            applied = []
            for version, description, statements in SQLITE_MIGRATIONS:
                if version <= current:
                    continue
                for sql in statements:
                    c.execute(sql)
                c.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (version, description, _ts(datetime.now(UTC))),
                )
                applied.append((version, description))
            return applied

        return await self._run(fn, write=True)

    async def status(self) -> SchemaStatus:
        def fn(c: sqlite3.Connection) -> list[tuple[Any, ...]]:
            if self._current(c) == 0:
                return []
            return c.execute(
                "SELECT version, description, applied_at FROM schema_migrations ORDER BY version"
            ).fetchall()

        rows = await self._run(fn, write=False)
        applied = tuple((v, d, _dt(a)) for v, d, a in rows)
        current = applied[-1][0] if applied else 0
        pending = tuple((v, d) for v, d, _ in SQLITE_MIGRATIONS if v > current)
        return SchemaStatus(current, SQLITE_MIGRATIONS[-1][0], applied, pending)

    async def init_meta(self, name: str, value: bytes) -> bytes:
        def fn(c: sqlite3.Connection) -> bytes:
            c.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, value))
            return bytes(c.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[0])

        return await self._run(fn, write=True)

    # -- key shares -------------------------------------------------------------------------------

    async def insert_share(self, row: ShareRow, audit: AuditWrite | None = None) -> bool:
        def fn(c: sqlite3.Connection) -> None:
            c.execute(
                f"INSERT INTO key_shares ({SHARE_COLS}, wrapped_key, ciphertext) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _share_values(row),
            )
            if audit is not None:
                _insert_audit(c, audit)

        try:
            await self._write_sealed(fn)
            return True
        except sqlite3.IntegrityError:
            # Not retried: the key id is taken (by this very row only if an earlier attempt committed).
            existing = await self.fetch_share(row.key_id)
            return existing is not None and existing.ciphertext == row.ciphertext

    async def fetch_share(self, key_id: str) -> ShareRow | None:
        def fn(c: sqlite3.Connection) -> tuple[Any, ...] | None:
            return c.execute(
                f"SELECT {SHARE_COLS}, wrapped_key, ciphertext FROM key_shares WHERE key_id = ?", (key_id,)
            ).fetchone()

        r = await self._run(fn, write=False)
        if r is None:
            return None
        return _share(r)

    async def fetch_key_info(self, key_id: str) -> KeyInfo | None:
        def fn(c: sqlite3.Connection) -> tuple[Any, ...] | None:
            return c.execute(f"SELECT {SHARE_COLS} FROM key_shares WHERE key_id = ?", (key_id,)).fetchone()

        r = await self._run(fn, write=False)
        return None if r is None else _info(r)

    async def list_key_info(self) -> list[KeyInfo]:
        def fn(c: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return c.execute(f"SELECT {SHARE_COLS} FROM key_shares ORDER BY key_id").fetchall()

        return [_info(r) for r in await self._run(fn, write=False)]

    async def delete_share(self, key_id: str) -> bool:
        def fn(c: sqlite3.Connection) -> bool:
            c.execute("DELETE FROM secret_pool WHERE owner = ?", (key_id,))
            c.execute("DELETE FROM key_share_versions WHERE key_id = ?", (key_id,))
            return c.execute("DELETE FROM key_shares WHERE key_id = ?", (key_id,)).rowcount == 1

        return await self._run(fn, write=True)

    # -- key versions -----------------------------------------------------------------------------

    async def insert_pending(self, row: VersionRow, audit: AuditWrite | None = None) -> bool:
        s = row.share

        def fn(c: sqlite3.Connection) -> bool:
            inserted = c.execute(
                f"INSERT INTO key_share_versions ({VERSION_COLS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    s.key_id, s.protocol, s.curve, s.public_key, s.threshold, s.parties, s.party_index,
                    s.record_version, _ts(s.created_at), s.party_identities, s.key_version,
                    s.wrapped_key or None, s.ciphertext or None, PENDING, row.session_id, row.confirm_digest,
                    row.resume,
                ),
            ).rowcount  # fmt: skip
            if inserted == 1:
                if audit is not None:
                    _insert_audit(c, audit)
                return True
            held = c.execute(
                "SELECT session_id FROM key_share_versions WHERE key_id = ? AND key_version = ? AND state = ?",
                (s.key_id, s.key_version, PENDING),
            ).fetchone()
            return held is not None and held[0] == row.session_id  # our own earlier attempt

        return await self._write_sealed(fn)

    async def commit_pending(
        self, key_id: str, key_version: int, session_id: str, at: datetime, audit: AuditWrite | None = None
    ) -> str | None:
        def fn(c: sqlite3.Connection) -> str | None:
            r = c.execute(
                f"SELECT {VERSION_COLS} FROM key_share_versions "
                "WHERE key_id = ? AND key_version = ? AND state = ? AND session_id = ?",
                (key_id, key_version, PENDING, session_id),
            ).fetchone()
            if r is None:
                done = c.execute(
                    "SELECT state FROM key_share_versions WHERE key_id = ? AND key_version = ? AND session_id = ?",
                    (key_id, key_version, session_id),
                ).fetchone()
                current = c.execute("SELECT key_version FROM key_shares WHERE key_id = ?", (key_id,)).fetchone()
                if done is not None and done[0] == RETIRED:
                    return RETIRED
                return COMMITTED if current is not None and current[0] == key_version else None
            pending = _version(r)
            old = c.execute(f"SELECT {SHARE_COLS}, wrapped_key, ciphertext FROM key_shares WHERE key_id = ?", (key_id,))
            current_row = old.fetchone()
            created = at
            if current_row is not None:
                cur = _share(current_row)
                created = cur.created_at
                c.execute(
                    f"INSERT INTO key_share_versions ({VERSION_COLS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, x'', x'') ON CONFLICT DO NOTHING",
                    (
                        cur.key_id, cur.protocol, cur.curve, cur.public_key, cur.threshold, cur.parties,
                        cur.party_index, cur.record_version, _ts(cur.created_at), cur.party_identities,
                        cur.key_version, REPLACED, session_id,
                    ),
                )  # fmt: skip
                c.execute("DELETE FROM key_shares WHERE key_id = ?", (key_id,))
            c.execute(
                "INSERT INTO used_once (kind, item_id, used_at) SELECT ?, item_id, ? FROM secret_pool "
                "WHERE kind = ? AND owner = ? ON CONFLICT DO NOTHING",
                (SUPERSEDED, _ts(at), POOL_PRESIGNATURE, key_id),
            )
            c.execute("DELETE FROM secret_pool WHERE kind = ? AND owner = ?", (POOL_PRESIGNATURE, key_id))
            if pending.share.ciphertext:
                new = replace(pending.share, created_at=created, updated_at=at)
                c.execute(
                    f"INSERT INTO key_shares ({SHARE_COLS}, wrapped_key, ciphertext) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _share_values(new),
                )
                c.execute("DELETE FROM key_share_versions WHERE key_id = ? AND key_version = ?", (key_id, key_version))
                outcome = COMMITTED
            else:
                c.execute(
                    "UPDATE key_share_versions SET state = ? WHERE key_id = ? AND key_version = ?",
                    (RETIRED, key_id, key_version),
                )
                outcome = RETIRED
            if audit is not None:
                _insert_audit(c, audit)
            return outcome

        return await self._write_sealed(fn)

    async def rollback_pending(
        self, key_id: str, key_version: int, session_id: str, audit: AuditWrite | None = None
    ) -> bool:
        def fn(c: sqlite3.Connection) -> bool:
            gone = c.execute(
                "DELETE FROM key_share_versions WHERE key_id = ? AND key_version = ? AND state = ? AND session_id = ?",
                (key_id, key_version, PENDING, session_id),
            ).rowcount
            if gone == 1 and audit is not None:
                _insert_audit(c, audit)
            return gone == 1

        return await self._run(fn, write=True)

    async def list_versions(self, key_id: str | None, state: str | None) -> list[VersionRow]:
        def fn(c: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return c.execute(
                f"SELECT {VERSION_COLS} FROM key_share_versions WHERE (? IS NULL OR key_id = ?) "
                "AND (? IS NULL OR state = ?) ORDER BY key_id, key_version",
                (key_id, key_id, state, state),
            ).fetchall()

        return [_version(r) for r in await self._run(fn, write=False)]

    async def is_used(self, kind: str, item_id: str) -> bool:
        def fn(c: sqlite3.Connection) -> bool:
            sql = "SELECT 1 FROM used_once WHERE kind = ? AND item_id = ?"
            return c.execute(sql, (kind, item_id)).fetchone() is not None

        return await self._run(fn, write=False)

    # -- single-use pools -------------------------------------------------------------------------

    async def pool_add(self, rows: list[PoolRow], at: datetime) -> None:
        ts = _ts(at)

        def fn(c: sqlite3.Connection) -> None:
            c.executemany(
                f"INSERT INTO secret_pool ({POOL_COLS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (item_id) DO NOTHING",
                [
                    (r.kind, r.owner, r.item_id, r.record_version, r.wrapped_key, r.ciphertext, r.key_version, ts)
                    for r in rows
                ],
            )

        await self._write_sealed(fn)

    async def pool_put(self, row: PoolRow, at: datetime, audit: AuditWrite | None = None) -> bool:
        def fn(c: sqlite3.Connection) -> bool:
            inserted = c.execute(
                f"INSERT INTO secret_pool ({POOL_COLS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (item_id) DO NOTHING",
                (
                    row.kind,
                    row.owner,
                    row.item_id,
                    row.record_version,
                    row.wrapped_key,
                    row.ciphertext,
                    row.key_version,
                    _ts(at),
                ),  # fmt: skip
            ).rowcount
            if inserted == 1:
                if audit is not None:
                    _insert_audit(c, audit)
                return True
            held = c.execute("SELECT ciphertext FROM secret_pool WHERE item_id = ?", (row.item_id,)).fetchone()
            return held is not None and bytes(held[0]) == row.ciphertext

        return await self._write_sealed(fn)

    async def pool_claim(
        self, kind: str, owner: str, item_id: str | None = None, audit: AuditWrite | None = None
    ) -> PoolRow | None:
        def fn(c: sqlite3.Connection) -> tuple[Any, ...] | None:
            if item_id is not None:
                r = c.execute(
                    f"DELETE FROM secret_pool WHERE item_id = ? AND kind = ? AND owner = ? RETURNING {POOL_COLS}",
                    (item_id, kind, owner),
                ).fetchone()
            else:
                r = c.execute(
                    "DELETE FROM secret_pool WHERE seq = (SELECT seq FROM secret_pool WHERE kind = ? AND owner = ? "
                    f"ORDER BY seq LIMIT 1) RETURNING {POOL_COLS}",
                    (kind, owner),
                ).fetchone()
            if r is not None and audit is not None:
                _insert_audit(c, audit)
            return r

        r = await self._run(fn, write=True)
        return None if r is None else _pool(r)

    async def pool_get(self, kind: str, owner: str, item_id: str) -> PoolRow | None:
        def fn(c: sqlite3.Connection) -> tuple[Any, ...] | None:
            return c.execute(
                f"SELECT {POOL_COLS} FROM secret_pool WHERE item_id = ? AND kind = ? AND owner = ?",
                (item_id, kind, owner),
            ).fetchone()

        r = await self._run(fn, write=False)
        return None if r is None else _pool(r)

    async def pool_count(self, kind: str, owner: str | None) -> int:
        def fn(c: sqlite3.Connection) -> int:
            sql = "SELECT COUNT(*) FROM secret_pool WHERE kind = ? AND (? IS NULL OR owner = ?)"
            return c.execute(sql, (kind, owner, owner)).fetchone()[0]

        return await self._run(fn, write=False)

    async def consume_once(self, kind: str, item_id: str, at: datetime) -> bool:
        def fn(c: sqlite3.Connection) -> bool:
            return (
                c.execute(
                    "INSERT INTO used_once (kind, item_id, used_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (kind, item_id, _ts(at)),
                ).rowcount
                == 1
            )

        return await self._run(fn, write=True)

    # -- audit ------------------------------------------------------------------------------------

    async def audit_append(self, entry_id: str, entry: AuditEntry) -> None:
        await self._run(lambda c: _insert_audit(c, (entry_id, entry)), write=True)

    async def audit_read(self, key_id: str | None, session_id: str | None, limit: int | None) -> list[AuditEntry]:
        def fn(c: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return c.execute(
                f"SELECT {AUDIT_COLS} FROM audit_log WHERE (? IS NULL OR key_id = ?) "
                "AND (? IS NULL OR session_id = ?) ORDER BY seq LIMIT ?",
                (key_id, key_id, session_id, session_id, -1 if limit is None else limit),
            ).fetchall()

        return [_audit(r) for r in await self._run(fn, write=False)]

    # -- KEK rotation -----------------------------------------------------------------------------

    async def rotate(
        self,
        old_check: bytes,
        new_check: bytes,
        rewrap_share: Callable[[ShareRow], bytes],
        rewrap_pool: Callable[[PoolRow], bytes],
    ) -> int:
        def fn(c: sqlite3.Connection) -> int:
            stored = c.execute("SELECT value FROM meta WHERE name = 'kek_check'").fetchone()
            if stored is None or bytes(stored[0]) != old_check:
                raise WrongKek("the current KEK does not match this store")
            count = 0
            for r in c.execute(f"SELECT {SHARE_COLS}, wrapped_key, ciphertext FROM key_shares").fetchall():
                row = _share(r)
                c.execute("UPDATE key_shares SET wrapped_key = ? WHERE key_id = ?", (rewrap_share(row), row.key_id))
                count += 1
            pending = f"SELECT {VERSION_COLS} FROM key_share_versions WHERE wrapped_key IS NOT NULL"
            for r in c.execute(pending).fetchall():
                v = _version(r).share
                c.execute(
                    "UPDATE key_share_versions SET wrapped_key = ? WHERE key_id = ? AND key_version = ?",
                    (rewrap_share(v), v.key_id, v.key_version),
                )
                count += 1
            for r in c.execute(f"SELECT {POOL_COLS} FROM secret_pool").fetchall():
                prow = _pool(r)
                c.execute("UPDATE secret_pool SET wrapped_key = ? WHERE item_id = ?", (rewrap_pool(prow), prow.item_id))
                count += 1
            c.execute("UPDATE meta SET value = ? WHERE name = 'kek_check'", (new_check,))
            return count

        return await self._run(fn, write=True)

    async def aclose(self) -> None:
        async with self._lock:
            await trio.to_thread.run_sync(self._conn.close)
        if self._in_use is not None:
            os.close(self._in_use)  # releases the flock
            self._in_use = None
