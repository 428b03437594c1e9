"""Real GG20 through the engine: steps in worker processes, pre-parameters from the store's pool
(committed fixtures, never generated here), signatures verified with coincurve and `ecdsa`."""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import AsyncExitStack
from pathlib import Path

import trio
from coincurve import PublicKey
from ecdsa import SECP256k1, VerifyingKey
from ecdsa.util import sigdecode_string

from signer.crypto.hd import derive_public
from signer.crypto.preparams import load_fixture_preparams
from signer.crypto.secp256k1 import ORDER
from signer.engine import (
    GG20,
    SECP256K1,
    DkgRequest,
    EngineConfig,
    SessionKind,
    SessionState,
    SignRequest,
)
from signer.protocols.gg20 import key_share_info
from signer.store import open_store, sqlite_url
from tests.engine.harness import serving
from tests.engine.relay import relay
from tests.support.identities import node, start_as

FIXTURES = Path(__file__).resolve().parents[1] / "paillier" / "fixtures" / "preparams.json"


def check_ecdsa(signature: bytes, recovery_id: int, digest: bytes, public_key: bytes) -> None:
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    assert 0 < r < ORDER and 0 < s <= ORDER // 2
    vk = VerifyingKey.from_string(public_key, curve=SECP256k1)
    assert vk.verify_digest(signature, digest, sigdecode=sigdecode_string)
    recovered = PublicKey.from_signature_and_message(signature + bytes([recovery_id]), digest, hasher=None)
    assert recovered.format() == public_key


async def test_gg20_keygen_and_signing_through_two_engines(tmp_path):
    fixtures = load_fixture_preparams(FIXTURES)
    config = EngineConfig(round_timeout_s=60.0)
    async with AsyncExitStack() as stack:
        stores = {}
        for p in (1, 2):
            url = sqlite_url(tmp_path / f"p{p}.db")
            stores[p] = await stack.enter_async_context(open_store(url, os.urandom(32), f"node-{p}"))
            await stores[p].add_preparams(fixtures[p - 1].to_bytes())
        parties = {p: node(config, stores[p]) for p in (1, 2)}
        async with serving(*parties.values()):
            for p, m in parties.items():
                view = await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg", "eth", GG20, SECP256K1, 2, 2, p))
                assert view.state is SessionState.RUNNING
            finals = await relay(parties, "dkg")
            assert {v.state for v in finals.values()} == {SessionState.COMPLETED}, finals
            public_key = finals[1].public_key
            assert finals[2].public_key == public_key and len(public_key) == 33
            assert await stores[1].count_preparams() == 0  # the set was consumed

            digest = hashlib.sha256(b"tx 1").digest()
            for m in parties.values():
                await start_as(parties, m, SessionKind.SIGN, SignRequest("sign-1", "eth", digest, (1, 2)))
            finals = await relay(parties, "sign-1")
            view = finals[1]
            assert view.state is SessionState.COMPLETED, view.error
            assert finals[2].signature == view.signature
            check_ecdsa(view.signature, view.recovery_id, digest, public_key)

            path = (44, 60, 0, 7)
            for m in parties.values():
                await start_as(parties, m, SessionKind.SIGN, SignRequest("sign-2", "eth", digest, (1, 2), path))
            view = (await relay(parties, "sign-2"))[1]
            info = key_share_info((await stores[1].get_share("eth")).share)
            child = derive_public(public_key, info.chain_code, path).public_key
            assert view.public_key == child != public_key
            check_ecdsa(view.signature, view.recovery_id, digest, child)


async def test_cancel_kills_a_step_running_in_a_worker(tmp_path):
    """A GG20 key generation whose round-1 work is in a worker process is cancelled promptly."""
    fixtures = load_fixture_preparams(FIXTURES)
    async with open_store(sqlite_url(tmp_path / "p1.db"), os.urandom(32), "node-1") as store:
        await store.add_preparams(fixtures[0].to_bytes())
        manager = node(EngineConfig(round_timeout_s=60.0), store)
        async with serving(manager):
            await start_as({1: manager}, manager, SessionKind.DKG, DkgRequest("dkg", "eth", GG20, SECP256K1, 2, 2, 1))
            await trio.sleep(0.3)
            t0 = time.perf_counter()
            view = await manager.cancel("dkg")
            assert time.perf_counter() - t0 < 0.5
            assert view.state is SessionState.CANCELLED
