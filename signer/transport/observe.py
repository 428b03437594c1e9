"""RPC latency metrics from grpclib's server events: the clock starts when a request arrives and stops
when its trailers (and so its status) go out, refusals by call auth included."""

from __future__ import annotations

import contextvars
import time

from grpclib.events import RecvRequest, SendTrailingMetadata, listen
from grpclib.server import Server

from signer.metrics import RPC_LATENCY

_STARTED: contextvars.ContextVar[tuple[str, float] | None] = contextvars.ContextVar("rpc_started", default=None)


def install_rpc_metrics(server: Server) -> None:
    async def on_request(event: RecvRequest) -> None:
        _STARTED.set((event.method_name.rsplit("/", 1)[-1], time.perf_counter()))

    async def on_trailers(event: SendTrailingMetadata) -> None:
        started = _STARTED.get()
        if started is not None:
            method, t0 = started
            RPC_LATENCY.labels(method, event.status.name).observe(time.perf_counter() - t0)

    listen(server, RecvRequest, on_request)
    listen(server, SendTrailingMetadata, on_trailers)
