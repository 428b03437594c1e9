"""End-to-end benchmarks: `signer serve` in its own process over loopback mTLS, the coordinator and P1 here.

grpc.ping / grpc.ping.ref: the same grpcio client calling Ping on our node and on a grpcio server
answering the same Ping in this run (the per-call overhead of our stack against grpcio's C core).
e2e.*: whole signings as mpc-service would drive them (StartSign, relayed messages with MACs, long-poll,
fresh service token per call), P1's protocol work included. Each e2e note also gives the CPU time per
signing of the node process and of this one (from /proc and os.times), the figure that says where a
slowdown comes from when the machine is shared.

`MPC_BENCH_PROFILE=DIR` runs both processes under cProfile for the timed part and writes DIR/node.prof
and DIR/client.prof (read them with `python -m pstats`); the timings are then not comparable.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import trio
import trio_asyncio
from grpclib.exceptions import GRPCError

from benchmarks.harness import Result, entry, summarize, time_op
from signer.auth.devcerts import DevCertPaths, make_dev_certs
from signer.auth.jwt import TokenMinter
from signer.auth.keyfiles import load_hex_key
from signer.auth.tls import client_ssl_context
from signer.client.coordinator import NodeClient
from signer.client.in_trio import TrioCoordinator, TrioNodeClient
from signer.crypto.identity import IdentityKey
from signer.limits import MAX_BATCH_MESSAGES
from signer.wire import ProtocolMessage as WireMessage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "grpcio_stubs"))
from mpc.v1 import signer_pb2, signer_pb2_grpc  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PROFILE_DIR = os.environ.get("MPC_BENCH_PROFILE")


@dataclass(frozen=True)
class ServedNode:
    certs: DevCertPaths
    port: int
    pid: int

    def cpu_s(self) -> float:
        """The node process's user + system CPU seconds so far (/proc/PID/stat utime and stime)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


@contextmanager
def served_node(preparams: int = 0) -> Iterator[ServedNode]:
    """`signer serve` with mTLS, tokens and MACs in a subprocess (under cProfile with MPC_BENCH_PROFILE)."""
    with tempfile.TemporaryDirectory(prefix="signer-bench-") as tmp:
        certs = make_dev_certs(Path(tmp) / "certs")
        port = _free_port()
        config = Path(tmp) / "signer.yaml"
        config.write_text(
            f"node: {{data_dir: {tmp}/node}}\n"
            f"grpc: {{listen: '127.0.0.1:{port}', tls_enabled: true, cert_file: {certs.server_cert}, "
            f"key_file: {certs.server_key}, ca_cert: {certs.ca_cert}}}\n"
            f"auth: {{jwt: {{public_key_file: {certs.jwt_public_key}}}, hmac: {{key_file: {certs.hmac_key}}}}}\n"
            f"pools: {{preparams_size: {preparams}}}\nlog: {{level: warning}}\n"
        )
        profile = ["-m", "cProfile", "-o", str(Path(PROFILE_DIR) / "node.prof")] if PROFILE_DIR else []
        proc = subprocess.Popen([sys.executable, *profile, "-m", "signer", "serve", "--config", str(config)])
        try:
            channel = _channel(certs, port)
            deadline = time.monotonic() + 30
            while True:
                try:
                    signer_pb2_grpc.SignerServiceStub(channel).Ping(signer_pb2.PingRequest(), timeout=1)
                    break
                except grpc.RpcError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            channel.close()
            yield ServedNode(certs, port, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _channel(certs: DevCertPaths, port: int) -> grpc.Channel:
    creds = grpc.ssl_channel_credentials(
        certs.ca_cert.read_bytes(), certs.client_key.read_bytes(), certs.client_cert.read_bytes()
    )
    return grpc.secure_channel(f"localhost:{port}", creds)


class _PingServicer(signer_pb2_grpc.SignerServiceServicer):
    def Ping(self, request, context):  # noqa: N802 (grpcio's naming)
        return signer_pb2.PongResponse(node_id="ref", version="ref", timestamp_ms=int(time.time() * 1000))


def _ping_result(certs: DevCertPaths, port: int, note: str) -> Result:
    channel = _channel(certs, port)
    stub = signer_pb2_grpc.SignerServiceStub(channel)
    samples = time_op(lambda: stub.Ping(signer_pb2.PingRequest(), timeout=5), min_runs=500, warmup=50, budget_s=3)
    channel.close()
    return summarize(samples, note)


@entry("grpc.ping", note="grpcio client -> signer serve (grpclib in trio-asyncio), loopback mTLS, sequential")
def grpc_ping() -> Result:
    with served_node() as node:
        return _ping_result(node.certs, node.port, "grpcio client -> signer serve, loopback mTLS, sequential")


@entry("grpc.ping.ref", note="grpcio client -> grpcio server answering Ping, loopback mTLS, sequential")
def grpc_ping_ref() -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_dev_certs(Path(tmp))
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        signer_pb2_grpc.add_SignerServiceServicer_to_server(_PingServicer(), server)
        creds = grpc.ssl_server_credentials(
            [(certs.server_key.read_bytes(), certs.server_cert.read_bytes())],
            root_certificates=certs.ca_cert.read_bytes(),
            require_client_auth=True,
        )
        port = server.add_secure_port("127.0.0.1:0", creds)
        server.start()
        try:
            return _ping_result(certs, port, "grpcio client -> grpcio server (C core), loopback mTLS, sequential")
        finally:
            server.stop(0)


WARMUP = 3


class _BatchingRelay:
    """A node as a batching relay sees it: `submit` queues the message, and `flushers` tasks send whatever
    is queued (messages of any sessions, up to the batch maximum) in one SubmitProtocolMessage each, so
    batches grow with the load. Everything else is the NodeClient's own call. asyncio, like the client."""

    def __init__(self, node: NodeClient) -> None:
        self.node = node
        self.pending: list[tuple[WireMessage, asyncio.Future[object]]] = []
        self.ready = asyncio.Event()

    @property
    def aio(self) -> _BatchingRelay:
        """What `TrioCoordinator` drives (the asyncio client object)."""
        return self

    def __getattr__(self, name: str) -> object:
        return getattr(self.node, name)

    async def submit(self, m: WireMessage) -> object:
        answer: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.pending.append((m, answer))
        self.ready.set()
        got = await answer
        if isinstance(got, GRPCError):
            raise got
        return got

    async def flush_forever(self) -> None:
        while True:
            await self.ready.wait()
            batch, self.pending = self.pending[:MAX_BATCH_MESSAGES], self.pending[MAX_BATCH_MESSAGES:]
            if not self.pending:
                self.ready.clear()
            if not batch:
                continue
            answers = await self.node.submit_many([m for m, _ in batch])
            for (_, answer), got in zip(batch, answers, strict=True):
                answer.set_result(got)


@dataclass
class _Run:
    samples: list[float]  # ms per signing
    rate: float  # signings per second
    node_cpu_ms: float  # CPU per signing, node process
    client_cpu_ms: float  # CPU per signing, this process (coordinator + P1)


async def _signings(protocol: str, runs: int, concurrency: int, presigned: bool = False, flushers: int = 0) -> _Run:
    """Run `runs` signings (after one DKG and a warm-up) with `concurrency` in flight. `presigned` (GG20):
    every signing uses a presignature made beforehand, outside the timed part, so only the online round is
    measured. `flushers` > 0: the relay batches its submissions (`_BatchingRelay`), that many calls at once."""
    from signer.client.demo import _protocols, signed_bytes
    from signer.protocols.gg20 import Gg20PresignSession
    from signer.schemes import default_curve

    new_dkg, new_sign = _protocols(protocol, default_curve(protocol))
    signers = (1, 2)
    with served_node(preparams=1 if protocol == "gg20" else 0) as served:
        certs, port = served.certs, served.port
        ctx = client_ssl_context(certs.ca_cert, certs.client_cert, certs.client_key)
        minter = TokenMinter.from_file(certs.jwt_private_key, "mpc-service", "mpc-signer")
        key = load_hex_key(certs.hmac_key).key
        async with trio_asyncio.open_loop():
            async with (
                TrioNodeClient.connect("localhost", port, hmac_key=key, ssl_context=ctx, minter=minter) as node,
                trio.open_nursery() as relay,
            ):
                identity = IdentityKey.generate()
                coordinator = TrioCoordinator({2: node}, identities={1: identity})
                local = await trio.to_thread.run_sync(new_dkg, "bench-dkg", 1, 2, signers)
                dkg = await coordinator.dkg("bench-dkg", "bench-key", protocol, 2, 2, {1: local})
                assert dkg.ok, dkg.error
                share = dkg.local[1].key_share
                payload = signed_bytes(protocol, None, b"benchmark transfer")
                # (presignature id, P1's presignature) for each signing, made before anything is timed
                ready: list[tuple[str, bytes | None]] = []
                for n in range(runs + WARMUP):
                    if not presigned:
                        ready.append(("", None))
                        continue
                    pid = f"bench-pre-{n}"
                    out = await coordinator.presign(
                        pid, "bench-key", signers, {1: Gg20PresignSession(pid, 1, share, signers)}
                    )
                    assert out.ok, out.error
                    ready.append((pid, out.local[1].consume()))
                samples: list[float] = []
                counter = iter(range(10**9))

                async def one() -> None:
                    sid = f"bench-{next(counter)}"
                    pid, presignature = ready.pop()
                    extra = {"presignature": presignature} if presignature is not None else {}
                    t0 = time.perf_counter()
                    out = await coordinator.sign(
                        sid,
                        "bench-key",
                        payload,
                        signers,
                        {1: new_sign(sid, 1, share, payload, signers, **extra)},
                        presignature_id=pid,
                    )
                    assert out.ok, out.error
                    samples.append((time.perf_counter() - t0) * 1000)

                for _ in range(WARMUP):
                    await one()
                if flushers:
                    batching = _BatchingRelay(node.aio)
                    for _ in range(flushers):
                        relay.start_soon(trio_asyncio.aio_as_trio(batching.flush_forever))
                    known = coordinator
                    coordinator = TrioCoordinator(
                        {2: batching},  # type: ignore[dict-item]
                        identities={1: identity},
                        pinned=known.pinned,
                    )
                    coordinator.remember_key("bench-key", known.keys["bench-key"])
                samples.clear()
                profiler = cProfile.Profile() if PROFILE_DIR else None
                cpu0 = (served.cpu_s(), _own_cpu_s())
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                limiter = trio.CapacityLimiter(concurrency)

                async def limited() -> None:
                    async with limiter:
                        await one()

                async with trio.open_nursery() as nursery:
                    for _ in range(runs):
                        nursery.start_soon(limited)
                elapsed = time.perf_counter() - started
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(str(Path(PROFILE_DIR) / "client.prof"))
                node_cpu, own_cpu = served.cpu_s() - cpu0[0], _own_cpu_s() - cpu0[1]
                relay.cancel_scope.cancel()
    return _Run(samples, runs / elapsed, node_cpu * 1000 / runs, own_cpu * 1000 / runs)


def _e2e(protocol: str, runs: int, concurrency: int, note: str, presigned: bool = False, flushers: int = 0) -> Result:
    run = trio.run(_signings, protocol, runs, concurrency, presigned, flushers)
    cpu = f"; CPU per signing: node {run.node_cpu_ms:.2f} ms, coordinator+P1 {run.client_cpu_ms:.2f} ms"
    return summarize(run.samples, note + cpu, ops_per_s=run.rate)


@entry("e2e.frost.sign", note="FROST 2-of-2 signing end to end, one at a time")
def e2e_frost() -> Result:
    return _e2e("frost", 200, 1, "coordinator+P1 here, signer serve in another process, mTLS+JWT+MAC, sequential")


@entry("e2e.frost.sign.concurrent50", note="FROST 2-of-2 signing end to end, 50 sessions in flight")
def e2e_frost_concurrent() -> Result:
    return _e2e("frost", 1000, 50, "50 sessions in flight; ops_per_s = signings per second; latency per signing")


@entry("e2e.frost.sign.batched", note="as concurrent50, the relay batching messages of many sessions per call")
def e2e_frost_batched() -> Result:
    return _e2e(
        "frost",
        1000,
        50,
        "50 sessions in flight; the relay sends queued messages of any sessions in one SubmitProtocolMessage "
        "(up to limits.MAX_BATCH_MESSAGES), 2 such calls at once; ops_per_s = signings per second",
        flushers=2,
    )


@entry("e2e.gg20.sign", note="GG20 2-of-2 online signing end to end with a presignature ready")
def e2e_gg20() -> Result:
    return _e2e(
        "gg20",
        50,
        1,
        "GG20 2-of-2, StartSign{presignature_id}: the one online round (presigned beforehand, untimed); sequential",
        presigned=True,
    )


@entry("e2e.gg20.sign.full", note="GG20 2-of-2 signing end to end, presigning + online in one session")
def e2e_gg20_full() -> Result:
    return _e2e("gg20", 20, 1, "GG20 2-of-2, StartSign runs presigning then the online round; sequential")
