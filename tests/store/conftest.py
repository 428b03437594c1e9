"""One store test suite, two real backends: a SQLite file and a PostgreSQL schema of its own.

PostgreSQL comes from MPC_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test). Each test
gets a fresh schema (`mpct_<run>_<n>`, dropped afterwards) so runs never collide. If the server is
unreachable the PostgreSQL cases are skipped, unless MPC_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from signer.store import sqlite_url

PG_URL = os.environ.get("MPC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("MPC_REQUIRE_POSTGRES") == "1"
RUN = secrets.token_hex(3)
_counter = itertools.count()
ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("store_worker.py")


def _pg(fn: Any) -> Any:
    """Run one asyncpg coroutine function on a throwaway connection, in a thread of its own.

    (A plain asyncio.run, so it works from sync fixtures and from inside Trio tests alike.)
    """

    async def go() -> Any:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        try:
            return await fn(conn)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result()


_pg_state: dict[str, str | None] = {}


def pg_unavailable() -> str | None:
    if "reason" not in _pg_state:
        try:
            _pg(lambda c: c.fetchval("SELECT 1"))
            _pg_state["reason"] = None
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            _pg_state["reason"] = f"PostgreSQL at {PG_URL} unreachable: {exc}"
    return _pg_state["reason"]


@dataclass
class Target:
    """A fresh, empty store location plus raw access to it (to tamper with rows and dump the database)."""

    backend: str
    url: str
    sqlite_file: Path | None = None
    schema: str | None = None

    def _sql(self, sql: str) -> str:
        if self.backend == "sqlite":
            return sql
        parts = sql.split("?")
        return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))

    def execute(self, sql: str, *args: Any) -> None:
        """Run raw SQL (`?` placeholders) directly against the database, outside the store."""
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.sqlite_file, isolation_level=None)
            try:
                conn.execute(sql, args)
            finally:
                conn.close()
        else:
            _pg(lambda c: self._pg_exec(c, sql, args))

    async def _pg_exec(self, c: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> None:
        await c.execute(f"SET search_path = {self.schema}")
        await c.execute(self._sql(sql), *args)

    def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.backend == "sqlite":
            conn = sqlite3.connect(self.sqlite_file, isolation_level=None)
            try:
                return conn.execute(sql, args).fetchall()
            finally:
                conn.close()

        async def go(c: asyncpg.Connection) -> list[tuple[Any, ...]]:
            await c.execute(f"SET search_path = {self.schema}")
            return [tuple(r) for r in await c.fetch(self._sql(sql), *args)]

        return _pg(go)

    def dump(self) -> bytes:
        """Everything the database holds on disk (SQLite file + WAL) or in a pg_dump of the schema."""
        if self.backend == "sqlite":
            assert self.sqlite_file is not None
            data = b""
            for suffix in ("", "-wal"):
                p = Path(str(self.sqlite_file) + suffix)
                if p.exists():
                    data += p.read_bytes()
            return data
        out = subprocess.run(
            ["pg_dump", "--dbname", PG_URL, "--schema", self.schema or "", "--no-owner"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return out.stdout


def new_pg_target() -> tuple[Target, str]:
    schema = f"mpct_{RUN}_{next(_counter)}"
    _pg(lambda c: c.execute(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}search_path={schema}&application_name={schema}"
    return Target("postgres", url, schema=schema), schema


def drop_pg_schema(schema: str) -> None:
    _pg(lambda c: c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


def require_pg() -> None:
    reason = pg_unavailable()
    if reason is not None:
        if REQUIRE_PG:
            pytest.fail(reason + " (MPC_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        path = tmp_path / "data" / "signer.db"
        yield Target("sqlite", sqlite_url(path), sqlite_file=path)
        return
    require_pg()
    t, schema = new_pg_target()
    try:
        yield t
    finally:
        drop_pg_schema(schema)


@pytest.fixture
def pg_target() -> Iterator[Target]:
    require_pg()
    t, schema = new_pg_target()
    try:
        yield t
    finally:
        drop_pg_schema(schema)


def worker_cmd(*args: str) -> list[str]:
    return [sys.executable, str(WORKER), *args]


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env
