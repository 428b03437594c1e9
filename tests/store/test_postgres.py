"""PostgreSQL only: transient failures are retried, constraint violations are not; trio-asyncio hosting."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import asyncpg
import pytest
import trio
import trio_asyncio

from signer.store import KeyExists, StoreError, WrongKek, open_store
from signer.store.commands import db_status_async
from signer.store.postgres import is_transient

from .conftest import PG_URL, require_pg

NODE = "node-pg"
META = dict(protocol="frost", curve="ed25519", public_key=bytes(32), threshold=2, parties=2, party_index=1)


async def _connect() -> asyncpg.Connection:
    return await trio_asyncio.aio_as_trio(asyncpg.connect)(PG_URL)


async def _aio(fn, *args):
    return await trio_asyncio.aio_as_trio(fn)(*args)


async def test_connection_killed_mid_statement_is_retried_and_succeeds(pg_target):
    """The store's statement waits on a lock; its server process is terminated; the retry succeeds."""
    async with trio_asyncio.open_loop():  # the caller hosts the asyncio loop, as the service does
        async with open_store(pg_target.url, os.urandom(32), NODE) as store:
            await store.put_share("before", b"share-0", **META)
            admin = await _connect()
            try:
                locker = admin.transaction()
                await _aio(locker.start)
                await _aio(admin.execute, f"LOCK TABLE {pg_target.schema}.key_shares IN ACCESS EXCLUSIVE MODE")
                done = trio.Event()

                async def put() -> None:
                    await store.put_share("during", b"share-1", **META)
                    done.set()

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(put)
                    killed = 0
                    with trio.fail_after(10):
                        while not killed:
                            await trio.sleep(0.02)
                            killed = await _aio(
                                admin.fetchval,
                                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE application_name = $1 AND wait_event_type = 'Lock'",
                                pg_target.schema,
                            )
                    await _aio(locker.commit)
                    with trio.fail_after(20):
                        await done.wait()
            finally:
                await _aio(admin.close)
            assert store.backend.retries >= 1
            assert (await store.get_share("during")).share == b"share-1"
            assert (await store.get_share("before")).share == b"share-0"


async def test_operations_survive_repeated_server_side_kills(pg_target):
    async with trio_asyncio.open_loop():
        async with open_store(pg_target.url, os.urandom(32), NODE) as store:
            admin = await _connect()
            try:
                for i in range(20):
                    await _aio(
                        admin.execute,
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                        pg_target.schema,
                    )
                    await store.put_share(f"k{i}", b"s%d" % i, **META)
                    await store.add_presignature(f"k{i}", b"p%d" % i)
                    assert await store.claim_presignature(f"k{i}") == b"p%d" % i
            finally:
                await _aio(admin.close)
            assert [(await store.get_share(f"k{i}")).share for i in range(20)] == [b"s%d" % i for i in range(20)]


async def test_constraint_violations_are_not_retried(pg_target):
    async with open_store(pg_target.url, os.urandom(32), NODE) as store:  # no caller loop: the store opens one
        await store.put_share("k", b"a", **META)
        for _ in range(3):
            with pytest.raises(KeyExists):
                await store.put_share("k", b"b", **META)
        assert store.backend.retries == 0
    assert not is_transient(asyncpg.exceptions.UniqueViolationError("dup"))
    assert not is_transient(asyncpg.exceptions.CheckViolationError("check"))
    assert is_transient(asyncpg.exceptions.AdminShutdownError("terminated"))
    assert is_transient(ConnectionRefusedError())


async def test_typed_errors_cross_the_store_owned_loop(pg_target):
    kek = os.urandom(32)
    async with open_store(pg_target.url, kek, NODE):
        pass
    with pytest.raises(WrongKek):  # not wrapped in an ExceptionGroup by the store's own loop
        async with open_store(pg_target.url, os.urandom(32), NODE):
            pass


async def test_unreachable_server_is_a_store_error():
    with trio.fail_after(60):
        with pytest.raises(StoreError, match="cannot reach PostgreSQL"):
            async with open_store("postgresql://postgres@127.0.0.1:1/none", os.urandom(32), NODE):
                pass


async def test_bare_url_uses_pg_environment(monkeypatch):
    """`postgresql://` alone takes everything from PG* variables (read-only check: no tables created)."""
    require_pg()
    parts = urlsplit(PG_URL)
    monkeypatch.setenv("PGHOST", parts.hostname or "127.0.0.1")
    monkeypatch.setenv("PGUSER", parts.username or "postgres")
    monkeypatch.setenv("PGDATABASE", parts.path.lstrip("/"))
    if parts.password:
        monkeypatch.setenv("PGPASSWORD", parts.password)
    monkeypatch.setenv("PGPORT", "1")
    with pytest.raises(StoreError, match="cannot reach PostgreSQL"):
        await db_status_async("postgresql://")
    monkeypatch.setenv("PGPORT", str(parts.port or 5432))
    assert (await db_status_async("postgresql://")).startswith("schema version ")
