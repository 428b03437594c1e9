"""The daemon in-process on port 0, called by independent clients: grpcio stubs and grpcurl."""

from __future__ import annotations

import json

import grpc
import pytest
import trio

from signer.app import run_node
from signer.config import load_config


@pytest.fixture
async def node(tmp_path):
    config = load_config(
        env={},
        flags={
            "grpc.listen": "127.0.0.1:0",
            "node.data_dir": str(tmp_path),
            "node.id": "p2-test",
            "pools.preparams_size": "0",
        },
    )
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(run_node, config)
        yield handle
        nursery.cancel_scope.cancel()


def _grpcio_ping(port: int, stubs):
    signer_pb2, signer_pb2_grpc = stubs
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        return signer_pb2_grpc.SignerServiceStub(channel).Ping(signer_pb2.PingRequest(), timeout=5)


async def test_ping_from_grpcio_client(node, grpcio_stubs):
    pong = await trio.to_thread.run_sync(_grpcio_ping, node.address[1], grpcio_stubs)
    assert pong.node_id == "p2-test"
    assert pong.version
    assert pong.timestamp_ms > 1_700_000_000_000


def _grpcio_unary(port: int, stubs, method: str, request):
    _, signer_pb2_grpc = stubs
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            getattr(signer_pb2_grpc.SignerServiceStub(channel), method)(request, timeout=5)
        except grpc.RpcError as err:
            return err.code()
    return grpc.StatusCode.OK


async def test_health_serving_and_reflection_list(node, grpcurl):
    addr = f"127.0.0.1:{node.address[1]}"
    health = json.loads(await grpcurl("-plaintext", addr, "grpc.health.v1.Health/Check"))
    assert health == {"status": "SERVING"}
    services = (await grpcurl("-plaintext", addr, "list")).split()
    assert "mpc.v1.SignerService" in services
    assert "grpc.health.v1.Health" in services
    methods = (await grpcurl("-plaintext", addr, "list", "mpc.v1.SignerService")).split()
    assert "mpc.v1.SignerService.SubmitProtocolMessage" in methods


async def test_grpcurl_ping_uses_reflection(node, grpcurl):
    pong = json.loads(await grpcurl("-plaintext", f"127.0.0.1:{node.address[1]}", "mpc.v1.SignerService/Ping"))
    assert pong["nodeId"] == "p2-test"


async def test_draining_reports_not_serving(node, grpcurl):
    await node.drain(0)
    health = json.loads(await grpcurl("-plaintext", f"127.0.0.1:{node.address[1]}", "grpc.health.v1.Health/Check"))
    assert health == {"status": "NOT_SERVING"}
