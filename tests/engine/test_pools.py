"""The pre-parameters pool: filled by real generation in a worker process, persisted through the real
store, consumed by DKGs (which wait within their deadline when it is empty), stopped promptly by drain."""

from __future__ import annotations

import logging
import os
import time

import trio
import trio.testing

from signer.crypto.preparams import PreParams
from signer.engine import EngineConfig, PreparamsPool, SessionKind, SessionState, pools
from signer.store import StoreUnavailable, open_store, sqlite_url
from tests.engine.harness import serving, toy_dkg
from tests.engine.relay import relay
from tests.engine.toyproto import toy_protocols
from tests.support.identities import node, start_as
from tests.support.memstore import MemoryStore, opaque_set


async def test_pool_fills_persists_feeds_a_dkg_and_stops_on_drain(tmp_path):
    url, kek = sqlite_url(tmp_path / "p1.db"), os.urandom(32)
    config = EngineConfig(round_timeout_s=30.0)
    async with open_store(url, kek, "node-1") as store:
        # Key shares of the test protocol go to a memory store; the pool lives in the real one.
        pool = PreparamsPool(store, 1)
        toy = toy_protocols(needs_preparams=True)
        p1 = node(config, MemoryStore(), protocols=toy, preparams=pool)
        p2 = node(config, MemoryStore(), protocols=toy_protocols())
        async with serving(p2), trio.open_nursery() as nursery:
            await nursery.start(p1.run)
            with trio.fail_after(120):
                while await store.count_preparams() < 1:
                    await trio.sleep(0.05)
            # Persisted: another connection to the same database sees it.
            async with open_store(url, kek, "node-1") as again:
                assert await again.count_preparams() == 1
            await start_as({1: p1, 2: p2}, p1, SessionKind.DKG, toy_dkg("d1", 1))
            await start_as({1: p1, 2: p2}, p2, SessionKind.DKG, toy_dkg("d1", 2))
            finals = await relay({1: p1, 2: p2}, "d1")
            assert finals[1].state is SessionState.COMPLETED
            assert await store.count_preparams() == 0  # consumed; the filler is generating the next one
            await trio.sleep(0.2)
            t0 = time.perf_counter()
            await p1.drain(5.0)
            assert time.perf_counter() - t0 < 2.0  # the worker was killed, not waited for
    async with open_store(url, kek, "node-1") as store:
        assert await store.count_preparams() == 0


async def test_generated_sets_are_valid_preparams(tmp_path):
    store = MemoryStore()
    p1 = node(EngineConfig(preparams_target=1), store, protocols=toy_protocols(needs_preparams=True))
    async with serving(p1):
        with trio.fail_after(120):
            while not store.preparams:
                await trio.sleep(0.05)
    PreParams.from_bytes(store.preparams[0])  # checks safe primes, sizes and ring-Pedersen parameters


async def test_a_dkg_waits_for_preparams_within_its_deadline(clock):
    store = MemoryStore()
    config = EngineConfig(round_timeout_s=10.0)  # preparams_target 0: nothing fills the pool here
    p1 = node(config, store, protocols=toy_protocols(needs_preparams=True))
    async with serving(p1) as nursery:
        view = await start_as({1: p1}, p1, SessionKind.DKG, toy_dkg("waits", 1))
        assert view.state is SessionState.RUNNING and view.outbound == ()  # returned at once

        async def replica_adds_one() -> None:
            await trio.sleep(2.5)
            await store.add_preparams(b"set from another replica")

        nursery.start_soon(replica_adds_one)
        view = await p1.status("waits", 100)
        assert trio.current_time() == 3.0 and len(view.outbound) == 1  # next look at the pool
        view = await p1.status("waits", 100)
        assert view.state is SessionState.TIMED_OUT and trio.current_time() == 13.0

        await start_as({1: p1}, p1, SessionKind.DKG, toy_dkg("starves", 1, key_id="k2"))
        view = await p1.status("starves", 100)
        assert view.state is SessionState.TIMED_OUT and trio.current_time() == 23.0
        assert view.error == "round 0 did not finish within 10s"


class FailingOnce(MemoryStore):
    """A store whose first pool write fails, as a database outage would."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def add_preparams(self, blob: bytes) -> str:
        if self.failures:
            self.failures -= 1
            raise OSError("database unavailable")
        return await super().add_preparams(blob)


async def test_a_failing_filler_retries_instead_of_stopping_the_node(monkeypatch):
    monkeypatch.setattr(pools, "RETRY_S", 0.1)
    store = FailingOnce()
    pool = PreparamsPool(store, 1, generate=opaque_set)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await nursery.start(pool.run)
            while not store.preparams:
                await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
    assert store.failures == 0 and list(store.preparams) == [b"opaque set"]


class FailingStore(MemoryStore):
    """A store whose every pool call fails as an unreachable database does, until `back` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.back = False
        self.calls = 0
        self.added = trio.Event()

    async def count_preparams(self) -> int:
        self.calls += 1
        if not self.back:
            raise StoreUnavailable("the database is unavailable (ConnectionRefusedError: [Errno 111])")
        return await super().count_preparams()

    async def add_preparams(self, blob: bytes) -> str:
        item = await super().add_preparams(blob)
        self.added.set()
        return item


async def test_a_store_outage_logs_one_line_per_failure_with_backoff(clock, caplog):
    caplog.set_level(logging.DEBUG, logger="signer.engine.pools")
    store = FailingStore()
    pool = PreparamsPool(store, 1, generate=opaque_set)
    async with trio.open_nursery() as nursery:
        await nursery.start(pool.run)
        await trio.sleep(pools.RETRY_S * 4)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        # Backoff: 1 + 2 + 4 + 8 + 16 + 30 + 30 ... seconds, not one try every second.
        assert 6 <= store.calls <= 8 and len(warnings) == store.calls
        for record in warnings:
            assert record.exc_info is None and "\n" not in record.getMessage()
            assert record.getMessage().startswith("pre-parameters pool: filling failed (StoreUnavailable: the ")
        store.back = True
        await store.added.wait()  # no deadline of ours: virtual time waits for the worker process
        await trio.testing.wait_all_tasks_blocked()
        assert any(r.getMessage().startswith("pre-parameters pool: filling works again") for r in caplog.records)
        nursery.cancel_scope.cancel()
