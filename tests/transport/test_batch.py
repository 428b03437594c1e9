"""Batched SubmitProtocolMessage (`ProtocolMessageRequest.messages`) through a real node over mTLS, with
the independent grpcio client: every message is checked on its own (MAC first) with its own outcome,
refused ones change nothing, and the node's bounds (batch count, request size, sessions, early-message
allowance) hold whatever the batching."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest
import trio
import trio_asyncio

from signer import limits
from signer.app import run_node
from signer.auth.devcerts import make_dev_certs
from signer.auth.keyfiles import load_hex_key
from signer.auth.mac import message_mac
from signer.auth.tls import client_ssl_context
from signer.client.in_trio import TrioNodeClient
from signer.client.party import LocalParty, WireMessage
from signer.crypto.identity import ED25519, IdentityKey
from signer.engine.config import EngineConfig
from signer.session_context import PartyIdentity, SessionContext, sign_message
from signer.wire import ProtocolMessage as DomainMessage
from tests.transport.conftest import SecureNode, secure_config
from tests.transport.test_adversarial import GrpcioClient, call, start_frost_dkg

OK = grpc.StatusCode.OK


def pb_message(
    client: GrpcioClient,
    m: WireMessage,
    *,
    mac: bytes | None = None,
    payload: bytes | None = None,
    party_signature: bytes | None = None,
):
    """`m` as a grpcio ProtocolMessage, MACed for `payload` (default: its own) unless `mac` is given, with
    its sender's party signature unless `party_signature` is given."""
    payload = m.payload if payload is None else payload
    signature = m.party_signature if party_signature is None else party_signature
    fields = (m.session_id, m.from_party, m.to_party, m.round, m.sequence, payload)
    return client.message(*fields, mac=mac, party_signature=signature).message


def by_p1(p1: LocalParty, m: WireMessage) -> WireMessage:
    """`m` signed by P1's identity key in P1's session context (a genuine message from P1's key)."""
    return replace(m, party_signature=sign_message(p1.identity, p1.context, m))


def batch(client: GrpcioClient, messages):
    return client.pb2.ProtocolMessageRequest(messages=messages)


@pytest.fixture
async def node_with(tmp_path):
    """A secure node started with extra config flags; yields a factory so each test picks its limits."""
    async with trio.open_nursery() as nursery:

        async def start(**flags) -> SecureNode:
            certs = make_dev_certs(tmp_path / "certs")
            handle = await nursery.start(run_node, secure_config(certs, tmp_path / "data", **flags))
            return SecureNode(handle, certs, handle.address[1])

        yield start
        nursery.cancel_scope.cancel()


@pytest.fixture
async def limited(node_with, grpcio_stubs):
    node = await node_with(**{"session.max_sessions": "2"})
    c = GrpcioClient(node, grpcio_stubs)
    yield c
    c.channel.close()


async def test_each_message_gets_its_own_outcome_and_refusals_change_nothing(limited):
    client = limited
    p1_a, out_a, _ = await start_frost_dkg(client, "batch-a", "wallet-batch-a")
    _, out_b, _ = await start_frost_dkg(client, "batch-b", "wallet-batch-b")
    # The session limit (2) is reached; a message can never open a session, batched or not.
    pb2 = client.pb2
    third = pb2.StartDKGRequest(
        session_id="batch-c",
        key_id="wallet-batch-c",
        protocol=pb2.PROTOCOL_FROST,
        curve=pb2.CURVE_ED25519,
        threshold=2,
        total_parties=2,
        party_index=2,
        party_identities=client.node.party_identities(pb2),
    )
    code, _ = await call(client, "StartDKG", third)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    a, b = out_a[0], out_b[0]
    stranger = WireMessage("batch-c", 1, 2, 1, 0, b"x")
    lie = replace(a, payload=a.payload + b"x")
    lie = replace(lie, party_signature=sign_message(p1_a.identity, p1_a.context, lie))  # P1 itself equivocates
    request = batch(
        client,
        [
            pb_message(client, b, mac=b"\0" * 32),  # bad MAC: refused before anything else
            pb_message(client, a),
            pb_message(client, stranger),  # no such session (and none is created)
            pb_message(client, a),  # exact duplicate: acknowledged
            pb_message(client, lie),  # sequence reused with other content, signed by its sender
            pb_message(client, b),
            pb_message(client, a, payload=a.payload + b"y"),  # altered by the relay (re-MACed): not P1's
            pb_message(client, b, party_signature=b""),  # unsigned (a repeat, yet checked first)
        ],
    )
    code, resp = await call(client, "SubmitProtocolMessage", request)
    assert code == OK and resp.accepted
    unauthenticated = grpc.StatusCode.UNAUTHENTICATED
    codes = [unauthenticated, OK, grpc.StatusCode.NOT_FOUND, OK, grpc.StatusCode.INVALID_ARGUMENT, OK]
    codes += [unauthenticated, unauthenticated]
    assert [r.code for r in resp.results] == [c.value[0] for c in codes]
    assert [r.index for r in resp.results] == list(range(8))
    sessions = ["batch-b", "batch-a", "batch-c", "batch-a", "batch-a", "batch-b", "batch-a", "batch-b"]
    assert [r.session_id for r in resp.results] == sessions
    assert [r.accepted for r in resp.results] == [c == OK for c in codes]
    assert "MAC" in resp.results[0].status_message and "already used" in resp.results[4].status_message
    assert all("party_signature of party 1" in r.status_message for r in resp.results[6:])
    assert resp.results[2].state == client.pb2.SESSION_STATE_UNSPECIFIED and not resp.results[2].outbound
    # Accepted outcomes describe their session; its outbound is MACed for the relay to check.
    for r in (resp.results[1], resp.results[5]):
        assert r.state == client.pb2.SESSION_STATE_RUNNING and r.outbound
        for m in r.outbound:
            assert m.mac == message_mac(
                client.key, m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload
            )
    code, status = await call(client, "GetDKGStatus", client.pb2.GetDKGStatusRequest(session_id="batch-c"))
    assert code == grpc.StatusCode.NOT_FOUND


async def test_batch_shape_and_count_are_checked(limited):
    client = limited
    _, out, _ = await start_frost_dkg(client, "batch-shape", "wallet-batch-shape")
    one = pb_message(client, out[0])
    both = client.pb2.ProtocolMessageRequest(message=one, messages=[one])
    code, details = await call(client, "SubmitProtocolMessage", both)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "not both" in details
    too_many = batch(client, [one] * (limits.MAX_BATCH_MESSAGES + 1))
    code, details = await call(client, "SubmitProtocolMessage", too_many)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and f"at most {limits.MAX_BATCH_MESSAGES}" in details
    # Refused as a whole: the message in it was not delivered, so the session is still waiting for it.
    code, status = await call(client, "GetDKGStatus", client.pb2.GetDKGStatusRequest(session_id="batch-shape"))
    assert status.round == 1
    code, resp = await call(client, "SubmitProtocolMessage", batch(client, [one] * limits.MAX_BATCH_MESSAGES))
    assert code == OK and [r.code for r in resp.results] == [0] * limits.MAX_BATCH_MESSAGES


async def test_early_message_allowance_holds_under_batching(limited):
    client = limited
    p1, _, _ = await start_frost_dkg(client, "batch-early", "wallet-batch-early")
    allowance = EngineConfig().max_buffered
    assert allowance <= limits.MAX_BATCH_MESSAGES
    # Rounds 3.. are beyond the next round (the node is in round 1): each is an early message.
    early = [
        pb_message(client, by_p1(p1, WireMessage("batch-early", 1, 0, 3 + i, 100 + i, b"e")))
        for i in range(allowance + 3)
    ]
    code, resp = await call(client, "SubmitProtocolMessage", batch(client, early[:allowance]))
    assert code == OK and all(r.accepted for r in resp.results)
    code, resp = await call(client, "SubmitProtocolMessage", batch(client, early[allowance:]))
    assert code == OK
    assert [r.code for r in resp.results] == [grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]] * 3
    assert all("early messages" in r.status_message for r in resp.results)


async def test_whole_batch_counts_against_the_request_size_cap(node_with, grpcio_stubs):
    node = await node_with(**{"grpc.max_message_bytes": "65536"})
    client = GrpcioClient(node, grpcio_stubs)
    try:
        p1, _, _ = await start_frost_dkg(client, "batch-size", "wallet-batch-size")
        # Each message is well under the cap; together they are over it.
        parts = [
            pb_message(client, by_p1(p1, WireMessage("batch-size", 1, 0, 3 + i, i, b"p" * 20_000))) for i in range(4)
        ]
        code, _ = await call(client, "SubmitProtocolMessage", batch(client, parts))
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        code, resp = await call(client, "SubmitProtocolMessage", batch(client, parts[:2]))
        assert code == OK and [r.code for r in resp.results] == [0, 0]
    finally:
        client.channel.close()


async def test_client_submit_many_runs_two_signings_interleaved(secure_node):
    """NodeClient.submit_many: two FROST DKGs driven to completion with every message of both sessions
    relayed in shared batches; each outcome maps back to a NodeView (or the error a lone submit raises)."""
    from gen.mpc.v1 import SessionState
    from signer.protocols.frost.session import FrostDkgSession

    ctx = client_ssl_context(secure_node.certs.ca_cert, secure_node.certs.client_cert, secure_node.certs.client_key)
    key = load_hex_key(secure_node.certs.hmac_key).key
    sids = ("many-1", "many-2")
    async with trio_asyncio.open_loop():
        async with TrioNodeClient.connect(
            "localhost", secure_node.port, hmac_key=key, ssl_context=ctx, minter=secure_node.minter()
        ) as node:
            p1_key = IdentityKey.generate()
            identities = (
                PartyIdentity(1, ED25519, p1_key.public_key),
                PartyIdentity(2, ED25519, (await node.ping()).identity_public_key),
            )
            parties = {
                sid: LocalParty(
                    sid,
                    FrostDkgSession(sid, 1, 2, (1, 2)),
                    identity=p1_key,
                    context=SessionContext("dkg", sid, f"wallet-{sid}", "frost", "ed25519", 2, identities),
                )
                for sid in sids
            }
            queue: list[DomainMessage] = []
            seen: set[tuple[str, int, int]] = set()
            states: dict[str, SessionState] = {}

            def take(sid: str, view) -> None:
                states[sid] = view.state
                for m in view.outbound:
                    if (sid, m.from_party, m.sequence) not in seen:
                        seen.add((sid, m.from_party, m.sequence))
                        queue.append(m)

            for sid in sids:
                queue += parties[sid].start()
                take(sid, await node.start_dkg(sid, f"wallet-{sid}", "frost", 2, 2, 2, identities))
            for _ in range(20):
                to_node = [m for m in queue if m.from_party == 1]
                for m in [m for m in queue if m.from_party == 2]:
                    to_node += parties[m.session_id].receive(m)
                queue.clear()
                if to_node:
                    answers = await node.submit_many(to_node)
                    assert len(answers) == len(to_node)
                    for m, view in zip(to_node, answers, strict=True):
                        assert not isinstance(view, Exception), view
                        take(m.session_id, view)
                if all(s == SessionState.COMPLETED for s in states.values()) and all(p.done for p in parties.values()):
                    break
                for sid in sids:
                    take(sid, await node.status(sid, "dkg", 200))
            assert all(s == SessionState.COMPLETED for s in states.values())
            assert all(p.done for p in parties.values())
            stale = await node.submit_many(
                [
                    by_p1(parties["many-1"], WireMessage("many-1", 1, 0, 1, 999, b"late")),
                    WireMessage("nope", 1, 0, 1, 0, b""),
                ]
            )
            assert [getattr(a, "status", None) for a in stale] == [
                grpc_status("FAILED_PRECONDITION"),
                grpc_status("NOT_FOUND"),
            ]


def grpc_status(name: str):
    from grpclib.const import Status

    return Status[name]
