"""`signer healthcheck`: ask a node's standard gRPC health service whether it is SERVING.

Used by the container HEALTHCHECK and by operators; plain asyncio (grpclib), no Trio needed.
"""

from __future__ import annotations

import asyncio
import ssl

from grpclib.client import Channel
from grpclib.health.v1.health_grpc import HealthStub
from grpclib.health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse


async def _check(host: str, port: int, ssl_context: ssl.SSLContext | None, timeout_s: float) -> str:
    channel = Channel(host, port, ssl=ssl_context)
    try:
        response = await HealthStub(channel).Check(HealthCheckRequest(service=""), timeout=timeout_s)
    finally:
        channel.close()
    return HealthCheckResponse.ServingStatus.Name(response.status)


def check_health(host: str, port: int, ssl_context: ssl.SSLContext | None = None, timeout_s: float = 3.0) -> str:
    """The node's overall status name (SERVING, NOT_SERVING, ...); raises on connection failure."""
    return asyncio.run(_check(host, port, ssl_context, timeout_s))
