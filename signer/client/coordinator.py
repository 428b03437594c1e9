"""The coordinator side: what mpc-service does, as a library (used by `signer demo`, tests, benchmarks).

`NodeClient` is one signer node reached over gRPC (grpclib under trio-asyncio, with optional mTLS, a
fresh service token per call, and the SPEC.md §3 MAC on every relayed message). `Coordinator` runs a
session across remote nodes and local parties (P1): it starts the session everywhere, relays every
message to the parties it is addressed to, long-polls the nodes, and returns the outcome.

Must be used inside `trio_asyncio.open_loop()`:

    async with trio_asyncio.open_loop():
        async with NodeClient.connect("127.0.0.1", 9091, hmac_key=key, ssl_context=ctx, minter=minter) as node:
            coordinator = Coordinator({2: node})
            outcome = await coordinator.dkg("s-1", "wallet-1", "frost", 2, 2, {1: FrostDkgSession(...)})
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio_asyncio
from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from gen.mpc.v1 import (
    Curve,
    GetDkgStatusRequest,
    GetSignStatusRequest,
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
from signer.auth.jwt import TokenMinter
from signer.auth.mac import MacError, MessageAuthenticator
from signer.client.party import LocalParty
from signer.protocols.base import ProtocolError, SessionProtocol
from signer.schemes import default_curve
from signer.wire import ProtocolMessage as WireMessage
from signer.wire import seal, unseal


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


class NodeClient:
    """One signer node: gRPC stub, token minting and message MACs."""

    def __init__(self, channel: Channel, authenticator: MessageAuthenticator, minter: TokenMinter | None) -> None:
        self._stub = SignerServiceStub(channel)
        self._mac = authenticator
        self._minter = minter

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
    ) -> AsyncIterator[NodeClient]:
        channel = Channel(host, port, ssl=ssl_context)
        try:
            yield cls(channel, MessageAuthenticator(hmac_key), minter)
        finally:
            channel.close()

    def _metadata(self) -> dict[str, str]:
        return {"authorization": self._minter.authorization()} if self._minter else {}

    async def _call(self, method: Callable[..., Awaitable[Any]], request: object) -> Any:
        return await trio_asyncio.aio_as_trio(method)(request, metadata=self._metadata())

    async def ping(self) -> PongResponse:
        return await trio_asyncio.aio_as_trio(self._stub.ping)(PingRequest())

    async def start_dkg(
        self,
        session_id: str,
        key_id: str,
        protocol: str,
        threshold: int,
        total: int,
        index: int,
        curve: str | None = None,
    ) -> NodeView:
        """StartDKG for `protocol` (a `signer.schemes` name) on `curve` (default: the protocol's default)."""
        request = StartDkgRequest(
            session_id=session_id,
            key_id=key_id,
            protocol=Protocol[protocol.upper()],
            curve=Curve[(curve or default_curve(protocol)).upper()],
            threshold=threshold,
            total_parties=total,
            party_index=index,
        )
        return self._view(await self._call(self._stub.start_dkg, request))

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
            taproot=taproot,
            taproot_merkle_root=taproot_merkle_root,
        )
        return self._view(await self._call(self._stub.start_sign, request))

    async def status(self, session_id: str, kind: str, wait_ms: int) -> NodeView:
        if kind == "dkg":
            resp = await self._call(self._stub.get_dkg_status, GetDkgStatusRequest(session_id, wait_ms))
        else:
            resp = await self._call(self._stub.get_sign_status, GetSignStatusRequest(session_id, wait_ms))
        return self._view(resp)

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
        )


@dataclass
class Outcome:
    """A finished session as the coordinator saw it: every node's final view and every local result
    (a DkgResult, a SignResult, or a local party's presignature)."""

    state: SessionState
    nodes: dict[int, NodeView]
    local: dict[int, Any] = field(default_factory=dict)
    error: str = ""
    culprits: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state == SessionState.COMPLETED


class Coordinator:
    """Runs sessions across remote nodes (by party index) and local parties."""

    def __init__(self, nodes: Mapping[int, NodeClient], *, poll_ms: int = 2000) -> None:
        self.nodes = dict(nodes)
        self.poll_ms = poll_ms

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
        starts = {
            i: (lambda n, i=i: n.start_dkg(session_id, key_id, protocol, threshold, total, i, curve))
            for i in self.nodes
        }
        return await self._run(session_id, "dkg", starts, local)

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
        starts = {
            i: (
                lambda n: n.start_sign(
                    session_id,
                    key_id,
                    message,
                    signers,
                    derivation_path,
                    presignature_id=presignature_id,
                    taproot=taproot,
                    taproot_merkle_root=taproot_merkle_root,
                )
            )
            for i in self.nodes
            if i in signers
        }
        return await self._run(session_id, "sign", starts, local)

    async def presign(
        self, session_id: str, key_id: str, signers: tuple[int, ...], local: Mapping[int, SessionProtocol]
    ) -> Outcome:
        """A presigning among `signers`: each node keeps its presignature under id = `session_id`; a local
        party's presignature is in `Outcome.local` (for its own signing session later)."""
        starts = {
            i: (lambda n: n.start_sign(session_id, key_id, b"", signers, presign=True))
            for i in self.nodes
            if i in signers
        }
        return await self._run(session_id, "sign", starts, local)

    async def _run(
        self,
        session_id: str,
        kind: str,
        starts: Mapping[int, Callable[[NodeClient], Awaitable[NodeView]]],
        local: Mapping[int, SessionProtocol],
    ) -> Outcome:
        parties = {i: LocalParty(session_id, p) for i, p in local.items()}
        nodes = {i: self.nodes[i] for i in starts}
        queue: list[WireMessage] = []
        seen: set[tuple[int, int]] = set()
        views: dict[int, NodeView] = {}

        def take(index: int, view: NodeView) -> None:
            views[index] = view
            for m in view.outbound:
                if (m.from_party, m.sequence) not in seen:
                    seen.add((m.from_party, m.sequence))
                    queue.append(m)

        try:
            for party in parties.values():
                queue += party.start()
            for i, node in nodes.items():
                take(i, await starts[i](node))
            while True:
                while queue:
                    m = queue.pop(0)
                    for party in parties.values():
                        if party.wants(m):
                            queue += party.receive(m)
                    for i, node in nodes.items():
                        if m.from_party != i and m.to_party in (0, i) and views[i].state == SessionState.RUNNING:
                            take(i, await self._submit(node, m, kind))
                failed = [v for v in views.values() if v.state not in (SessionState.RUNNING, SessionState.COMPLETED)]
                if failed:
                    return Outcome(failed[0].state, views, error=failed[0].error, culprits=failed[0].culprits)
                if all(v.state == SessionState.COMPLETED for v in views.values()) and all(
                    p.done for p in parties.values()
                ):
                    return Outcome(SessionState.COMPLETED, views, {i: p.result for i, p in parties.items()})
                wait = self.poll_ms if len(nodes) == 1 else 20
                for i, node in nodes.items():
                    take(i, await node.status(session_id, kind, wait))
        except ProtocolError as exc:
            return Outcome(SessionState.FAILED, views, error=str(exc), culprits=exc.culprits)

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
