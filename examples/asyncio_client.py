"""mpc-service and P1 in a plain asyncio program: a 2-of-2 FROST key with a signer node, a signature, a
refresh of both shares (same public key) and a signature with the new shares.

    signer certs dev certs/                  # development credentials (they name `localhost`)
    signer serve --config node.yaml          # a node using them (tls_enabled, jwt, hmac: see the README)
    python examples/asyncio_client.py --certs certs/ --port 9091

Needs only the base install (`pip install mpc-signer`): no Trio, no store, no metrics.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from signer.client import (
    Coordinator,
    IdentityKey,
    NodeClient,
    TokenMinter,
    client_ssl_context,
    load_hex_key,
    new_session_id,
    verify_ed25519,
)
from signer.protocols.frost import FrostDkgSession, FrostRefreshSession, FrostSignSession

P1, NODE = 1, 2  # P1 runs here; the node is party 2


async def sign(coordinator: Coordinator, key_id: str, share: bytes, message: bytes) -> bytes:
    """Sign `message` with P1's `share` and the node; returns the public key that verified it."""
    sid = new_session_id("sign")  # session ids are single-use: a fresh one for every session
    signing = FrostSignSession(sid, P1, share, message, (P1, NODE))
    out = await coordinator.sign(sid, key_id, message, (P1, NODE), {P1: signing})
    if not out.ok:
        raise SystemExit(f"signing failed: {out.error} (culprits: {out.culprits})")
    assert verify_ed25519(out.public_key, message, out.signature), "signature does not verify"
    print(f"signature {out.signature.hex()} (verified)")
    return out.public_key


async def main(certs: Path, host: str, port: int) -> None:
    ctx = client_ssl_context(certs / "ca.crt", certs / "client.crt", certs / "client.key")
    minter = TokenMinter.from_file(certs / "jwt-private.pem", "mpc-service", "mpc-signer")
    hmac_key = load_hex_key(certs / "hmac.hex").key
    async with NodeClient.connect(host, port, hmac_key=hmac_key, ssl_context=ctx, minter=minter) as node:
        device = IdentityKey.generate()  # P1's identity key (a wallet app keeps it with its shares)
        coordinator = Coordinator({NODE: node}, identities={P1: device})  # pins the node's key at first Ping

        key_id = new_session_id("wallet")  # any id; a fresh one so that the example can run again
        sid = new_session_id("dkg")
        dkg = await coordinator.dkg(sid, key_id, "frost", 2, 2, {P1: FrostDkgSession(sid, P1, 2, (P1, NODE))})
        if not dkg.ok:
            raise SystemExit(f"DKG failed: {dkg.error} (culprits: {dkg.culprits})")
        share = dkg.dkg_result(P1).key_share  # P1 keeps this in its secure storage

        public_key = await sign(coordinator, key_id, share, b"transfer 1 SOL to alice")
        print(f"key {key_id}: public key {public_key.hex()}")

        # Refresh: new shares for P1 and the node, same public key, so a share that leaked is worth nothing.
        # P1 keeps its new share as pending before its confirmation leaves (`prepare`), beside the old one,
        # and switches only once the refresh completed (docs/lifecycle.md §4).
        sid = new_session_id("refresh")
        pending: dict[str, bytes] = {}  # stands in for P1's secure storage
        refresh = await coordinator.refresh(
            sid,
            key_id,
            {P1: FrostRefreshSession(sid, P1, share)},
            prepare=lambda index, key, new: pending.update({key_id: new.key_share}),
        )
        if not refresh.ok:
            raise SystemExit(f"refresh failed: {refresh.error} (culprits: {refresh.culprits})")
        share = pending.pop(key_id)  # now P1's current share: the old one can go
        print(f"refreshed: key version {refresh.key_version}")
        assert await sign(coordinator, key_id, share, b"transfer 2 SOL to bob") == public_key


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certs", type=Path, default=Path("certs"), help="a `signer certs dev` directory")
    parser.add_argument("--host", default="localhost", help="a name in the node's certificate")
    parser.add_argument("--port", type=int, default=9091)
    args = parser.parse_args()
    asyncio.run(main(args.certs, args.host, args.port))
