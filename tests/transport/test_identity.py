"""Party identities over real gRPC and mTLS (docs/contract.md §11): the node's identity, the identities a
DKG names, a relay in the middle of a DKG, forged and altered messages, approvals, and a P-256 device key
made with `cryptography`. Every signature that matters is checked with pynacl or `cryptography` directly."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import nacl.signing
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from gen.mpc.v1 import IdentityScheme
from signer.client.in_trio import TrioCoordinator
from signer.client.party import LocalParty, WireMessage
from signer.crypto.identity import ECDSA_P256_SHA256, ED25519, IdentityKey, fingerprint
from signer.protocols.base import ProtocolError
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.session_context import PartyIdentity, SessionContext, message_signing_input
from signer.store.commands import identity_show_async
from tests.transport.conftest import node_client, secure_config

SIGNERS = (1, 2)


async def frost_key(coordinator: TrioCoordinator, key_id: str) -> tuple[bytes, bytes]:
    sid = f"dkg-{key_id}"
    out = await coordinator.dkg(sid, key_id, "frost", 2, 2, {1: FrostDkgSession(sid, 1, 2, SIGNERS)})
    assert out.ok, out.error
    return out.local[1].key_share, out.nodes[2].public_key


def flip(payload: bytes) -> bytes:
    return payload[:-1] + bytes([payload[-1] ^ 1])


async def test_ping_and_identity_show_name_the_stored_key(secure_node, tmp_path):
    async with node_client(secure_node) as node:
        pong = await node.ping()
    assert pong.identity_scheme == IdentityScheme.ED25519
    assert pong.identity_public_key == secure_node.handle.engine.identity_public_key
    assert len(pong.identity_public_key) == 32
    config = secure_config(secure_node.certs, tmp_path / "data")
    shown = await identity_show_async(config.storage_url, config.kek_file, config["node.id"])
    assert f"public key: {pong.identity_public_key.hex()}" in shown
    assert f"fingerprint: {fingerprint(pong.identity_public_key)}" in shown
    assert fingerprint(pong.identity_public_key) == " ".join(
        hashlib.sha256(pong.identity_public_key).hexdigest()[i : i + 4] for i in range(0, 16, 4)
    )


async def test_startdkg_checks_the_identities(secure_node):
    async with node_client(secure_node) as node:
        own = PartyIdentity(2, ED25519, await TrioCoordinator({2: node}, identities={}).node_identity(2))
        device = PartyIdentity(1, ED25519, IdentityKey.generate().public_key)
        impostor = PartyIdentity(2, ED25519, IdentityKey.generate().public_key)
        bad_point = PartyIdentity(1, ECDSA_P256_SHA256, b"\x02" + b"\xff" * 32)
        for identities, words in [
            ((device,), "exactly once"),
            ((device, device, own), "exactly once"),
            ((device, impostor), "is not this node's identity"),
            ((bad_point, own), "party 1"),
        ]:
            with pytest.raises(GRPCError) as err:
                await node.start_dkg("dkg-bad", "wallet-bad", "frost", 2, 2, 2, identities)
            assert err.value.status == Status.INVALID_ARGUMENT
            assert "party_identities" in err.value.message and words in err.value.message
        with pytest.raises(GRPCError) as err:
            await node.status("dkg-bad", "dkg", 0)
        assert err.value.status == Status.NOT_FOUND  # nothing was started


async def test_a_relay_in_the_middle_of_a_dkg_cannot_get_p1_to_finish(secure_node):
    """The relay runs one DKG with the node while posing as P1 (with its own identity key), and one with P1
    while posing as the node. The node cannot tell; P1, which pinned the node's identity, refuses the first
    message of the impostor node and also the real node's genuine messages of the other DKG."""
    async with node_client(secure_node) as node:
        relay_key = IdentityKey.generate()
        relay = TrioCoordinator({2: node}, identities={1: relay_key})
        with_node = await relay.dkg(
            "dkg-mitm", "wallet-mitm", "frost", 2, 2, {1: FrostDkgSession("dkg-mitm", 1, 2, SIGNERS)}
        )
        assert with_node.ok, with_node.error  # the node's DKG completes with the relay as "P1"
        node_key = relay.pinned[2]
        real_node_messages = (await node.status("dkg-mitm", "dkg", 0)).outbound

    p1_key = IdentityKey.generate()
    p1_view = (PartyIdentity(1, ED25519, p1_key.public_key), PartyIdentity(2, ED25519, node_key))  # node pinned
    p1_context = SessionContext("dkg", "dkg-mitm", "wallet-mitm", "frost", "ed25519", 2, p1_view)

    # The relay's own party 2, signing with the relay's key (its context names that key for party 2).
    fake_view = (p1_view[0], PartyIdentity(2, ED25519, relay_key.public_key))
    fake_context = SessionContext("dkg", "dkg-mitm", "wallet-mitm", "frost", "ed25519", 2, fake_view)
    fake_node = LocalParty(
        "dkg-mitm", FrostDkgSession("dkg-mitm", 2, 2, SIGNERS), identity=relay_key, context=fake_context
    )
    for first_node_message in (fake_node.start()[0], real_node_messages[0]):
        p1 = LocalParty("dkg-mitm", FrostDkgSession("dkg-mitm", 1, 2, SIGNERS), identity=p1_key, context=p1_context)
        p1.start()
        with pytest.raises(ProtocolError, match="party_signature of party 2"):
            p1.receive(first_node_message)
        assert not p1.done


async def test_a_forged_or_altered_p1_message_is_refused_and_the_signing_completes(secure_node):
    async with node_client(secure_node) as node:
        coordinator = TrioCoordinator({2: node}, identities={1: IdentityKey.generate()}, poll_ms=200)
        share, public_key = await frost_key(coordinator, "wallet-forge")
        relay_key = IdentityKey.generate()
        original_submit = node.aio.submit
        refused: list[Status] = []

        async def forging_submit(m: WireMessage):
            if m.from_party == 1:
                forged = replace(m, payload=flip(m.payload))  # altered, re-MACed, P1's signature kept
                resigned = replace(forged, party_signature=relay_key.sign(b"anything"))  # signed by the relay
                unsigned = replace(forged, party_signature=b"")
                for bad in (forged, resigned, unsigned):
                    try:
                        await original_submit(bad)
                    except GRPCError as exc:
                        refused.append(exc.status)
            return await original_submit(m)

        node.aio.submit = forging_submit  # type: ignore[method-assign]
        message = b"pay 3 SOL"
        sid = "sign-forge"
        out = await coordinator.sign(
            sid, "wallet-forge", message, SIGNERS, {1: FrostSignSession(sid, 1, share, message, SIGNERS)}
        )
        assert out.ok, out.error
        assert refused and set(refused) == {Status.UNAUTHENTICATED} and len(refused) % 3 == 0
        nacl.signing.VerifyKey(public_key).verify(message, out.nodes[2].signature)


async def test_a_digest_changed_after_approval_is_permission_denied_and_nothing_leaves_the_node(secure_node):
    async with node_client(secure_node) as node:
        coordinator = TrioCoordinator({2: node}, identities={1: IdentityKey.generate()})
        await frost_key(coordinator, "wallet-approve")
        approved, changed = b"pay 1 SOL to alice", b"pay 1000 SOL to mallory"
        approvals = coordinator.approvals("sign", "sign-approve", "wallet-approve", approved, SIGNERS)
        for attempt in (approvals, (), replace_party(approvals, 3)):
            with pytest.raises(GRPCError) as err:
                await node.start_sign("sign-approve", "wallet-approve", changed, SIGNERS, approvals=attempt)
            assert err.value.status in (Status.PERMISSION_DENIED, Status.INVALID_ARGUMENT)
            if attempt is approvals:
                assert err.value.status == Status.PERMISSION_DENIED and "approval of party 1" in err.value.message
            with pytest.raises(GRPCError) as err:
                await node.status("sign-approve", "sign", 0)
            assert err.value.status == Status.NOT_FOUND  # no session: no message, no share left the node
        # The approved digest itself starts the signing.
        view = await node.start_sign("sign-approve", "wallet-approve", approved, SIGNERS, approvals=approvals)
        assert view.outbound and view.outbound[0].from_party == 2


def replace_party(approvals, party):  # noqa: ANN001, ANN201
    return tuple(replace(a, party=party) for a in approvals)


async def test_a_p256_device_key_runs_dkg_and_signing_end_to_end(secure_node):
    """P1's identity is a P-256 key made with `cryptography` (what a phone's secure hardware holds): its
    messages carry DER signatures that `cryptography` verifies, and the node accepts them."""
    device = ec.generate_private_key(ec.SECP256R1())
    async with node_client(secure_node) as node:
        coordinator = TrioCoordinator({2: node}, identities={1: IdentityKey.from_p256(device)})
        original_submit = node.aio.submit
        sent: list[WireMessage] = []

        async def recording_submit(m: WireMessage):
            sent.append(m)
            return await original_submit(m)

        node.aio.submit = recording_submit  # type: ignore[method-assign]
        share, public_key = await frost_key(coordinator, "wallet-p256")
        message = b"p256 device says pay"
        out = await coordinator.sign(
            "sign-p256", "wallet-p256", message, SIGNERS, {1: FrostSignSession("sign-p256", 1, share, message, SIGNERS)}
        )
        assert out.ok, out.error
        nacl.signing.VerifyKey(public_key).verify(message, out.nodes[2].signature)
    assert coordinator.keys["wallet-p256"].identities[0].scheme == ECDSA_P256_SHA256
    dkg_context = SessionContext(
        "dkg", "dkg-wallet-p256", "wallet-p256", "frost", "ed25519", 2, coordinator.keys["wallet-p256"].identities
    )
    m = sent[0]
    decode_dss_signature(m.party_signature)  # DER
    signing_input = message_signing_input(
        dkg_context.hash, m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload
    )
    device.public_key().verify(m.party_signature, signing_input, ec.ECDSA(hashes.SHA256()))
