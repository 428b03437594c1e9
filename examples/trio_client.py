"""The same client from a Trio program, through trio-asyncio (`pip install 'mpc-signer[trio]'`).

python examples/trio_client.py --certs certs/ --port 9091
"""

from __future__ import annotations

import sys
from pathlib import Path

import trio
import trio_asyncio

from signer.client import (
    IdentityKey,
    TokenMinter,
    client_ssl_context,
    load_hex_key,
    new_session_id,
    verify_ed25519,
)
from signer.client.in_trio import TrioCoordinator, TrioNodeClient
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession


async def main(certs: Path, host: str, port: int) -> None:
    ctx = client_ssl_context(certs / "ca.crt", certs / "client.crt", certs / "client.key")
    minter = TokenMinter.from_file(certs / "jwt-private.pem", "mpc-service", "mpc-signer")
    hmac_key = load_hex_key(certs / "hmac.hex").key
    async with trio_asyncio.open_loop():
        async with TrioNodeClient.connect(host, port, hmac_key=hmac_key, ssl_context=ctx, minter=minter) as node:
            coordinator = TrioCoordinator({2: node}, identities={1: IdentityKey.generate()})
            key_id, sid = new_session_id("wallet"), new_session_id("dkg")
            dkg = await coordinator.dkg(sid, key_id, "frost", 2, 2, {1: FrostDkgSession(sid, 1, 2, (1, 2))})
            share = dkg.check().dkg_result(1).key_share  # check() raises SessionFailed with error and culprits
            message, sid = b"hello from trio", new_session_id("sign")
            out = await coordinator.sign(
                sid, key_id, message, (1, 2), {1: FrostSignSession(sid, 1, share, message, (1, 2))}
            )
            assert verify_ed25519(out.check().public_key, message, out.signature), "signature does not verify"
            print(f"signature {out.signature.hex()} (verified)")


if __name__ == "__main__":
    trio.run(main, Path(sys.argv[1]), "localhost", int(sys.argv[2]))
