"""Session ids are single-use on a node (contract §4.7), also across a restart: a Start naming a finished
session is ALREADY_EXISTS, never a fresh first round, and messages captured from the old session find no
session to enter. The client reports the reuse as such and blames no party.

The node is a real `signer serve` subprocess over mTLS; the client is the plain asyncio library, run with
`asyncio.run` as an asyncio application would."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

import pytest
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from signer.client import (
    Coordinator,
    IdentityKey,
    KeyParties,
    NodeClient,
    Outcome,
    SessionFailed,
    TokenMinter,
    WireMessage,
    client_ssl_context,
    load_hex_key,
)
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from tests.support.served import ServedNode

SIGNERS = (1, 2)
MESSAGE = b"pay bob 5"
DEVICE = IdentityKey.generate()  # P1's identity key, the same in both lives


def connect(served: ServedNode) -> AbstractAsyncContextManager[NodeClient]:
    certs = served.certs
    ctx = client_ssl_context(certs.ca_cert, certs.client_cert, certs.client_key)
    minter = TokenMinter.from_file(certs.jwt_private_key, "mpc-service", "mpc-signer")
    return NodeClient.connect(
        "localhost", served.port, hmac_key=load_hex_key(certs.hmac_key).key, ssl_context=ctx, minter=minter
    )


async def status_of(call) -> Status:  # noqa: ANN001
    with pytest.raises(GRPCError) as err:
        await call
    return err.value.status


def assert_reuse_outcome(outcome: Outcome) -> None:
    assert not outcome.ok
    assert outcome.status == Status.ALREADY_EXISTS
    assert outcome.culprits == () and all(v.culprits == () for v in outcome.nodes.values())
    assert "session id already used" in outcome.error


async def first_life(served: ServedNode) -> tuple[bytes, list[WireMessage], KeyParties]:
    """A DKG and a signing; returns P1's share, the messages the relay delivered to the node and the key's
    parties (for the coordinator of the second life)."""
    async with connect(served) as node:
        coordinator = Coordinator({2: node}, identities={1: DEVICE})
        dkg = await coordinator.dkg(
            "dkg-once", "wallet-once", "frost", 2, 2, {1: FrostDkgSession("dkg-once", 1, 2, SIGNERS)}
        )
        share = dkg.check().dkg_result(1).key_share
        captured: list[WireMessage] = []
        submit = node.submit

        async def capturing(m: WireMessage):  # noqa: ANN202
            captured.append(m)
            return await submit(m)

        node.submit = capturing  # type: ignore[method-assign]
        out = await coordinator.sign(
            "sign-once", "wallet-once", MESSAGE, SIGNERS, {1: FrostSignSession("sign-once", 1, share, MESSAGE, SIGNERS)}
        )
        assert out.ok, out.error
        node.submit = submit  # type: ignore[method-assign]
        assert captured and all(m.session_id == "sign-once" for m in captured)

        # Within retention: the finished session is not started again, whatever the request.
        again = node.start_sign("sign-once", "wallet-once", MESSAGE, SIGNERS)
        assert await status_of(again) == Status.ALREADY_EXISTS
        assert (await node.status("sign-once", "sign", 0)).signature == out.signature  # its outcome stays readable
        reuse = await coordinator.sign(
            "sign-once", "wallet-once", MESSAGE, SIGNERS, {1: FrostSignSession("sign-once", 1, share, MESSAGE, SIGNERS)}
        )
        assert_reuse_outcome(reuse)
        return share, captured, coordinator.keys["wallet-once"]


async def second_life(served: ServedNode, share: bytes, captured: list[WireMessage], key: KeyParties) -> None:
    async with connect(served) as node:
        coordinator = Coordinator({2: node}, identities={1: DEVICE})
        coordinator.remember_key("wallet-once", key)
        # The restarted node knows the ids from its store: no new session under an old id (the requests are
        # otherwise acceptable: the DKG names valid identities, the signings carry P1's approval).
        dkg = node.start_dkg("dkg-once", "wallet-new", "frost", 2, 2, 2, key.identities)
        assert await status_of(dkg) == Status.ALREADY_EXISTS
        for sid in ("sign-once", "dkg-once"):
            approvals = coordinator.approvals("sign", sid, "wallet-once", MESSAGE, SIGNERS)
            again = node.start_sign(sid, "wallet-once", MESSAGE, SIGNERS, approvals=approvals)
            assert await status_of(again) == Status.ALREADY_EXISTS
        # Captured messages (valid MACs) are refused: no session of that id exists or can be made.
        for m in captured:
            assert await status_of(node.submit(m)) == Status.NOT_FOUND
        assert await status_of(node.status("sign-once", "sign", 0)) == Status.NOT_FOUND

        reuse = await coordinator.sign(
            "sign-once", "wallet-once", MESSAGE, SIGNERS, {1: FrostSignSession("sign-once", 1, share, MESSAGE, SIGNERS)}
        )
        assert_reuse_outcome(reuse)
        with pytest.raises(SessionFailed, match="session id already used"):
            reuse.signature  # noqa: B018 - a result of a failed outcome is a clear error, not a KeyError
        # The key and the node are fine: a fresh id signs.
        fresh = await coordinator.sign(
            "sign-fresh",
            "wallet-once",
            MESSAGE,
            SIGNERS,
            {1: FrostSignSession("sign-fresh", 1, share, MESSAGE, SIGNERS)},
        )
        assert fresh.ok, fresh.error


def test_a_used_session_id_is_refused_before_and_after_a_restart(served):
    share, captured, key = asyncio.run(first_life(served))
    served.stop()
    served.start()
    asyncio.run(second_life(served, share, captured, key))
