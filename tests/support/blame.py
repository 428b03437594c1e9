"""A lying party for blame tests (docs/contract.md §11.8): party 2 of a DKG between two engines sends party 1
a round-1 broadcast it changed and signed itself, so party 1 names it with evidence."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import trio

from signer.engine import DkgRequest, SessionKind, SessionManager, SessionState
from signer.protocols.base import BROADCAST
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512 as SUITE
from signer.protocols.frost.messages import DkgRound1
from signer.wire import ProtocolMessage
from tests.support.identities import resigned, start_as
from tests.support.memstore import MemoryStore


def bad_proof(payload: bytes) -> bytes:
    """A FROST(Ed25519) 2-of-2 DKG round-1 package with its proof of knowledge broken (mu + 1)."""
    pkg = DkgRound1.decode(SUITE, payload, 2)
    return dataclasses.replace(pkg, proof_mu=(pkg.proof_mu + 1) % SUITE.group.order).encode(SUITE)


async def fail_round1(
    parties: Mapping[int, SessionManager], request: DkgRequest, change: Callable[[bytes], bytes], ahead: int = 0
) -> tuple[ProtocolMessage, ProtocolMessage]:
    """Start a DKG on both engines; party 2 lies: its round-1 broadcast to party 1 is `change(payload)`,
    signed by party 2 itself, after `ahead` signed 64 KiB messages for rounds far ahead (which party 1
    accepts and holds). Returns (genuine, sent) once party 1's session ended naming party 2 and its audit
    row is written."""
    for p, m in parties.items():
        await start_as(parties, m, SessionKind.DKG, dataclasses.replace(request, party_index=p))
    while not (outbound := (await parties[2].status(request.session_id)).outbound):
        await trio.sleep(0.05)  # a GG20 party computes round 1 in a worker process
    genuine = outbound[0]
    assert (genuine.round, genuine.to_party) == (1, BROADCAST)
    for i in range(ahead):
        junk = dataclasses.replace(genuine, round=10 + i, sequence=100 + i, payload=bytes(64 << 10))
        await parties[1].deliver(resigned(parties, junk))
    sent = resigned(parties, dataclasses.replace(genuine, payload=change(genuine.payload)))
    await parties[1].deliver(sent)
    while not (view := await parties[1].status(request.session_id, 100)).state.terminal:
        pass
    assert view.state is SessionState.FAILED and view.culprits == (2,), view.error
    await parties[1].cancel(request.session_id)  # returns once the session, audit row included, is done
    await parties[2].cancel(request.session_id)
    return genuine, sent


def audit_row(manager: SessionManager, session_id: str) -> dict[str, object]:
    """The one audit row of `session_id` in an engine's in-memory store."""
    store = manager._store
    assert isinstance(store, MemoryStore)
    (row,) = [r for r in store.audit if r["session_id"] == session_id]
    return row
