"""Store faults through the engine with real stores: a full disk fails the signing with RESOURCE_EXHAUSTED's
message and releases no signature, a record that does not decrypt is DATA_LOSS, a stopped PostgreSQL is
UNAVAILABLE. Every signature that is released is checked with pynacl."""

from __future__ import annotations

import os
from contextlib import AsyncExitStack

import pytest
from grpclib.const import Status

from signer.engine import (
    DataLoss,
    EngineConfig,
    ResourceExhausted,
    SessionKind,
    SessionState,
    SignRequest,
    Unavailable,
)
from signer.engine.errors import STORE_FAULTS, from_store
from signer.store import DecryptionFailed, StoreConfigError, StoreUnavailable, open_store, sqlite_url
from tests.engine.harness import serving
from tests.engine.relay import relay
from tests.engine.test_frost import frost_keygen, verify
from tests.store.private_pg import create_database
from tests.store.test_faults import checkpoint
from tests.store.volume import Volume
from tests.support.identities import node, start_as


def test_the_store_fault_table():
    assert [(fault.__name__, error.code) for fault, error, _ in STORE_FAULTS] == [
        ("DecryptionFailed", "DATA_LOSS"),
        ("StoreCorrupt", "DATA_LOSS"),
        ("StoreFull", "RESOURCE_EXHAUSTED"),
        ("StoreUnavailable", "UNAVAILABLE"),
        ("WrongKek", "UNAVAILABLE"),
    ]
    assert all(Status[error.code] for _, error, _ in STORE_FAULTS)  # transport maps err.code to the status
    assert from_store(StoreConfigError("a bug")) is None  # not a fault of the database: INTERNAL
    assert isinstance(from_store(DecryptionFailed("key share 'k': record does not authenticate")), DataLoss)


async def test_a_full_disk_fails_the_signing_and_releases_no_signature(tmp_path, volume: Volume):
    db = volume.path / "p1.db"
    async with AsyncExitStack() as stack:
        stores = {
            1: await stack.enter_async_context(open_store(sqlite_url(db), os.urandom(32), "node-1")),
            2: await stack.enter_async_context(open_store(sqlite_url(tmp_path / "p2.db"), os.urandom(32), "node-2")),
        }
        parties = {p: node(EngineConfig(round_timeout_s=20.0), stores[p]) for p in (1, 2)}
        async with serving(*parties.values()):
            public_key = await frost_keygen(parties)
            for m in parties.values():
                await start_as(parties, m, SessionKind.SIGN, SignRequest("sign-full", "wallet-1", b"pay", (1, 2)))
            # The disk fills once the signing runs (its start recorded the session id): the result's write
            # is what fails. A start on a full disk is refused outright (below).
            checkpoint(db)
            volume.fill()
            with pytest.raises(ResourceExhausted):
                await start_as(
                    parties, parties[1], SessionKind.SIGN, SignRequest("sign-refused", "wallet-1", b"pay", (1, 2))
                )
            finals = await relay(parties, "sign-full")
            full = finals[1]
            assert full.state is SessionState.FAILED and full.signature == b""
            assert full.error == "the node's storage is full; nothing was stored or released"
            volume.free()
            # No "completed" row for the signing that released nothing; its "failed" row may have fit in the
            # space the failed write freed (SQLite rolls back within its own files).
            rows = await stores[1].read_audit(key_id="wallet-1")
            assert [(a.session_id, a.result) for a in rows] in (
                [("dkg-wallet-1", "completed")],
                [("dkg-wallet-1", "completed"), ("sign-full", "failed")],
            )
            for m in parties.values():
                await start_as(parties, m, SessionKind.SIGN, SignRequest("sign-ok", "wallet-1", b"pay", (1, 2)))
            finals = await relay(parties, "sign-ok")
            assert finals[1].state is SessionState.COMPLETED
            verify(public_key, b"pay", finals[1].signature)
            rows = await stores[1].read_audit(key_id="wallet-1")
            assert [a.session_id for a in rows if a.result == "completed"] == ["dkg-wallet-1", "sign-ok"]


async def test_a_share_that_does_not_decrypt_is_data_loss(tmp_path):
    async with AsyncExitStack() as stack:
        stores = {
            p: await stack.enter_async_context(open_store(sqlite_url(tmp_path / f"p{p}.db"), os.urandom(32), f"n{p}"))
            for p in (1, 2)
        }
        parties = {p: node(EngineConfig(round_timeout_s=20.0), stores[p]) for p in (1, 2)}
        async with serving(*parties.values()):
            await frost_keygen(parties)
            await stores[1].backend._run(  # the wrapped data key replaced, as a bad restore would
                lambda c: c.execute("UPDATE key_shares SET wrapped_key = CAST(zeroblob(60) AS BLOB)"), write=True
            )
            with pytest.raises(DataLoss, match="does not decrypt: key share 'wallet-1'"):
                await start_as(parties, parties[1], SessionKind.SIGN, SignRequest("s", "wallet-1", b"m", (1, 2)))


async def test_a_stopped_postgres_is_unavailable_for_a_start(pg_server):
    url = create_database(pg_server, "engine_unavailable")
    async with open_store(url, os.urandom(32), "node-1", pool_size=2) as store:
        manager = node(EngineConfig(round_timeout_s=20.0, preparams_target=0), store)
        async with serving(manager):
            pg_server.stop()
            with pytest.raises(Unavailable, match="storage is unavailable; retry later") as info:
                await start_as({1: manager}, manager, SessionKind.SIGN, SignRequest("s", "wallet-1", b"m", (1, 2)))
            assert isinstance(info.value.__context__, StoreUnavailable)
            pg_server.start()
