"""Presignatures kept under a caller-chosen id (the presigning session's id) and claimed by that id:
exactly once, only for their own key, atomically across processes, on both backends."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import trio

from signer.store import ItemExists, StoreConfigError, open_store

from .conftest import worker_cmd, worker_env

RACE_IDS = 200


async def test_claim_by_id_exactly_once(target):
    async with open_store(target.url, os.urandom(32), "node-p") as store:
        assert await store.add_presignature("key-a", b"presig-1", item_id="presign-1") == "presign-1"
        assert await store.add_presignature("key-a", b"presig-2", item_id="presign-2") == "presign-2"
        await store.add_presignature("key-b", b"presig-b")  # random id, claimed oldest-first as before
        assert (await store.count_presignatures("key-a"), await store.count_presignatures()) == (2, 3)

        # The named one, not the oldest; then it is gone.
        assert await store.claim_presignature("key-a", "presign-2") == b"presig-2"
        assert await store.claim_presignature("key-a", "presign-2") is None
        # Another key's id: nothing handed out and nothing removed.
        assert await store.claim_presignature("key-b", "presign-1") is None
        assert await store.claim_presignature("key-a", "no-such-id") is None
        assert await store.count_presignatures() == 2
        assert await store.claim_presignature("key-b") == b"presig-b"
        assert await store.claim_presignature("key-a", "presign-1") == b"presig-1"
        assert await store.count_presignatures() == 0


async def test_an_id_is_never_reused(target):
    async with open_store(target.url, os.urandom(32), "node-p") as store:
        await store.add_presignature("key-a", b"first", item_id="presign-x")
        with pytest.raises(ItemExists):
            await store.add_presignature("key-a", b"second", item_id="presign-x")
        with pytest.raises(ItemExists):  # ids are unique across keys too
            await store.add_presignature("key-b", b"second", item_id="presign-x")
        with pytest.raises(StoreConfigError):
            await store.add_presignature("key-a", b"third", item_id="")
        with pytest.raises(StoreConfigError):
            await store.claim_presignature("key-a", "bad\nid")
        assert await store.claim_presignature("key-a", "presign-x") == b"first"
        rows = target.fetch("SELECT item_id, owner FROM secret_pool")
        assert rows == []


async def test_id_is_bound_into_the_record(target):
    """A row whose id is rewritten in the database does not decrypt: the id is associated data."""
    async with open_store(target.url, os.urandom(32), "node-p") as store:
        await store.add_presignature("key-a", b"secret presignature", item_id="presign-1")
        target.execute("UPDATE secret_pool SET item_id = ? WHERE item_id = ?", "presign-2", "presign-1")
        from signer.store import DecryptionFailed

        with pytest.raises(DecryptionFailed):
            await store.claim_presignature("key-a", "presign-2")


def test_two_processes_racing_for_the_same_ids(target):
    """Both processes try to claim every id, one from each end of the list, so that they meet in the middle
    and then go on over ids the other has taken: each id is won by exactly one of them."""
    kek = os.urandom(32)
    ids = [f"presign-{i}" for i in range(RACE_IDS)]
    blobs = {item_id: b"presig:" + item_id.encode() + os.urandom(16) for item_id in ids}

    async def fill() -> None:
        async with open_store(target.url, kek, "node-r") as store:
            for item_id, blob in blobs.items():
                await store.add_presignature("race-key", blob, item_id=item_id)

    trio.run(fill)
    procs = [
        subprocess.Popen(
            worker_cmd("claim-ids", target.url, kek.hex(), "node-r", "race-key", ",".join(order)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=worker_env(),
            text=True,
        )
        for order in (ids, ids[::-1])
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    finally:
        for p in procs:
            p.kill()
    results[1].reverse()
    wins = [0, 0]
    for n, item_id in enumerate(ids):
        got = [results[0][n], results[1][n]]
        winners = [w for w, g in enumerate(got) if g is not None]
        assert len(winners) == 1, f"{item_id}: claimed by {len(winners)} processes"
        assert bytes.fromhex(got[winners[0]]) == blobs[item_id]
        wins[winners[0]] += 1
    # Both won some, and both lost some: each tried ids the other had claimed.
    assert all(0 < w < RACE_IDS for w in wins), f"no real contention: {wins}"

    async def empty() -> None:
        async with open_store(target.url, kek, "node-r") as store:
            assert await store.count_presignatures() == 0

    trio.run(empty)
