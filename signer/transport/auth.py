"""Call authentication for grpclib: the mTLS peer and the service token, checked before any handler runs.

A `RecvRequest` listener runs in the handler's own task before the handler, so a failure becomes the
call's status (UNAUTHENTICATED) without touching any session, and the caller's identity is handed to the
handler through a context variable. Ping, health and reflection need no token (docs/contract.md §2.3); mTLS, when
enabled, already applies to every call at the TLS layer.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

import grpclib
from grpclib.const import Status
from grpclib.events import RecvRequest, listen
from grpclib.server import Server

from signer.auth.jwt import TokenError, TokenVerifier
from signer.auth.tls import subject_from_cert

SIGNER_SERVICE_PREFIX = "/mpc.v1.SignerService/"
TOKEN_FREE_METHODS = frozenset({SIGNER_SERVICE_PREFIX + "Ping"})


@dataclass(frozen=True)
class Caller:
    """Who made the current call: the client certificate's subject and the token's subject, if any."""

    certificate: str
    token_subject: str | None = None

    def __str__(self) -> str:
        return self.certificate if self.token_subject is None else f"{self.certificate} sub={self.token_subject}"


#: Why call auth refused the current call's token (a TokenError reason), for the refusal log line.
TOKEN_REFUSAL: contextvars.ContextVar[str] = contextvars.ContextVar("token_refusal", default="")
CURRENT_CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar("signer_caller", default=Caller("(unknown)"))  # noqa: B039 (frozen)


def needs_token(method_name: str) -> bool:
    return method_name.startswith(SIGNER_SERVICE_PREFIX) and method_name not in TOKEN_FREE_METHODS


def install_call_auth(server: Server, verifier: TokenVerifier | None) -> None:
    """Check service tokens on every SignerService call but Ping; record the caller for the handler.

    With no verifier (no `auth.jwt.public_key_file` configured) tokens are not checked: development only,
    and the node says so at start-up.
    """

    async def on_request(event: RecvRequest) -> None:
        certificate = subject_from_cert(event.peer.cert())
        token_subject = None
        if verifier is not None and needs_token(event.method_name):
            values = event.metadata.getall("authorization", [])
            if len(values) > 1:
                TOKEN_REFUSAL.set("duplicate_header")
                raise grpclib.GRPCError(Status.UNAUTHENTICATED, "more than one authorization header")
            try:
                claims = verifier.verify_bearer(str(values[0]) if values else None)
            except TokenError as exc:
                TOKEN_REFUSAL.set(exc.reason)  # logged with the call's status (transport.observe)
                raise grpclib.GRPCError(Status.UNAUTHENTICATED, str(exc)) from None
            token_subject = claims.subject
        CURRENT_CALLER.set(Caller(certificate, token_subject))

    listen(server, RecvRequest, on_request)
