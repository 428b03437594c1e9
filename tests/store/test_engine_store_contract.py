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
from signer.store import AlreadyConsumed, ItemExists, KeyExists, KeyNotFound, Store, StoreConfigError, open_store
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
