"""GG20 presignatures end to end over mTLS: mpc-service (the coordinator) runs presigning sessions, then
signings that name a presignature id and run only the online round. The node keeps its presignatures in
its store; P1 keeps its own. Signatures are verified with coincurve and the pure-Python `ecdsa` package.

The node's pre-parameters pool is seeded from the committed fixtures before it starts (never generated
here), and P1's key generations use other fixture sets.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import trio
import trio_asyncio
from coincurve import PublicKey
from ecdsa import SECP256k1, VerifyingKey
from ecdsa.util import sigdecode_string, sigencode_der
from grpclib.const import Status
from grpclib.exceptions import GRPCError
from prometheus_client import REGISTRY

from signer.app import run_node
from signer.auth.devcerts import make_dev_certs
from signer.auth.keyfiles import load_hex_key
from signer.auth.tls import client_ssl_context
from signer.client.in_trio import TrioCoordinator, TrioNodeClient
from signer.crypto.hd import derive_public
from signer.crypto.identity import IdentityKey
from signer.crypto.preparams import load_fixture_preparams
from signer.crypto.secp256k1 import ORDER
from signer.protocols.frost.session import FrostDkgSession
from signer.protocols.gg20 import Gg20KeygenSession, Gg20PresignSession, Gg20SignSession, key_share_info
from signer.store import create_kek_file, open_store
from tests.transport.conftest import SecureNode, secure_config

FIXTURES = Path(__file__).resolve().parents[1] / "paillier" / "fixtures" / "preparams.json"
SIGNERS = (1, 2)


def check_ecdsa(signature: bytes, recovery_id: int, digest: bytes, public_key: bytes) -> None:
    """Low-s (r, s) that libsecp256k1 and `ecdsa` both accept, and whose recovery id gives the key back."""
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    assert 0 < r < ORDER and 0 < s <= ORDER // 2
    assert PublicKey(public_key).verify(sigencode_der(r, s, ORDER), digest, hasher=None)
    vk = VerifyingKey.from_string(public_key, curve=SECP256k1)
    assert vk.verify_digest(signature, digest, sigdecode=sigdecode_string)
    recovered = PublicKey.from_signature_and_message(signature + bytes([recovery_id]), digest, hasher=None)
    assert recovered.format() == public_key


def pool_level() -> float | None:
    return REGISTRY.get_sample_value("mpc_pool_level", {"pool": "presignatures"})


@pytest.fixture
async def coordinator(tmp_path):
    """An mTLS node whose pre-parameters pool holds two fixture sets, and a coordinator for it."""
    certs = make_dev_certs(tmp_path / "certs")
    data = tmp_path / "data"
    data.mkdir()
    config = secure_config(certs, data)
    fixtures = load_fixture_preparams(FIXTURES)
    async with open_store(config.storage_url, create_kek_file(config.kek_file), config["node.id"]) as store:
        for pre in fixtures[4:6]:
            await store.add_preparams(pre.to_bytes())
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(run_node, config)
        node = SecureNode(handle, certs, handle.address[1])
        ctx = client_ssl_context(certs.ca_cert, certs.client_cert, certs.client_key)
        async with trio_asyncio.open_loop():
            async with TrioNodeClient.connect(
                "localhost", node.port, hmac_key=load_hex_key(certs.hmac_key).key, ssl_context=ctx, minter=node.minter()
            ) as client:
                yield TrioCoordinator({2: client}, identities={1: IdentityKey.generate()})
        nursery.cancel_scope.cancel()


async def gg20_key(coordinator: TrioCoordinator, key_id: str, fixture: int) -> tuple[bytes, bytes]:
    """A 2-of-2 GG20 key between P1 (here) and the node; returns (P1's key share, public key)."""
    pre = load_fixture_preparams(FIXTURES)[fixture]
    sid = f"dkg-{key_id}"
    out = await coordinator.dkg(sid, key_id, "gg20", 2, 2, {1: Gg20KeygenSession(sid, 1, 2, SIGNERS, pre)})
    assert out.ok, out.error
    assert out.local[1].public_key == out.nodes[2].public_key
    return out.local[1].key_share, out.nodes[2].public_key


async def presign(coordinator: TrioCoordinator, sid: str, key_id: str, share: bytes, public_key: bytes) -> bytes:
    """One presigning; returns P1's presignature (the node keeps its own under id = sid)."""
    out = await coordinator.presign(sid, key_id, SIGNERS, {1: Gg20PresignSession(sid, 1, share, SIGNERS)})
    assert out.ok, out.error
    view = out.nodes[2]
    assert view.signature == b"" and view.public_key == public_key
    return out.local[1].consume()


async def sign(coordinator, sid, key_id, share, digest, presignature_id, presignature, path=()):  # noqa: ANN001, ANN201
    local = Gg20SignSession(sid, 1, share, digest, SIGNERS, path, presignature=presignature)
    return await coordinator.sign(sid, key_id, digest, SIGNERS, {1: local}, path, presignature_id=presignature_id)


async def test_presign_twice_then_sign_twice_with_one_round_each(coordinator):
    node = coordinator.nodes[2]
    share, public_key = await gg20_key(coordinator, "key-a", 0)
    mine = {sid: await presign(coordinator, sid, "key-a", share, public_key) for sid in ("pre-1", "pre-2")}
    assert pool_level() == 2

    digest = hashlib.sha256(b"transfer 1").digest()
    out = await sign(coordinator, "sign-1", "key-a", share, digest, "pre-1", mine["pre-1"])
    assert out.ok, out.error
    view = out.nodes[2]
    assert view.signature == out.local[1].signature
    check_ecdsa(view.signature, view.recovery_id, digest, public_key)
    assert pool_level() == 1

    # The second one with a BIP-32 path: the presignature is re-randomized for the derived key.
    path = (44, 60, 0, 7)
    digest2 = hashlib.sha256(b"transfer 2").digest()
    out = await sign(coordinator, "sign-2", "key-a", share, digest2, "pre-2", mine["pre-2"], path)
    assert out.ok, out.error
    child = derive_public(public_key, key_share_info(share).chain_code, path).public_key
    assert out.nodes[2].public_key == child != public_key
    check_ecdsa(out.nodes[2].signature, out.nodes[2].recovery_id, digest2, child)
    assert pool_level() == 0

    # Online signing is two short rounds: the node's fresh ρ_2, then its share s_2, both broadcast.
    status = await node.status("sign-1", "sign", 0)
    assert [(m.round, m.to_party) for m in status.outbound] == [(1, 0), (2, 0)]
    # A repeated start of the finished session is refused (single-use ids, contract §4.7), not a second claim.
    with pytest.raises(GRPCError) as err:
        await node.start_sign("sign-1", "key-a", digest, SIGNERS, presignature_id="pre-1")
    assert err.value.status == Status.ALREADY_EXISTS


async def test_a_used_presignature_is_gone_and_nothing_is_signed(coordinator):
    node = coordinator.nodes[2]
    share, public_key = await gg20_key(coordinator, "key-a", 0)
    p1_pre = await presign(coordinator, "pre-1", "key-a", share, public_key)
    digest = hashlib.sha256(b"pay once").digest()
    out = await sign(coordinator, "sign-1", "key-a", share, digest, "pre-1", p1_pre)
    assert out.ok, out.error

    for sid, presignature_id in [("sign-2", "pre-1"), ("sign-3", "never-made")]:
        with pytest.raises(GRPCError) as err:
            approvals = coordinator.approvals("sign", sid, "key-a", digest, SIGNERS, presignature_id=presignature_id)
            await node.start_sign(sid, "key-a", digest, SIGNERS, presignature_id=presignature_id, approvals=approvals)
        assert err.value.status == Status.NOT_FOUND, err.value.message
        with pytest.raises(GRPCError) as err:  # no session was created: nothing was signed
            await node.status(sid, "sign", 0)
        assert err.value.status == Status.NOT_FOUND

    # Presigning takes no message and has no FROST form.
    with pytest.raises(GRPCError) as err:
        await node.start_sign("pre-x", "key-a", digest, SIGNERS, presign=True)
    assert err.value.status == Status.INVALID_ARGUMENT
    frost = await coordinator.dkg("dkg-f", "key-f", "frost", 2, 2, {1: FrostDkgSession("dkg-f", 1, 2, SIGNERS)})
    assert frost.ok, frost.error
    with pytest.raises(GRPCError) as err:
        await node.start_sign("pre-f", "key-f", b"", SIGNERS, presign=True)
    assert err.value.status == Status.INVALID_ARGUMENT


async def test_a_presignature_of_key_a_cannot_sign_for_key_b(coordinator):
    node = coordinator.nodes[2]
    share_a, public_a = await gg20_key(coordinator, "key-a", 0)
    share_b, _ = await gg20_key(coordinator, "key-b", 3)
    p1_pre = await presign(coordinator, "pre-a", "key-a", share_a, public_a)
    digest = hashlib.sha256(b"cross-key").digest()
    with pytest.raises(GRPCError) as err:
        approvals = coordinator.approvals("sign", "sign-b", "key-b", digest, SIGNERS, presignature_id="pre-a")
        await node.start_sign("sign-b", "key-b", digest, SIGNERS, presignature_id="pre-a", approvals=approvals)
    assert err.value.status == Status.NOT_FOUND
    # It was not taken by the refused attempt: key A still signs with it.
    out = await sign(coordinator, "sign-a", "key-a", share_a, digest, "pre-a", p1_pre)
    assert out.ok, out.error
    check_ecdsa(out.nodes[2].signature, out.nodes[2].recovery_id, digest, public_a)


async def test_a_claim_without_the_device_approval_consumes_nothing(coordinator):
    """A relay that asks the node to sign with a presignature, without P1's approval or with P1's approval of
    another digest, gets PERMISSION_DENIED before the claim: the presignature stays, and P1's signing then
    uses it (docs/contract.md §11.4)."""
    node = coordinator.nodes[2]
    share, public_key = await gg20_key(coordinator, "key-a", 0)
    p1_pre = await presign(coordinator, "pre-1", "key-a", share, public_key)
    approved, changed = hashlib.sha256(b"pay alice").digest(), hashlib.sha256(b"pay mallory").digest()
    approvals = coordinator.approvals("sign", "sign-1", "key-a", approved, SIGNERS, presignature_id="pre-1")
    for attempt in ((), approvals):
        with pytest.raises(GRPCError) as err:
            await node.start_sign("sign-1", "key-a", changed, SIGNERS, presignature_id="pre-1", approvals=attempt)
        assert err.value.status == Status.PERMISSION_DENIED, err.value.message
        assert pool_level() == 1
    out = await sign(coordinator, "sign-1", "key-a", share, approved, "pre-1", p1_pre)
    assert out.ok, out.error
    check_ecdsa(out.nodes[2].signature, out.nodes[2].recovery_id, approved, public_key)
    assert pool_level() == 0
