"""Engines for tests: n parties, each a SessionManager with its own store, served in a nursery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from signer.engine import DkgRequest, EngineConfig, SessionKind, SessionManager, SessionView, SignRequest
from tests.engine.toyproto import toy_protocols
from tests.support.identities import node, start_as
from tests.support.memstore import MemoryStore


def toy_engines(n: int, config: EngineConfig | None = None, **binding: Any) -> dict[int, SessionManager]:
    config = config or EngineConfig(round_timeout_s=10.0, max_wait_s=1000.0)
    return {p: node(config, MemoryStore(), protocols=toy_protocols(**binding)) for p in range(1, n + 1)}


@asynccontextmanager
async def serving(*managers: SessionManager) -> AsyncIterator[trio.Nursery]:
    async with trio.open_nursery() as nursery:
        for m in managers:
            await nursery.start(m.run)
        yield nursery
        nursery.cancel_scope.cancel()


def toy_dkg(session_id: str, party: int, n: int = 2, key_id: str = "key-1", threshold: int = 2) -> DkgRequest:
    return DkgRequest(session_id, key_id, "toy", "ed25519", threshold, n, party)


async def start_dkg(parties: dict[int, SessionManager], session_id: str, **kw: Any) -> dict[int, SessionView]:
    n = len(parties)
    return {p: await start_as(parties, m, SessionKind.DKG, toy_dkg(session_id, p, n, **kw)) for p, m in parties.items()}


def toy_sign(session_id: str, signers: tuple[int, ...], key_id: str = "key-1", message: bytes = b"hi") -> SignRequest:
    return SignRequest(session_id, key_id, message, signers)
