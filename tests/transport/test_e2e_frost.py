"""FROST 2-of-2 end to end over mTLS: the coordinator and P1 in this process, the node behind a real socket.
Every signature is verified with pynacl, an independent RFC 8032 verifier."""

from __future__ import annotations

import nacl.exceptions
import nacl.signing
import pytest
import trio_asyncio

from gen.mpc.v1 import SessionState
from signer.auth.keyfiles import load_hex_key
from signer.auth.tls import client_ssl_context
from signer.client.in_trio import TrioCoordinator, TrioNodeClient
from signer.crypto.identity import IdentityKey
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession


@pytest.fixture
async def coordinator(secure_node):
    certs = secure_node.certs
    ctx = client_ssl_context(certs.ca_cert, certs.client_cert, certs.client_key)
    async with trio_asyncio.open_loop():
        async with TrioNodeClient.connect(
            "localhost",
            secure_node.port,
            hmac_key=load_hex_key(certs.hmac_key).key,
            ssl_context=ctx,
            minter=secure_node.minter(),
        ) as node:
            yield TrioCoordinator({2: node}, identities={1: IdentityKey.generate()})


async def test_dkg_then_twenty_signatures_verify(coordinator):
    dkg = await coordinator.dkg("dkg-e2e", "wallet-e2e", "frost", 2, 2, {1: FrostDkgSession("dkg-e2e", 1, 2, (1, 2))})
    assert dkg.ok, dkg.error
    public_key = dkg.nodes[2].public_key
    assert len(public_key) == 32
    assert dkg.local[1].public_key == public_key
    p1_share = dkg.local[1].key_share
    verify_key = nacl.signing.VerifyKey(public_key)
    for i in range(20):
        message = f"transfer {i} lamports".encode()
        sid = f"sign-e2e-{i}"
        out = await coordinator.sign(
            sid, "wallet-e2e", message, (1, 2), {1: FrostSignSession(sid, 1, p1_share, message, (1, 2))}
        )
        assert out.ok, out.error
        signature = out.nodes[2].signature
        assert signature == out.local[1].signature
        verify_key.verify(message, signature)
        with pytest.raises(nacl.exceptions.BadSignatureError):
            verify_key.verify(message + b"!", signature)


async def test_unknown_key_and_existing_key(coordinator):
    out = await coordinator.dkg("dkg-a", "wallet-a", "frost", 2, 2, {1: FrostDkgSession("dkg-a", 1, 2, (1, 2))})
    assert out.ok
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    node = coordinator.nodes[2]
    with pytest.raises(GRPCError) as err:
        await node.start_dkg("dkg-b", "wallet-a", "frost", 2, 2, 2, coordinator.keys["wallet-a"].identities)
    assert err.value.status == Status.ALREADY_EXISTS
    with pytest.raises(GRPCError) as err:
        await node.start_sign("sign-x", "no-such-wallet", b"m", (1, 2))
    assert err.value.status == Status.NOT_FOUND
    assert SessionState.COMPLETED == out.state
