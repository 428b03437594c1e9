"""Every record type round-trips through both backends, encrypted at rest and bound to its identity."""

from __future__ import annotations

import os
import stat
from dataclasses import astuple
from datetime import UTC, datetime

import pytest

from signer.store import (
    AlreadyConsumed,
    DecryptionFailed,
    KeyExists,
    KeyNotFound,
    NodeMismatch,
    SchemaError,
    StoreConfigError,
    WrongKek,
    envelope,
    open_store,
)
from signer.store.commands import db_migrate_async, db_status_async
from signer.store.records import RECORD_VERSION, ShareRow
from signer.store.schema import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS

NODE = "node-a"
ED_PUB = bytes(range(32))
K1_PUB = b"\x03" + bytes(range(32))


def frost_meta() -> dict[str, object]:
    return dict(protocol="frost", curve="ed25519", public_key=ED_PUB, threshold=2, parties=3, party_index=2)


def gg20_meta() -> dict[str, object]:
    return dict(protocol="gg20", curve="secp256k1", public_key=K1_PUB, threshold=2, parties=2, party_index=1)


async def test_share_round_trip_and_public_info(target):
    kek = os.urandom(32)
    share_a, share_b = os.urandom(200), os.urandom(3000)
    async with open_store(target.url, kek, NODE) as store:
        info = await store.put_share("wallet-a", share_a, **frost_meta())
        await store.put_share("wallet-b", share_b, **gg20_meta())
        got = await store.get_share("wallet-a")
        assert got.share == share_a and got.info == info
        assert (info.protocol, info.curve, info.public_key) == ("frost", "ed25519", ED_PUB)
        assert (info.threshold, info.parties, info.party_index) == (2, 3, 2)
        assert share_a.hex() not in repr(got) and str(share_a) not in repr(got)
        assert (await store.get_share("wallet-b")).share == share_b
        assert [i.key_id for i in await store.list_keys()] == ["wallet-a", "wallet-b"]
        assert (await store.key_info("wallet-b")).public_key == K1_PUB
    if target.sqlite_file is not None:
        assert stat.S_IMODE(target.sqlite_file.stat().st_mode) == 0o600
    # Reopened (a restart): still there, still decryptable.
    async with open_store(target.url, kek, NODE) as store:
        assert (await store.get_share("wallet-b")).share == share_b


async def test_share_is_put_once_and_the_conflict_is_not_retried(target):
    async with open_store(target.url, os.urandom(32), NODE) as store:
        await store.put_share("k", b"first", **frost_meta())
        with pytest.raises(KeyExists):
            await store.put_share("k", b"second", **frost_meta())
        assert store.backend.retries == 0
        assert (await store.get_share("k")).share == b"first"


async def test_missing_key_and_operator_delete(target):
    async with open_store(target.url, os.urandom(32), NODE) as store:
        for op in (store.get_share, store.key_info, store.delete_share):
            with pytest.raises(KeyNotFound):
                await op("nope")
        await store.put_share("k", b"s", **gg20_meta())
        await store.add_presignatures("k", [b"p1", b"p2"])
        await store.delete_share("k")
        with pytest.raises(KeyNotFound):
            await store.get_share("k")
        assert await store.count_presignatures("k") == 0
        assert await store.list_keys() == []


async def test_pools_claim_each_item_once_in_order(target):
    async with open_store(target.url, os.urandom(32), NODE) as store:
        for blob in (b"pp-1", b"pp-2", b"pp-3"):
            await store.add_preparams(blob)
        await store.add_presignatures("k1", [b"a1", b"a2"])
        await store.add_presignature("k2", b"b1")
        assert (await store.count_preparams(), await store.count_presignatures("k1")) == (3, 2)
        assert [await store.claim_preparams() for _ in range(4)] == [b"pp-1", b"pp-2", b"pp-3", None]
        assert await store.claim_presignature("k2") == b"b1"
        assert await store.claim_presignature("k2") is None
        assert await store.claim_presignature("k1") == b"a1"
        assert await store.count_presignatures("k1") == 1


async def test_consume_once_succeeds_exactly_once(target):
    kek = os.urandom(32)
    async with open_store(target.url, kek, NODE) as store:
        await store.consume_once("frost-nonce", "session-1")
        await store.consume_once("gg20-session", "session-1")
        with pytest.raises(AlreadyConsumed):
            await store.consume_once("frost-nonce", "session-1")
    async with open_store(target.url, kek, NODE) as store:  # after a restart
        with pytest.raises(AlreadyConsumed):
            await store.consume_once("frost-nonce", "session-1")


async def test_audit_log_is_append_only(target):
    async with open_store(target.url, os.urandom(32), NODE) as store:
        await store.append_audit(
            session_id="s1", key_id="k1", operation="dkg", message_digest=None, result="completed",
            client_identity="spiffe://svc",
        )  # fmt: skip
        await store.append_audit(
            session_id="s2", key_id="k1", operation="sign", message_digest=b"\xaa" * 32, result="failed: timeout",
            client_identity="spiffe://svc",
        )  # fmt: skip
        await store.append_audit(
            session_id="s3", key_id="k2", operation="sign", message_digest=b"\xbb" * 32, result="completed",
            client_identity="jwt:mpc-service",
        )  # fmt: skip
        rows = await store.read_audit()
        assert [r.session_id for r in rows] == ["s1", "s2", "s3"]
        assert rows[1].message_digest == b"\xaa" * 32 and rows[1].result == "failed: timeout"
        assert rows[0].message_digest is None and rows[0].node_id == NODE and rows[0].operation == "dkg"
        assert [r.session_id for r in await store.read_audit(key_id="k1")] == ["s1", "s2"]
        assert [r.key_id for r in await store.read_audit(session_id="s3")] == ["k2"]
        assert len(await store.read_audit(limit=2)) == 2
        with pytest.raises(StoreConfigError):
            await store.append_audit(
                session_id="s", key_id="k", operation="burn", message_digest=None, result="x", client_identity="c"
            )
    for sql in ("UPDATE audit_log SET result = 'ok'", "UPDATE audit_log SET evidence = NULL", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            target.execute(sql)
    assert len(target.fetch("SELECT seq FROM audit_log")) == 3


async def test_dump_holds_no_plaintext(target):
    share = b"KNOWN-TEST-SHARE:" + os.urandom(48)
    presig = b"KNOWN-TEST-PRESIG:" + os.urandom(48)
    preparams = b"KNOWN-TEST-PREPARAMS:" + os.urandom(48)
    async with open_store(target.url, os.urandom(32), NODE) as store:
        await store.put_share("dumped-key", share, **frost_meta())
        await store.add_presignature("dumped-key", presig)
        await store.add_preparams(preparams)
        dump = target.dump()
    assert b"dumped-key" in dump  # the dump is real: it holds the rows
    for secret in (share, presig, preparams):
        for form in (secret, secret[-48:], secret.hex().encode(), secret[-48:].hex().encode()):
            assert form not in dump
    assert b"KNOWN-TEST" not in dump


async def test_row_moved_to_another_key_id_does_not_decrypt(target):
    kek = os.urandom(32)
    async with open_store(target.url, kek, NODE) as store:
        await store.put_share("victim", b"victim-share", **frost_meta())
        await store.put_share("other", b"other-share", **frost_meta())
        await store.add_presignature("victim", b"victim-presig")
    # Copy the victim's sealed share into a new key id, and move the other key's ciphertext onto it.
    target.execute(
        "INSERT INTO key_shares SELECT 'copied', protocol, curve, public_key, threshold, parties, party_index, "
        "record_version, created_at, wrapped_key, ciphertext, party_identities, key_version, updated_at "
        "FROM key_shares WHERE key_id = 'victim'"
    )
    target.execute(
        "UPDATE key_shares SET wrapped_key = (SELECT wrapped_key FROM key_shares WHERE key_id = 'victim'), "
        "ciphertext = (SELECT ciphertext FROM key_shares WHERE key_id = 'victim') WHERE key_id = 'other'"
    )
    target.execute("UPDATE secret_pool SET owner = 'other' WHERE owner = 'victim'")
    async with open_store(target.url, kek, NODE) as store:
        for key_id in ("copied", "other"):
            with pytest.raises(DecryptionFailed) as err:
                await store.get_share(key_id)
            assert "victim-share" not in str(err.value)
        with pytest.raises(DecryptionFailed):
            await store.claim_presignature("other")
        assert (await store.get_share("victim")).share == b"victim-share"
    # The public metadata is bound too: a swapped public key makes the share unreadable.
    target.execute("UPDATE key_shares SET public_key = ? WHERE key_id = 'victim'", bytes(32))
    async with open_store(target.url, kek, NODE) as store:
        with pytest.raises(DecryptionFailed):
            await store.get_share("victim")


async def test_rows_are_bound_to_the_node_id(target):
    kek = os.urandom(32)
    async with open_store(target.url, kek, NODE) as store:
        await store.put_share("k", b"share", **frost_meta())
    with pytest.raises(NodeMismatch):
        async with open_store(target.url, kek, "node-b"):
            pass
    # Even with the node marker forged, the rows themselves do not open under another node id.
    target.execute("UPDATE meta SET value = ? WHERE name = 'node_id'", b"node-b")
    async with open_store(target.url, kek, "node-b") as store:
        with pytest.raises(DecryptionFailed):
            await store.get_share("k")


async def test_wrong_kek_is_a_clear_error_not_an_empty_store(target):
    kek = os.urandom(32)
    async with open_store(target.url, kek, NODE) as store:
        await store.put_share("k", b"share", **frost_meta())
    with pytest.raises(WrongKek, match="KEK does not match"):
        async with open_store(target.url, os.urandom(32), NODE):
            pass
    async with open_store(target.url, kek, NODE) as store:
        assert (await store.get_share("k")).share == b"share"


async def test_migrations_status_and_newer_schema(target):
    migrations = SQLITE_MIGRATIONS if target.backend == "sqlite" else POSTGRES_MIGRATIONS
    latest, count = migrations[-1][0], len(migrations)
    if target.backend == "postgres":
        assert f"schema version 0 of {latest} ({count} migration(s) pending)" in await db_status_async(target.url)
    first = await db_migrate_async(target.url)
    assert "migrations applied: 1 (" in first and f"schema version {latest} of {latest} (up to date)" in first
    assert "nothing to apply" in await db_migrate_async(target.url)
    status = await db_status_async(target.url)
    assert status.startswith(f"schema version {latest} of {latest} (up to date)") and "applied 1:" in status
    future = datetime(2030, 1, 1, tzinfo=UTC)
    target.execute(
        "INSERT INTO schema_migrations VALUES (99, 'from the future', ?)",
        future.isoformat() if target.backend == "sqlite" else future,
    )
    with pytest.raises(SchemaError, match="newer than this program"):
        async with open_store(target.url, os.urandom(32), NODE):
            pass


async def test_inputs_are_validated(target):
    async with open_store(target.url, os.urandom(32), NODE) as store:
        bad: list[dict[str, object]] = [
            {**frost_meta(), "protocol": "ecdsa"},
            {**frost_meta(), "curve": "p256"},
            {**frost_meta(), "public_key": b"short"},
            {**frost_meta(), "threshold": 4},
            {**frost_meta(), "party_index": 0},
            {**frost_meta(), "parties": True},
        ]
        for meta in bad:
            with pytest.raises(StoreConfigError):
                await store.put_share("k", b"s", **meta)  # type: ignore[arg-type]
        for key_id in ("", "x" * 300, "tab\there"):
            with pytest.raises(StoreConfigError):
                await store.put_share(key_id, b"s", **frost_meta())  # type: ignore[arg-type]
        with pytest.raises(StoreConfigError):
            await store.put_share("k", b"", **frost_meta())  # type: ignore[arg-type]
        assert await store.list_keys() == []
    with pytest.raises(StoreConfigError):
        async with open_store(target.url, b"short", NODE):
            pass


async def test_bad_urls_are_config_errors():
    for url in ("mysql://x", "sqlite://relative", "sqlite:///:memory:", ""):
        with pytest.raises(StoreConfigError):
            async with open_store(url, os.urandom(32), NODE):
                pass


async def test_protocol_names_are_the_registry_s_not_the_schema_s(target, monkeypatch):
    """Migration 2 drops the key_shares protocol CHECK (names come from signer.schemes, checked on write):
    a share stored under schema 1 survives it, and the database no longer refuses another protocol name."""
    from signer.store import postgres, sqlite
    from signer.store.schema import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS

    kek = os.urandom(32)
    monkeypatch.setattr(sqlite, "SQLITE_MIGRATIONS", SQLITE_MIGRATIONS[:1])
    monkeypatch.setattr(postgres, "POSTGRES_MIGRATIONS", POSTGRES_MIGRATIONS[:1])
    async with open_store(target.url, kek, NODE):
        pass
    # A share sealed as this code seals it, written in schema 1's columns (the code itself writes the later
    # party_identities column too).
    row_sql = (
        "INSERT INTO key_shares (key_id, protocol, curve, public_key, threshold, parties, party_index, "
        "record_version, created_at, wrapped_key, ciphertext) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    m = frost_meta()
    head = ShareRow(
        "old", m["protocol"], m["curve"], m["public_key"], m["threshold"], m["parties"], m["party_index"],
        RECORD_VERSION, datetime.now(UTC), b"", b"",
    )  # fmt: skip
    wrapped, ciphertext = envelope.seal(kek, envelope.share_aad(NODE, head), b"share from schema 1")
    old = (*astuple(head)[:8], head.created_at, wrapped, ciphertext)
    target.execute(row_sql, *(old[:8] + (old[8].isoformat(),) + old[9:] if target.backend == "sqlite" else old))
    row = ("k2", "frost-secp", "secp256k1", K1_PUB, 2, 2, 1, 1, datetime.now(UTC), b"w", b"c")
    sqlite_row = (*row[:8], row[8].isoformat(), *row[9:])
    with pytest.raises(Exception, match="(?i)check"):
        target.execute(row_sql, *(sqlite_row if target.backend == "sqlite" else row))
    monkeypatch.undo()
    async with open_store(target.url, kek, NODE) as store:
        assert (await store.get_share("old")).share == b"share from schema 1"
        with pytest.raises(StoreConfigError, match="protocol"):
            await store.put_share("new", b"s", **{**frost_meta(), "protocol": "frost-secp"})  # type: ignore[arg-type]
    target.execute(row_sql, *(sqlite_row if target.backend == "sqlite" else row))
    assert target.fetch("SELECT protocol FROM key_shares WHERE key_id = ?", "k2") == [("frost-secp",)]
