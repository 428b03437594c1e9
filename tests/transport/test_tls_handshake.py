"""Connections that never finish their TLS handshake (a peer that connects and sends no ClientHello) are not
counted against `grpc.max_connections`; `grpc.tls_handshake_timeout_s` closes them, and meanwhile good clients
beyond their number still get in."""

from __future__ import annotations

import time

import grpc
import trio

from signer.app import run_node
from signer.auth.devcerts import make_dev_certs
from tests.transport.conftest import SecureNode, secure_config
from tests.transport.test_tls_and_tokens import call

SILENT = 6  # more than max_connections


async def test_silent_tls_connections_are_closed_after_the_handshake_timeout(tmp_path, grpcio_stubs):
    pb2, _ = grpcio_stubs
    certs = make_dev_certs(tmp_path / "certs")
    config = secure_config(
        certs, tmp_path / "data", **{"grpc.max_connections": "2", "grpc.tls_handshake_timeout_s": "1.5"}
    )
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(run_node, config)
        node = SecureNode(handle, certs, handle.address[1])
        silent = [await trio.open_tcp_stream("127.0.0.1", node.port) for _ in range(SILENT)]
        started = time.monotonic()
        # Good clients get in while the silent ones wait in their handshake.
        for _ in range(3):
            code, pong = await call(node.good_channel, grpcio_stubs, "Ping", pb2.PingRequest())
            assert code == grpc.StatusCode.OK, pong
        # Every silent connection is closed by the node after the timeout, well before asyncio's 60 s.
        with trio.fail_after(10):
            for stream in silent:
                try:
                    assert await stream.receive_some(1024) == b""
                except trio.BrokenResourceError:  # a reset is a close too
                    pass
        assert 1.4 <= time.monotonic() - started < 10
        for stream in silent:
            await stream.aclose()
        code, _ = await call(node.good_channel, grpcio_stubs, "Ping", pb2.PingRequest())
        assert code == grpc.StatusCode.OK
        nursery.cancel_scope.cancel()
