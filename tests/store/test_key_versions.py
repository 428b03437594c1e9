"""Key versions (migration 4, docs/lifecycle.md §5) on both backends, beyond the engine contract: rows made
before the migration keep working as version 1, and a pending version survives a KEK rotation."""

from __future__ import annotations

import os
from dataclasses import astuple
from datetime import UTC, datetime

from signer.store import envelope, open_store
from signer.store.commands import kek_rotate_async
from signer.store.records import POOL_PRESIGNATURE, RECORD_VERSION, PoolRow, ShareRow
from signer.store.schema import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS
from tests.store.test_store_records import NODE, frost_meta


async def test_shares_and_presignatures_from_before_migration_4_are_version_1(target, monkeypatch):
    from signer.store import postgres, sqlite

    kek = os.urandom(32)
    monkeypatch.setattr(sqlite, "SQLITE_MIGRATIONS", SQLITE_MIGRATIONS[:3])
    monkeypatch.setattr(postgres, "POSTGRES_MIGRATIONS", POSTGRES_MIGRATIONS[:3])
    async with open_store(target.url, kek, NODE):
        pass
    # A share and a presignature sealed as this code seals them, written in schema 3's columns.
    m = frost_meta()
    head = ShareRow(
        "old", m["protocol"], m["curve"], m["public_key"], m["threshold"], m["parties"], m["party_index"],
        RECORD_VERSION, datetime.now(UTC), b"", b"",
    )  # fmt: skip
    wrapped, ciphertext = envelope.seal(kek, envelope.share_aad(NODE, head), b"share from schema 3")
    values = (*astuple(head)[:8], head.created_at, wrapped, ciphertext)
    if target.backend == "sqlite":
        values = (*values[:8], head.created_at.isoformat(), *values[9:])
    target.execute(
        "INSERT INTO key_shares (key_id, protocol, curve, public_key, threshold, parties, party_index, "
        "record_version, created_at, wrapped_key, ciphertext) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        *values,
    )
    pool = PoolRow(POOL_PRESIGNATURE, "old", "pre-old", RECORD_VERSION, b"", b"")
    p_wrapped, p_cipher = envelope.seal(kek, envelope.pool_aad(NODE, pool), b"presignature from schema 3")
    now = datetime.now(UTC)
    target.execute(
        "INSERT INTO secret_pool (kind, owner, item_id, record_version, created_at, wrapped_key, ciphertext) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        POOL_PRESIGNATURE, "old", "pre-old", RECORD_VERSION, now.isoformat() if target.backend == "sqlite" else now,
        p_wrapped, p_cipher,
    )  # fmt: skip
    monkeypatch.undo()
    async with open_store(target.url, kek, NODE) as store:
        got = await store.get_share("old")
        assert got.share == b"share from schema 3"
        assert (got.info.key_version, got.info.updated_at) == (1, None)
        assert await store.claim_presignature("old", "pre-old") == b"presignature from schema 3"
        assert await store.pending_versions() == []


async def test_a_pending_version_survives_a_kek_rotation(target, tmp_path):
    kek_file, new_kek_file = tmp_path / "kek.hex", tmp_path / "kek-2.hex"
    kek_file.write_text(os.urandom(32).hex() + "\n")
    kek_file.chmod(0o600)
    kek = bytes.fromhex(kek_file.read_text())
    async with open_store(target.url, kek, NODE) as store:
        await store.put_share("wallet", b"version 1", **frost_meta())  # type: ignore[arg-type]
        await store.prepare_version(
            "wallet", b"version 2", key_version=2, session_id="refresh-1", confirm_digest=b"d", resume=b"r",
            **frost_meta(),  # type: ignore[arg-type]
        )  # fmt: skip
    assert await kek_rotate_async(target.url, kek_file, new_kek_file, NODE) == 2  # the share and the pending one
    async with open_store(target.url, bytes.fromhex(new_kek_file.read_text()), NODE) as store:
        assert (await store.get_pending_share("wallet")).share == b"version 2"
        info = await store.commit_version("wallet", 2, "refresh-1")
        assert info is not None and info.key_version == 2
        assert (await store.get_share("wallet")).share == b"version 2"
