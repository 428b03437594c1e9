"""`mpc.v1.SignerService` on grpclib: proto in, engine calls in Trio, proto out.

Handlers run in asyncio (grpclib); the engine lives in Trio and is reached with `trio_as_aio`. Engine
errors carry their docs/contract.md §5 status code and map to gRPC mechanically; anything unexpected is logged and
answered INTERNAL without detail, so no secret can leak through an error message.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpclib
import trio_asyncio
from grpclib.const import Status

from gen.mpc.v1 import (
    DkgStatusResponse,
    GetDkgStatusRequest,
    GetSignStatusRequest,
    IdentityScheme,
    MessageOutcome,
    PingRequest,
    PongResponse,
    ProtocolMessage,
    ProtocolMessageRequest,
    ProtocolMessageResponse,
    SignerServiceBase,
    SignStatusResponse,
    StartDkgRequest,
    StartDkgResponse,
    StartSignRequest,
    StartSignResponse,
)
from signer import __version__, limits
from signer.auth.devicecert import DeviceAuthority, DeviceCertError
from signer.auth.mac import MessageAuthenticator
from signer.engine import model
from signer.engine.errors import EngineError
from signer.engine.manager import SessionManager
from signer.engine.model import DkgRequest, SessionKind, SessionView
from signer.transport import convert
from signer.transport.auth import CURRENT_CALLER
from signer.transport.observe import log_refusal

log = logging.getLogger("signer.transport.service")
T = TypeVar("T")


def _status_error(exc: EngineError) -> grpclib.GRPCError:
    return grpclib.GRPCError(Status[exc.code], str(exc))


async def in_trio(fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Run an engine coroutine in Trio; map its errors to gRPC statuses.

    Only engine errors carry a status (store faults arrive as engine errors already, per
    `signer.engine.errors.STORE_FAULTS`: DATA_LOSS, RESOURCE_EXHAUSTED, UNAVAILABLE). Anything else is a
    bug: logged with its traceback here, answered INTERNAL with no detail, so nothing from inside the node
    reaches the caller.
    """
    try:
        return await trio_asyncio.trio_as_aio(functools.partial(fn, *args, **kwargs))()
    except EngineError as exc:
        raise _status_error(exc) from None
    except Exception:
        log.exception("internal error in %s", getattr(fn, "__name__", "engine call"))
        raise grpclib.GRPCError(Status.INTERNAL, "internal error") from None


class SignerService(SignerServiceBase):
    """The node's gRPC face over the session engine."""

    def __init__(
        self,
        node_id: str,
        engine: SessionManager,
        authenticator: MessageAuthenticator,
        *,
        device_authority: DeviceAuthority | None = None,
    ) -> None:
        self.node_id = node_id
        self.engine = engine
        self.authenticator = authenticator
        self.device_authority = device_authority

    async def ping(self, message: PingRequest) -> PongResponse:
        return PongResponse(
            node_id=self.node_id,
            version=__version__,
            timestamp_ms=int(time.time() * 1000),
            identity_public_key=self.engine.identity_public_key,
            identity_scheme=IdentityScheme.ED25519,
        )

    async def start_dkg(self, message: StartDkgRequest) -> StartDkgResponse:
        request = convert.dkg_request(message)
        self._check_certificates(request)
        view = await in_trio(self.engine.start, SessionKind.DKG, request, client=str(CURRENT_CALLER.get()))
        return StartDkgResponse(session_id=view.session_id, state=convert.STATES[view.state], outbound=self._out(view))

    async def get_dkg_status(self, message: GetDkgStatusRequest) -> DkgStatusResponse:
        view = await self._status(message.session_id, message.wait_ms, SessionKind.DKG)
        return DkgStatusResponse(
            session_id=view.session_id,
            state=convert.STATES[view.state],
            round=view.round,
            key_id=view.key_id,
            public_key=view.public_key,
            outbound=self._out(view),
            error=view.error,
            culprits=list(view.culprits),
            key_version=view.key_version,
        )

    async def start_sign(self, message: StartSignRequest) -> StartSignResponse:
        request = convert.sign_request(message)
        kind = SessionKind.PRESIGN if request.presign else SessionKind.SIGN
        view = await in_trio(self.engine.start, kind, request, client=str(CURRENT_CALLER.get()))
        return StartSignResponse(session_id=view.session_id, state=convert.STATES[view.state], outbound=self._out(view))

    async def get_sign_status(self, message: GetSignStatusRequest) -> SignStatusResponse:
        """Signings and presignings alike (a COMPLETED presigning has no signature: it is stored)."""
        view = await self._status(message.session_id, message.wait_ms, SessionKind.SIGN)
        return SignStatusResponse(
            session_id=view.session_id,
            state=convert.STATES[view.state],
            round=view.round,
            signature=view.signature,
            recovery_id=view.recovery_id,
            public_key=view.public_key,
            outbound=self._out(view),
            error=view.error,
            culprits=list(view.culprits),
            output_key=view.output_key,
        )

    async def submit_protocol_message(self, message: ProtocolMessageRequest) -> ProtocolMessageResponse:
        if message.messages:
            if message.message is not None:
                raise convert.invalid("set message or messages, not both")
            convert.checked(limits.check_batch_size, len(message.messages))
            return ProtocolMessageResponse(accepted=True, results=await self._submit_batch(message.messages))
        inbound = convert.inbound(message.message, self.authenticator)
        view = (await in_trio(self.engine.deliver, inbound)).view
        return ProtocolMessageResponse(accepted=True, **self._session_fields(view))

    def _check_certificates(self, request: DkgRequest) -> None:
        """With `auth.device_authority`: every other party's identity carries the authority's certificate
        for exactly that key (docs/contract.md §11.7), else PERMISSION_DENIED."""
        if self.device_authority is None:
            return
        for p in request.party_identities:
            if p.party == request.party_index:
                continue
            try:
                self.device_authority.check(p.certificate, p.scheme, p.public_key)
            except DeviceCertError as exc:
                raise grpclib.GRPCError(Status.PERMISSION_DENIED, f"party_identities: party {p.party}: {exc}") from None

    async def _submit_batch(self, messages: list[ProtocolMessage]) -> list[MessageOutcome]:
        """Each message checked (MAC first) and delivered as if it came alone, in order, with one crossing
        into Trio for the whole batch; a refusal becomes that message's outcome, never the call's status."""
        checked: list[model.ProtocolMessage | grpclib.GRPCError] = []
        for m in messages:
            try:
                checked.append(convert.inbound(m, self.authenticator))
            except grpclib.GRPCError as exc:
                checked.append(exc)
        delivered = await in_trio(self._deliver_each, checked)
        results = []
        for index, (m, got) in enumerate(zip(messages, delivered, strict=True)):
            if isinstance(got, grpclib.GRPCError):
                log_refusal(got.status, got.message)
                results.append(
                    MessageOutcome(
                        index=index, session_id=m.session_id, code=got.status.value, status_message=got.message or ""
                    )
                )
            else:
                results.append(
                    MessageOutcome(index=index, session_id=m.session_id, accepted=True, **self._session_fields(got))
                )
        return results

    async def _deliver_each(
        self, items: list[model.ProtocolMessage | grpclib.GRPCError]
    ) -> list[SessionView | grpclib.GRPCError]:
        out: list[SessionView | grpclib.GRPCError] = []
        for item in items:
            if isinstance(item, grpclib.GRPCError):
                out.append(item)
                continue
            try:
                out.append((await self.engine.deliver(item)).view)
            except EngineError as exc:
                out.append(_status_error(exc))
        return out

    def _session_fields(self, view: SessionView) -> dict[str, Any]:
        """A Submit answer's description of the session (ProtocolMessageResponse and MessageOutcome alike)."""
        return {
            "state": convert.STATES[view.state],
            "outbound": self._out(view),
            "public_key": view.public_key,
            "signature": view.signature,
            "recovery_id": view.recovery_id,
            "error": view.error,
            "culprits": list(view.culprits),
            "output_key": view.output_key,
        }

    async def _status(self, session_id: str, wait_ms: int | None, kind: SessionKind) -> SessionView:
        return await in_trio(self.engine.status, session_id, convert.wait_seconds(wait_ms), kind=kind)

    def _out(self, view: SessionView) -> list:
        return convert.outbound(view, self.authenticator)
