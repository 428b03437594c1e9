"""Real FROST through the engine: two parties' engines in one process, messages relayed as mpc-service
would, every signature checked with pynacl (an independent RFC 8032 verifier)."""

from __future__ import annotations

import hashlib
import os
from contextlib import AsyncExitStack

import nacl.signing
import pytest
import trio
import trio.testing

from signer.engine import (
    ED25519,
    FROST,
    AlreadyExists,
    DkgRequest,
    EngineConfig,
    NotFound,
    ResourceExhausted,
    SessionKind,
    SessionManager,
    SessionState,
    SignRequest,
)
from signer.store import open_store, sqlite_url
from tests.engine.harness import serving
from tests.engine.relay import relay
from tests.support.identities import node, resigned, start_as
from tests.support.memstore import MemoryStore


def frost_dkg(session_id: str, party: int, key_id: str = "wallet-1") -> DkgRequest:
    return DkgRequest(session_id, key_id, FROST, ED25519, 2, 2, party)


async def frost_keygen(parties: dict[int, SessionManager], key_id: str = "wallet-1") -> bytes:
    for p, m in parties.items():
        await start_as(parties, m, SessionKind.DKG, frost_dkg(f"dkg-{key_id}", p, key_id))
    finals = await relay(parties, f"dkg-{key_id}")
    assert {v.state for v in finals.values()} == {SessionState.COMPLETED}, finals
    assert finals[1].public_key == finals[2].public_key
    return finals[1].public_key


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    nacl.signing.VerifyKey(public_key).verify(message, signature)  # raises BadSignatureError


async def test_dkg_and_signing_with_the_real_store(tmp_path):
    config = EngineConfig(round_timeout_s=20.0)
    async with AsyncExitStack() as stack:
        stores = {
            p: await stack.enter_async_context(
                open_store(sqlite_url(tmp_path / f"p{p}.db"), os.urandom(32), f"node-{p}")
            )
            for p in (1, 2)
        }
        parties = {p: node(config, stores[p]) for p in (1, 2)}
        async with serving(*parties.values()):
            public_key = await frost_keygen(parties)
            for p in (1, 2):
                share = await stores[p].get_share("wallet-1")
                assert share.info.party_index == p and share.info.public_key == public_key
                assert share.info.protocol == FROST and share.info.threshold == 2
            for i in range(3):
                message = f"pay {i}".encode()
                for m in parties.values():
                    await start_as(parties, m, SessionKind.SIGN, SignRequest(f"sign-{i}", "wallet-1", message, (1, 2)))
                finals = await relay(parties, f"sign-{i}")
                assert finals[1].signature == finals[2].signature
                verify(public_key, message, finals[1].signature)
                assert finals[1].public_key == public_key and finals[1].recovery_id == 0
            with pytest.raises(AlreadyExists):
                await start_as(parties, parties[1], SessionKind.DKG, frost_dkg("dkg-again", 1))
            with pytest.raises(NotFound):
                await start_as(parties, parties[1], SessionKind.SIGN, SignRequest("s", "no-such-key", b"m", (1, 2)))
        audit = await stores[1].read_audit(key_id="wallet-1")
        assert [(a.operation, a.result, a.session_id) for a in audit] == [
            ("dkg", "completed", "dkg-wallet-1"),
            ("sign", "completed", "sign-0"),
            ("sign", "completed", "sign-1"),
            ("sign", "completed", "sign-2"),
        ]
        assert audit[1].message_digest == hashlib.sha256(b"pay 0").digest()


async def test_a_failed_dkg_stores_no_key(clock):
    parties = {p: node(EngineConfig(round_timeout_s=10.0), MemoryStore()) for p in (1, 2)}
    async with serving(*parties.values()):
        views = {p: await start_as(parties, m, SessionKind.DKG, frost_dkg("d", p)) for p, m in parties.items()}
        first = views[2].outbound[0]
        flipped = first.payload[:-1] + bytes([first.payload[-1] ^ 1])
        await parties[1].deliver(resigned(parties, type(first)(**{**first.__dict__, "payload": flipped})))
        view = await parties[1].status("d", 100)
    assert view.state is SessionState.FAILED and view.culprits == (2,)
    assert "wallet-1" not in parties[1]._store.shares


async def test_1000_concurrent_signings_and_the_session_limit(clock):
    """The limit is 1,000 running sessions: the 1,001st start is RESOURCE_EXHAUSTED, and all 1,000
    real FROST signings then complete concurrently through the two engines."""
    n = 1000
    config = EngineConfig(round_timeout_s=30.0, max_sessions=n, retention_s=60.0)
    parties = {p: node(config, MemoryStore()) for p in (1, 2)}
    async with serving(*parties.values()):
        public_key = await frost_keygen(parties)
        messages = [f"transfer #{i}".encode() for i in range(n)]
        for i, message in enumerate(messages):
            for m in parties.values():
                await start_as(parties, m, SessionKind.SIGN, SignRequest(f"s{i}", "wallet-1", message, (1, 2)))
        assert parties[1].running == n
        with pytest.raises(ResourceExhausted):
            await start_as(parties, parties[1], SessionKind.SIGN, SignRequest("s-extra", "wallet-1", b"x", (1, 2)))
        finals: dict[int, dict[int, object]] = {}

        async def one(i: int) -> None:
            finals[i] = await relay(parties, f"s{i}")

        async with trio.open_nursery() as nursery:
            for i in range(n):
                nursery.start_soon(one, i)
        assert trio.current_time() == 0.0  # nothing waited for a deadline
        assert parties[1].running == 0 and parties[2].running == 0
        assert parties[1].held == n + 1  # the DKG and the signings, queryable for their retention
        await trio.sleep(60.0)
        await trio.testing.wait_all_tasks_blocked()  # the reaper's turn at t = 60
        assert trio.current_time() == 60.0
        assert parties[1].held == 0 and parties[2].held == 0  # then memory is released
    for i, message in enumerate(messages):
        view = finals[i][1]
        assert view.state is SessionState.COMPLETED
        verify(public_key, message, view.signature)
