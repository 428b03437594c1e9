"""Hostile HTTP/2 peers against `signer serve` (a real subprocess on loopback), with raw frames from `h2`.

Whatever a peer sends, the worst outcome is that its own stream or connection is closed: the node keeps
running and answers everyone else. See signer/transport/guard.py for the limits exercised here.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import trio
from h2.errors import ErrorCodes

from signer.auth.tls import client_ssl_context
from tests.support.ports import unused_port
from tests.transport.rawh2 import (
    PING,
    RawH2,
    grpc_frame,
    headers_frame,
    ping_ok,
    raw_connection,
    raw_frame,
    request_headers,
    rst_frame,
    serve,
)

OK, INVALID_ARGUMENT, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNIMPLEMENTED = 0, 3, 4, 8, 12
START_DKG = "/mpc.v1.SignerService/StartDKG"
GET_DKG_STATUS = "/mpc.v1.SignerService/GetDKGStatus"
SUBMIT = "/mpc.v1.SignerService/SubmitProtocolMessage"
MAX_MESSAGE = 256 * 1024
NODE_SETTINGS = (
    f"grpc.max_message_bytes={MAX_MESSAGE}",
    "grpc.request_timeout_s=1",
    "grpc.idle_timeout_s=2",
    "pools.preparams_size=0",
)

# Frames that once stopped the node ~1.5 s after they arrived (grpclib raised out of data_received).
UNKNOWN_TYPE = raw_frame(0xEE, 0, 0, b"anything")
ORIGIN = raw_frame(0x0C, 0, 0, b"\x00\x10http://127.0.0.1")
ALTSVC = raw_frame(0x0A, 0, 0, b'\x00\x00h2=":443"')


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with serve(tmp_path_factory.mktemp("hostile"), unused_port(), *NODE_SETTINGS) as n:
        yield n
        assert n.alive(), n.log()
        assert "Traceback" not in n.log(), n.log()


def _assert_serving(node) -> None:
    time.sleep(2)  # the old failure surfaced ~1.5 s after the frame
    assert node.alive(), node.log()
    assert ping_ok(node.port)


@pytest.mark.parametrize("frame", [UNKNOWN_TYPE, ORIGIN, ALTSVC], ids=["type-0xEE", "ORIGIN", "ALTSVC"])
def test_unknown_frames_are_ignored_and_the_connection_still_works(node, frame):
    with raw_connection(node.port) as client:
        client.send_raw(frame)
        assert client.call(PING, grpc_frame(b"")).grpc_status == OK
    _assert_serving(node)


def test_a_non_ascii_header_closes_only_that_connection(node):
    with raw_connection(node.port) as client, raw_connection(node.port) as bystander:
        stream_id = client.conn.get_next_available_stream_id()
        headers = [(k.encode(), v.encode()) for k, v in [(":method", "POST"), (":scheme", "http"), (":path", PING)]]
        client.conn.send_headers(stream_id, [*headers, (b":authority", b"x"), (b"x-name", b"caf\xe9\xff")])
        client.flush()
        closed = client.wait_closed()
        assert closed.goaway == ErrorCodes.PROTOCOL_ERROR and closed.eof
        assert bystander.call(PING, grpc_frame(b"")).grpc_status == OK
    _assert_serving(node)


def test_an_oversized_message_is_refused_from_its_prefix_alone(node):
    """100 MB announced, 1 KB sent: RESOURCE_EXHAUSTED comes back without the node waiting for the rest."""
    with raw_connection(node.port) as client:
        for path in (PING, SUBMIT):
            stream_id = client.open_stream(path)
            client.send(stream_id, grpc_frame(b"\0" * 1024, length=100_000_000), end=False)
            answer = client.wait(stream_id, deadline_s=5)
            assert answer.grpc_status == RESOURCE_EXHAUSTED, (path, answer)
            assert "grpc.max_message_bytes" in answer.headers["grpc-message"]
        # content-length larger than any allowed message is refused at the headers
        stream_id = client.open_stream(PING, ("content-length", str(MAX_MESSAGE * 4)))
        assert client.wait(stream_id, deadline_s=5).grpc_status == RESOURCE_EXHAUSTED
        # the connection stays usable; a message at the limit is served (Ping ignores unknown fields)
        at_limit = b"\x0a" + _varint(MAX_MESSAGE - 5) + b"\0" * (MAX_MESSAGE - 5)
        assert len(at_limit) <= MAX_MESSAGE
        assert client.call(PING, grpc_frame(at_limit[:MAX_MESSAGE])).grpc_status in (OK, INVALID_ARGUMENT)
        assert client.call(PING, grpc_frame(b"")).grpc_status == OK


def test_parallel_oversized_uploads_do_not_grow_the_node(node):
    """Four clients each announcing 100 MB and sending what the window allows (the old node grew to 821 MB)."""
    before = node.rss_kb()

    def push() -> int | None:
        with raw_connection(node.port) as client:
            stream_id = client.open_stream(SUBMIT)
            client.send(stream_id, grpc_frame(b"\1" * MAX_MESSAGE, length=100_000_000), end=False)
            return client.wait(stream_id).grpc_status

    results: list[int | None] = []
    threads = [threading.Thread(target=lambda: results.append(push())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [RESOURCE_EXHAUSTED] * 4
    assert node.rss_kb() - before < 20_000
    _assert_serving(node)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (grpc_frame(b"\x0a\x02\xff\xfe"), INVALID_ARGUMENT),  # invalid UTF-8 in session_id
        (grpc_frame(b"\x08\x05"), INVALID_ARGUMENT),  # session_id sent as a varint (wrong wire type)
        (grpc_frame(b"\x0a\x05ab"), INVALID_ARGUMENT),  # field shorter than its length
        (grpc_frame(b"\xff" * 11), INVALID_ARGUMENT),  # varint longer than 10 bytes
        (grpc_frame(b"\x0a\x01x", length=10), INVALID_ARGUMENT),  # body ends inside the message
        (b"\x00\x00", INVALID_ARGUMENT),  # body ends inside the length prefix
        (grpc_frame(b"\x0a\x01x", flag=1), UNIMPLEMENTED),  # compressed flag, no grpc-encoding
        (grpc_frame(b"\x0a\x01x", flag=2), INVALID_ARGUMENT),  # reserved flag bits
    ],
    ids=[
        "bad-utf8",
        "wrong-wire-type",
        "short-field",
        "long-varint",
        "truncated",
        "short-prefix",
        "compressed",
        "reserved-flag",
    ],
)
def test_malformed_bodies_get_a_status_and_one_log_line(node, body, status):
    logged = len(node.log().splitlines())
    with raw_connection(node.port) as client:
        answer = client.call(START_DKG, body)
        assert answer.grpc_status == status, answer
        assert client.call(PING, grpc_frame(b"")).grpc_status == OK
    time.sleep(0.2)
    new_lines = node.log().splitlines()[logged:]
    assert len(new_lines) == 1 and "refused" in new_lines[0], new_lines


def test_absent_wait_ms_is_no_wait(node):
    with raw_connection(node.port) as client:
        answer = client.call(GET_DKG_STATUS, grpc_frame(b"\x0a\x07missing"))
        assert answer.grpc_status == 5, answer  # NOT_FOUND, not a crash on wait_ms


def test_rapid_reset_is_stopped_with_enhance_your_calm(node):
    with raw_connection(node.port) as client:
        client.send_raw(b"".join(headers_frame(i, request_headers(PING)) + rst_frame(i) for i in range(1, 2001, 2)))
        assert client.raw_until_closed() == ErrorCodes.ENHANCE_YOUR_CALM
    _assert_serving(node)


def test_streams_beyond_the_advertised_limit_close_the_connection(node):
    with raw_connection(node.port) as client:
        assert client.conn.remote_settings.max_concurrent_streams == 100
        client.send_raw(b"".join(headers_frame(i, request_headers(PING)) for i in range(1, 203, 2)))
        assert client.raw_until_closed() is not None
    _assert_serving(node)


def test_a_request_that_never_completes_times_out(node):
    with raw_connection(node.port) as client:
        stream_id = client.open_stream(PING)  # HEADERS only, no END_STREAM
        started = time.monotonic()
        answer = client.wait(stream_id, deadline_s=5)
        assert answer.grpc_status == DEADLINE_EXCEEDED, answer
        assert 0.8 < time.monotonic() - started < 3


def test_an_idle_connection_is_closed(node):
    with raw_connection(node.port) as client:
        assert client.call(PING, grpc_frame(b"")).grpc_status == OK
        closed = client.wait_closed(deadline_s=6)
        assert closed.goaway == ErrorCodes.NO_ERROR and closed.eof
    with socket.create_connection(("127.0.0.1", node.port)) as silent:  # not even the preface
        silent.settimeout(6)
        assert silent.recv(1 << 16)  # the server's SETTINGS
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and silent.recv(1 << 16):
            pass
        assert time.monotonic() < deadline, "a silent connection was never closed"


def test_connections_beyond_the_cap_are_turned_away(tmp_path):
    port = unused_port()
    with serve(tmp_path, port, "grpc.max_connections=3", "pools.preparams_size=0") as node:
        clients = [RawH2(port) for _ in range(3)]
        try:
            for c in clients:
                assert c.call(PING, grpc_frame(b"")).grpc_status == OK
            with raw_connection(port) as extra:
                assert extra.wait_closed().goaway == ErrorCodes.ENHANCE_YOUR_CALM
            clients.pop().close()
            deadline = time.monotonic() + 5
            while not ping_ok(port):
                assert time.monotonic() < deadline, "a freed connection slot was not reused"
                time.sleep(0.1)
        finally:
            for c in clients:
                c.close()
        assert node.alive()


def test_buffered_bytes_are_capped_per_connection(tmp_path):
    """Streams that hold partial messages: the one that would pass the connection budget is refused."""
    port = unused_port()
    budget = 1 << 20
    settings = (
        f"grpc.max_connection_buffered_bytes={budget}",
        "grpc.max_message_bytes=400000",
        "pools.preparams_size=0",
    )
    with serve(tmp_path, port, *settings) as node, raw_connection(port) as client:
        statuses = []
        for _ in range(4):
            stream_id = client.open_stream(SUBMIT)
            client.send(stream_id, grpc_frame(b"\1" * 300_000, length=390_000), end=False)
            statuses.append(client.wait(stream_id, deadline_s=0.5).grpc_status)
        assert statuses[:3] == [None, None, None] and statuses[3] == RESOURCE_EXHAUSTED, statuses
        assert client.call(PING, grpc_frame(b"")).grpc_status == OK
        assert node.alive()


async def test_hostile_frames_over_mtls_leave_the_in_process_node_running(secure_node):
    """mTLS and in-process: an escaping callback error would fail this test through the node's nursery."""
    certs = secure_node.certs
    context = client_ssl_context(certs.ca_cert, certs.client_cert, certs.client_key)
    context.set_alpn_protocols(["h2"])

    def abuse() -> int | None:
        with raw_connection(secure_node.port, context) as client:
            for frame in (UNKNOWN_TYPE, ORIGIN):
                client.send_raw(frame)
            return client.call(PING, grpc_frame(b"")).grpc_status

    assert await trio.to_thread.run_sync(abuse) == OK
    await trio.sleep(2)
    assert await trio.to_thread.run_sync(lambda: ping_ok(secure_node.port, context))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def test_reset_streams_are_freed_when_the_connection_goes(tmp_path):
    """20,000 HEADERS+RST_STREAM pairs under a permissive reset limit: nothing stays behind (was +160 MB)."""
    port = unused_port()
    with serve(tmp_path, port, "grpc.max_resets_per_s=1000000", "pools.preparams_size=0") as node:
        ping_ok(port)
        before = node.rss_kb()
        for _ in range(2):
            with raw_connection(port) as client:
                frames = (headers_frame(i, request_headers(PING)) + rst_frame(i) for i in range(1, 40_001, 2))
                client.send_raw(b"".join(frames))
                client.raw_until_closed(deadline_s=2)  # the server works through the frames meanwhile
            assert ping_ok(port)
        grown = node.rss_kb() - before
        assert grown < 20_000, f"RSS grew by {grown} kB"
