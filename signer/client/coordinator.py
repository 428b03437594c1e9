"""The coordinator side: what mpc-service does, as a library (used by `signer demo`, tests, benchmarks).

`NodeClient` is one signer node reached over gRPC (grpclib, with optional mTLS, a fresh service token per
call, and the contract §3 MAC on every relayed message). `Coordinator` runs a session across remote nodes
and local parties (P1): it starts the session everywhere, relays every message to the parties it is
addressed to, long-polls the nodes, and returns an `Outcome` (contract §6.1).

Identities (docs/contract.md §11): the coordinator holds the local parties' identity keys and pins each
node's identity (given, or from the node's first Ping); a DKG names them all in StartDKG and remembers
them for the key (`keys`, or `remember_key` for a key made by an earlier run); a signing carries the
local signers' approvals. The local parties sign and check every message (`LocalParty`). A refresh or
reshare (contract §12) runs on a remembered key: its parties keep their identities, joining parties are
named as in a DKG, and each local party's new share goes to the caller's `prepare` before that party's
confirmation is relayed (the commit rule of docs/lifecycle.md §4).

Plain asyncio: it runs under `asyncio.run` as is. A Trio program uses the same code through
`signer.client.in_trio` (trio-asyncio). Nothing here imports the store, metrics, Trio or protocol math.

    async with NodeClient.connect("localhost", 9091, hmac_key=key, ssl_context=ctx, minter=minter) as node:
        coordinator = Coordinator({2: node}, identities={1: IdentityKey.generate(ED25519)})
        outcome = await coordinator.dkg(new_session_id(), "wallet-1", "frost", 2, 2, {1: p1})
        if not outcome.ok:
            print(outcome.error, outcome.culprits)

Retries and idempotency (contract §4.7, §6.2): every call is retried on transport failures
(UNAVAILABLE, DEADLINE_EXCEEDED, a broken connection) and a Start also on RESOURCE_EXHAUSTED, with
exponential backoff for up to `retry_s` seconds. That is safe because a repeated identical Start of a
running session is the same session, a repeated message is acknowledged as a duplicate, and status
calls only read. Every other refusal ends the session's outcome at once (never an exception): a Start
answered ALREADY_EXISTS means the session id was used before (or, for a DKG, the key id is taken);
the outcome says so and names no culprit. A node still unreachable after `retry_s` is not an outcome
(the session's fate is unknown): its GRPCError or OSError propagates. Session ids are single-use on a
node, also across restarts: take a fresh one (`new_session_id()`) for every session and every retry
after a failure.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

import gen.mpc.v1
from gen.mpc.v1 import (
    Curve,
    GetDkgStatusRequest,
    GetSignStatusRequest,
    IdentityScheme,
    KeyOperation,
    PingRequest,
    PongResponse,
    Protocol,
    ProtocolMessage,
    ProtocolMessageRequest,
    SessionState,
    SignerServiceStub,
    StartDkgRequest,
    StartSignRequest,
)
from gen.mpc.v1 import (
    PartyApproval as PbApproval,
)
from gen.mpc.v1 import (
    PartyIdentity as PbIdentity,
)
from signer.auth.jwt import TokenMinter
from signer.auth.mac import MacError, MessageAuthenticator
from signer.client.party import LocalParty
from signer.crypto.identity import ED25519, IdentityKey
from signer.protocols.base import DkgResult, ProtocolError, SessionProtocol, SignResult
from signer.schemes import default_curve
from signer.session_context import (
    REFRESH,
    RESHARE,
    PartyApproval,
    PartyIdentity,
    SessionContext,
    lifecycle_extra,
    sign_approval,
    sign_extra,
)
from signer.wire import ProtocolMessage as WireMessage
from signer.wire import seal, skip_default_warnings, unseal

skip_default_warnings(gen.mpc.v1)  # the coordinator's messages: see signer.wire

T = TypeVar("T")

# Statuses a call is retried on (contract §6.2): the call may not have reached the node, or the node
# could not take it just now; retrying is safe for every RPC.
TRANSIENT = frozenset({Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED})


def new_session_id(prefix: str = "s") -> str:
    """A fresh session id (128 random bits): a node refuses an id it has seen before (contract §4.7)."""
    return f"{prefix}-{secrets.token_hex(16)}"


class RelayError(Exception):
    """A node answered something a correct node never would (e.g. a message with a bad MAC)."""


@dataclass
class NodeView:
    """What one status/start/submit answer said about the session on that node."""

    state: SessionState
    outbound: list[WireMessage]
    public_key: bytes = b""
    signature: bytes = b""
    recovery_id: int = 0
    output_key: bytes = b""
    error: str = ""
    culprits: tuple[int, ...] = ()
    key_version: int = 0


class NodeClient:
    """One signer node: gRPC stub, token minting and message MACs."""

    def __init__(
        self,
        channel: Channel,
        authenticator: MessageAuthenticator,
        minter: TokenMinter | None,
        *,
        retry_s: float = 10.0,
    ) -> None:
        self._stub = SignerServiceStub(channel)
        self._mac = authenticator
        self._minter = minter
        self.retry_s = retry_s

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        host: str,
        port: int,
        *,
        hmac_key: bytes,
        ssl_context: ssl.SSLContext | None = None,
        minter: TokenMinter | None = None,
        retry_s: float = 10.0,
    ) -> AsyncIterator[NodeClient]:
        """A client for the node at host:port. `host` must be a name in the node's certificate when
        `ssl_context` is given (the development certificates name `localhost`)."""
        channel = Channel(host, port, ssl=ssl_context)
        try:
            yield cls(channel, MessageAuthenticator(hmac_key), minter, retry_s=retry_s)
        finally:
            channel.close()

    def _metadata(self) -> dict[str, str]:
        return {"authorization": self._minter.authorization()} if self._minter else {}

    async def _call(self, method: Callable[..., Awaitable[T]], request: object, *, start: bool = False) -> T:
        """One RPC with a fresh token, retried on transient failures for up to `retry_s` (module docstring);
        a Start is also retried while the node is at its session limit."""
        retryable = TRANSIENT | {Status.RESOURCE_EXHAUSTED} if start else TRANSIENT
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.retry_s
        delay = 0.05
        while True:
            try:
                return await method(request, metadata=self._metadata())
            except GRPCError as exc:
                if exc.status not in retryable or loop.time() + delay > give_up:
                    raise
            except ssl.SSLError:
                raise  # a TLS configuration mismatch: retrying cannot help
            except (OSError, StreamTerminatedError):
                if loop.time() + delay > give_up:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def ping(self) -> PongResponse:
        return await self._call(self._stub.ping, PingRequest())

    async def start_dkg(
        self,
        session_id: str,
        key_id: str,
        protocol: str,
        threshold: int,
        total: int,
        index: int,
        identities: tuple[PartyIdentity, ...],
        curve: str | None = None,
        *,
        operation: KeyOperation = KeyOperation.CREATE,
        old_parties: tuple[int, ...] = (),
    ) -> NodeView:
        """StartDKG for `protocol` (a `signer.schemes` name) on `curve` (default: the protocol's default),
        naming every party's identity. `operation` REFRESH or RESHARE acts on the existing `key_id`
        (contract §12): `threshold`, `total` and `identities` then describe the key after the operation,
        and a reshare names the dealing holders in `old_parties`."""
        request = StartDkgRequest(
            session_id=session_id,
            key_id=key_id,
            protocol=Protocol[protocol.upper()],
            curve=Curve[(curve or default_curve(protocol)).upper()],
            threshold=threshold,
            total_parties=total,
            party_index=index,
            party_identities=[
                PbIdentity(
                    party=p.party, scheme=IdentityScheme(p.scheme), public_key=p.public_key, certificate=p.certificate
                )
                for p in identities
            ],
            operation=operation,
            old_parties=list(old_parties),
        )
        return self._view(await self._call(self._stub.start_dkg, request, start=True))

    async def start_sign(
        self,
        session_id: str,
        key_id: str,
        message: bytes,
        signers: tuple[int, ...],
        path: tuple[int, ...] = (),
        *,
        presign: bool = False,
        presignature_id: str = "",
        approvals: tuple[PartyApproval, ...] = (),
        taproot: bool = False,
        taproot_merkle_root: bytes = b"",
    ) -> NodeView:
        """StartSign: a signing; with `presign`, a GG20 presigning (message b""); with `presignature_id`,
        a signing that uses the presignature the node keeps under that id; with `taproot`, a BIP-340
        signing for the key's Taproot output key (FROST secp256k1)."""
        request = StartSignRequest(
            session_id=session_id,
            key_id=key_id,
            message=message,
            signers=list(signers),
            derivation_path=list(path),
            presign=presign,
            presignature_id=presignature_id,
            approvals=[PbApproval(party=a.party, signature=a.signature) for a in approvals],
            taproot=taproot,
            taproot_merkle_root=taproot_merkle_root,
        )
        return self._view(await self._call(self._stub.start_sign, request, start=True))

    async def status(self, session_id: str, kind: str, wait_ms: int) -> NodeView:
        """GetDKGStatus (`kind` "dkg") or GetSignStatus (signings and presignings), a long-poll of `wait_ms`."""
        if kind == "dkg":
            return self._view(await self._call(self._stub.get_dkg_status, GetDkgStatusRequest(session_id, wait_ms)))
        return self._view(await self._call(self._stub.get_sign_status, GetSignStatusRequest(session_id, wait_ms)))

    async def submit(self, m: WireMessage) -> NodeView:
        request = ProtocolMessageRequest(seal(m, self._mac, ProtocolMessage))
        return self._view(await self._call(self._stub.submit_protocol_message, request))

    async def submit_many(self, messages: Sequence[WireMessage]) -> list[NodeView | GRPCError]:
        """Relay several messages, of any sessions, in one call (at most `limits.MAX_BATCH_MESSAGES`). Each
        gets its own answer, in order: the session's view, or the GRPCError a lone `submit` would raise."""
        request = ProtocolMessageRequest(messages=[seal(m, self._mac, ProtocolMessage) for m in messages])
        resp = await self._call(self._stub.submit_protocol_message, request)
        return [self._view(r) if r.accepted else GRPCError(Status(r.code), r.status_message) for r in resp.results]

    def _view(self, resp: Any) -> NodeView:
        try:
            outbound = [unseal(m, self._mac) for m in resp.outbound]
        except MacError as exc:
            raise RelayError(f"node sent a message with a bad MAC: {exc}") from None
        return NodeView(
            state=resp.state,
            outbound=outbound,
            public_key=getattr(resp, "public_key", b""),
            signature=getattr(resp, "signature", b""),
            recovery_id=getattr(resp, "recovery_id", 0),
            output_key=getattr(resp, "output_key", b""),
            error=getattr(resp, "error", ""),
            culprits=tuple(getattr(resp, "culprits", ())),
            key_version=getattr(resp, "key_version", 0),
        )


class SessionFailed(Exception):
    """A result was asked of an outcome that is not COMPLETED (`Outcome.check()` and the result accessors)."""

    def __init__(self, outcome: Outcome) -> None:
        culprits = f" (culprits: {', '.join(map(str, outcome.culprits))})" if outcome.culprits else ""
        super().__init__(f"session ended {outcome.state.name}: {outcome.error}{culprits}")
        self.outcome = outcome


@dataclass
class Outcome:
    """A finished session as the coordinator saw it.

    `ok` is True only when every party completed. Otherwise `error` says why and `culprits` names the
    parties proved to have cheated (empty when no one can be blamed: a refused start, a timeout, a
    relay fault); `status` is set when a node refused a call with that gRPC status (ALREADY_EXISTS: the
    session id was used before). `nodes` holds every node's last view, `local` every local party's
    result (a DkgResult, a SignResult, or a presignature) and is empty unless `ok`. The accessors below
    raise `SessionFailed` on a failed outcome, so a caller that skips the `ok` check gets a clear error.
    """

    state: SessionState
    nodes: dict[int, NodeView]
    local: dict[int, Any] = field(default_factory=dict)
    error: str = ""
    culprits: tuple[int, ...] = ()
    status: Status | None = None

    @property
    def ok(self) -> bool:
        return self.state == SessionState.COMPLETED

    def check(self) -> Outcome:
        """This outcome if it is COMPLETED; SessionFailed otherwise."""
        if not self.ok:
            raise SessionFailed(self)
        return self

    def _node(self) -> NodeView:
        self.check()
        if not self.nodes:
            raise SessionFailed(self)
        return next(iter(self.nodes.values()))

    @property
    def public_key(self) -> bytes:
        """The group key (DKG, presigning) or the key that verifies the signature (signing), as the nodes
        report it; local parties' keys are in `local`."""
        return self._node().public_key

    @property
    def signature(self) -> bytes:
        return self._node().signature

    @property
    def recovery_id(self) -> int:
        return self._node().recovery_id

    @property
    def key_version(self) -> int:
        """The key version a completed DKG (1), refresh or reshare (the previous version + 1) produced, as
        the nodes report it (every node must report the same one; 0 if a node reported none)."""
        self._node()
        versions = {v.key_version for v in self.nodes.values()}
        if len(versions) != 1:
            raise RelayError(f"the nodes report different key versions: {sorted(versions)}")
        return versions.pop()

    def dkg_result(self, index: int) -> DkgResult:
        """Local party `index`'s DKG result (its key share and the group key)."""
        result = self.check().local.get(index)
        if not isinstance(result, DkgResult):
            raise SessionFailed(self) if result is None else TypeError(f"party {index} did not run a DKG")
        return result

    def sign_result(self, index: int) -> SignResult:
        """Local party `index`'s signing result."""
        result = self.check().local.get(index)
        if not isinstance(result, SignResult):
            raise SessionFailed(self) if result is None else TypeError(f"party {index} did not run a signing")
        return result


def _refused(index: int, exc: GRPCError, views: dict[int, NodeView]) -> Outcome:
    """The outcome when node `index` refused a call outright: nobody is blamed for it."""
    if exc.status == Status.ALREADY_EXISTS:
        what = "session id already used (or, for a DKG, the key id is taken)"
    else:
        what = f"refused with {exc.status.name}"
    return Outcome(SessionState.FAILED, views, error=f"node {index}: {what}: {exc.message}", status=exc.status)


@dataclass(frozen=True)
class KeyParties:
    """What a coordinator must remember of a key to sign with it: its context fields (§11.2)."""

    protocol: str
    threshold: int
    identities: tuple[PartyIdentity, ...]
    curve: str = ""

    def __post_init__(self) -> None:
        if not self.curve:
            object.__setattr__(self, "curve", default_curve(self.protocol))


#: `prepare(index, key, pending)` of a refresh or reshare: local party `index`'s new version (`pending`, a
#: DkgResult) of the key whose parties after the operation are `key`, before its confirmation is relayed.
#: Its number is `pending.from_version + 1` (the version the dealers stated in round 1: the only source a
#: party joining the key has); the sessions' `key_version` argument is what a holder states.
Prepare = Callable[[int, KeyParties, DkgResult], None]


def _bind(prepare: Prepare | None, key: KeyParties) -> Callable[[int, DkgResult], None] | None:
    return None if prepare is None else (lambda index, pending: prepare(index, key, pending))


def lifecycle_context(
    session_id: str,
    key_id: str,
    key: KeyParties,
    threshold: int,
    parties: tuple[PartyIdentity, ...],
    operation: str,
    old_parties: tuple[int, ...] = (),
) -> SessionContext:
    """The session context of a refresh or reshare of `key` (contract §12.3), as the nodes compute it: a
    "dkg" context with the threshold after the operation, every participant's identity, and the operation
    (with a reshare's dealing quorum) in `extra`."""
    extra = lifecycle_extra(operation, old_parties)
    return SessionContext("dkg", session_id, key_id, key.protocol, key.curve, threshold, parties, extra=extra)


class Coordinator:
    """Runs sessions across remote nodes (by party index) and local parties.

    `identities`: the identity key of each local party (by index); `pinned`: each node's identity public
    key, if known beforehand (otherwise taken from its first Ping and kept for this coordinator's life);
    `certificates`: a local party's device certificate, for nodes with `auth.device_authority` (§11.7).
    """

    def __init__(
        self,
        nodes: Mapping[int, NodeClient],
        *,
        identities: Mapping[int, IdentityKey],
        pinned: Mapping[int, bytes] | None = None,
        certificates: Mapping[int, str] | None = None,
        poll_ms: int = 2000,
    ) -> None:
        self.nodes = dict(nodes)
        self.poll_ms = poll_ms
        self.identities = dict(identities)
        self.pinned = dict(pinned or {})
        self.certificates = dict(certificates or {})
        self.keys: dict[str, KeyParties] = {}

    def remember_key(self, key_id: str, key: KeyParties) -> None:
        """A key made by an earlier run (its parties' identities as the DKG named them)."""
        self.keys[key_id] = key

    async def node_identity(self, index: int) -> bytes:
        """Node `index`'s identity key: the pinned one, which its Ping must still answer; pinned at first use."""
        pong = await self.nodes[index].ping()
        if pong.identity_scheme != IdentityScheme.ED25519 or not pong.identity_public_key:
            raise RelayError(f"node {index} answered Ping without an Ed25519 identity key")
        pinned = self.pinned.setdefault(index, pong.identity_public_key)
        if pinned != pong.identity_public_key:
            raise RelayError(f"node {index}'s identity is not the pinned one: refusing to run a session with it")
        return pinned

    async def _identities(
        self, parties: Iterable[int], local: Mapping[int, SessionProtocol]
    ) -> tuple[PartyIdentity, ...]:
        """The identity of each of `parties`: a node's from its (pinned) Ping, a local party's from its key."""
        missing = set(local) - set(self.identities)
        if missing:
            raise ValueError(f"local parties {sorted(missing)} have no identity key")
        named = []
        for p in sorted(parties):
            if p in self.nodes:
                named.append(PartyIdentity(p, ED25519, await self.node_identity(p)))
            elif p in self.identities:
                key, certificate = self.identities[p], self.certificates.get(p, "")
                named.append(PartyIdentity(p, key.scheme, key.public_key, certificate))
            else:
                raise ValueError(f"party {p} is neither a node nor a local party with an identity key")
        return tuple(named)

    def _key(self, key_id: str) -> KeyParties:
        key = self.keys.get(key_id)
        if key is None:
            raise ValueError(f"key {key_id!r} is unknown to this coordinator: remember_key() it first")
        return key

    def _sign_context(
        self, kind: str, session_id: str, key_id: str, message: bytes, signers: tuple[int, ...], **kw: Any
    ) -> SessionContext:
        key = self._key(key_id)
        return SessionContext(
            kind,
            session_id,
            key_id,
            key.protocol,
            key.curve,
            key.threshold,
            key.identities,
            signers=tuple(sorted(signers)),
            message=message,
            **kw,
        )

    def approvals(
        self, kind: str, session_id: str, key_id: str, message: bytes, signers: tuple[int, ...], **kw: Any
    ) -> tuple[PartyApproval, ...]:
        """The local signers' approvals of a signing (`kind` "sign") or presigning ("presign") of a known key;
        `kw`: derivation_path, presignature_id, extra (`sign_extra` of a Taproot signing)."""
        return self._approvals(self._sign_context(kind, session_id, key_id, message, signers, **kw))

    def _approvals(self, context: SessionContext) -> tuple[PartyApproval, ...]:
        """The local signers' approvals of exactly this signing."""
        return tuple(
            PartyApproval(i, sign_approval(key, context))
            for i, key in sorted(self.identities.items())
            if i in context.signers
        )

    async def dkg(
        self,
        session_id: str,
        key_id: str,
        protocol: str,
        threshold: int,
        total: int,
        local: Mapping[int, SessionProtocol],
        curve: str | None = None,
    ) -> Outcome:
        """A key generation: every node gets StartDKG with its own index; `local` are the local parties'
        DKG sessions, made with the same session id."""
        curve = curve or default_curve(protocol)
        identities = await self._identities(range(1, total + 1), local)
        context = SessionContext("dkg", session_id, key_id, protocol, curve, threshold, identities)
        starts = {
            i: (lambda n, i=i: n.start_dkg(session_id, key_id, protocol, threshold, total, i, identities, curve))
            for i in self.nodes
        }
        outcome = await self._run(session_id, "dkg", starts, local, context)
        if outcome.ok:
            self.keys[key_id] = KeyParties(protocol, threshold, identities, curve)
        return outcome

    async def refresh(
        self,
        session_id: str,
        key_id: str,
        local: Mapping[int, SessionProtocol],
        *,
        prepare: Prepare | None = None,
    ) -> Outcome:
        """A key refresh (contract §12): same parties, threshold and public key, all new shares. Every party
        of the key takes part: each node gets StartDKG(REFRESH) with its index, `local` are the local
        parties' refresh sessions (`FrostRefreshSession`, `Gg20RefreshSession`) with the same session id.

        The key's parties keep the identities the DKG named: a node whose Ping answers another identity, or
        a local party with another identity key, stops the refresh here (ValueError). `prepare(index, key,
        pending)` is called for each local party with the key's parties after the operation and the party's
        new share (`DkgResult`) before that party's confirmation is relayed: store them there as the key's
        pending version, and make it current only if the outcome is `ok` (`Outcome.key_version` is the new
        version); on a failed outcome keep the current one."""
        key = self._key(key_id)
        parties = tuple(p.party for p in key.identities)
        identities = await self._same_identities(key_id, key, parties, local)
        context = lifecycle_context(session_id, key_id, key, key.threshold, identities, REFRESH)
        starts = {
            i: (
                lambda n, i=i: n.start_dkg(
                    session_id,
                    key_id,
                    key.protocol,
                    key.threshold,
                    len(parties),
                    i,
                    identities,
                    key.curve,
                    operation=KeyOperation.REFRESH,
                )
            )
            for i in parties
            if i in self.nodes
        }
        return await self._run(session_id, "dkg", starts, local, context, _bind(prepare, key))

    async def reshare(
        self,
        session_id: str,
        key_id: str,
        old_parties: tuple[int, ...],
        threshold: int,
        new_parties: tuple[int, ...],
        local: Mapping[int, SessionProtocol],
        *,
        prepare: Prepare | None = None,
    ) -> Outcome:
        """A reshare (contract §12): the holders `old_parties` (at least the key's threshold) deal the same
        public key to `new_parties` with `threshold`, e.g. 2-of-2 (1, 2) to 2-of-3 (1, 2, 3). Every node of
        either set gets StartDKG(RESHARE); `local` are the local parties' reshare sessions
        (`FrostReshareSession`, `Gg20ReshareSession`), a party joining the key included.

        A party joining the key is named like in a DKG (a node's identity from its Ping, a local party's
        from its identity key); a party that stays keeps its identity (ValueError otherwise). `prepare` as
        in `refresh`; a local party leaving the key gets a pending result with an empty `key_share` (it
        drops its share once the outcome is `ok`). On success this coordinator remembers the key's new
        threshold and parties for later signings."""
        key = self._key(key_id)
        held = {p.party for p in key.identities}
        if not set(old_parties) <= held:
            raise ValueError(f"old_parties {sorted(set(old_parties) - held)} hold no share of key {key_id!r}")
        stay = tuple(p for p in new_parties if p in held)
        await self._same_identities(key_id, key, stay, local)
        identities = await self._identities(new_parties, {i: s for i, s in local.items() if i in new_parties})
        # Old parties leaving the key sign their messages with the identities the key names.
        leaving = tuple(p for p in key.identities if p.party in old_parties and p.party not in new_parties)
        everyone = tuple(sorted((*identities, *leaving), key=lambda p: p.party))
        context = lifecycle_context(session_id, key_id, key, threshold, everyone, RESHARE, old_parties)
        starts = {
            i: (
                lambda n, i=i: n.start_dkg(
                    session_id,
                    key_id,
                    key.protocol,
                    threshold,
                    len(new_parties),
                    i,
                    identities,
                    key.curve,
                    operation=KeyOperation.RESHARE,
                    old_parties=tuple(sorted(old_parties)),
                )
            )
            for i in sorted(set(old_parties) | set(new_parties))
            if i in self.nodes
        }
        after = KeyParties(key.protocol, threshold, identities, key.curve)
        outcome = await self._run(session_id, "dkg", starts, local, context, _bind(prepare, after))
        if outcome.ok:
            self.keys[key_id] = after
        return outcome

    async def _same_identities(
        self, key_id: str, key: KeyParties, parties: tuple[int, ...], local: Mapping[int, SessionProtocol]
    ) -> tuple[PartyIdentity, ...]:
        """The identities of `parties` now (node Pings, local keys), which must be the ones the key names."""
        now = await self._identities(parties, {i: s for i, s in local.items() if i in parties})
        named = {p.party: p for p in key.identities}
        changed = [p.party for p in now if p != named[p.party]]
        if changed:
            raise ValueError(f"parties {changed} do not hold the identity key {key_id!r} names")
        return now

    async def sign(
        self,
        session_id: str,
        key_id: str,
        message: bytes,
        signers: tuple[int, ...],
        local: Mapping[int, SessionProtocol],
        derivation_path: tuple[int, ...] = (),
        presignature_id: str = "",
        taproot: bool = False,
        taproot_merkle_root: bytes = b"",
    ) -> Outcome:
        """A signing; with `presignature_id` (a finished `presign` session's id) each node uses the
        presignature it kept under that id, and local parties are given theirs by the caller. `taproot`
        (and its merkle root) go to every node as they are; the local parties must sign the same way."""
        context = self._sign_context(
            "sign",
            session_id,
            key_id,
            message,
            signers,
            derivation_path=derivation_path,
            presignature_id=presignature_id,
            extra=sign_extra(taproot, taproot_merkle_root),
        )
        approvals = self._approvals(context)
        starts = {
            i: (
                lambda n: n.start_sign(
                    session_id,
                    key_id,
                    message,
                    signers,
                    derivation_path,
                    presignature_id=presignature_id,
                    approvals=approvals,
                    taproot=taproot,
                    taproot_merkle_root=taproot_merkle_root,
                )
            )
            for i in self.nodes
            if i in signers
        }
        return await self._run(session_id, "sign", starts, local, context)

    async def presign(
        self, session_id: str, key_id: str, signers: tuple[int, ...], local: Mapping[int, SessionProtocol]
    ) -> Outcome:
        """A presigning among `signers`: each node keeps its presignature under id = `session_id`; a local
        party's presignature is in `Outcome.local` (for its own signing session later)."""
        context = self._sign_context("presign", session_id, key_id, b"", signers)
        approvals = self._approvals(context)
        starts = {
            i: (lambda n: n.start_sign(session_id, key_id, b"", signers, presign=True, approvals=approvals))
            for i in self.nodes
            if i in signers
        }
        return await self._run(session_id, "sign", starts, local, context)

    async def _run(
        self,
        session_id: str,
        kind: str,
        starts: Mapping[int, Callable[[NodeClient], Awaitable[NodeView]]],
        local: Mapping[int, SessionProtocol],
        context: SessionContext,
        prepare: Callable[[int, DkgResult], None] | None = None,
    ) -> Outcome:
        parties = {
            i: LocalParty(
                session_id,
                p,
                identity=self.identities[i],
                context=context,
                prepare=None if prepare is None else functools.partial(prepare, i),
            )
            for i, p in local.items()
        }
        nodes = {i: self.nodes[i] for i in starts}
        queue: list[WireMessage] = []
        seen: set[tuple[int, int]] = set()
        views: dict[int, NodeView] = {}
        current = 0  # the node being called, for an outcome naming the node that refused

        def take(index: int, view: NodeView) -> None:
            views[index] = view
            for m in view.outbound:
                if (m.from_party, m.sequence) not in seen:
                    seen.add((m.from_party, m.sequence))
                    queue.append(m)

        try:
            for i, node in nodes.items():
                current = i
                take(i, await starts[i](node))
            # Local parties start once every node accepted: a refused start must not cost local work.
            for party in parties.values():
                queue += party.start()
            while True:
                while queue:
                    m = queue.pop(0)
                    for party in parties.values():
                        if party.wants(m):
                            queue += party.receive(m)
                    for i, node in nodes.items():
                        if m.from_party != i and m.to_party in (0, i) and views[i].state == SessionState.RUNNING:
                            current = i
                            take(i, await self._submit(node, m, kind))
                for party in parties.values():
                    if party.failure is not None:  # its last messages are relayed above
                        raise party.failure
                failed = [v for v in views.values() if v.state not in (SessionState.RUNNING, SessionState.COMPLETED)]
                if failed:
                    return Outcome(failed[0].state, views, error=failed[0].error, culprits=failed[0].culprits)
                if all(v.state == SessionState.COMPLETED for v in views.values()) and all(
                    p.done for p in parties.values()
                ):
                    return Outcome(SessionState.COMPLETED, views, {i: p.result for i, p in parties.items()})
                wait = self.poll_ms if len(nodes) == 1 else 20
                for i, node in nodes.items():
                    current = i
                    take(i, await node.status(session_id, kind, wait))
        except ProtocolError as exc:
            return Outcome(SessionState.FAILED, views, error=str(exc), culprits=exc.culprits)
        except GRPCError as exc:
            if exc.status in TRANSIENT:
                raise  # the node could not be reached within retry_s: not an outcome of the session
            return _refused(current, exc, views)

    @staticmethod
    async def _submit(node: NodeClient, m: WireMessage, kind: str) -> NodeView:
        """Relay one message. The answer carries the outcome when this message finished the session; a
        session that ended meanwhile answers FAILED_PRECONDITION, and its status is read instead."""
        try:
            return await node.submit(m)
        except GRPCError as exc:
            if exc.status != Status.FAILED_PRECONDITION:
                raise
        return await node.status(m.session_id, kind, 0)
