"""Per-RPC observation from grpclib's server events: a request id, latency metrics and refusal logs.

Every call gets a request id, attached to each log line written while handling it and returned to the
caller in the trailing metadata `x-request-id`, so a refusal the caller saw can be found in the logs.

The clock starts when a request arrives and stops when its trailers (and so its status) go out, refusals
by call auth included. Only `mpc.v1.SignerService` calls are timed: health probes and reflection would
swamp the histogram, and any other path is a name a client made up (an unbounded label).

Refusals a peer can cause at will are logged here, once per call, as fixed events (signer.logs.EVENTS)
with their reason, under the per-event rate limit: INVALID_ARGUMENT as `invalid_argument`,
UNAUTHENTICATED as `token_refused` when call auth refused the token, else `mac_refused`.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from grpclib.const import Status
from grpclib.events import RecvRequest, SendTrailingMetadata, listen
from grpclib.server import Server

from signer.auth.tls import subject_from_cert
from signer.logs import REQUEST_ID, log_event
from signer.metrics import RPC_LATENCY
from signer.transport.auth import SIGNER_SERVICE_PREFIX, TOKEN_REFUSAL

log = logging.getLogger("signer.transport.observe")


@dataclass(frozen=True, slots=True)
class _Call:
    """What the trailers listener needs to know about the call it closes."""

    method: str
    peer: Any  # grpclib's Peer, for the client certificate's subject in refusal lines
    started: float | None  # perf_counter() at arrival; None for calls the histogram leaves out


#: Trailing metadata key that hands the call's request id to the caller, to quote when reporting a problem.
REQUEST_ID_METADATA = "x-request-id"

_CALL: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("rpc_call", default=None)


def new_request_id() -> str:
    return secrets.token_hex(8)


def _log_refusal(call: _Call, status: Status, message: str | None) -> None:
    if status is Status.INVALID_ARGUMENT:
        event, reason = "invalid_argument", message or ""
    elif status is Status.UNAUTHENTICATED:
        token_reason = TOKEN_REFUSAL.get()
        event, reason = ("token_refused", token_reason) if token_reason else ("mac_refused", message or "")
    else:
        return
    log_event(
        log,
        event,
        f"{call.method} refused: {message or status.name}",
        method=call.method,
        code=status.name,
        reason=reason,
        peer=subject_from_cert(call.peer.cert()),
    )


def log_refusal(status: Status, message: str | None) -> None:
    """Log a refusal inside a call that itself succeeds (one message of a batched SubmitProtocolMessage),
    as the call's own refusal would be: same events, same rate limit."""
    call = _CALL.get()
    if call is not None:
        _log_refusal(call, status, message)


def install_rpc_observer(server: Server) -> None:
    async def on_request(event: RecvRequest) -> None:
        REQUEST_ID.set(new_request_id())
        method = event.method_name.rsplit("/", 1)[-1]
        timed = event.method_name.startswith(SIGNER_SERVICE_PREFIX)
        _CALL.set(_Call(method, event.peer, time.perf_counter() if timed else None))

    async def on_trailers(event: SendTrailingMetadata) -> None:
        call = _CALL.get()
        if call is None:
            return
        if call.started is not None:
            RPC_LATENCY.labels(call.method, event.status.name).observe(time.perf_counter() - call.started)
        _log_refusal(call, event.status, event.status_message)
        event.metadata[REQUEST_ID_METADATA] = REQUEST_ID.get()

    listen(server, RecvRequest, on_request)
    listen(server, SendTrailingMetadata, on_trailers)
