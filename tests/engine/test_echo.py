"""The echo broadcast through real engines (docs/contract.md §7.9): three parties' FROST sessions run
with echo rounds and complete, two parties' sessions send exactly the messages they always did, and an
equivocating party is named by the honest engines (the signed messages reach the protocol)."""

from __future__ import annotations

from dataclasses import replace

import nacl.signing

from signer.engine import (
    ED25519,
    FROST,
    DkgRequest,
    EngineConfig,
    FailedPrecondition,
    InvalidArgument,
    SessionKind,
    SessionState,
    SignRequest,
)
from signer.protocols.echo import wire_round
from signer.protocols.frost.session import FrostDkgSession
from tests.engine.harness import serving
from tests.engine.relay import relay
from tests.support.identities import node, resigned, start_as
from tests.support.memstore import MemoryStore


def engines(n: int) -> dict:
    return {p: node(EngineConfig(round_timeout_s=10.0), MemoryStore()) for p in range(1, n + 1)}


def shape(view) -> list[tuple[int, int]]:
    return [(m.round, m.to_party) for m in view.outbound]


async def dkg_and_sign(parties: dict, n: int) -> tuple[dict, dict]:
    for p, m in parties.items():
        await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg", "k", FROST, ED25519, 2, n, p))
    dkg = await relay(parties, "dkg")
    assert {v.state for v in dkg.values()} == {SessionState.COMPLETED}, dkg
    signers = tuple(parties)
    for m in parties.values():
        await start_as(parties, m, SessionKind.SIGN, SignRequest("sign", "k", b"pay", signers))
    sign = await relay(parties, "sign")
    assert {v.state for v in sign.values()} == {SessionState.COMPLETED}, sign
    nacl.signing.VerifyKey(dkg[1].public_key).verify(b"pay", sign[1].signature)
    return dkg, sign


async def test_three_parties_complete_with_echo_rounds(clock):
    parties = engines(3)
    async with serving(*parties.values()):
        dkg, sign = await dkg_and_sign(parties, 3)
    # DKG: round 1 and its echo, the shares (inner round 2 = wire 4), the confirmation and its echo.
    assert shape(dkg[1]) == [(1, 0), (2, 0), (4, 2), (4, 3), (7, 0), (8, 0)]
    # Signing: the commitments and their echo, then the signature shares without one.
    assert shape(sign[1]) == [(1, 0), (2, 0), (4, 0)]


async def test_two_parties_send_exactly_what_they_did_before(clock):
    parties = engines(2)
    async with serving(*parties.values()):
        dkg, sign = await dkg_and_sign(parties, 2)
    assert shape(dkg[1]) == [(1, 0), (2, 2), (3, 0)] and shape(sign[1]) == [(1, 0), (2, 0)]
    assert [m.sequence for m in dkg[1].outbound] == [1, 2, 3]


async def test_an_equivocating_party_is_named_by_the_honest_engines(clock):
    parties = engines(3)
    other = next(o.payload for o in FrostDkgSession("dkg", 3, 2, (1, 2, 3)).start())

    def lie(to: int, msg):
        if msg.from_party == 3 and to == 2 and msg.round == wire_round(1):
            return resigned(parties, replace(msg, payload=other))
        return msg

    async with serving(*parties.values()):
        for p, m in parties.items():
            await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg", "k", FROST, ED25519, 2, 3, p))
        finals = await relay(parties, "dkg", rewrite=lie, tolerate=(FailedPrecondition, InvalidArgument))
    for p in (1, 2):
        assert finals[p].state is SessionState.FAILED and finals[p].culprits == (3,), finals[p]
        assert "equivocation" in finals[p].error
    assert finals[3].state is not SessionState.COMPLETED  # its peers stopped; it waits for a reveal in vain
