"""`mpc.v1.SignerService` on grpclib: proto in, domain calls into Trio, proto out.

Handlers run in asyncio (grpclib); everything stateful lives in Trio and is reached with
`trio_asyncio.trio_as_aio`. Ping answers from here directly: it touches no Trio state.
"""

from __future__ import annotations

import time

import grpclib
from grpclib.const import Status

from gen.mpc.v1 import PingRequest, PongResponse, SignerServiceBase
from signer import __version__


class Lifecycle:
    """Whether the node still accepts new sessions (False once shutdown has begun)."""

    def __init__(self) -> None:
        self.accepting = True

    def require_accepting(self) -> None:
        if not self.accepting:
            raise grpclib.GRPCError(Status.UNAVAILABLE, "node is shutting down; start the session elsewhere")


class SignerService(SignerServiceBase):
    """The node's gRPC face. RPCs without a backend yet answer UNIMPLEMENTED (the generated default)."""

    def __init__(self, node_id: str, lifecycle: Lifecycle) -> None:
        self.node_id = node_id
        self.lifecycle = lifecycle

    async def ping(self, message: PingRequest) -> PongResponse:
        return PongResponse(node_id=self.node_id, version=__version__, timestamp_ms=int(time.time() * 1000))
