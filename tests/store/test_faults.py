"""Store faults keep their meaning: a full disk is StoreFull, a stopped PostgreSQL is StoreUnavailable (never
a raw driver exception), a read-only file is a one-line error at open, and a result never commits
without its audit row. Real faults only: a full tmpfs, a really stopped private PostgreSQL server."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
import trio

from signer.store import (
    AuditEvent,
    KeyNotFound,
    StoreConfigError,
    StoreFull,
    StoreInUse,
    StoreUnavailable,
    WrongKek,
    open_store,
    sqlite_url,
)
from signer.store.commands import kek_rotate_async
from tests.store.private_pg import create_database
from tests.store.volume import Volume

KEK = bytes(range(32))
PUB = bytes(32)


def event(session_id: str, operation: str = "dkg") -> AuditEvent:
    return AuditEvent(session_id, "k1", operation, None, "completed", "tests")


async def put(store, key_id: str, audit: AuditEvent | None = None) -> None:
    await store.put_share(
        key_id, os.urandom(64), protocol="frost", curve="ed25519", public_key=PUB, threshold=2, parties=2,
        party_index=1, audit=audit,
    )  # fmt: skip


def checkpoint(path) -> None:
    """Fold the WAL into the database and truncate it, so the next write must allocate new space."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    finally:
        conn.close()


async def test_a_full_volume_stores_nothing_and_says_so(volume: Volume):
    db = volume.path / "signer.db"
    async with open_store(sqlite_url(db), KEK, "node-1") as store:
        await put(store, "k0", event("s0"))
        await store.add_presignature("k0", b"presig", item_id="pre-1")
        # A failed write may leave its WAL file grown (SQLite rolls back inside its own files): truncate the
        # WAL and fill the volume again before each, so each has to allocate.
        for write in (
            lambda: put(store, "k1", event("s1")),
            lambda: store.add_presignature("k0", b"presig 2", item_id="pre-2", audit=event("pre-2", "presign")),
            lambda: store.claim_presignature("k0", "pre-1", audit=event("sign-1", "claim")),
            lambda: store.append_audit(**event("s2").__dict__),
        ):
            checkpoint(db)
            volume.fill()
            with pytest.raises(StoreFull, match="database or disk is full"):
                await write()
        # Reads still work; nothing of the failed writes is there, the presignature was not consumed.
        with pytest.raises(KeyNotFound):
            await store.key_info("k1")
        assert [a.session_id for a in await store.read_audit()] == ["s0"]
        assert await store.count_presignatures("k0") == 1
        volume.free()
        await put(store, "k1", event("s1"))
        assert await store.claim_presignature("k0", "pre-1", audit=event("sign-1", "claim")) == b"presig"
        assert [(a.session_id, a.operation) for a in await store.read_audit()] == [
            ("s0", "dkg"), ("s1", "dkg"), ("sign-1", "claim"),
        ]  # fmt: skip


async def test_a_read_only_sqlite_file_is_one_line_at_open(volume: Volume):
    db = volume.path / "signer.db"
    async with open_store(sqlite_url(db), KEK, "node-1") as store:
        await put(store, "k0")
    volume.read_only()
    with pytest.raises(StoreConfigError) as info:
        async with open_store(sqlite_url(db), KEK, "node-1"):
            pass
    assert "read-only" in str(info.value) and "\n" not in str(info.value)


async def test_a_stopped_postgres_is_store_unavailable_then_recovers(pg_server):
    url = create_database(pg_server, "unavailable")
    async with open_store(url, KEK, "node-1", pool_size=2) as store:
        await put(store, "k0", event("s0"))
        pg_server.stop()
        for call in (store.key_info("k0"), put(store, "k1", event("s1")), store.claim_presignature("k0")):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="PostgreSQL"):
                await call
            assert time.monotonic() - started < 30
        pg_server.start()
        assert (await store.key_info("k0")).key_id == "k0"
        await put(store, "k1", event("s1"))
        assert [a.session_id for a in await store.read_audit()] == ["s0", "s1"]


async def test_start_up_waits_for_postgres_and_reports_each_attempt(pg_server):
    url = create_database(pg_server, "waiting")
    pg_server.stop()
    waits: list[tuple[str, float]] = []

    def on_wait(error: BaseException, pause_s: float) -> None:
        waits.append((type(error).__name__, pause_s))

    async def start_later() -> None:
        await trio.sleep(3)
        await trio.to_thread.run_sync(pg_server.start)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(start_later)
        async with open_store(url, KEK, "node-1", connect_timeout_s=60, on_wait=on_wait) as store:
            assert await store.list_keys() == []
    assert len(waits) >= 2 and waits[0][1] == 0.5 and waits[1][1] == 1.0, waits


async def test_start_up_gives_up_after_the_connect_timeout(pg_server):
    url = create_database(pg_server, "gives_up")
    pg_server.stop()
    started = trio.current_time()
    with pytest.raises(StoreUnavailable, match="cannot reach PostgreSQL"):
        async with open_store(url, KEK, "node-1", connect_timeout_s=2.0):
            pass
    assert 2.0 <= trio.current_time() - started < 10


async def test_kek_rotation_is_refused_while_the_store_is_open(target, tmp_path):
    kek_file = tmp_path / "kek.hex"
    kek_file.write_text(KEK.hex())
    new = tmp_path / "new-kek.hex"
    async with open_store(target.url, KEK, "node-1") as node:
        await put(node, "k0")
        with pytest.raises(StoreInUse, match="a node is using this store; stop it first"):
            await kek_rotate_async(target.url, kek_file, new, "node-1")
        await put(node, "k1")  # the refused rotation changed nothing under the running node
        assert len(await node.list_keys()) == 2
    assert await kek_rotate_async(target.url, kek_file, new, "node-1") == 2
    async with open_store(target.url, bytes.fromhex(new.read_text()), "node-1") as store:
        assert len((await store.get_share("k1")).share) == 64


async def test_a_node_that_lost_its_lock_writes_nothing_under_a_rotated_kek(pg_target, tmp_path):
    """Belt and braces for the in-use lock: a PostgreSQL session dropped under a running node loses its
    lock, and a rotation may then run; the node's next sealed write sees the new KEK check in its own
    transaction and refuses, instead of storing a record the store's KEK cannot open."""
    kek_file = tmp_path / "kek.hex"
    kek_file.write_text(KEK.hex())
    new = tmp_path / "new-kek.hex"
    async with open_store(pg_target.url, KEK, "node-1") as node:
        await put(node, "k0")
        pg_target.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = ? "
            "AND pid <> pg_backend_pid()",
            0x6D70_6375,
        )
        assert await kek_rotate_async(pg_target.url, kek_file, new, "node-1") == 1
        with pytest.raises(WrongKek, match="rotated under this node"):
            await put(node, "k1", event("s1"))
        with pytest.raises(WrongKek):
            await node.add_presignature("k0", b"presig", item_id="p1")
    async with open_store(pg_target.url, bytes.fromhex(new.read_text()), "node-1") as store:
        assert [k.key_id for k in await store.list_keys()] == ["k0"]
        assert len((await store.get_share("k0")).share) == 64
        assert await store.read_audit() == []
