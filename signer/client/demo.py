"""`signer demo`: play mpc-service and P1 against a node, then check every signature independently.

Without `--target` an in-process node is started on loopback with the full security of a production
node (mTLS, service tokens, message MACs) from freshly made development credentials, so the demo shows
the real path, not a shortcut. P1's key shares are kept in `<data dir>/p1/` (0600 files): the demo's
stand-in for a wallet app's secure storage, so `--key-id` can sign with a key made by an earlier run.
Beside them: P1's device identity key (`identity.key`, made on first use), the node's identity as P1
pinned it on first contact (`node.pin`), and each key's party identities (docs/contract.md §11).

`--refresh` and `--reshare-to T-of-N` change the key after the first signings and sign again, with the
same public key (docs/contract.md §12, docs/lifecycle.md): a refresh gives P1 and the node new shares; a
reshare deals the key to parties 1..N with threshold T, where party 2 is the node and every party from 3
on is a backup party run here like P1, with its own identity key and shares in `<data dir>/p3/`, ... (a
second device or a recovery service in a real wallet). After a reshare the demo also signs without P1: the
node and the backups, as a wallet would after losing its device. P1's store keeps the previous version
until the operation completed (`PartyStore`), and a run that was stopped in between settles the pending
version by asking the node how that session ended.

FROST over secp256k1 signs for Bitcoin Taproot: a BIP-340 signature under the BIP-341 key-path output key
of the group key (the independent verifier there is libsecp256k1's BIP-340 one), over a 32-byte digest
that stands in for a transaction's sighash.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio
import trio_asyncio
from grpclib.exceptions import GRPCError

from gen.mpc.v1 import SessionState
from signer.auth.devcerts import DevCertPaths, dev_cert_paths, make_dev_certs
from signer.auth.jwt import TokenMinter
from signer.auth.keyfiles import create_hex_key_file, load_hex_key, write_secret_file
from signer.auth.tls import client_ssl_context
from signer.client.coordinator import KeyParties, Outcome, Prepare
from signer.client.in_trio import TrioCoordinator, TrioNodeClient
from signer.client.verify import verify_signature
from signer.crypto.identity import IdentityKey
from signer.protocols.base import DkgResult
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
    refresh: bool = False  # refresh the key's shares after the first signings, then sign again
    reshare_to: tuple[int, int] | None = None  # (threshold, parties): reshare to it, then sign again


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


@dataclass(frozen=True)
class KeyRecord:
    """One version of a key as a demo party holds it: its share, the key's parties and the version number."""

    share: bytes
    parties: KeyParties
    version: int


class PartyStore:
    """A demo party's key shares as 0600 files (hex of the key id in the names: any id is a safe name).

    Per key: the share of each version it holds (`<id>.share` for version 1, `<id>.v<N>.share` after a
    refresh or reshare) and `<id>.parties.json`, which names the key's parties and its current version. That
    file is the commit point of a version change: a refresh or reshare first writes the new share and
    `<id>.pending.json` (`prepare`, before the party's confirmation leaves), and `commit` replaces the
    parties file by the pending one in one `os.replace`, then deletes the previous share. Until then the
    party signs with the previous version, and `rollback` drops the pending one.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key_id: str, suffix: str) -> Path:
        return self.directory / f"{key_id.encode().hex()}.{suffix}"

    def _share_path(self, key_id: str, version: int) -> Path:
        return self._path(key_id, "share" if version == 1 else f"v{version}.share")

    def _write(self, path: Path, data: bytes) -> None:
        """Replace `path` atomically with `data` (0600) and make the new file and its name durable."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_secret_file(path, data, overwrite=True)
        for synced in (path, self.directory):
            fd = os.open(synced, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _read_parties(self, path: Path) -> tuple[KeyParties, dict[str, Any]] | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        identities = decode_identities(bytes.fromhex(data["identities"]))
        return KeyParties(data["protocol"], data["threshold"], identities, data.get("curve", "")), data

    def _parties_json(self, parties: KeyParties, version: int, **more: Any) -> bytes:
        data = {
            "protocol": parties.protocol,
            "threshold": parties.threshold,
            "curve": parties.curve,
            "identities": encode_identities(parties.identities).hex(),
            "key_version": version,
            **more,
        }
        return json.dumps(data).encode()

    def current(self, key_id: str) -> KeyRecord | None:
        """The key's current version, None if this party holds no share of it."""
        read = self._read_parties(self._path(key_id, "parties.json"))
        version = 1 if read is None else read[1].get("key_version", 1)
        share_path = self._share_path(key_id, version)
        if not share_path.exists():
            return None
        if read is None:
            raise DemoError(f"key {key_id!r}: {self.directory} kept no party identities for it (an older demo)")
        return KeyRecord(share_path.read_bytes(), read[0], version)

    def put(self, key_id: str, record: KeyRecord) -> None:
        """A new key (version 1): its share first, then the parties file that makes it current."""
        self._write(self._share_path(key_id, record.version), record.share)
        self._write(self._path(key_id, "parties.json"), self._parties_json(record.parties, record.version))

    def prepare(self, key_id: str, record: KeyRecord, session_id: str) -> None:
        """Keep `record` as the key's pending version, made by session `session_id`; the current one stays."""
        self._write(self._share_path(key_id, record.version), record.share)
        pending = self._parties_json(record.parties, record.version, session_id=session_id)
        self._write(self._path(key_id, "pending.json"), pending)

    def pending(self, key_id: str) -> tuple[int, str] | None:
        """(version, session id) of the key's pending version, if a refresh or reshare left one."""
        read = self._read_parties(self._path(key_id, "pending.json"))
        return None if read is None else (read[1]["key_version"], read[1]["session_id"])

    def commit(self, key_id: str) -> None:
        """Make the pending version current (one rename), then delete the previous version's share."""
        old = self.current(key_id)
        os.replace(self._path(key_id, "pending.json"), self._path(key_id, "parties.json"))
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if old is not None:
            self._share_path(key_id, old.version).unlink(missing_ok=True)

    def rollback(self, key_id: str) -> None:
        """Drop the pending version; the current one stays."""
        pending = self.pending(key_id)
        if pending is None:
            return
        current = self.current(key_id)
        if current is None or current.version != pending[0]:
            self._share_path(key_id, pending[0]).unlink(missing_ok=True)
        self._path(key_id, "pending.json").unlink()

    def identity(self) -> IdentityKey:
        """The party's device identity key (Ed25519 here; a phone would hold a P-256 key in secure hardware)."""
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


def _lifecycle(protocol: str, curve: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(new_refresh(session_id, index, share, version), new_reshare(session_id, index, share | None,
    old_parties, threshold, new_parties, public_key, version)): the local sessions of a refresh and a
    reshare of the key's `version` (a dealer states it in round 1, so a joining party learns it). GG20's
    make a fresh pre-parameter set (seconds): call them in a thread."""
    if protocol == FROST:
        from signer.protocols.frost import FrostRefreshSession, FrostReshareSession
        from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, FROST_SECP256K1_SHA256

        suite = FROST_SECP256K1_SHA256 if curve == SECP256K1 else FROST_ED25519_SHA512

        def new_frost_reshare(
            sid: str, index: int, share: bytes | None, old: tuple, t: int, new: tuple, key: bytes, version: int
        ) -> Any:
            return FrostReshareSession(sid, index, share, old, t, new, key, suite=suite, key_version=version)

        return FrostRefreshSession, new_frost_reshare
    from signer.crypto.preparams import generate_preparams
    from signer.protocols.gg20 import Gg20RefreshSession, Gg20ReshareSession

    def new_refresh(sid: str, index: int, share: bytes, _version: int) -> Any:
        return Gg20RefreshSession(sid, index, share, generate_preparams())

    def new_reshare(
        sid: str, index: int, share: bytes | None, old: tuple, t: int, new: tuple, key: bytes, version: int
    ) -> Any:
        return Gg20ReshareSession(sid, index, share, old, t, new, generate_preparams(), key, key_version=version)

    return new_refresh, new_reshare


def _public_key(protocol: str, share: bytes) -> bytes:
    if protocol == FROST:
        from signer.protocols.frost import key_share_info as frost_info

        return frost_info(share).public_key
    from signer.protocols.gg20 import key_share_info as gg20_info

    return gg20_info(share).public_key


async def run_demo(options: DemoOptions, emit: Callable[[dict[str, Any]], None]) -> int:
    """Run DKG (unless the key exists) and one signing per message; with a refresh or reshare, the operation
    and the same signings again. `emit` gets one result object per signing."""
    if options.key_id and (options.refresh or options.reshare_to):
        # Checked before any node starts: an operation on a key P1 does not hold is the operator's wrong order.
        operation = "--refresh" if options.refresh else "--reshare-to"
        parties_dir = _parties_dir(options)
        if parties_dir is None:
            raise DemoError(
                f"{operation}: key {options.key_id!r} does not exist: without --data-dir the in-process node "
                "starts with no keys (give the --data-dir of the run that made the key)"
            )
        p1 = PartyStore(parties_dir / f"p{P1}")
        if p1.current(options.key_id) is None:
            raise DemoError(
                f"{operation}: key {options.key_id!r} does not exist in {p1.directory} "
                "(run the demo without the operation first, or without --key-id to make a new key)"
            )
    with trio.fail_after(options.timeout_s):
        async with _node(options) as (coordinator, data_dir):
            return await _Demo(options, coordinator, data_dir, emit).run()


def _parties_dir(options: DemoOptions) -> Path | None:
    """Where the demo parties' stores are: --data-dir; without it ./data for a --target node, and None for
    the in-process node (a fresh temporary directory, made when the node starts)."""
    if options.data_dir is not None:
        return options.data_dir
    return Path("data") if options.target else None


class _Demo:
    """One demo run: P1 (and, after a reshare, backup parties P3..) with a node as party 2."""

    def __init__(
        self,
        options: DemoOptions,
        coordinator: TrioCoordinator,
        data_dir: Path,
        emit: Callable[[dict[str, Any]], None],
    ) -> None:
        self.options = options
        self.coordinator = coordinator
        self.data_dir = data_dir
        self.emit = emit
        self.key_id = options.key_id or f"demo-{secrets.token_hex(4)}"
        self.curve = options.curve or default_curve(options.protocol)
        self.taproot = options.protocol == FROST and self.curve == SECP256K1
        self.new_dkg, self.new_sign = _protocols(options.protocol, self.curve)
        self.verified_all = True

    def store(self, index: int) -> PartyStore:
        """Party `index`'s store: P1's and each backup party's own directory (`p1`, `p3`, ...)."""
        return PartyStore(self.data_dir / f"p{index}")

    async def run(self) -> int:
        options, key_id = self.options, self.key_id
        record = self.store(P1).current(key_id)
        if record is None:
            record = await self.dkg()
        else:
            self.coordinator.remember_key(key_id, record.parties)
            record = await self.resolve_pending(record)
        if options.reshare_to and options.reshare_to[1] < len(record.parties.identities):
            t, n = options.reshare_to
            held = len(record.parties.identities)
            raise DemoError(f"--reshare-to {t}-of-{n}: the demo only adds parties (key {key_id!r} has {held})")
        await self.sign_all(record)
        if options.refresh:
            record = await self.refresh(record)
            await self.sign_all(record)
        elif options.reshare_to:
            record = await self.reshare(record, *options.reshare_to)
            await self.sign_all(record)
        return 0 if self.verified_all else 1

    async def dkg(self) -> KeyRecord:
        options, coordinator = self.options, self.coordinator
        sid = f"dkg-{secrets.token_hex(8)}"
        began = time.monotonic()
        self._preparams_note([P1])
        local = await trio.to_thread.run_sync(self.new_dkg, sid, P1, 2, (P1, NODE))
        progress(f"key generation ({options.protocol}, 2-of-2, key id {self.key_id}) ...")
        outcome = await coordinator.dkg(sid, self.key_id, options.protocol, 2, 2, {P1: local}, self.curve)
        _check(outcome, "DKG")
        p1_result = outcome.dkg_result(P1)
        progress(f"key generation done in {time.monotonic() - began:.1f} s")
        if p1_result.public_key != outcome.nodes[NODE].public_key:
            raise DemoError("DKG: P1 and the node disagree on the public key")
        # A node from before key versions (contract §12) reports none: a new key is version 1.
        record = KeyRecord(p1_result.key_share, coordinator.keys[self.key_id], outcome.key_version or 1)
        self.store(P1).put(self.key_id, record)
        self.store(P1).pin(coordinator.pinned[NODE])
        return record

    async def resolve_pending(self, record: KeyRecord) -> KeyRecord:
        """A refresh or reshare that an earlier run left prepared (it stopped before the outcome, or before
        every party committed): commit each local party's pending version if the node completed that
        session, and drop it if the session failed or still waits in its confirmation round (contract
        §12.4). Waiting means the node lacks a confirmation only this demo could relay, so nobody
        committed: the demo's parties commit only after the node completed, and the node only with every
        confirmation; the node's own pending version goes when the next refresh or reshare of the key
        starts. A session the node does not know stops the demo, keeping both versions."""
        ended: dict[str, SessionState] = {}
        for store in self._local_stores():
            pending = store.pending(self.key_id)
            if pending is None:
                continue
            version, sid = pending
            if sid not in ended:
                ended[sid] = await self._ended(sid, version, store)
            what = f"{store.directory.name}: key version {version} of session {sid}"
            if ended[sid] == SessionState.COMPLETED:
                store.commit(self.key_id)
                progress(f"{what} committed (the node completed it)")
            else:
                store.rollback(self.key_id)
                state = "still waits for confirmations" if ended[sid] == SessionState.RUNNING else ended[sid].name
                progress(f"{what} dropped (on the node it {state})")
        current = self.store(P1).current(self.key_id)
        assert current is not None  # committing or dropping a pending version keeps a current one
        self.coordinator.remember_key(self.key_id, current.parties)
        return current

    def _local_stores(self) -> list[PartyStore]:
        """Every demo party's store under the data directory: P1's and each backup party's."""
        indices = sorted(int(d.name[1:]) for d in self.data_dir.glob("p*") if d.name[1:].isdigit())
        return [self.store(i) for i in indices]

    async def _ended(self, sid: str, version: int, store: PartyStore) -> SessionState:
        """The state of session `sid` on the node; DemoError if the node does not know it (any more): then
        only the operator can tell, from the version the node holds."""
        try:
            view = await self.coordinator.nodes[NODE].status(sid, "dkg", 0)
        except GRPCError as exc:
            raise DemoError(
                f"key {self.key_id!r}: session {sid} left key version {version} pending in {store.directory} and "
                f"the node answers {exc.status.name} for it: both versions kept, nothing signed "
                "(`signer key list` on the node shows the version it holds)"
            ) from None
        return SessionState(view.state)

    def _preparams_note(self, parties: list[int]) -> None:
        """GG20 key generation, refresh and reshare make fresh Paillier and ring-Pedersen keys per party."""
        if self.options.protocol == GG20:
            who = ", ".join(f"P{i}" for i in parties)
            progress(f"{who}: generating GG20 pre-parameters (Paillier and ring-Pedersen; often 5-30 s each) ...")

    def _backups(self, parties: KeyParties) -> list[int]:
        return [p.party for p in parties.identities if p.party not in (P1, NODE)]

    async def sign_all(self, record: KeyRecord) -> None:
        """Sign every message with the key's first T parties (P1, the node, ...) and, once the key has backup
        parties and T of them without P1, with those too (the wallet without its device)."""
        parties = [p.party for p in record.parties.identities]
        t = record.parties.threshold
        quorums = [tuple(parties[:t])]
        if len(parties) - 1 >= t and self._backups(record.parties):
            quorums.append(tuple([p for p in parties if p != P1][:t]))
        for signers in quorums:
            shares = {i: self._share(i, record) for i in signers if i != NODE}
            for message in self.options.messages:
                await self.sign(record, signers, shares, message)

    def _share(self, index: int, record: KeyRecord) -> bytes:
        """Local party `index`'s share of the key's current version (P1's is `record`'s)."""
        if index == P1:
            return record.share
        held = self.store(index).current(self.key_id)
        if held is None or held.version != record.version:
            raise DemoError(f"key {self.key_id!r}: party {index} holds no share of version {record.version}")
        self.coordinator.identities[index] = self.store(index).identity()
        return held.share

    async def sign(self, record: KeyRecord, signers: tuple[int, ...], shares: dict[int, bytes], message: bytes) -> None:
        options, taproot = self.options, self.taproot
        payload = signed_bytes(options.protocol, options.chain, message, taproot)
        sid = f"sign-{secrets.token_hex(8)}"
        progress(f"signing {len(message)} bytes (parties {', '.join(map(str, signers))}) ...")
        local = {i: self.new_sign(sid, i, share, payload, signers) for i, share in shares.items()}
        outcome = await self.coordinator.sign(sid, self.key_id, payload, signers, local, taproot=taproot)
        _check(outcome, "signing")
        view = outcome.nodes[NODE]
        if taproot and len(view.output_key) != 32:
            raise DemoError("signing: the node gave no 32-byte Taproot output key")
        verified = verify_signature(
            options.protocol, view.public_key, payload, view.signature, view.recovery_id, view.output_key
        )
        self.verified_all &= verified
        result: dict[str, Any] = {
            "protocol": options.protocol,
            "key_id": self.key_id,
            "key_version": record.version,
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
        self.emit(result)

    def _prepare(self, session_id: str, version: int) -> Prepare:
        """The coordinator's `prepare`: each local party keeps its new share as the pending version, the one
        after the version the dealers stated in round 1 (what a party joining the key knows it from), or
        `version` where the session states none (a GG20 refresh, whose parties all hold the key)."""

        def prepare(index: int, key: KeyParties, pending: DkgResult) -> None:
            new = pending.from_version + 1 if pending.from_version else version
            self.store(index).prepare(self.key_id, KeyRecord(pending.key_share, key, new), session_id)

        return prepare

    async def _settle(self, operation: Awaitable[Outcome], parties: list[int], what: str) -> int:
        """Run the operation; commit every local party's pending version if it completed. Drop it only when
        every node says the session failed: once a party's confirmation has left, a node may have committed
        (docs/lifecycle.md §4), so an interrupted run or a failure seen only here keeps the pending version
        for the next run to settle with the node (`resolve_pending`)."""
        outcome = await operation
        if not outcome.ok:
            ended = (SessionState.FAILED, SessionState.TIMED_OUT, SessionState.CANCELLED)
            if all(view.state in ended for view in outcome.nodes.values()):
                for i in parties:
                    self.store(i).rollback(self.key_id)
            _check(outcome, what)
        for i in parties:
            self.store(i).commit(self.key_id)
        return outcome.key_version

    async def refresh(self, record: KeyRecord) -> KeyRecord:
        new_refresh, _ = _lifecycle(self.options.protocol, self.curve)
        sid = f"refresh-{secrets.token_hex(8)}"
        began = time.monotonic()
        holders = [P1, *self._backups(record.parties)]
        self._preparams_note(holders)
        local = {}
        for i in holders:  # every holder of the key takes part
            local[i] = await trio.to_thread.run_sync(new_refresh, sid, i, self._share(i, record), record.version)
        progress(f"refreshing key {self.key_id} (version {record.version}: same parties and public key) ...")
        prepare = self._prepare(sid, record.version + 1)
        refresh = self.coordinator.refresh(sid, self.key_id, local, prepare=prepare)
        version = await self._settle(refresh, holders, "refresh")
        progress(f"refresh done in {time.monotonic() - began:.1f} s: key version {version}")
        return self._after(version)

    async def reshare(self, record: KeyRecord, threshold: int, total: int) -> KeyRecord:
        old = tuple(p.party for p in record.parties.identities)
        new = tuple(range(1, total + 1))
        joining = [i for i in new if i not in old]
        for i in joining:
            self.coordinator.identities[i] = self.store(i).identity()
        _, new_reshare = _lifecycle(self.options.protocol, self.curve)
        sid = f"reshare-{secrets.token_hex(8)}"
        public_key = _public_key(self.options.protocol, record.share)
        began = time.monotonic()
        local_parties = [i for i in new if i != NODE]  # every current holder deals; the joining ones receive
        self._preparams_note(local_parties)
        local = {}
        for i in local_parties:
            share = None if i in joining else self._share(i, record)
            local[i] = await trio.to_thread.run_sync(
                new_reshare, sid, i, share, old, threshold, new, public_key, record.version
            )
        progress(
            f"resharing key {self.key_id} (version {record.version}) from {record.parties.threshold}-of-{len(old)} "
            f"to {threshold}-of-{total}; new parties {', '.join(map(str, joining)) or 'none'} "
            f"kept in {', '.join(str(self.store(i).directory) for i in joining) or '-'} ..."
        )
        prepare = self._prepare(sid, record.version + 1)
        reshare = self.coordinator.reshare(sid, self.key_id, old, threshold, new, local, prepare=prepare)
        version = await self._settle(reshare, local_parties, "reshare")
        progress(f"reshare done in {time.monotonic() - began:.1f} s: key version {version}")
        return self._after(version)

    def _after(self, version: int) -> KeyRecord:
        current = self.store(P1).current(self.key_id)
        if current is None or current.version != version:
            held = "none" if current is None else current.version
            raise DemoError(f"key {self.key_id!r}: the node reports key version {version}, P1 holds {held}")
        return current


def _check(outcome: Outcome, what: str) -> None:
    if not outcome.ok:
        culprits = f" (culprits: {', '.join(map(str, outcome.culprits))})" if outcome.culprits else ""
        raise DemoError(f"{what} ended {outcome.state.name}: {outcome.error}{culprits}")


@asynccontextmanager
async def _node(options: DemoOptions) -> AsyncIterator[tuple[TrioCoordinator, Path]]:
    """A coordinator connected to the target node, or to an in-process node it starts, and the directory
    that holds the demo parties' stores (`p1`, and `p3`... for backup parties)."""
    if options.target:
        async with _remote(options) as pair:
            yield pair
        return
    with tempfile.TemporaryDirectory(prefix="signer-demo-") as tmp:
        data_dir = options.data_dir or Path(tmp)
        async with _in_process(data_dir, options.protocol) as pair:
            yield pair


@asynccontextmanager
async def _in_process(data_dir: Path, protocol: str) -> AsyncIterator[tuple[TrioCoordinator, Path]]:
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
                yield _coordinator(client, data_dir), data_dir
        nursery.cancel_scope.cancel()


def _dev_certs(directory: Path) -> DevCertPaths:
    """Development credentials in `directory`: made on first use, reused by later runs."""
    paths = dev_cert_paths(directory)
    return paths if all(p.exists() for p in paths.all()) else make_dev_certs(directory)


@asynccontextmanager
async def _remote(options: DemoOptions) -> AsyncIterator[tuple[TrioCoordinator, Path]]:
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
    data_dir = _parties_dir(options)
    assert data_dir is not None  # with --target
    async with trio_asyncio.open_loop():
        async with TrioNodeClient.connect(host, port, hmac_key=key, ssl_context=ctx, minter=minter) as client:
            yield _coordinator(client, data_dir), data_dir


def _coordinator(client: TrioNodeClient, data_dir: Path) -> TrioCoordinator:
    """A coordinator playing P1 with its device identity, pinning the node P1 met before."""
    p1 = PartyStore(data_dir / f"p{P1}")
    return TrioCoordinator({NODE: client}, identities={P1: p1.identity()}, pinned=p1.pinned())


def print_result(as_json: bool) -> Callable[[dict[str, Any]], None]:
    def emit(result: dict[str, Any]) -> None:
        if as_json:
            print(json.dumps(result), flush=True)
            return
        lines = [f"{k:>16}: {v}" for k, v in result.items()]
        print("\n".join(lines) + "\n", flush=True)

    return emit


__all__ = ["DemoError", "DemoOptions", "run_demo", "print_result", "signed_bytes"]
