"""The presignature guard (signer.engine.presignatures) over both real backends (issue 15, item 2).

A used presignature comes back with a restored backup (SQLite: the file copied back; PostgreSQL: the
schema dropped and restored from pg_dump with psql), with a re-imported row, or simply lingers: each
is refused with FAILED_PRECONDITION, and a refused row is gone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from signer.engine import FailedPrecondition
from signer.engine.presignatures import STATE_FILE, PresignatureGuard
from signer.store import open_store

from .conftest import PG_URL, Target, _pg

KEK = os.urandom(32)
TTL = 3600.0


def _backup(target: Target, tmp_path: Path) -> bytes | Path:
    """Take a backup of the whole database (SQLite with the store closed)."""
    if target.backend == "sqlite":
        assert target.sqlite_file is not None
        copy = tmp_path / "backup.db"
        shutil.copyfile(target.sqlite_file, copy)
        return copy
    return target.dump()


def _restore(target: Target, backup: bytes | Path) -> None:
    if target.backend == "sqlite":
        assert target.sqlite_file is not None and isinstance(backup, Path)
        shutil.copyfile(backup, target.sqlite_file)
        return
    assert isinstance(backup, bytes)
    _pg(lambda c: c.execute(f"DROP SCHEMA {target.schema} CASCADE"))
    subprocess.run(
        ["psql", "--quiet", "--dbname", PG_URL, "-v", "ON_ERROR_STOP=1"],
        input=backup,
        check=True,
        capture_output=True,
        timeout=60,
    )


async def test_restored_backup_refuses_every_earlier_presignature(target, tmp_path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    async with open_store(target.url, KEK, "node-p") as store:
        guard = PresignatureGuard(store, state, TTL)
        for n in (1, 2, 3):
            await store.add_presignature("k", await guard.seal(bytes([n]) * 32, b"pre-%d" % n), item_id=f"pre-{n}")
    backup = _backup(target, tmp_path)
    async with open_store(target.url, KEK, "node-p") as store:
        guard = PresignatureGuard(store, state, TTL)  # a restarted node reads its state file
        blob = await store.claim_presignature("k", "pre-1")
        assert blob is not None and await guard.release(blob) == b"pre-1"
    _restore(target, backup)
    async with open_store(target.url, KEK, "node-p") as store:
        assert await store.count_presignatures("k") == 3, "the backup brought pre-1 back"
        guard = PresignatureGuard(store, state, TTL)
        for n in (1, 2):
            blob = await store.claim_presignature("k", f"pre-{n}")
            assert blob is not None
            with pytest.raises(FailedPrecondition, match="store epoch"):
                await guard.release(blob)
        assert await store.claim_presignature("k", "pre-1") is None, "a refused presignature is gone"
        # The new epoch stays: after a restart of the node, presignatures made now are good.
        await store.add_presignature("k", await guard.seal(b"\x04" * 32, b"pre-4"), item_id="pre-4")
    async with open_store(target.url, KEK, "node-p") as store:
        guard = PresignatureGuard(store, state, TTL)
        blob = await store.claim_presignature("k", "pre-4")
        assert blob is not None and await guard.release(blob) == b"pre-4"
        blob = await store.claim_presignature("k", "pre-3")
        assert blob is not None
        with pytest.raises(FailedPrecondition, match="store epoch"):
            await guard.release(blob)


async def test_reimported_row_expired_row_and_lost_state_file(target, tmp_path) -> None:
    now = [1_000_000.0]
    async with open_store(target.url, KEK, "node-p") as store:
        guard = PresignatureGuard(store, tmp_path, TTL, clock=lambda: now[0])
        row = await guard.seal(b"\x01" * 32, b"pre-1")
        await store.add_presignature("k", row, item_id="pre-1")
        blob = await store.claim_presignature("k", "pre-1")
        assert blob is not None and await guard.release(blob) == b"pre-1"
        # An operator re-imports the old row (same sealed bytes, same id): its R is recorded as used.
        await store.add_presignature("k", row, item_id="pre-1")
        blob = await store.claim_presignature("k", "pre-1")
        assert blob is not None
        with pytest.raises(FailedPrecondition, match="already used"):
            await guard.release(blob)

        await store.add_presignature("k", await guard.seal(b"\x02" * 32, b"pre-2"), item_id="pre-2")
        now[0] += TTL + 1
        blob = await store.claim_presignature("k", "pre-2")
        assert blob is not None
        with pytest.raises(FailedPrecondition, match="expired"):
            await guard.release(blob)

        await store.add_presignature("k", await guard.seal(b"\x03" * 32, b"pre-3"), item_id="pre-3")
        with pytest.raises(FailedPrecondition, match="no epoch"):
            await guard.release(b"pre-x")  # a row from before this check existed
    (tmp_path / STATE_FILE).unlink()  # the node's data directory is lost
    async with open_store(target.url, KEK, "node-p") as store:
        guard = PresignatureGuard(store, tmp_path, TTL, clock=lambda: now[0])
        blob = await store.claim_presignature("k", "pre-3")
        assert blob is not None
        with pytest.raises(FailedPrecondition, match="store epoch"):
            await guard.release(blob)
