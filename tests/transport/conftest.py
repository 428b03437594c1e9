"""A node served over mTLS with token checks, in-process on port 0, and grpcio clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import trio
import trio_asyncio

from signer.app import run_node
from signer.auth.devcerts import DevCertPaths, make_dev_certs
from signer.auth.jwt import TokenMinter
from signer.auth.keyfiles import load_hex_key
from signer.auth.tls import client_ssl_context
from signer.client.in_trio import TrioNodeClient
from signer.config import load_config
from signer.crypto.identity import ED25519, IdentityKey
from signer.session_context import PartyIdentity


@dataclass
class SecureNode:
    handle: object
    certs: DevCertPaths
    port: int

    def channel(self, *, client_cert: Path | None = None, client_key: Path | None = None, ca: Path | None = None):
        creds = grpc.ssl_channel_credentials(
            root_certificates=(ca or self.certs.ca_cert).read_bytes(),
            private_key=client_key.read_bytes() if client_key else None,
            certificate_chain=client_cert.read_bytes() if client_cert else None,
        )
        return grpc.secure_channel(f"localhost:{self.port}", creds)

    def good_channel(self):
        return self.channel(client_cert=self.certs.client_cert, client_key=self.certs.client_key)

    def minter(self, **kw) -> TokenMinter:
        return TokenMinter(self.certs.jwt_private_key.read_bytes(), "mpc-service", "mpc-signer", **kw)

    def party_identities(self, pb2, total: int = 2, party: int = 2) -> list:
        """StartDKG's party_identities (grpcio messages): this node as `party`, a fresh device key for the rest."""
        named = [
            self.handle.engine.identity(p)
            if p == party
            else PartyIdentity(p, ED25519, IdentityKey.generate().public_key)
            for p in range(1, total + 1)
        ]
        return [pb2.PartyIdentity(party=p.party, scheme=p.scheme, public_key=p.public_key) for p in named]


def secure_config(certs: DevCertPaths, data_dir: Path, **extra):
    flags = {
        "grpc.listen": "127.0.0.1:0",
        "node.data_dir": str(data_dir),
        "grpc.tls_enabled": "true",
        "grpc.cert_file": str(certs.server_cert),
        "grpc.key_file": str(certs.server_key),
        "grpc.ca_cert": str(certs.ca_cert),
        "grpc.client_auth": "require",
        "auth.jwt.public_key_file": str(certs.jwt_public_key),
        "auth.hmac.key_file": str(certs.hmac_key),
        "pools.preparams_size": "0",
        **extra,
    }
    return load_config(env={}, flags=flags)


def connect(node: SecureNode) -> AbstractAsyncContextManager[TrioNodeClient]:
    """The client library's NodeClient for `node` (mTLS, tokens, MACs), inside a running trio-asyncio loop."""
    ctx = client_ssl_context(node.certs.ca_cert, node.certs.client_cert, node.certs.client_key)
    key = load_hex_key(node.certs.hmac_key).key
    return TrioNodeClient.connect("localhost", node.port, hmac_key=key, ssl_context=ctx, minter=node.minter())


@asynccontextmanager
async def node_client(node: SecureNode) -> AsyncIterator[TrioNodeClient]:
    """The client library's NodeClient for `node` (mTLS, tokens, MACs), for Trio code inside a trio-asyncio
    loop (`.aio` is the asyncio NodeClient, where a test swaps `submit`)."""
    async with trio_asyncio.open_loop():
        async with connect(node) as c:
            yield c


@pytest.fixture
async def secure_node(tmp_path):
    certs = make_dev_certs(tmp_path / "certs")
    config = secure_config(certs, tmp_path / "data")
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(run_node, config)
        yield SecureNode(handle, certs, handle.address[1])
        nursery.cancel_scope.cancel()
