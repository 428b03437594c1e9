"""The `EngineStore` contract, run against every store the engine is given: SQLite, PostgreSQL and the
in-memory store of the engine tests (tests/support/memstore.py), so the test store cannot drift from the
real one. Every EngineStore method is exercised, with the outcomes the engine relies on."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from signer.crypto.identity import ED25519, IdentityKey
from signer.engine.storage import EngineStore
from signer.session_context import PartyIdentity, encode_identities
from signer.store import (
    AlreadyConsumed,
    ItemExists,
    KeyExists,
    KeyNotFound,
    StalePresignature,
    Store,
    StoreConfigError,
    open_store,
)
from signer.store.records import AuditEvent
from tests.support.memstore import MemoryStore

PUB = b"\x02" + bytes(range(32))
META = dict(protocol="gg20", curve="secp256k1", public_key=PUB, threshold=2, parties=3, party_index=2)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/signer.db"
    return request.getfixturevalue("pg_target").url


@asynccontextmanager
async def opened(url: str) -> AsyncIterator[EngineStore]:
    if url == "memory":
        yield MemoryStore()
        return
    async with open_store(url, os.urandom(32), "node-c") as store:
        real: EngineStore = store  # mypy: the real store is an EngineStore
        yield real


async def test_key_shares(store_url):
    async with opened(store_url) as store:
        for missing in (store.key_info, store.get_share):
            with pytest.raises(KeyNotFound):
                await missing("wallet")
        info = await store.put_share("wallet", b"share bytes", **META)  # type: ignore[arg-type]
        assert (info.key_id, info.protocol, info.curve, info.public_key) == ("wallet", "gg20", "secp256k1", PUB)
        assert (info.threshold, info.parties, info.party_index) == (2, 3, 2)
        got = await store.get_share("wallet")
        assert got.share == b"share bytes" and got.info == info
        assert await store.key_info("wallet") == info
        with pytest.raises(KeyExists):
            await store.put_share("wallet", b"other", **META)  # type: ignore[arg-type]
        assert (await store.get_share("wallet")).share == b"share bytes"


async def test_preparams_pool_hands_out_each_set_once_in_order(store_url):
    async with opened(store_url) as store:
        assert await store.count_preparams() == 0 and await store.claim_preparams() is None
        first, second = await store.add_preparams(b"set-1"), await store.add_preparams(b"set-2")
        assert first != second
        assert await store.count_preparams() == 2
        assert [await store.claim_preparams() for _ in range(3)] == [b"set-1", b"set-2", None]
        assert await store.count_preparams() == 0


async def test_presignatures_are_per_key_single_use_and_unique_by_id(store_url):
    async with opened(store_url) as store:
        assert await store.count_presignatures() == 0
        assert await store.add_presignature("k1", b"p1", item_id="ps-1") == "ps-1"
        with pytest.raises(ItemExists):  # ids are unique across keys
            await store.add_presignature("k2", b"x", item_id="ps-1")
        random_id = await store.add_presignature("k1", b"p2")
        assert random_id not in ("", "ps-1")
        await store.add_presignature("k2", b"q1", item_id="ps-3")
        assert (await store.count_presignatures("k1"), await store.count_presignatures("k2")) == (2, 1)
        assert await store.count_presignatures() == 3
        assert await store.claim_presignature("k2", "ps-1") is None  # another key's: not handed out, kept
        assert await store.count_presignatures("k1") == 2
        assert await store.claim_presignature("k1", "ps-1") == b"p1"
        assert await store.claim_presignature("k1", "ps-1") is None  # claimed is gone
        assert await store.claim_presignature("k1") == b"p2"  # the oldest left
        assert await store.claim_presignature("k1") is None
        assert await store.count_presignatures() == 1
        assert await store.claim_presignature("k2", "ps-3") == b"q1"


async def test_consume_once_marks_each_kind_and_id_used_once(store_url):
    async with opened(store_url) as store:
        await store.consume_once("session", "s-1")
        await store.consume_once("session", "s-2")
        await store.consume_once("other", "s-1")  # kinds are separate namespaces
        with pytest.raises(AlreadyConsumed):
            await store.consume_once("session", "s-1")


async def test_audit_rows_are_appended_with_their_blame_evidence(store_url):
    """Rows come back as appended; a failed session's blame evidence (opaque bytes to the store) is kept
    byte for byte, and every other row has none."""
    evidence = b"mpc.v1.BlameEvidence" + bytes(range(256)) * 40  # larger than a page, every byte value
    rows = [
        dict(session_id="s-1", key_id="k1", operation="dkg", message_digest=None, result="completed",
             client_identity="svc", evidence=None),
        dict(session_id="s-2", key_id="k1", operation="sign", message_digest=bytes(32),
             result="failed culprits=[3]", client_identity="svc", evidence=evidence),
    ]  # fmt: skip
    async with opened(store_url) as store:
        await store.append_audit(**{**rows[0], "evidence": None})  # type: ignore[arg-type]
        await store.append_audit(**rows[1])  # type: ignore[arg-type]
        if isinstance(store, MemoryStore):
            assert store.audit == rows
        else:
            assert isinstance(store, Store)
            read = await store.read_audit(key_id="k1")
            fields = ("session_id", "key_id", "operation", "message_digest", "result", "client_identity", "evidence")
            assert [{f: getattr(e, f) for f in fields} for e in read] == rows
            with pytest.raises(StoreConfigError):
                await store.append_audit(**{**rows[1], "evidence": "not bytes"})  # type: ignore[arg-type]


async def test_a_key_share_keeps_its_party_identities_with_its_audit_row(store_url):
    """put_share with both sides' arguments: the DKG's party identities come back as stored (public metadata),
    and the audit row is written with the share (and not for a refused second share)."""
    identities = encode_identities(
        (PartyIdentity(1, ED25519, IdentityKey.generate().public_key), PartyIdentity(2, ED25519, bytes(32)))
    )
    event = AuditEvent("dkg-1", "wallet", "dkg", None, "completed", "svc")
    async with opened(store_url) as store:
        info = await store.put_share("wallet", b"s", **META, party_identities=identities, audit=event)  # type: ignore[arg-type]
        assert info.party_identities == identities
        assert (await store.key_info("wallet")).party_identities == identities
        assert (await store.get_share("wallet")).info.party_identities == identities
        with pytest.raises(KeyExists):
            await store.put_share("wallet", b"s", **META, party_identities=identities, audit=event)  # type: ignore[arg-type]
        if isinstance(store, MemoryStore):
            rows = [(r["session_id"], r["operation"]) for r in store.audit]
        else:
            assert isinstance(store, Store)
            rows = [(e.session_id, e.operation) for e in await store.read_audit(key_id="wallet")]
        assert rows == [("dkg-1", "dkg")]


def _audit_ops(store: EngineStore, key_id: str) -> list[tuple[str, str, str]]:
    if isinstance(store, MemoryStore):
        return [(str(r["operation"]), str(r["session_id"]), str(r["result"])) for r in store.audit]
    raise AssertionError("read with read_audit")


async def _ops(store: EngineStore, key_id: str) -> list[tuple[str, str, str]]:
    if isinstance(store, Store):
        return [(e.operation, e.session_id, e.result) for e in await store.read_audit(key_id=key_id)]
    return _audit_ops(store, key_id)


def _event(session_id: str, operation: str, result: str) -> AuditEvent:
    return AuditEvent(session_id, "wallet", operation, None, result, "svc")


async def test_key_versions_prepare_commit_rollback_and_presignatures(store_url):
    """docs/lifecycle.md §4-5: a pending version is kept beside the current one until committed; commit
    swaps it in (version + 1, same created_at, refreshed time set), deletes the key's presignatures (a later
    claim of one is StalePresignature, not None) and repeats harmlessly; rollback drops a pending version;
    each change writes its audit row in its own transaction; a presignature of another version is refused."""
    pending_meta = {**META, "confirm_digest": b"d" * 32, "resume": b"resume"}
    async with opened(store_url) as store:
        v1 = await store.put_share("wallet", b"share v1", **META)  # type: ignore[arg-type]
        assert (v1.key_version, v1.updated_at) == (1, None)
        await store.add_presignature("wallet", b"p-old", item_id="ps-old", key_version=1)
        await store.add_presignature("wallet", b"p-new", item_id="ps-kept", key_version=1)
        with pytest.raises(KeyNotFound):
            await store.commit_version("wallet", 2, "refresh-1")

        # prepare, then roll back: nothing changes but the audit log
        p = await store.prepare_version(  # type: ignore[misc]
            "wallet", b"share v2", key_version=2, session_id="refresh-1", **pending_meta,
            audit=_event("refresh-1", "key.prepare", "v2"),
        )  # fmt: skip
        assert (p.info.key_version, p.session_id, p.confirm_digest, p.resume, p.retiring) == (
            2, "refresh-1", b"d" * 32, b"resume", False
        )  # fmt: skip
        assert [v.session_id for v in await store.pending_versions()] == ["refresh-1"]
        with pytest.raises(KeyExists):  # one pending version per key
            await store.prepare_version("wallet", b"x", key_version=2, session_id="refresh-2", **pending_meta)  # type: ignore[misc]
        assert await store.rollback_version("wallet", 2, "refresh-1", audit=_event("refresh-1", "key.rollback", "v2"))
        assert not await store.rollback_version("wallet", 2, "refresh-1")
        assert await store.pending_versions() == []
        assert (await store.get_share("wallet")).share == b"share v1"

        # prepare again (another session), commit
        await store.prepare_version(  # type: ignore[misc]
            "wallet", b"share v2", key_version=2, session_id="refresh-2", **pending_meta,
            audit=_event("refresh-2", "key.prepare", "v2"),
        )  # fmt: skip
        assert (await store.get_share("wallet")).share == b"share v1"  # still current until the commit
        assert await store.claim_presignature("wallet", "ps-old") == b"p-old"  # v1's, still valid before commit
        v2 = await store.commit_version("wallet", 2, "refresh-2", audit=_event("refresh-2", "key.commit", "1 -> 2"))
        assert v2 is not None and v2.key_version == 2 and v2.updated_at is not None
        assert v2.created_at == v1.created_at and v2.public_key == v1.public_key
        got = await store.get_share("wallet")
        assert got.share == b"share v2" and got.info.key_version == 2
        assert await store.pending_versions() == []
        assert await store.commit_version("wallet", 2, "refresh-2") == v2  # a repeated commit answers the same
        assert await store.count_presignatures("wallet") == 0
        with pytest.raises(StalePresignature):  # deleted by the switch: refused, not "never made"
            await store.claim_presignature("wallet", "ps-kept")
        # a presignature that a presigning on version 1 stored after the switch is refused when claimed
        await store.add_presignature("wallet", b"late", item_id="ps-late", key_version=1)
        with pytest.raises(StalePresignature):
            await store.claim_presignature("wallet", "ps-late")
        await store.add_presignature("wallet", b"fresh", item_id="ps-v2", key_version=2)
        assert await store.claim_presignature("wallet", "ps-v2") == b"fresh"

        # a leaving party: a pending retirement; committing it removes the share
        await store.prepare_version("wallet", None, key_version=3, session_id="reshare-1", **pending_meta)  # type: ignore[misc]
        assert [v.retiring for v in await store.pending_versions()] == [True]
        assert (
            await store.commit_version("wallet", 3, "reshare-1", audit=_event("reshare-1", "key.retire", "2 -> 3"))
            is None
        )
        with pytest.raises(KeyNotFound):
            await store.get_share("wallet")
        assert await store.commit_version("wallet", 3, "reshare-1") is None

        assert [op for op in await _ops(store, "wallet")] == [
            ("key.prepare", "refresh-1", "v2"), ("key.rollback", "refresh-1", "v2"),
            ("key.prepare", "refresh-2", "v2"), ("key.commit", "refresh-2", "1 -> 2"),
            ("key.retire", "reshare-1", "2 -> 3"),
        ]  # fmt: skip


async def test_a_new_party_commits_its_first_version(store_url):
    """A party that joins a key in a reshare has no current share: commit makes the pending one current."""
    async with opened(store_url) as store:
        await store.prepare_version(  # type: ignore[misc]
            "joined", b"first share", key_version=2, session_id="reshare-9", confirm_digest=b"", resume=b"", **META
        )  # fmt: skip
        with pytest.raises(KeyNotFound):
            await store.key_info("joined")
        info = await store.commit_version("joined", 2, "reshare-9")
        assert info is not None and info.key_version == 2
        assert (await store.get_share("joined")).share == b"first share"
