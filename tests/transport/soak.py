"""Mixed load plus abuse against `signer serve` on 127.0.0.1: FROST signings verified with pynacl while
hostile clients send bad frames, rapid resets, oversized and junk requests, and idle connections.

Used by tests/transport/test_soak.py, and as a script that prints the node's RSS and open file descriptors
(from /proc/PID/status and /proc/PID/fd) before and after N signings and after each abuse:

    python -m tests.transport.soak --signings 10000 [--set session.retention_s=5]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nacl.signing
import trio
import trio_asyncio

from signer.auth.keyfiles import load_hex_key
from signer.client.in_trio import TrioCoordinator, TrioNodeClient
from signer.crypto.identity import IdentityKey
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from tests.support.ports import unused_port
from tests.transport.rawh2 import (
    PING,
    ServeProcess,
    grpc_frame,
    headers_frame,
    raw_connection,
    raw_frame,
    request_headers,
    rst_frame,
    serve,
)

START_DKG = "/mpc.v1.SignerService/StartDKG"
SUBMIT = "/mpc.v1.SignerService/SubmitProtocolMessage"


def _unknown_frames(port: int) -> None:
    with raw_connection(port) as client:
        client.send_raw(raw_frame(0xEE, 0, 0, b"x") + raw_frame(0x0C, 0, 0, b"\x00\x05hello"))
        client.call(PING, grpc_frame(b""))


def _non_ascii_header(port: int) -> None:
    with raw_connection(port) as client:
        headers = [(k.encode(), v.encode()) for k, v in request_headers(PING)] + [(b"x-bad", b"\xff\xfe")]
        client.conn.send_headers(client.conn.get_next_available_stream_id(), headers)
        client.flush()
        client.wait_closed()


def _rapid_reset(port: int, pairs: int = 20_000) -> None:
    with raw_connection(port) as client:
        frames = (headers_frame(i, request_headers(PING)) + rst_frame(i) for i in range(1, 2 * pairs, 2))
        try:
            client.send_raw(b"".join(frames))
        except OSError:
            pass  # the node has closed the connection (GOAWAY ENHANCE_YOUR_CALM) while we were sending
        client.raw_until_closed(deadline_s=5)


def _oversized(port: int) -> None:
    with raw_connection(port) as client:
        for path in (PING, SUBMIT):
            stream_id = client.open_stream(path)
            client.send(stream_id, grpc_frame(b"\0" * 60_000, length=100_000_000), end=False)
            client.wait(stream_id)


def _junk(port: int) -> None:
    with raw_connection(port) as client:
        for body in (grpc_frame(b"\x0a\x02\xff\xfe"), grpc_frame(b"\x08\x05"), grpc_frame(b"x", length=9)):
            client.call(START_DKG, body)
        client.call(START_DKG, grpc_frame(b"\x0a\x01x", flag=1))


def _idle_connections(port: int, count: int = 200) -> None:
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    time.sleep(0.5)
    for s in sockets:
        s.close()


ABUSES: dict[str, Callable[[int], None]] = {
    "unknown frames": _unknown_frames,
    "non-ASCII header": _non_ascii_header,
    "rapid reset": _rapid_reset,
    "oversized": _oversized,
    "junk bodies": _junk,
    "idle connections": _idle_connections,
}


@dataclass
class SoakResult:
    signatures: int = 0
    failures: list[str] = field(default_factory=list)
    abuses: int = 0
    samples: list[tuple[str, int, int]] = field(default_factory=list)  # (label, RSS kB, fds)


def sample(node: ServeProcess, label: str, result: SoakResult, report: Callable[[str], None]) -> None:
    rss, fds = node.rss_kb(), node.fds()
    result.samples.append((label, rss, fds))
    report(f"{label:<32} RSS {rss / 1024:7.1f} MB   fds {fds}")


async def sign_many(node: ServeProcess, count: int | None, until: float | None, result: SoakResult) -> None:
    """FROST 2-of-2 signings through the node (P1 here), each verified with pynacl; stop at count or time."""
    key = load_hex_key(node.log_path.parent / "hmac.hex").key
    async with trio_asyncio.open_loop(), TrioNodeClient.connect("127.0.0.1", node.port, hmac_key=key) as client:
        coordinator = TrioCoordinator({2: client}, identities={1: IdentityKey.generate()}, poll_ms=2000)
        dkg_id = f"soak-dkg-{time.monotonic_ns()}"
        dkg = await coordinator.dkg(dkg_id, dkg_id, "frost", 2, 2, {1: FrostDkgSession(dkg_id, 1, 2, (1, 2))})
        assert dkg.ok, dkg.error
        share, verify_key = dkg.local[1].key_share, nacl.signing.VerifyKey(dkg.nodes[2].public_key)
        counter = iter(range(10**9))

        async def worker() -> None:
            while (count is None or result.signatures < count) and (until is None or time.monotonic() < until):
                n = next(counter)
                sid, message = f"{dkg_id}-s{n}", f"soak transfer {n}".encode()
                out = await coordinator.sign(
                    sid, dkg_id, message, (1, 2), {1: FrostSignSession(sid, 1, share, message, (1, 2))}
                )
                if out.ok:
                    verify_key.verify(message, out.nodes[2].signature)
                    result.signatures += 1
                else:
                    result.failures.append(f"{sid}: {out.error}")

        async with trio.open_nursery() as nursery:
            for _ in range(4):
                nursery.start_soon(worker)


def abuse_until(port: int, stop: threading.Event, result: SoakResult) -> None:
    """Every abuse in turn, again and again, until `stop` is set (a thread: these clients block)."""
    while not stop.is_set():
        for abuse in ABUSES.values():
            if stop.is_set():
                return
            try:
                abuse(port)
            except OSError:
                pass  # the node closing an abusive connection is the expected outcome
            result.abuses += 1


async def soak(node: ServeProcess, seconds: float) -> SoakResult:
    """Signings and abuse side by side for `seconds`."""
    result = SoakResult()
    stop = threading.Event()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(lambda: trio.to_thread.run_sync(abuse_until, node.port, stop, result))
        try:
            await sign_many(node, None, time.monotonic() + seconds, result)
        finally:
            stop.set()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signings", type=int, default=10_000)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="node setting (repeatable)")
    args = parser.parse_args()
    port = unused_port()
    result = SoakResult()
    with (
        tempfile.TemporaryDirectory(prefix="signer-soak-") as tmp,
        serve(Path(tmp), port, "log.level=warning", *args.set) as node,
    ):
        sample(node, "started", result, print)
        started = time.monotonic()
        trio.run(sign_many, node, args.signings, None, result)
        elapsed = time.monotonic() - started
        sample(node, f"after {result.signatures} signings", result, print)
        print(f"  ({elapsed:.0f} s, {len(result.failures)} failed)")
        for name, abuse in ABUSES.items():
            try:
                abuse(port)
            except OSError:
                pass
            time.sleep(1)
            sample(node, f"after {name}", result, print)
        assert node.alive(), node.log()


if __name__ == "__main__":
    main()
