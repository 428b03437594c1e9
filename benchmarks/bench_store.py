"""Store benchmarks: share write/read and presignature claim on SQLite and PostgreSQL.

Each single-process entry times individual calls inside one Trio run (one open store, warmed up), so
the figures include envelope encryption, the Trio<->thread (SQLite) or Trio<->asyncio (PostgreSQL)
crossing and a durable commit (SQLite WAL synchronous=FULL; PostgreSQL synchronous_commit=on).
`.2proc` entries time two worker processes draining one pool together (the replica case); their
median is wall time per claimed item and `ops_per_s` the combined claim rate.
PostgreSQL comes from MPC_BENCH_PG_URL (else MPC_TEST_PG_URL, else postgresql://postgres@127.0.0.1:5432/test)
and uses a throwaway schema; if it is unreachable the entries report zeros with a SKIPPED note.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import trio

from benchmarks.harness import Result, summarize
from benchmarks.harness import entry as register
from signer.store import open_store, sqlite_url

PG_URL = os.environ.get(
    "MPC_BENCH_PG_URL", os.environ.get("MPC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
)
ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "store" / "store_worker.py"
NODE = "bench-node"
META = dict(protocol="gg20", curve="secp256k1", public_key=b"\x02" + bytes(32), threshold=2, parties=3, party_index=1)
SHARE = os.urandom(2048)  # about a GG20 share with its Paillier key
PRESIG = os.urandom(512)
RUNS = 300
WARMUP = 10
BUDGET_S = 5.0
TWO_PROC_POOL = 1000
TWO_PROC_ROUNDS = 3


class _Location:
    """A fresh store location for one entry: a temp SQLite file or a throwaway PostgreSQL schema."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._schema: str | None = None

    def __enter__(self) -> str | None:
        if self.backend == "sqlite":
            self._tmp = tempfile.TemporaryDirectory(prefix="bench-store-")
            return sqlite_url(Path(self._tmp.name) / "signer.db")
        self._schema = f"bench_{secrets.token_hex(4)}"
        try:
            _pg(f"CREATE SCHEMA {self._schema}")
        except (OSError, asyncpg.PostgresError):
            self._schema = None
            return None
        sep = "&" if "?" in PG_URL else "?"
        return f"{PG_URL}{sep}search_path={self._schema}"

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
        if self._schema is not None:
            _pg(f"DROP SCHEMA {self._schema} CASCADE")


def _pg(sql: str) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


def _skipped(note: str) -> Result:
    return Result(0.0, 0.0, 0, None, "SKIPPED: PostgreSQL unreachable; " + note)


def _time_calls(backend: str, note: str, prepare, op) -> Result:
    """Open a store, run `prepare(store)`, then time `op(store, i)` WARMUP + up to RUNS times."""
    with _Location(backend) as url:
        if url is None:
            return _skipped(note)
        samples: list[float] = []

        async def main() -> None:
            async with open_store(url, os.urandom(32), NODE) as store:
                await prepare(store)
                started = time.perf_counter()
                for i in range(WARMUP + RUNS):
                    t0 = time.perf_counter()
                    await op(store, i)
                    if i >= WARMUP:
                        samples.append((time.perf_counter() - t0) * 1000.0)
                    if i >= WARMUP + 20 and time.perf_counter() - started > BUDGET_S:
                        break

        trio.run(main)
        return summarize(samples, note)


async def _nothing(store) -> None:
    return None


async def _put(store, i: int) -> None:
    await store.put_share(f"bench-{i}", SHARE, **META)


async def _one_share(store) -> None:
    await store.put_share("bench-read", SHARE, **META)


async def _get(store, i: int) -> None:
    await store.get_share("bench-read")


async def _fill(store) -> None:
    await store.add_presignatures("bench-key", [PRESIG] * (WARMUP + RUNS))


async def _claim(store, i: int) -> None:
    assert await store.claim_presignature("bench-key") is not None


def _two_process_claims(backend: str, note: str) -> Result:
    with _Location(backend) as url:
        if url is None:
            return _skipped(note)
        kek = os.urandom(32)
        per_item_ms: list[float] = []
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))

        async def fill(key_id: str) -> None:
            async with open_store(url, kek, NODE) as store:
                await store.add_presignatures(key_id, [PRESIG] * TWO_PROC_POOL)

        for r in range(TWO_PROC_ROUNDS):
            key_id = f"bench-2proc-{r}"
            trio.run(fill, key_id)
            cmd = [sys.executable, str(WORKER), "claim", url, kek.hex(), NODE, key_id]
            procs = [
                subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
                for _ in range(2)
            ]
            for p in procs:  # both open their store first; process start-up is not timed
                assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            t0 = time.perf_counter()
            for p in procs:
                assert p.stdin is not None
                p.stdin.write("go\n")
                p.stdin.flush()
            got = sum(len(json.loads(p.communicate(timeout=300)[0])) for p in procs)
            elapsed = time.perf_counter() - t0
            assert got == TWO_PROC_POOL
            per_item_ms.append(elapsed * 1000.0 / got)
        res = summarize(per_item_ms, note)
        return Result(res.median_ms, res.p99_ms, res.runs, 1000.0 / res.median_ms, note)


def _register(backend: str) -> None:
    where = "temp SQLite file, WAL, synchronous=FULL" if backend == "sqlite" else "local PostgreSQL, pool of 10"

    def add(name: str, note: str, make: Callable[[], Result]) -> None:
        register(f"store.{backend}.{name}", note=note)(make)

    add("put_share", f"2048-byte share, new key id each call, envelope-encrypted; {where}",
        lambda: _time_calls(backend, f"2048-byte share put-once; {where}", _nothing, _put))  # fmt: skip
    add("get_share", f"read + decrypt one 2048-byte share; {where}",
        lambda: _time_calls(backend, f"read + decrypt one 2048-byte share; {where}", _one_share, _get))  # fmt: skip
    add("claim", f"claim one 512-byte presignature (DELETE...RETURNING, committed) + decrypt; {where}",
        lambda: _time_calls(backend, f"claim+decrypt one 512-byte presignature; {where}", _fill, _claim))  # fmt: skip
    note2 = f"two processes drain a pool of {TWO_PROC_POOL}; median = wall ms per item, ops/s combined; {where}"
    add("claim.2proc", note2, lambda: _two_process_claims(backend, note2))


_register("sqlite")
_register("postgres")
