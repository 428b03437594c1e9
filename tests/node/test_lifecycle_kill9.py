"""kill -9 of a `signer serve` process at each round of a FROST refresh (issue 17, docs/lifecycle.md §4):
after the restart the key still signs, with the old version or the new one and never neither, and a
retried refresh completes. The node is a real subprocess over mTLS, killed with SIGKILL; P1 and the relay
are this test, with the client library (plain asyncio, as an application would run it).

  killed in round 1 or 2 (before the node stored its pending version): the session is gone (sessions with
    secrets are never rebuilt), nobody could commit, P1 drops its session and keeps version 1.
  killed in round 3 (pending stored, confirmation out, P1 has confirmed and committed): the restarted node
    is waiting in round 3 again under the same session id, re-emitting the same confirmation; the relay
    delivers P1's confirmation again and the node commits too (roll forward).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from contextlib import AbstractAsyncContextManager

import nacl.signing
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from gen.mpc.v1 import SessionState
from signer.client import (
    Coordinator,
    IdentityKey,
    KeyParties,
    NodeClient,
    TokenMinter,
    client_ssl_context,
    load_hex_key,
)
from signer.client.coordinator import NodeView
from signer.client.party import LocalParty
from signer.protocols.frost import FrostRefreshSession
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.wire import ProtocolMessage
from tests.support.lifecycle import lifecycle_context, start_lifecycle
from tests.support.served import SIGNER, ServedNode

PAIR = (1, 2)
DEVICE = IdentityKey.generate()
KEY = "wallet-k9"


def connect(served: ServedNode) -> AbstractAsyncContextManager[NodeClient]:
    certs = served.certs
    ctx = client_ssl_context(certs.ca_cert, certs.client_cert, certs.client_key)
    minter = TokenMinter.from_file(certs.jwt_private_key, "mpc-service", "mpc-signer")
    return NodeClient.connect(
        "localhost", served.port, hmac_key=load_hex_key(certs.hmac_key).key, ssl_context=ctx, minter=minter
    )


async def make_key(served: ServedNode) -> tuple[bytes, bytes, KeyParties]:
    async with connect(served) as node:
        coordinator = Coordinator({2: node}, identities={1: DEVICE})
        out = await coordinator.dkg("dkg-k9", KEY, "frost", 2, 2, {1: FrostDkgSession("dkg-k9", 1, 2, PAIR)})
        assert out.ok, out.error
        return out.local[1].key_share, out.nodes[2].public_key, coordinator.keys[KEY]


async def signs(served: ServedNode, key: KeyParties, share: bytes, public_key: bytes, sid: str) -> None:
    message = f"signed after {sid}".encode()
    async with connect(served) as node:
        coordinator = Coordinator({2: node}, identities={1: DEVICE})
        coordinator.remember_key(KEY, key)
        out = await coordinator.sign(sid, KEY, message, PAIR, {1: FrostSignSession(sid, 1, share, message, PAIR)})
        assert out.ok, out.error
    nacl.signing.VerifyKey(public_key).verify(message, out.nodes[2].signature)


async def until(node: NodeClient, sid: str, round_: int) -> NodeView:
    """Long-poll the node until it has sent a message of `round_` (it computes after the submit returned)."""
    for _ in range(50):
        view = await node.status(sid, "dkg", 200)
        if any(m.round == round_ for m in view.outbound):
            return view
    raise AssertionError(f"the node never reached round {round_}")


async def refresh_until_killed(
    served: ServedNode, key: KeyParties, share: bytes, version: int, sid: str, kill_round: int
) -> tuple[LocalParty, list[ProtocolMessage], list[ProtocolMessage]]:
    """Run a refresh of the key's `version` by hand up to `kill_round`, then SIGKILL the node; returns P1, the
    node's messages and P1's."""
    context = lifecycle_context(sid, KEY, "refresh", key.identities)
    p1 = LocalParty(sid, FrostRefreshSession(sid, 1, share, key_version=version), identity=DEVICE, context=context)
    async with connect(served) as node:
        view = await start_lifecycle(sid, KEY, "refresh", 2, key.identities)(node)
        to_node = p1.start()
        p1_sent = list(to_node)
        if kill_round >= 2:
            await node.submit(to_node.pop(0))  # P1's round-1 broadcast
            view = await until(node, sid, 2)
            for m in view.outbound:
                to_node += p1.receive(m)  # P1 now holds its pending share and sends its own share
            p1_sent += to_node
        if kill_round >= 3:
            await node.submit(next(m for m in to_node if m.round == 2))
            view = await until(node, sid, 3)  # the node's pending version is stored before this leaves it
            for m in view.outbound:
                if m.round == 3:
                    p1.receive(m)
            assert p1.done  # P1 has every confirmation: it commits
    served.kill()
    return p1, list(view.outbound), p1_sent


async def after_restart(
    served: ServedNode,
    sid: str,
    kill_round: int,
    p1: LocalParty,
    sent: list[ProtocolMessage],
    p1_sent: list[ProtocolMessage],
) -> bytes | None:
    """What the restarted node has of the killed session; P1's new share if the node rolled forward."""
    async with connect(served) as node:
        if kill_round < 3:
            try:
                await node.status(sid, "dkg", 0)
            except GRPCError as exc:
                assert exc.status == Status.NOT_FOUND
                return None
            raise AssertionError("a session killed before its prepare came back")
        view = await node.status(sid, "dkg", 0)
        assert view.state == SessionState.RUNNING and view.outbound
        # The same confirmation as before the kill: same round, sequence and payload.
        assert [(m.round, m.sequence, m.payload) for m in view.outbound] == [
            (m.round, m.sequence, m.payload) for m in sent if m.round == 3
        ]
        for m in p1_sent:
            if m.round == 3:
                await node.submit(m)  # the relay delivers P1's confirmation again
        for _ in range(50):
            view = await node.status(sid, "dkg", 200)
            if view.state != SessionState.RUNNING:
                break
        assert view.state == SessionState.COMPLETED, view.error
        return p1.result.key_share


async def retry(served: ServedNode, key: KeyParties, share: bytes, version: int, rid: str) -> bytes:
    """A new refresh of the key's `version` through the client library's relay loop; P1's new share."""
    async with connect(served) as node:
        coordinator = Coordinator({2: node}, identities={1: DEVICE})
        context = lifecycle_context(rid, KEY, "refresh", key.identities)
        start = start_lifecycle(rid, KEY, "refresh", 2, key.identities)
        out = await coordinator._run(
            rid, "dkg", {2: start}, {1: FrostRefreshSession(rid, 1, share, key_version=version)}, context
        )
        assert out.ok, out.error
        return out.local[1].key_share


def signer_cli(served: ServedNode, *args: str) -> str:
    res = subprocess.run([*SIGNER, *args, "--config", str(served.config)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_kill_9_at_each_round_of_a_refresh_then_the_key_signs_and_a_retry_completes(tmp_path, free_port):
    served = ServedNode(tmp_path, free_port)
    served.start()
    try:
        share, public_key, key = asyncio.run(make_key(served))
        versions = 1
        for kill_round in (1, 2, 3):
            sid = f"refresh-killed-{kill_round}"
            p1, sent, p1_sent = asyncio.run(refresh_until_killed(served, key, share, versions, sid, kill_round))
            served.start()
            rolled_forward = asyncio.run(after_restart(served, sid, kill_round, p1, sent, p1_sent))
            if rolled_forward is not None:
                share, versions = rolled_forward, versions + 1
            asyncio.run(signs(served, key, share, public_key, f"sign-after-kill-{kill_round}"))
            share, versions = (
                asyncio.run(retry(served, key, share, versions, f"refresh-retry-{kill_round}")),
                versions + 1,
            )
            asyncio.run(signs(served, key, share, public_key, f"sign-after-retry-{kill_round}"))
        assert versions == 5  # three retried refreshes and one rolled forward
        # The operator's view (clear columns only, while the node runs): version and refresh time, no secret.
        (listed,) = [json.loads(line) for line in signer_cli(served, "key", "list", "--json").splitlines()]
        assert (listed["key_id"], listed["key_version"], listed["public_key"]) == (KEY, 5, public_key.hex())
        assert listed["refreshed_at"] > listed["created_at"]
        rows = [
            json.loads(line) for line in signer_cli(served, "audit", "show", "refresh-killed-3", "--json").splitlines()
        ]
        assert [(r["operation"], r["result"]) for r in rows] == [
            ("key.prepare", "version 4 pending (share)"),  # written before the kill
            ("key.commit", "version 3 → 4"),  # after the restart, by the restored session
        ]
    finally:
        served.stop()
