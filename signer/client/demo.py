"""`signer demo`: play mpc-service and P1 against a node, then check every signature independently.

Without `--target` an in-process node is started on loopback with the full security of a production
node (mTLS, service tokens, message MACs) from freshly made development credentials, so the demo shows
the real path, not a shortcut. P1's key shares are kept in `<data dir>/p1/` (0600 files): the demo's
stand-in for a wallet app's secure storage, so `--key-id` can sign with a key made by an earlier run.
Beside them: P1's device identity key (`identity.key`, made on first use), the node's identity as P1
pinned it on first contact (`node.pin`), and each key's party identities (docs/contract.md §11).

FROST over secp256k1 signs for Bitcoin Taproot: a BIP-340 signature under the BIP-341 key-path output key
of the group key (the independent verifier there is libsecp256k1's BIP-340 one), over a 32-byte digest
that stands in for a transaction's sighash.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
import trio_asyncio

from signer.auth.devcerts import DevCertPaths, dev_cert_paths, make_dev_certs
from signer.auth.jwt import TokenMinter
from signer.auth.keyfiles import create_hex_key_file, load_hex_key, write_secret_file
from signer.auth.tls import client_ssl_context
from signer.client.coordinator import KeyParties, Outcome
from signer.client.in_trio import TrioCoordinator, TrioNodeClient
from signer.client.verify import verify_signature
from signer.crypto.identity import IdentityKey
from signer.schemes import FROST, GG20, SECP256K1, default_curve
from signer.session_context import decode_identities, encode_identities

P1 = 1
NODE = 2


def progress(text: str) -> None:
    """One progress line on stderr (stdout carries only the results)."""
    print(f"[demo] {text}", file=sys.stderr, flush=True)


class DemoError(Exception):
    """A demo failure to report in one line (a failed session, an unreachable node, a bad argument)."""


@dataclass
class DemoOptions:
    protocol: str = FROST
    curve: str | None = None  # None: the protocol's default curve
    key_id: str | None = None
    messages: list[bytes] = field(default_factory=lambda: [b"hello from mpc-signer"])
    chain: str | None = None
    target: str | None = None
    data_dir: Path | None = None
    ca_cert: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    jwt_private_key: Path | None = None
    jwt_issuer: str = "mpc-service"
    jwt_audience: str = "mpc-signer"
    jwt_algorithm: str | None = None  # None: from the key (EdDSA, ES256, RS256, ...)
    hmac_key_file: Path | None = None
    timeout_s: float = 120.0


def signed_bytes(protocol: str, chain: str | None, message: bytes, taproot: bool = False) -> bytes:
    """What StartSign carries: EdDSA signs the message itself; ECDSA and Taproot a 32-byte digest of it,
    hashed the way the chain would (EIP-191 for Ethereum, double SHA-256 for Bitcoin, SHA-256 otherwise)."""
    if protocol == FROST and not taproot:
        return message
    if chain == "ethereum":
        from signer.chain.ethereum import personal_message_digest

        return personal_message_digest(message)
    if chain == "bitcoin":
        return hashlib.sha256(hashlib.sha256(message).digest()).digest()
    return hashlib.sha256(message).digest()


class P1Store:
    """P1's key shares as 0600 files, one per key id (hex of the id in the name: any id is a safe name)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key_id: str) -> Path:
        return self.directory / f"{key_id.encode().hex()}.share"

    def get(self, key_id: str) -> bytes | None:
        path = self._path(key_id)
        return path.read_bytes() if path.exists() else None

    def put(self, key_id: str, share: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_secret_file(self._path(key_id), share)

    def identity(self) -> IdentityKey:
        """P1's device identity key (Ed25519 here; a phone would hold a P-256 key in secure hardware)."""
        path = self.directory / "identity.key"
        if not path.exists():
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_secret_file(path, IdentityKey.generate().to_text().encode())
        return IdentityKey.from_text(path.read_text())

    def pinned(self) -> dict[int, bytes]:
        path = self.directory / "node.pin"
        return {NODE: bytes.fromhex(path.read_text())} if path.exists() else {}

    def pin(self, public_key: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.directory / "node.pin").write_text(public_key.hex())

    def key_parties(self, key_id: str) -> KeyParties | None:
        path = self.directory / f"{key_id.encode().hex()}.parties.json"
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        identities = decode_identities(bytes.fromhex(data["identities"]))
        return KeyParties(data["protocol"], data["threshold"], identities, data.get("curve", ""))

    def put_key_parties(self, key_id: str, key: KeyParties) -> None:
        data = {
            "protocol": key.protocol,
            "threshold": key.threshold,
            "curve": key.curve,
            "identities": encode_identities(key.identities).hex(),
        }
        (self.directory / f"{key_id.encode().hex()}.parties.json").write_text(json.dumps(data))


def _protocols(protocol: str, curve: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(new_dkg(session_id, index, threshold, parties), new_sign(session_id, index, share, message, signers))."""
    if protocol == FROST and curve == SECP256K1:
        from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256
        from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
        from signer.protocols.frost.taproot import TaprootOutput

        def new_frost_dkg(session_id: str, index: int, threshold: int, parties: tuple[int, ...]) -> Any:
            return FrostDkgSession(session_id, index, threshold, parties, FROST_SECP256K1_SHA256)

        def new_taproot_sign(session_id: str, index: int, share: bytes, message: bytes, signers: tuple) -> Any:
            return FrostSignSession(session_id, index, share, message, signers, taproot=TaprootOutput())

        return new_frost_dkg, new_taproot_sign
    if protocol == FROST:
        from signer.protocols.frost.session import FrostDkgSession, FrostSignSession

        return FrostDkgSession, FrostSignSession
    from signer.crypto.preparams import generate_preparams
    from signer.protocols.gg20 import Gg20KeygenSession, Gg20SignSession

    def new_dkg(session_id: str, index: int, threshold: int, parties: tuple[int, ...]) -> Any:
        return Gg20KeygenSession(session_id, index, threshold, parties, generate_preparams())

    return new_dkg, Gg20SignSession


async def run_demo(options: DemoOptions, emit: Callable[[dict[str, Any]], None]) -> int:
    """Run DKG (unless the key exists) and one signing per message; `emit` gets one result object each."""
    with trio.fail_after(options.timeout_s):
        async with _node(options) as (coordinator, p1_store):
            key_id = options.key_id or f"demo-{secrets.token_hex(4)}"
            curve = options.curve or default_curve(options.protocol)
            taproot = options.protocol == FROST and curve == SECP256K1
            new_dkg, new_sign = _protocols(options.protocol, curve)
            share = p1_store.get(key_id)
            if share is None:
                sid = f"dkg-{secrets.token_hex(8)}"
                began = time.monotonic()
                if options.protocol == GG20:
                    progress("P1: generating GG20 pre-parameters (Paillier and ring-Pedersen; often 5-30 s) ...")
                local = await trio.to_thread.run_sync(new_dkg, sid, P1, 2, (P1, NODE))
                progress(f"key generation ({options.protocol}, 2-of-2, key id {key_id}) ...")
                outcome = await coordinator.dkg(sid, key_id, options.protocol, 2, 2, {P1: local}, curve)
                _check(outcome, "DKG")
                p1_result = outcome.dkg_result(P1)
                progress(f"key generation done in {time.monotonic() - began:.1f} s")
                share = p1_result.key_share
                if p1_result.public_key != outcome.nodes[NODE].public_key:
                    raise DemoError("DKG: P1 and the node disagree on the public key")
                p1_store.put(key_id, share)
                p1_store.put_key_parties(key_id, coordinator.keys[key_id])
                p1_store.pin(coordinator.pinned[NODE])
            else:
                parties = p1_store.key_parties(key_id)
                if parties is None:
                    raise DemoError(f"key {key_id!r}: P1 kept no party identities for it (made by an older demo)")
                coordinator.remember_key(key_id, parties)
            verified_all = True
            for message in options.messages:
                payload = signed_bytes(options.protocol, options.chain, message, taproot)
                sid = f"sign-{secrets.token_hex(8)}"
                progress(f"signing {len(message)} bytes ...")
                local = new_sign(sid, P1, share, payload, (P1, NODE))
                outcome = await coordinator.sign(sid, key_id, payload, (P1, NODE), {P1: local}, taproot=taproot)
                _check(outcome, "signing")
                view = outcome.nodes[NODE]
                if taproot and len(view.output_key) != 32:
                    raise DemoError("signing: the node gave no 32-byte Taproot output key")
                verified = verify_signature(
                    options.protocol, view.public_key, payload, view.signature, view.recovery_id, view.output_key
                )
                verified_all &= verified
                result: dict[str, Any] = {
                    "protocol": options.protocol,
                    "key_id": key_id,
                    "public_key": view.public_key.hex(),
                    "message": message.hex(),
                    "signature": view.signature.hex(),
                    "recovery_id": view.recovery_id,
                    "verified": verified,
                }
                if taproot:
                    result["output_key"] = view.output_key.hex()
                if options.protocol == GG20 or taproot:
                    result["digest"] = payload.hex()
                if options.chain:
                    from signer.chain import chain_output

                    # Taproot: the chain sees the x-only output key (a P2TR address), not the group key.
                    key = view.output_key or view.public_key
                    try:
                        result.update(chain_output(options.chain, key, view.signature, view.recovery_id, payload))
                    except ValueError as exc:
                        raise DemoError(str(exc)) from None
                emit(result)
            return 0 if verified_all else 1


def _check(outcome: Outcome, what: str) -> None:
    if not outcome.ok:
        culprits = f" (culprits: {', '.join(map(str, outcome.culprits))})" if outcome.culprits else ""
        raise DemoError(f"{what} ended {outcome.state.name}: {outcome.error}{culprits}")


@asynccontextmanager
async def _node(options: DemoOptions) -> AsyncIterator[tuple[TrioCoordinator, P1Store]]:
    """A coordinator connected to the target node, or to an in-process node it starts."""
    if options.target:
        async with _remote(options) as pair:
            yield pair
        return
    with tempfile.TemporaryDirectory(prefix="signer-demo-") as tmp:
        data_dir = options.data_dir or Path(tmp)
        async with _in_process(data_dir, options.protocol) as pair:
            yield pair


@asynccontextmanager
async def _in_process(data_dir: Path, protocol: str) -> AsyncIterator[tuple[TrioCoordinator, P1Store]]:
    from signer.app import run_node
    from signer.config import load_config

    certs = _dev_certs(data_dir / "certs")
    kek_file = data_dir / "kek.hex"
    if not kek_file.exists():
        create_hex_key_file(kek_file)  # the KEK file format: 32 random bytes in hex, mode 0600
    config = load_config(
        env={},
        flags={
            "grpc.listen": "127.0.0.1:0",
            "node.data_dir": str(data_dir / "node"),
            "grpc.tls_enabled": "true",
            "grpc.cert_file": str(certs.server_cert),
            "grpc.key_file": str(certs.server_key),
            "grpc.ca_cert": str(certs.ca_cert),
            "auth.jwt.public_key_file": str(certs.jwt_public_key),
            "auth.hmac.key_file": str(certs.hmac_key),
            "storage.kek_file": str(kek_file),
            "pools.preparams_size": "1" if protocol == GG20 else "0",
        },
    )
    progress(f"starting an in-process node (mTLS, service tokens, message MACs; data in {data_dir}) ...")
    async with trio.open_nursery() as nursery:
        node = await nursery.start(run_node, config)
        minter = TokenMinter.from_file(certs.jwt_private_key, "mpc-service", "mpc-signer")
        ctx = client_ssl_context(certs.ca_cert, certs.client_cert, certs.client_key)
        key = load_hex_key(certs.hmac_key).key
        async with trio_asyncio.open_loop():
            async with TrioNodeClient.connect(
                "localhost", node.address[1], hmac_key=key, ssl_context=ctx, minter=minter
            ) as client:
                yield _coordinator(client, P1Store(data_dir / "p1"))
        nursery.cancel_scope.cancel()


def _dev_certs(directory: Path) -> DevCertPaths:
    """Development credentials in `directory`: made on first use, reused by later runs."""
    paths = dev_cert_paths(directory)
    return paths if all(p.exists() for p in paths.all()) else make_dev_certs(directory)


@asynccontextmanager
async def _remote(options: DemoOptions) -> AsyncIterator[tuple[TrioCoordinator, P1Store]]:
    from signer.config import ConfigError, parse_listen

    assert options.target is not None
    try:
        host, port = parse_listen(options.target)
    except ValueError as exc:
        raise ConfigError(f"--target: {exc}") from None
    if options.hmac_key_file is None:
        raise ConfigError("--hmac-key-file: required with --target (the node's auth.hmac.key_file)")
    key = load_hex_key(options.hmac_key_file).key
    ctx = None
    if options.ca_cert:
        ctx = client_ssl_context(options.ca_cert, options.client_cert, options.client_key)
    minter = None
    if options.jwt_private_key:
        minter = TokenMinter.from_file(
            options.jwt_private_key, options.jwt_issuer, options.jwt_audience, options.jwt_algorithm
        )
    p1_dir = (options.data_dir or Path("data")) / "p1"
    async with trio_asyncio.open_loop():
        async with TrioNodeClient.connect(host, port, hmac_key=key, ssl_context=ctx, minter=minter) as client:
            yield _coordinator(client, P1Store(p1_dir))


def _coordinator(client: TrioNodeClient, store: P1Store) -> tuple[TrioCoordinator, P1Store]:
    """A coordinator playing P1 with its device identity, pinning the node P1 met before."""
    return TrioCoordinator({NODE: client}, identities={P1: store.identity()}, pinned=store.pinned()), store


def print_result(as_json: bool) -> Callable[[dict[str, Any]], None]:
    def emit(result: dict[str, Any]) -> None:
        if as_json:
            print(json.dumps(result), flush=True)
            return
        lines = [f"{k:>16}: {v}" for k, v in result.items()]
        print("\n".join(lines) + "\n", flush=True)

    return emit


__all__ = ["DemoError", "DemoOptions", "run_demo", "print_result", "signed_bytes"]
