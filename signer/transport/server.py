"""The gRPC server: grpclib hosted inside Trio through trio-asyncio.

grpclib is an asyncio library; `serve_grpc` must run inside `trio_asyncio.open_loop()`. The bound address
is reported through Trio's `task_status` protocol, so tests start the server on port 0 in-process:

    async with trio_asyncio.open_loop():
        host, port = await nursery.start(serve_grpc, services, "127.0.0.1", 0, None, limits)

Besides `mpc.v1.SignerService` the server answers the standard `grpc.health.v1.Health` service and
server reflection (v1 and v1alpha), so grpcurl and Consul's gRPC check work without extra set-up.

Connections are guarded (signer/transport/guard.py): sizes, streams, resets, timeouts and malformed input
cost the offending peer its stream or connection, never the node. As a second line, the asyncio loop's
exception handler logs one line and closes the connection concerned: trio-asyncio's default handler
re-raises into the node's nursery, so any callback error would otherwise stop the node.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Callable, Sequence
from typing import Any

import trio
import trio_asyncio
from google.protobuf import descriptor_pool
from grpclib.health.check import ServiceStatus
from grpclib.health.service import Health
from grpclib.health.v1 import health_pb2
from grpclib.reflection.service import ServerReflection
from grpclib.reflection.v1 import reflection_pb2
from grpclib.reflection.v1alpha import reflection_pb2 as reflection_v1alpha_pb2
from grpclib.server import Server

from gen.mpc.v1 import MPC_V1_SIGNER_PROTO_DESCRIPTOR
from signer.transport.guard import ConnectionLimits, GuardedServer

log = logging.getLogger("signer.transport")


def reflection_pool() -> descriptor_pool.DescriptorPool:
    """A descriptor pool with every served file, kept apart from protobuf's default pool.

    A private pool cannot collide with another copy of signer.proto registered in the default pool
    (for example by grpcio-generated stubs loaded in the same process).
    """
    pool = descriptor_pool.DescriptorPool()
    for fd in (
        health_pb2.DESCRIPTOR,
        reflection_pb2.DESCRIPTOR,
        reflection_v1alpha_pb2.DESCRIPTOR,
        MPC_V1_SIGNER_PROTO_DESCRIPTOR,
    ):
        pool.AddSerializedFile(fd.serialized_pb)
    return pool


class HealthState:
    """The node's health as the standard Health service reports it (overall and per service).

    SERVING needs both: the node is not draining (`set_serving`) and its database answers
    (`set_store_reachable`, from the app's store probe), so a load balancer stops sending work to a
    node whose every call would fail, and sends it again once the database is back.
    """

    def __init__(self) -> None:
        self.status = ServiceStatus()
        self._draining = False
        self.store_reachable = True
        self.status.set(True)

    def set_serving(self, serving: bool) -> None:
        self._draining = not serving
        self._update()

    def set_store_reachable(self, reachable: bool) -> None:
        self.store_reachable = reachable
        self._update()

    def _update(self) -> None:
        self.status.set(self.store_reachable and not self._draining)

    def service(self, signer_service: Any) -> Health:
        return Health({signer_service: [self.status]})


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves so port 0 yields a known address before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto set: accepted sockets get TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve_grpc(
    services: Sequence[Any],
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    limits: ConnectionLimits,
    configure: Callable[[Server], None] | None = None,
    *,
    task_status: trio.TaskStatus[tuple[str, int]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; `task_status.started((host, port))` reports the bound address.

    `services` are grpclib servables (the SignerService and Health); reflection is added here.
    `configure` is called with the server before it starts (to install event listeners such as call auth).
    On cancellation the listener closes and in-flight calls are given a moment to finish.
    """
    server = GuardedServer(ServerReflection.extend(list(services), pool=reflection_pool()), limits)
    if configure is not None:
        configure(server)
    sock = bind_socket(host, port)
    bound = sock.getsockname()[:2]
    try:
        await trio_asyncio.aio_as_trio(server.start_on)(sock, ssl_context)
    except BaseException:
        sock.close()
        raise
    loop = trio_asyncio.current_loop.get()
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(log_loop_error)
    log.info("gRPC listening on %s:%d (%s)", bound[0], bound[1], "TLS" if ssl_context else "plaintext")
    task_status.started((bound[0], bound[1]))
    try:
        await trio.sleep_forever()
    finally:
        server.close()
        with trio.CancelScope(shield=True), trio.move_on_after(5):
            await trio_asyncio.aio_as_trio(server.wait_closed)()
        loop.set_exception_handler(previous_handler)
        log.info("gRPC server stopped")


def log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An error in an asyncio callback: one log line, and the connection concerned (if any) is closed."""
    exc = context.get("exception")
    transport = context.get("transport")
    log.error("asyncio: %s%s", context.get("message", "error in a callback"), f": {exc!r}" if exc else "")
    if transport is not None and hasattr(transport, "close"):
        transport.close()
