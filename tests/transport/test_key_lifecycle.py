"""Key refresh and reshare served by a real node (issue 17, docs/contract.md §12): the node behind mTLS in
this process, P1 (and a joining P3) driven by the test through the client library's relay loop.

What must hold: the public key never changes and signatures made after the operation verify under it
(pynacl, coincurve and `ecdsa` as independent verifiers); the node switches to the new share only once
every participant confirmed, in one store transaction with its audit row; a share from before cannot be
combined with one from after; a presignature made before a switch is refused after it; a cheating party
is named and nobody switches.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import nacl.exceptions
import nacl.signing
import pytest
import trio
import trio_asyncio
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from gen.mpc.v1 import SessionState
from signer.app import run_node
from signer.client.coordinator import KeyParties, NodeView, Outcome
from signer.client.in_trio import TrioCoordinator
from signer.client.party import LocalParty
from signer.crypto import vss
from signer.crypto.identity import ED25519, IdentityKey
from signer.crypto.preparams import load_fixture_preparams
from signer.engine.manager import SessionManager
from signer.protocols.base import SessionProtocol
from signer.protocols.frost import FrostRefreshSession, FrostReshareSession
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.protocols.gg20 import Gg20KeygenSession, Gg20PresignSession, Gg20RefreshSession, Gg20SignSession
from signer.protocols.gg20.keyshare import Gg20KeyShare
from signer.session_context import PartyIdentity
from signer.store import Store, create_kek_file, open_store
from signer.store.commands import key_list_async
from tests.support.lifecycle import key_version, lifecycle_context, start_lifecycle
from tests.transport.conftest import SecureNode, connect, node_client, secure_config
from tests.transport.test_presign import check_ecdsa

FIXTURES = Path(__file__).resolve().parents[1] / "paillier" / "fixtures" / "preparams.json"
PAIR = (1, 2)


def node_store(node: SecureNode) -> Store:
    engine = node.handle.engine  # type: ignore[attr-defined]
    assert isinstance(engine, SessionManager)
    store = engine._store
    assert isinstance(store, Store)
    return store


@pytest.fixture
async def frost(secure_node) -> AsyncIterator[tuple[SecureNode, TrioCoordinator]]:
    async with node_client(secure_node) as client:
        yield secure_node, TrioCoordinator({2: client}, identities={1: IdentityKey.generate()})


async def frost_key(coordinator: TrioCoordinator, key_id: str) -> tuple[bytes, bytes]:
    """A 2-of-2 FROST(Ed25519) key between P1 and the node: (P1's share, public key)."""
    sid = f"dkg-{key_id}"
    out = await coordinator.dkg(sid, key_id, "frost", 2, 2, {1: FrostDkgSession(sid, 1, 2, PAIR)})
    assert out.ok, out.error
    return out.local[1].key_share, out.nodes[2].public_key


async def run_lifecycle(
    coordinator: TrioCoordinator,
    sid: str,
    key_id: str,
    operation: str,
    local: Mapping[int, SessionProtocol],
    *,
    parties: tuple[PartyIdentity, ...] | None = None,
    leaving: tuple[PartyIdentity, ...] = (),
    node_index: int = 2,
    **kw: object,
) -> Outcome:
    """One refresh or reshare through the client library's relay loop; `parties` are the identities of the
    new set (default: the key's, as a refresh keeps them), `leaving` those of old parties not in it (part
    of the session context, not of the request)."""
    key = coordinator.keys[key_id]
    named = parties or key.identities
    options = {"protocol": key.protocol, "curve": key.curve, **kw}
    start = start_lifecycle(sid, key_id, operation, node_index, named, **options)  # type: ignore[arg-type]
    context_kw = {k: v for k, v in options.items() if k != "total"}
    everyone = tuple(sorted((*named, *leaving), key=lambda p: p.party))
    context = lifecycle_context(sid, key_id, operation, everyone, **context_kw)  # type: ignore[arg-type]
    return await coordinator._run(sid, "dkg", {node_index: start}, local, context)


async def frost_sign(coordinator: TrioCoordinator, sid: str, key_id: str, share: bytes, message: bytes) -> Outcome:
    return await coordinator.sign(sid, key_id, message, PAIR, {1: FrostSignSession(sid, 1, share, message, PAIR)})


def signing_share(share: bytes) -> int:
    return FrostKeyShare.decode(share).key_package.signing_share


def reconstructs(public_key: bytes, shares: dict[int, int]) -> bool:
    """Whether these signing shares interpolate to the key's secret (checked against the public key)."""
    g = FROST_ED25519_SHA512.group
    secret = sum(vss.lagrange_at_zero(i, sorted(shares), g.order) * y for i, y in shares.items()) % g.order
    return g.encode_point(g.base_mul(secret)) == public_key


async def settled(coordinator: TrioCoordinator, sid: str) -> NodeView:
    """The node's view of a DKG session once it is no longer RUNNING."""
    with trio.fail_after(10):
        while (view := await coordinator.nodes[2].status(sid, "dkg", 200)).state == SessionState.RUNNING:
            pass
    return view


async def audit(node: SecureNode, key_id: str) -> list[tuple[str, str]]:
    return [(e.operation, e.result) for e in await node_store(node).read_audit(key_id=key_id)]


async def test_frost_refresh_keeps_the_key_and_old_shares_do_not_mix(frost):
    node, coordinator = frost
    store = node_store(node)
    old_p1, public_key = await frost_key(coordinator, "wallet")
    assert await key_version(coordinator.nodes[2], "dkg-wallet") == 1
    old_node = (await store.get_share("wallet")).share

    out = await run_lifecycle(
        coordinator, "refresh-1", "wallet", "refresh", {1: FrostRefreshSession("refresh-1", 1, old_p1)}
    )
    assert out.ok, out.error
    assert out.nodes[2].public_key == public_key == out.local[1].public_key
    assert await key_version(coordinator.nodes[2], "refresh-1") == 2
    new_p1 = out.local[1].key_share
    stored = await store.get_share("wallet")
    assert (stored.info.key_version, stored.info.public_key) == (2, public_key) and stored.info.updated_at
    new_node = stored.share
    assert signing_share(new_node) != signing_share(old_node)

    # The math: new with new is the key, old with new is not.
    assert reconstructs(public_key, {1: signing_share(new_p1), 2: signing_share(new_node)})
    assert not reconstructs(public_key, {1: signing_share(old_p1), 2: signing_share(new_node)})
    # The node signs with its new share: P1's new share completes a signature that pynacl accepts...
    out = await frost_sign(coordinator, "sign-new", "wallet", new_p1, b"after the refresh")
    assert out.ok, out.error
    nacl.signing.VerifyKey(public_key).verify(b"after the refresh", out.nodes[2].signature)
    # ...and P1's old share cannot complete one with it: P1's session names the node's share as not fitting.
    out = await frost_sign(coordinator, "sign-old", "wallet", old_p1, b"with a stale share")
    assert not out.ok
    for view in out.nodes.values():
        if view.signature:
            with pytest.raises(nacl.exceptions.BadSignatureError):
                nacl.signing.VerifyKey(public_key).verify(b"with a stale share", view.signature)
    assert ("key.commit", "version 1 → 2") in await audit(node, "wallet")
    ops = [op for op, _ in await audit(node, "wallet")]
    assert ops.index("key.prepare") < ops.index("key.commit")
    assert await store.pending_versions() == []


async def test_refresh_and_reshare_requests_are_checked_against_the_stored_key(frost):
    """docs/contract.md §12.1-12.2: each refused start names what is wrong, and starts nothing."""
    node, coordinator = frost
    await frost_key(coordinator, "wallet")
    n = coordinator.nodes[2].aio
    device, me = coordinator.keys["wallet"].identities
    other = PartyIdentity(1, ED25519, IdentityKey.generate().public_key)
    p3 = PartyIdentity(3, ED25519, IdentityKey.generate().public_key)
    me_as_3 = PartyIdentity(3, ED25519, me.public_key)
    invalid, found, exists = Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.ALREADY_EXISTS
    cases = [  # key id, operation, this node's index, identities, other fields, status, text
        ("missing", "refresh", 2, (device, me), {}, found, "no key"),
        ("wallet", "refresh", 2, (device, me), {"total": 3}, invalid, "total_parties"),
        ("wallet", "refresh", 2, (device, me), {"curve": "secp256k1"}, invalid, "curve"),
        ("wallet", "refresh", 1, (device, me), {}, invalid, "party_index"),
        ("wallet", "refresh", 2, (other, me), {}, invalid, "a refresh keeps the key's identities"),
        ("wallet", "refresh", 2, (device, me), {"old_parties": (1, 2)}, invalid, "RESHARE only"),
        ("wallet", "create", 2, (device, me), {}, exists, "already exists"),
        ("wallet", "reshare", 2, (device, me, p3), {"total": 3, "old_parties": (1, 2, 3)}, invalid, "old_parties"),
        ("wallet", "reshare", 2, (device, me, p3), {"total": 3, "old_parties": (2,)}, invalid, "threshold"),
        (
            "wallet",
            "reshare",
            2,
            (other, me, p3),
            {"total": 3, "old_parties": (1, 2)},
            invalid,
            "keep their identities",
        ),
        ("wallet", "reshare", 2, (device, me, p3), {"total": 3, "old_parties": (1, 3)}, exists, "not in old_parties"),
        ("wallet", "reshare", 2, (device, p3), {"old_parties": (1, 3)}, invalid, "neither"),
        ("missing", "reshare", 2, (device, me, p3), {"total": 3, "old_parties": (1, 2)}, found, "must hold it"),
        ("missing", "reshare", 3, (device, me_as_3), {"old_parties": (1, 2)}, invalid, "cannot authenticate"),
    ]
    for i, (key_id, operation, index, ids, kw, status, text) in enumerate(cases):
        start = start_lifecycle(f"bad-{i}", key_id, operation, index, ids, **kw)  # type: ignore[arg-type]
        with pytest.raises(GRPCError) as err:
            await trio_asyncio.aio_as_trio(start)(n)
        assert (err.value.status, text in (err.value.message or "")) == (status, True), (i, err.value.message)
    assert await node_store(node).pending_versions() == []
    assert [k.key_version for k in await node_store(node).list_keys()] == [1]


def _lying_dealer(session: FrostRefreshSession) -> FrostRefreshSession:
    """P1 deals a sharing of 1 instead of 0 while sending commitments as if it were zero."""
    g = session.suite.group

    def deal():  # noqa: ANN202
        poly = vss.Polynomial.random(g, 1, session.threshold - 1)
        return poly, tuple(poly.commit(g)[1:])

    session._deal = deal  # type: ignore[method-assign]
    return session


def _other_digest(session: FrostRefreshSession) -> FrostRefreshSession:
    """P1 confirms a transcript digest other than the node's (what a relay showing the parties different
    broadcasts produces): the node has prepared by then, and must roll back."""
    session._transcript_digest = lambda: bytes(32)  # type: ignore[method-assign]
    return session


async def test_a_cheating_party_is_named_and_nobody_switches(frost):
    node, coordinator = frost
    store = node_store(node)
    p1, public_key = await frost_key(coordinator, "wallet")
    before = (await store.get_share("wallet")).share

    out = await run_lifecycle(
        coordinator, "refresh-bad", "wallet", "refresh", {1: _lying_dealer(FrostRefreshSession("refresh-bad", 1, p1))}
    )
    view = await settled(coordinator, "refresh-bad")  # P1's own session may fail before the node's
    assert view.state == SessionState.FAILED and view.culprits == (1,), view
    out = await run_lifecycle(
        coordinator,
        "refresh-split",
        "wallet",
        "refresh",
        {1: _other_digest(FrostRefreshSession("refresh-split", 1, p1))},
    )
    view = await settled(coordinator, "refresh-split")
    assert view.state == SessionState.FAILED and "different" in view.error, view

    with trio.fail_after(5):
        while await store.pending_versions():  # the roll back runs as the session ends
            await trio.sleep(0.05)
    current = await store.get_share("wallet")
    assert (current.share, current.info.key_version) == (before, 1)
    rows = await audit(node, "wallet")
    assert ("dkg", "failed culprits=[1]") in rows
    assert [op for op, _ in rows if op.startswith("key.")] == ["key.prepare", "key.rollback"]
    # Still version 1 at both ends: the old shares sign.
    out = await frost_sign(coordinator, "sign-after", "wallet", p1, b"still here")
    assert out.ok, out.error
    nacl.signing.VerifyKey(public_key).verify(b"still here", out.nodes[2].signature)


async def test_reshare_2of2_to_2of3_every_pair_signs(frost):
    node, coordinator = frost
    p1, public_key = await frost_key(coordinator, "wallet")
    p3 = IdentityKey.generate()
    coordinator.aio.identities[3] = p3
    new_ids = (*coordinator.keys["wallet"].identities, PartyIdentity(3, ED25519, p3.public_key))
    sid = "reshare-1"
    local = {
        1: FrostReshareSession(sid, 1, p1, PAIR, 2, (1, 2, 3)),
        3: FrostReshareSession(sid, 3, None, PAIR, 2, (1, 2, 3), public_key=public_key),
    }
    out = await run_lifecycle(coordinator, sid, "wallet", "reshare", local, parties=new_ids, total=3, old_parties=PAIR)
    assert out.ok, out.error
    assert await key_version(coordinator.nodes[2], sid) == 2
    shares = {1: out.local[1].key_share, 3: out.local[3].key_share}
    info = await node_store(node).key_info("wallet")
    assert (info.threshold, info.parties, info.key_version, info.public_key) == (2, 3, 2, public_key)
    coordinator.aio.remember_key("wallet", KeyParties("frost", 2, new_ids, "ed25519"))
    for signers in ((1, 2), (2, 3)):
        me = signers[0] if signers[0] != 2 else signers[1]
        message = f"pair {signers} pays".encode()
        sid = f"sign-{signers}"
        session = FrostSignSession(sid, me, shares[me], message, signers)
        out = await coordinator.sign(sid, "wallet", message, signers, {me: session})
        assert out.ok, out.error
        nacl.signing.VerifyKey(public_key).verify(message, out.nodes[2].signature)
    from tests.support import driver

    message = b"the two devices alone"
    pair = {i: FrostSignSession("sign-13", i, shares[i], message, (1, 3)) for i in (1, 3)}
    driver.run_ok(pair)
    nacl.signing.VerifyKey(public_key).verify(message, pair[1].result.signature)


async def test_a_node_joining_by_reshare_records_the_version_the_holders_commit(secure_node, tmp_path):
    """Issue 17 follow-up: node B joins a key (at version 2 after a refresh) as party 3 of a reshare from
    P1 and node A. It learns the version from the dealers' round 1, so both nodes report version 3, the
    client's Outcome.key_version does not raise, and `signer key list` on B shows 3; P1 and B then sign."""
    joiner_config = secure_config(secure_node.certs, tmp_path / "joiner")
    device = IdentityKey.generate()
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(run_node, joiner_config)
        joiner = SecureNode(handle, secure_node.certs, handle.address[1])
        async with trio_asyncio.open_loop(), connect(secure_node) as a, connect(joiner) as b:
            pair = TrioCoordinator({2: a}, identities={1: device})
            p1, public_key = await frost_key(pair, "wallet")
            both = TrioCoordinator({2: a, 3: b}, identities={1: device})
            both.aio.remember_key("wallet", pair.keys["wallet"])
            out = await both.refresh("refresh-1", "wallet", {1: FrostRefreshSession("refresh-1", 1, p1)})
            assert out.ok and out.key_version == 2, out.error
            p1 = out.local[1].key_share
            sid, new = "reshare-join", (1, 2, 3)
            local = {1: FrostReshareSession(sid, 1, p1, PAIR, 2, new, key_version=2)}
            out = await both.reshare(sid, "wallet", PAIR, 2, new, local)
            assert out.ok, out.error
            assert out.key_version == 3  # raises RelayError if the nodes report different versions
            assert [await key_version(n, sid) for n in (a, b)] == [3, 3]
            listed = await key_list_async(joiner_config.storage_url)
            assert [(k.key_id, k.key_version, k.party_index, k.public_key) for k in listed] == [
                ("wallet", 3, 3, public_key)
            ]
            assert (await node_store(secure_node).key_info("wallet")).key_version == 3
            share = out.local[1].key_share
            signing = {1: FrostSignSession("sign-13", 1, share, b"with the joiner", (1, 3))}
            out = await both.sign("sign-13", "wallet", b"with the joiner", (1, 3), signing)
            assert out.ok, out.error
            nacl.signing.VerifyKey(public_key).verify(b"with the joiner", out.nodes[3].signature)
        nursery.cancel_scope.cancel()


async def test_reshare_replacing_the_node_retires_its_share(frost):
    """{1, 2} -> {1, 3}: the node deals and leaves. It completes with the new version and no share (audit
    `key.retire`); P1 and the new P3 sign alone; the node's old share is useless with P1's new one."""
    node, coordinator = frost
    store = node_store(node)
    p1, public_key = await frost_key(coordinator, "wallet")
    old_node = (await store.get_share("wallet")).share
    p3 = IdentityKey.generate()
    coordinator.aio.identities[3] = p3
    device, node_id = coordinator.keys["wallet"].identities
    new_ids = (device, PartyIdentity(3, ED25519, p3.public_key))
    sid = "reshare-out"
    local = {
        1: FrostReshareSession(sid, 1, p1, PAIR, 2, (1, 3)),
        3: FrostReshareSession(sid, 3, None, PAIR, 2, (1, 3), public_key=public_key),
    }
    out = await run_lifecycle(
        coordinator, sid, "wallet", "reshare", local, parties=new_ids, leaving=(node_id,), old_parties=PAIR
    )
    assert out.ok, out.error
    assert await key_version(coordinator.nodes[2], sid) == 2 and out.nodes[2].public_key == public_key
    assert await store.list_keys() == [] and await store.pending_versions() == []
    assert ("key.retire", "version 1 → 2: this party left the key") in await audit(node, "wallet")
    shares = {1: out.local[1].key_share, 3: out.local[3].key_share}
    from tests.support import driver

    pair = {i: FrostSignSession("sign-13", i, shares[i], b"without the node", (1, 3)) for i in (1, 3)}
    driver.run_ok(pair)
    nacl.signing.VerifyKey(public_key).verify(b"without the node", pair[1].result.signature)
    assert reconstructs(public_key, {1: signing_share(shares[1]), 3: signing_share(shares[3])})
    assert not reconstructs(public_key, {1: signing_share(shares[1]), 2: signing_share(old_node)})


async def test_a_new_refresh_rolls_back_one_waiting_for_confirmations(frost):
    """The relay's roll back (contract §12.4): refresh A has its pending version stored and its confirmation
    out, P1's confirmation never arrives. A new refresh of the key cancels A and drops its pending version;
    the new one starts from version 1 and completes. While A is still in round 1, a new one is refused."""
    node, coordinator = frost
    store = node_store(node)
    p1, public_key = await frost_key(coordinator, "wallet")
    client = coordinator.nodes[2]
    ids = coordinator.keys["wallet"].identities
    context = lifecycle_context("refresh-a", "wallet", "refresh", ids)
    device = coordinator.aio.identities[1]
    party = LocalParty("refresh-a", FrostRefreshSession("refresh-a", 1, p1), identity=device, context=context)
    view = await trio_asyncio.aio_as_trio(start_lifecycle("refresh-a", "wallet", "refresh", 2, ids))(client.aio)
    with pytest.raises(GRPCError) as err:  # A is in round 1, nothing stored: B must wait for A's deadline
        await trio_asyncio.aio_as_trio(start_lifecycle("refresh-b0", "wallet", "refresh", 2, ids))(client.aio)
    assert err.value.status == Status.ALREADY_EXISTS
    to_node = party.start()
    for m in view.outbound:
        to_node += party.receive(m)
    for m in to_node:
        if m.round < 3:  # everything but P1's confirmation
            await client.submit(m)
    with trio.fail_after(10):
        while not any(m.round == 3 for m in (await client.status("refresh-a", "dkg", 200)).outbound):
            pass
    (pending,) = await store.pending_versions()
    assert (pending.session_id, pending.info.key_version) == ("refresh-a", 2)

    out = await run_lifecycle(
        coordinator, "refresh-b", "wallet", "refresh", {1: FrostRefreshSession("refresh-b", 1, p1)}
    )
    assert out.ok, out.error
    assert (await client.status("refresh-a", "dkg", 0)).state == SessionState.CANCELLED
    assert await key_version(client, "refresh-b") == 2
    rows = [(op, result) for op, result in await audit(node, "wallet") if op.startswith("key.")]
    assert rows == [
        ("key.prepare", "version 2 pending (share)"),
        ("key.rollback", "version 2 dropped: superseded by refresh-b"),
        ("key.prepare", "version 2 pending (share)"),
        ("key.commit", "version 1 → 2"),
    ]
    new_p1 = out.local[1].key_share
    out = await frost_sign(coordinator, "sign-b", "wallet", new_p1, b"after the second try")
    assert out.ok, out.error
    nacl.signing.VerifyKey(public_key).verify(b"after the second try", out.nodes[2].signature)


# --- GG20 ----------------------------------------------------------------------------------------------


@pytest.fixture
async def gg20(tmp_path) -> AsyncIterator[tuple[SecureNode, TrioCoordinator]]:
    """A node whose pre-parameters pool holds two fixture sets (its keygen's and its refresh's)."""
    from signer.app import run_node
    from signer.auth.devcerts import make_dev_certs

    certs = make_dev_certs(tmp_path / "certs")
    data = tmp_path / "data"
    data.mkdir()
    config = secure_config(certs, data)
    async with open_store(config.storage_url, create_kek_file(config.kek_file), config["node.id"]) as store:
        for pre in load_fixture_preparams(FIXTURES)[6:8]:
            await store.add_preparams(pre.to_bytes())
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(run_node, config)
        node = SecureNode(handle, certs, handle.address[1])
        async with node_client(node) as client:
            yield node, TrioCoordinator({2: client}, identities={1: IdentityKey.generate()})
        nursery.cancel_scope.cancel()


async def test_gg20_refresh_replaces_shares_and_paillier_keys_and_refuses_older_presignatures(gg20):
    node, coordinator = gg20
    store = node_store(node)
    pre = load_fixture_preparams(FIXTURES)
    out = await coordinator.dkg("dkg-g", "gg", "gg20", 2, 2, {1: Gg20KeygenSession("dkg-g", 1, 2, PAIR, pre[0])})
    assert out.ok, out.error
    p1, public_key = out.local[1].key_share, out.nodes[2].public_key
    old_node = Gg20KeyShare.decode((await store.get_share("gg")).share)
    made = await coordinator.presign("pre-1", "gg", PAIR, {1: Gg20PresignSession("pre-1", 1, p1, PAIR)})
    assert made.ok, made.error
    p1_presignature = made.local[1].consume()

    out = await run_lifecycle(
        coordinator, "refresh-g", "gg", "refresh", {1: Gg20RefreshSession("refresh-g", 1, p1, pre[1])}
    )
    assert out.ok, out.error
    assert out.nodes[2].public_key == public_key and await key_version(coordinator.nodes[2], "refresh-g") == 2
    new_p1 = out.local[1].key_share
    new_node = Gg20KeyShare.decode((await store.get_share("gg")).share)
    assert new_node.secret_share != old_node.secret_share
    assert new_node.paillier_secret.public != old_node.paillier_secret.public  # new auxiliary keys too
    assert new_node.paillier_secret.public == pre[7].paillier.public  # the pool's fresh set

    # The presignature made under version 1 was deleted by the switch: claiming it is FAILED_PRECONDITION.
    digest = hashlib.sha256(b"with an old presignature").digest()
    approvals = coordinator.approvals("sign", "sign-pre", "gg", digest, PAIR, presignature_id="pre-1")
    with pytest.raises(GRPCError) as err:
        await coordinator.nodes[2].start_sign(
            "sign-pre", "gg", digest, PAIR, presignature_id="pre-1", approvals=approvals
        )
    assert err.value.status == Status.FAILED_PRECONDITION, err.value.message
    del p1_presignature

    digest = hashlib.sha256(b"after the refresh").digest()
    out = await coordinator.sign("sign-g", "gg", digest, PAIR, {1: Gg20SignSession("sign-g", 1, new_p1, digest, PAIR)})
    assert out.ok, out.error
    check_ecdsa(out.nodes[2].signature, out.nodes[2].recovery_id, digest, public_key)
