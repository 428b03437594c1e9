"""Hostile and malformed input through gRPC: the MAC matrix, a relay that alters a byte, a party that lies,
and hypothesis-generated requests (well-formed messages and raw bytes) for every RPC. Every answer is a
docs/contract.md §5 status; the node stays healthy and other sessions are unaffected."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest
import trio
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gen.mpc.v1 import SessionState
from signer.auth.keyfiles import load_hex_key
from signer.auth.mac import message_mac
from signer.client.in_trio import TrioCoordinator
from signer.client.party import LocalParty, WireMessage
from signer.crypto.identity import ED25519, IdentityKey
from signer.protocols.frost.session import FrostDkgSession
from signer.session_context import PartyIdentity, SessionContext, sign_message
from tests.transport.conftest import node_client

SPEC_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.UNAVAILABLE,
}


class GrpcioClient:
    """A blocking grpcio client with a valid certificate and token (the independent client)."""

    def __init__(self, node, stubs):
        self.node = node
        self.pb2, pb2_grpc = stubs
        self.channel = node.good_channel()
        self.stub = pb2_grpc.SignerServiceStub(self.channel)
        self.key = load_hex_key(node.certs.hmac_key).key

    def call(self, method: str, request):
        metadata = (("authorization", self.node.minter().authorization()),)
        try:
            return grpc.StatusCode.OK, getattr(self.stub, method)(request, timeout=10, metadata=metadata)
        except grpc.RpcError as err:
            return err.code(), err.details()

    def message(self, session_id, from_party, to_party, round, sequence, payload, mac=None, party_signature=b""):
        if mac is None:
            mac = message_mac(self.key, session_id, from_party, to_party, round, sequence, payload)
        return self.pb2.ProtocolMessageRequest(
            message=self.pb2.ProtocolMessage(
                session_id=session_id,
                from_party=from_party,
                to_party=to_party,
                round=round,
                sequence=sequence,
                payload=payload,
                mac=mac,
                party_signature=party_signature,
            )
        )

    def signed(self, m: WireMessage):
        """A relay's request for `m` as its sender signed it, MACed."""
        return self.message(
            m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload, party_signature=m.party_signature
        )


@pytest.fixture
async def client(secure_node, grpcio_stubs):
    c = GrpcioClient(secure_node, grpcio_stubs)
    yield c
    c.channel.close()


async def call(client, method, request):
    return await trio.to_thread.run_sync(client.call, method, request)


async def start_frost_dkg(client, session_id: str, key_id: str):
    """StartDKG on the node as party 2 of 2; returns P1's round-1 messages (not yet delivered)."""
    pb2 = client.pb2
    code, pong = await call(client, "Ping", pb2.PingRequest())
    p1_key = IdentityKey.generate()
    identities = (PartyIdentity(1, ED25519, p1_key.public_key), PartyIdentity(2, ED25519, pong.identity_public_key))
    code, resp = await call(
        client,
        "StartDKG",
        pb2.StartDKGRequest(
            session_id=session_id,
            key_id=key_id,
            protocol=pb2.PROTOCOL_FROST,
            curve=pb2.CURVE_ED25519,
            threshold=2,
            total_parties=2,
            party_index=2,
            party_identities=[
                pb2.PartyIdentity(party=p.party, scheme=p.scheme, public_key=p.public_key) for p in identities
            ],
        ),
    )
    assert code == grpc.StatusCode.OK, resp
    context = SessionContext("dkg", session_id, key_id, "frost", "ed25519", 2, identities)
    p1 = LocalParty(session_id, FrostDkgSession(session_id, 1, 2, (1, 2)), identity=p1_key, context=context)
    return p1, p1.start(), resp


async def test_mac_matrix_changes_no_session_state(client):
    p1, out, _ = await start_frost_dkg(client, "mac-matrix", "wallet-mac")
    m = out[0]
    good = client.signed(m)
    cases = {
        "missing": client.message(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload, mac=b""),
        "wrong": client.message(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload, mac=b"\0" * 32),
        "short": client.message(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload, mac=b"\1" * 5),
    }
    tampered = client.message(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload)
    tampered.message.round = m.round + 1
    cases["round changed after MAC"] = tampered
    flipped = client.message(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload)
    flipped.message.payload = bytes([m.payload[0] ^ 1]) + m.payload[1:]
    cases["payload changed after MAC"] = flipped
    for name, request in cases.items():
        code, _ = await call(client, "SubmitProtocolMessage", request)
        assert code == grpc.StatusCode.UNAUTHENTICATED, name
    code, status = await call(client, "GetDKGStatus", client.pb2.GetDKGStatusRequest(session_id="mac-matrix"))
    assert status.state == client.pb2.SESSION_STATE_RUNNING and status.round == 1
    # The genuine message is accepted, an exact resend is acknowledged, a reused sequence is refused.
    code, resp = await call(client, "SubmitProtocolMessage", good)
    assert code == grpc.StatusCode.OK and resp.accepted
    code, resp = await call(client, "SubmitProtocolMessage", good)
    assert code == grpc.StatusCode.OK and resp.accepted
    other = replace(m, payload=m.payload + b"x")
    other = client.signed(replace(other, party_signature=sign_message(p1.identity, p1.context, other)))
    code, _ = await call(client, "SubmitProtocolMessage", other)
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def flip(payload: bytes) -> bytes:
    middle = len(payload) // 2
    return payload[:middle] + bytes([payload[middle] ^ 0x01]) + payload[middle + 1 :]


async def test_relay_altering_a_p1_message_is_refused_and_the_dkg_completes(secure_node):
    """The relay re-MACs a tampered payload (it holds the MAC key) but cannot sign as P1: the node refuses it
    UNAUTHENTICATED before it touches the session, and the genuine message then completes the DKG."""
    async with node_client(secure_node) as node:
        original_submit = node.aio.submit
        refused = []

        async def altering_submit(m: WireMessage):
            if m.from_party == 1 and m.round == 1:
                try:
                    await original_submit(replace(m, payload=flip(m.payload)))
                except GRPCError as exc:
                    refused.append(exc.status)
            return await original_submit(m)

        node.aio.submit = altering_submit  # type: ignore[method-assign]
        coordinator = TrioCoordinator({2: node}, identities={1: IdentityKey.generate()}, poll_ms=200)
        outcome = await coordinator.dkg(
            "flip", "wallet-flip", "frost", 2, 2, {1: FrostDkgSession("flip", 1, 2, (1, 2))}
        )
        assert outcome.ok, outcome.error
        assert refused and set(refused) == {Status.UNAUTHENTICATED}
        assert outcome.local[1].public_key == outcome.nodes[2].public_key


async def test_p1_lying_in_round_1_fails_the_dkg_with_p1_as_culprit(secure_node):
    """P1 itself signs a tampered payload: the protocol catches it and names P1; nothing is stored."""
    async with node_client(secure_node) as node:
        original_submit = node.aio.submit
        p1_key = IdentityKey.generate()
        coordinator = TrioCoordinator({2: node}, identities={1: p1_key}, poll_ms=200)
        identities = (
            PartyIdentity(1, ED25519, p1_key.public_key),
            PartyIdentity(2, ED25519, await coordinator.node_identity(2)),
        )
        context = SessionContext("dkg", "lie", "wallet-lie", "frost", "ed25519", 2, identities)

        async def lying_submit(m: WireMessage):
            if m.from_party == 1 and m.round == 1:
                m = replace(m, payload=flip(m.payload))
                m = replace(m, party_signature=sign_message(p1_key, context, m))
            return await original_submit(m)

        node.aio.submit = lying_submit  # type: ignore[method-assign]
        outcome = await coordinator.dkg("lie", "wallet-lie", "frost", 2, 2, {1: FrostDkgSession("lie", 1, 2, (1, 2))})
        assert outcome.state == SessionState.FAILED
        assert outcome.nodes[2].culprits == (1,)
        node.aio.submit = original_submit  # type: ignore[method-assign]
        # Nothing stored for the failed DKG: the same key id can be generated afresh, and the node is healthy.
        retry = await coordinator.dkg("lie-2", "wallet-lie", "frost", 2, 2, {1: FrostDkgSession("lie-2", 1, 2, (1, 2))})
        assert retry.ok, retry.error


session_ids = st.one_of(st.text(max_size=200), st.sampled_from(["", "x" * 129, "known"]))
u32 = st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2, 3, 2**32 - 1]))


def requests(pb2):
    return st.one_of(
        st.builds(
            lambda *a: (
                "StartDKG",
                pb2.StartDKGRequest(
                    session_id=a[0],
                    key_id=a[1],
                    protocol=a[2],
                    curve=a[3],
                    threshold=a[4],
                    total_parties=a[5],
                    party_index=a[6],
                ),
            ),
            session_ids,
            st.text(max_size=200),
            st.integers(0, 3),
            st.integers(0, 3),
            u32,
            u32,
            u32,
        ),
        st.builds(
            lambda *a: (
                "StartSign",
                pb2.StartSignRequest(
                    session_id=a[0],
                    key_id=a[1],
                    message=a[2],
                    signers=a[3],
                    derivation_path=a[4],
                    taproot=a[5],
                    taproot_merkle_root=a[6],
                ),
            ),
            session_ids,
            st.sampled_from(["", "wallet-fuzz", "nope"]),
            st.binary(max_size=100),
            st.lists(u32, max_size=5),
            st.lists(u32, max_size=3),
            st.booleans(),
            st.one_of(st.just(b""), st.binary(min_size=31, max_size=33)),
        ),
        st.builds(
            lambda s, w: ("GetDKGStatus", pb2.GetDKGStatusRequest(session_id=s, wait_ms=w)),
            session_ids,
            st.integers(0, 10),
        ),
        st.builds(
            lambda s, w: ("GetSignStatus", pb2.GetSignStatusRequest(session_id=s, wait_ms=w)),
            session_ids,
            st.integers(0, 10),
        ),
        st.builds(
            lambda *a: (
                "SubmitProtocolMessage",
                pb2.ProtocolMessageRequest(
                    message=pb2.ProtocolMessage(
                        session_id=a[0],
                        from_party=a[1],
                        to_party=a[2],
                        round=a[3],
                        sequence=a[4],
                        payload=a[5],
                        mac=a[6],
                    )
                ),
            ),
            session_ids,
            u32,
            u32,
            u32,
            st.integers(0, 2**64 - 1),
            st.binary(max_size=300),
            st.binary(max_size=40),
        ),
    )


async def test_fuzzed_requests_get_spec_statuses(client, secure_node):
    # A healthy session running alongside the fuzzing must be unaffected.
    _, _, _ = await start_frost_dkg(client, "bystander", "wallet-bystander")
    pb2 = client.pb2
    answers = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(requests(pb2))
    def fuzz(item):
        method, request = item
        code, _ = client.call(method, request)
        answers.append(code)
        assert code in SPEC_CODES | {grpc.StatusCode.OK}, (method, code)

    await trio.to_thread.run_sync(fuzz)
    assert answers
    code, pong = await call(client, "Ping", pb2.PingRequest())
    assert code == grpc.StatusCode.OK
    code, status = await call(client, "GetDKGStatus", pb2.GetDKGStatusRequest(session_id="bystander"))
    assert code == grpc.StatusCode.OK and status.state == pb2.SESSION_STATE_RUNNING


RPC_METHODS = ["StartDKG", "GetDKGStatus", "StartSign", "GetSignStatus", "SubmitProtocolMessage", "Ping"]


async def test_fuzzed_raw_bodies_get_spec_statuses(client):
    """Raw bytes as request bodies (not only well-formed messages): never UNKNOWN or INTERNAL."""
    metadata = (("authorization", client.node.minter().authorization()),)
    calls = {m: client.channel.unary_unary(f"/mpc.v1.SignerService/{m}", lambda b: b, lambda b: b) for m in RPC_METHODS}
    answers = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(RPC_METHODS), st.binary(max_size=300))
    def fuzz(method, body):
        try:
            calls[method](body, timeout=10, metadata=metadata)
            code = grpc.StatusCode.OK
        except grpc.RpcError as err:
            code = err.code()
        answers.append(code)
        assert code in SPEC_CODES | {grpc.StatusCode.OK}, (method, body, code)

    await trio.to_thread.run_sync(fuzz)
    assert grpc.StatusCode.INVALID_ARGUMENT in answers


async def test_enum_zero_is_rejected(client):
    pb2 = client.pb2
    code, details = await call(
        client,
        "StartDKG",
        pb2.StartDKGRequest(session_id="z", key_id="k", threshold=2, total_parties=2, party_index=2),
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "protocol" in details


async def test_limits_are_checked_at_the_edge_in_utf8_bytes(client):
    """Ids count UTF-8 bytes (64 x "é" is exactly 128 bytes, 65 x "é" one character over 128 bytes) and party
    counts stop at 255 (indices are one byte on the wire): refused with INVALID_ARGUMENT naming the field."""
    pb2 = client.pb2

    def dkg(session_id: str, key_id: str, total: int = 2, index: int = 2):
        return pb2.StartDKGRequest(
            session_id=session_id,
            key_id=key_id,
            protocol=pb2.PROTOCOL_FROST,
            curve=pb2.CURVE_ED25519,
            threshold=2,
            total_parties=total,
            party_index=index,
        )

    refused = {
        "session_id": dkg("é" * 65, "wallet-limits"),
        "key_id": dkg("limits-key", "é" * 65),
        "total_parties": dkg("limits-300", "wallet-300", total=300, index=2),
    }
    for field, request in refused.items():
        code, details = await call(client, "StartDKG", request)
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (field, details)
        assert details.startswith(f"{field}: "), details
    code, details = await call(client, "StartDKG", refused["session_id"])
    assert "at most 128 UTF-8 bytes" in details
    sign = pb2.StartSignRequest(session_id="é" * 65, key_id="wallet-limits", message=b"m", signers=[1, 2])
    code, details = await call(client, "StartSign", sign)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and details.startswith("session_id: "), details
    code, details = await call(client, "GetDKGStatus", pb2.GetDKGStatusRequest(session_id="limits-300"))
    assert code == grpc.StatusCode.NOT_FOUND  # nothing was started for the refused request

    # Exactly 128 bytes: accepted, and the DKG runs to the end with a local P1.
    sid, kid = "é" * 64, "ü" * 64
    p1, out, resp = await start_frost_dkg(client, sid, kid)
    assert resp.state == pb2.SESSION_STATE_RUNNING
    pending = [*out]
    while pending:
        m = pending.pop(0)
        code, resp = await call(
            client,
            "SubmitProtocolMessage",
            client.signed(m),
        )
        assert code == grpc.StatusCode.OK, resp
        for o in resp.outbound:
            w = WireMessage(o.session_id, o.from_party, o.to_party, o.round, o.sequence, o.payload, o.party_signature)
            if p1.wants(w):
                pending += p1.receive(w)
    code, status = await call(client, "GetDKGStatus", pb2.GetDKGStatusRequest(session_id=sid, wait_ms=5000))
    assert status.state == pb2.SESSION_STATE_COMPLETED, status.error
    assert status.key_id == kid and status.public_key == p1.result.public_key
