"""Engine benchmarks: FROST signing through two in-process engines, GG20 presigning through them (steps in
worker processes) with and without the precomputed-value stock (signer/engine/stock.py), and event-loop
responsiveness while GG20 work runs in worker processes."""

from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import trio

from benchmarks.harness import Result, entry, percentile
from signer.crypto.preparams import load_fixture_preparams
from signer.engine import (
    ED25519,
    FROST,
    GG20,
    SECP256K1,
    DkgRequest,
    EngineConfig,
    FailedPrecondition,
    SessionKind,
    SessionManager,
    SignRequest,
)
from signer.store import open_store, sqlite_url
from tests.support.identities import node, start_as

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "paillier" / "fixtures" / "preparams.json"
SEQUENTIAL = 200
CONCURRENT_SESSIONS = 1000
CONCURRENCY = 50


async def _relay(parties: dict[int, SessionManager], session_id: str) -> None:
    """Play mpc-service for one session: long-poll each party, deliver its new messages to the others."""

    async def pump(p: int) -> None:
        sent, wait = 0, 0.0
        while True:
            view = await parties[p].status(session_id, wait)
            wait = 5.0
            for msg in view.outbound[sent:]:
                for q in [msg.to_party] if msg.to_party else [q for q in parties if q != p]:
                    try:
                        await parties[q].deliver(msg)
                    except FailedPrecondition:
                        pass
            sent = len(view.outbound)
            if view.state.terminal:
                assert view.state.name == "COMPLETED", view.error
                return

    async with trio.open_nursery() as nursery:
        for p in parties:
            nursery.start_soon(pump, p)


async def _sign(parties: dict[int, SessionManager], session_id: str, message: bytes) -> None:
    for m in parties.values():
        await start_as(parties, m, SessionKind.SIGN, SignRequest(session_id, "bench", message, (1, 2)))
    await _relay(parties, session_id)


async def _open_parties(
    stack: AsyncExitStack, tmp: str, config: EngineConfig, preparams: list[bytes] | None = None
) -> dict[int, SessionManager]:
    """Two parties' engines on their own SQLite stores (optionally seeded with pre-parameter sets)."""
    parties = {}
    for p in (1, 2):
        url = sqlite_url(os.path.join(tmp, f"p{p}.db"))
        store = await stack.enter_async_context(open_store(url, os.urandom(32), f"bench-{p}"))
        if preparams:
            await store.add_preparams(preparams[p - 1])
        parties[p] = node(config, store)
    return parties


async def _keygen(parties: dict[int, SessionManager], protocol: str, curve: str) -> None:
    for p, m in parties.items():
        await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg", "bench", protocol, curve, 2, 2, p))
    await _relay(parties, "dkg")


async def _frost_bench(tmp: str) -> Result:
    config = EngineConfig(round_timeout_s=60.0, max_sessions=CONCURRENT_SESSIONS)
    async with AsyncExitStack() as stack:
        parties = await _open_parties(stack, tmp, config)
        async with trio.open_nursery() as nursery:
            for m in parties.values():
                await nursery.start(m.run)
            await _keygen(parties, FROST, ED25519)
            for i in range(5):
                await _sign(parties, f"warm{i}", b"warm-up")
            samples = []
            for i in range(SEQUENTIAL):
                t0 = time.perf_counter()
                await _sign(parties, f"seq{i}", f"message {i}".encode())
                samples.append((time.perf_counter() - t0) * 1000)
            limiter = trio.CapacityLimiter(CONCURRENCY)

            async def limited(i: int) -> None:
                async with limiter:
                    await _sign(parties, f"par{i}", f"parallel {i}".encode())

            t0 = time.perf_counter()
            async with trio.open_nursery() as batch:
                for i in range(CONCURRENT_SESSIONS):
                    batch.start_soon(limited, i)
            elapsed = time.perf_counter() - t0
            nursery.cancel_scope.cancel()
    return Result(
        statistics.median(samples),
        percentile(samples, 99),
        len(samples),
        CONCURRENT_SESSIONS / elapsed,
        f"FROST 2-of-2, two engines in one process, SQLite stores (share read + audit row per signing); "
        f"median/p99 of {SEQUENTIAL} sequential signings; ops_per_s = {CONCURRENT_SESSIONS} signings "
        f"with {CONCURRENCY} in flight",
    )


@entry("engine.frost.sign", note="FROST 2-of-2 through two in-process engines")
def engine_frost_sign() -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        return trio.run(_frost_bench, tmp)


PRESIGN_RUNS = 10
PRESIGN_NOTE = (
    "GG20 2-of-2 presigning (4 rounds) through two in-process engines, steps in trio_parallel workers, SQLite stores; "
)


async def _presign_bench(tmp: str, presignings: int) -> Result:
    """Sequential presignings; with a stock, each starts once both engines' stocks are full again (a node
    between bursts), the wait untimed."""
    blobs = [f.to_bytes() for f in load_fixture_preparams(FIXTURES)]
    config = EngineConfig(round_timeout_s=120.0, precompute_presignings=presignings)
    async with AsyncExitStack() as stack:
        parties = await _open_parties(stack, tmp, config, blobs)
        stocks = [stock for m in parties.values() for stock in m.precompute_stocks]
        async with trio.open_nursery() as nursery:
            for m in parties.values():
                await nursery.start(m.run)
            await _keygen(parties, GG20, SECP256K1)

            async def presign(sid: str) -> None:
                for m in parties.values():
                    request = SignRequest(sid, "bench", b"", (1, 2), presign=True)
                    await start_as(parties, m, SessionKind.PRESIGN, request)
                await _relay(parties, sid)

            samples, handed = [], 0
            for i in range(1 + PRESIGN_RUNS):  # run 0 warms up: workers spawned, the keys' needs registered
                with trio.fail_after(120):
                    while not all(stock.full for stock in stocks):
                        await trio.sleep(0.05)
                before = sum(stock.handed_out for stock in stocks)
                t0 = time.perf_counter()
                await presign(f"pre{i}")
                if i:
                    samples.append((time.perf_counter() - t0) * 1000)
                    handed += sum(stock.handed_out for stock in stocks) - before
            nursery.cancel_scope.cancel()
    how = (
        f"stock of {presignings} presignings per key, full at each start; {handed / PRESIGN_RUNS:.0f} precomputed "
        f"values handed to the steps per presigning"
        if presignings
        else "no stock: every nonce and mask computed inside the step"
    )
    note = f"{PRESIGN_NOTE}{how}; {os.cpu_count()} CPUs"
    return Result(statistics.median(samples), percentile(samples, 99), len(samples), None, note)


@entry("engine.gg20.presign", note="GG20 2-of-2 presigning through two engines, precompute stock full")
def engine_gg20_presign() -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        return trio.run(_presign_bench, tmp, EngineConfig().precompute_presignings)


@entry("engine.gg20.presign.inline", note="engine.gg20.presign with pools.precompute_presignings = 0")
def engine_gg20_presign_inline() -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        return trio.run(_presign_bench, tmp, 0)


PROBE_S = 0.001


async def _loop_delay_bench(tmp: str) -> Result:
    fixtures = load_fixture_preparams(FIXTURES)
    async with AsyncExitStack() as stack:
        blobs = [f.to_bytes() for f in fixtures]
        parties = await _open_parties(stack, tmp, EngineConfig(round_timeout_s=120.0), blobs)
        async with trio.open_nursery() as nursery:
            for m in parties.values():
                await nursery.start(m.run)
            await _keygen(parties, GG20, SECP256K1)
            await _sign(parties, "warm", hashlib.sha256(b"warm-up").digest())  # workers spawned and warm
            delays: list[float] = []
            done = trio.Event()

            async def probe() -> None:
                while not done.is_set():
                    t0 = time.perf_counter()
                    await trio.sleep(PROBE_S)
                    delays.append((time.perf_counter() - t0 - PROBE_S) * 1000)

            nursery.start_soon(probe)
            t0 = time.perf_counter()
            async with trio.open_nursery() as batch:
                for i in range(4):
                    batch.start_soon(_sign, parties, f"s{i}", hashlib.sha256(b"%d" % i).digest())
            elapsed = time.perf_counter() - t0
            done.set()
            nursery.cancel_scope.cancel()
    return Result(
        statistics.median(delays),
        percentile(delays, 99),
        len(delays),
        None,
        f"extra wake-up delay of a {PROBE_S * 1000:g} ms trio.sleep probe while 4 GG20 2-of-2 signings without "
        f"presignature (presigning rounds 1-4 + online round; 8 party-presignings) run through two engines, "
        f"steps in trio_parallel workers, {os.cpu_count()} CPUs; batch took {elapsed:.1f}s",
    )


@entry("engine.loop_delay", note="p99 event-loop delay while 4 GG20 presignings run")
def engine_loop_delay() -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        return trio.run(_loop_delay_bench, tmp)
