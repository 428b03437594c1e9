"""Across processes: parallel claimers never share a presignature; SIGKILL never half-writes a record."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess

import pytest
import trio

from signer.store import AlreadyConsumed, envelope, open_store
from signer.store.records import PoolRow

from .conftest import WORKER, worker_cmd, worker_env

_spec = importlib.util.spec_from_file_location("store_worker", WORKER)
assert _spec is not None and _spec.loader is not None
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)

POOL = 1000


def test_two_processes_claim_distinct_presignatures(target):
    kek = os.urandom(32)
    blobs = {b"presig-%04d:" % i + os.urandom(24) for i in range(POOL)}

    async def fill() -> None:
        async with open_store(target.url, kek, "node-c") as store:
            await store.add_presignatures("shared-key", sorted(blobs))

    trio.run(fill)
    procs = [
        subprocess.Popen(
            worker_cmd("claim", target.url, kek.hex(), "node-c", "shared-key"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=worker_env(),
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:  # both start claiming at once
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    finally:
        for p in procs:
            p.kill()
    got = [[bytes.fromhex(h) for h in r] for r in results]
    assert not set(got[0]) & set(got[1]), "two processes claimed the same presignature"
    assert len(got[0]) + len(got[1]) == POOL and set(got[0]) | set(got[1]) == blobs
    assert all(len(g) > 0 for g in got), f"no real contention: {[len(g) for g in got]}"


def run_crash_trials(target, trials: int) -> None:
    """SIGKILL a writer at random points; afterwards every record is complete and decryptable or absent."""
    kek = os.urandom(32)
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    zygote = subprocess.Popen(
        worker_cmd("zygote"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=worker_env(), text=True
    )
    acked: dict[str, set[str]] = {"put": set(), "presig": set(), "nonce": set(), "audit": set()}
    claimed: dict[str, bytes] = {}
    opened = 0
    try:
        assert zygote.stdin is not None and zygote.stdout is not None
        for trial in range(trials):
            # Odd trials are killed at any point from the fork on (during open and migration too);
            # even trials while writing.
            job = {
                "url": target.url,
                "kek": kek.hex(),
                "trial": trial,
                "delay_ms": rng.uniform(5, 150) if trial % 2 else rng.uniform(0, 100),
                "after_open": trial % 2 == 0,
            }
            zygote.stdin.write(json.dumps(job) + "\n")
            zygote.stdin.flush()
            lines = json.loads(zygote.stdout.readline())["lines"]
            for line in lines:
                op, *args = line.split(" ")
                assert op != "error", line
                if op == "open":
                    opened += 1
                elif op == "claim":
                    claimed[args[0]] = bytes.fromhex(args[1])
                else:
                    acked[op].add(args[0])
    finally:
        zygote.kill()
        zygote.wait()
    assert opened >= (trials + 1) // 2, f"only {opened} of {trials} children opened the store"
    assert acked["put"], "no trial wrote anything"

    async def verify() -> None:
        async with open_store(target.url, kek, worker.CRASH_NODE) as store:  # opens cleanly
            keys = await store.list_keys()
            present = {k.key_id for k in keys}
            assert acked["put"] <= present  # acknowledged = durable
            # At most the one in-flight put per trial was committed without its acknowledgement.
            assert len(present - acked["put"]) <= trials
            for info in keys:
                got = await store.get_share(info.key_id)
                assert got.share == worker.share_bytes(info.key_id)
                meta = worker.share_meta(info.key_id)
                assert (info.protocol, info.public_key, info.party_index) == (
                    meta["protocol"], meta["public_key"], meta["party_index"],
                )  # fmt: skip
            for key_id in acked["nonce"]:
                with pytest.raises(AlreadyConsumed):
                    await store.consume_once("nonce", key_id)
            audit = await store.read_audit()
            audited = {e.key_id for e in audit if e.operation == "sign"}
            assert acked["audit"] <= audited <= present
            # A share and its audit row commit together: no key without its row, no row without its key.
            assert sorted(e.key_id for e in audit if e.operation == "dkg") == sorted(present)
            claim_rows = sorted(e.key_id for e in audit if e.operation == "claim")

        # Presignatures: a batch is all-or-nothing, every row decrypts, an acknowledged claim is gone.
        rows = target.fetch("SELECT kind, owner, item_id, record_version, wrapped_key, ciphertext FROM secret_pool")
        remaining: dict[str, list[bytes]] = {}
        for r in rows:
            prow = PoolRow(r[0], r[1], r[2], r[3], bytes(r[4]), bytes(r[5]))
            aad = envelope.pool_aad(worker.CRASH_NODE, prow)
            blob = envelope.open_sealed(kek, aad, prow.wrapped_key, prow.ciphertext, "presignature")
            remaining.setdefault(prow.owner, []).append(blob)
        for key_id, blobs in remaining.items():
            expected = {worker.presig_bytes(key_id, j) for j in range(3)}
            assert set(blobs) <= expected and len(set(blobs)) == len(blobs)
            assert len(blobs) in (2, 3), f"partial presignature batch for {key_id}: {len(blobs)}"
            if key_id in claimed:
                assert claimed[key_id] not in blobs, "a claimed presignature came back after the crash"
                assert len(blobs) == 2
        assert acked["presig"] <= set(remaining), "an acknowledged presignature batch was lost"
        # Every claim (acknowledged or not) left its row, and only claims did: exactly the two-left batches.
        assert claim_rows == sorted(k for k, blobs in remaining.items() if len(blobs) == 2)
        assert set(claimed) <= set(claim_rows)

    trio.run(verify)


def test_sigkill_during_writes_leaves_complete_or_absent_records(target):
    run_crash_trials(target, 50)


@pytest.mark.slow
def test_sigkill_soak(target):
    run_crash_trials(target, 100)
