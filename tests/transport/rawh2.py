"""A raw HTTP/2 client (the `h2` package over a blocking socket) and `signer serve` as a real subprocess.

The client speaks just enough gRPC to ask for a status and otherwise sends whatever frames a test wants,
valid or not: hostile-peer tests and the soak test share it. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import hpack

PING = "/mpc.v1.SignerService/Ping"


def grpc_frame(body: bytes, flag: int = 0, length: int | None = None) -> bytes:
    """A gRPC length-prefixed message; `length` may lie about the body's size."""
    return struct.pack(">BI", flag, len(body) if length is None else length) + body


def raw_frame(frame_type: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    """Any HTTP/2 frame, bypassing h2's checks (unknown types, ORIGIN, ...)."""
    return struct.pack(">I", len(payload))[1:] + bytes([frame_type, flags]) + struct.pack(">I", stream_id) + payload


def headers_frame(stream_id: int, headers: Sequence[tuple[str, str]], end_stream: bool = False) -> bytes:
    """A HEADERS frame encoded without touching HPACK's dynamic table, so it can follow h2-made frames."""
    block = hpack.Encoder().encode([hpack.NeverIndexedHeaderTuple(k, v) for k, v in headers], huffman=False)
    return raw_frame(0x1, 0x4 | (0x1 if end_stream else 0), stream_id, block)


def rst_frame(stream_id: int, error_code: int = 0x8) -> bytes:
    return raw_frame(0x3, 0, stream_id, struct.pack(">I", error_code))


def request_headers(path: str, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "127.0.0.1"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        *extra,
    ]


@dataclass
class Answer:
    """What the server sent on one stream (or the connection, for GOAWAY/EOF)."""

    headers: dict[str, str] = field(default_factory=dict)
    data: bytes = b""
    ended: bool = False
    reset: int | None = None
    goaway: int | None = None
    eof: bool = False

    @property
    def grpc_status(self) -> int | None:
        value = self.headers.get("grpc-status")
        return None if value is None else int(value)


class RawH2:
    """One HTTP/2 connection to the node; `ssl_context` for mTLS (ALPN h2)."""

    def __init__(self, port: int, ssl_context: ssl.SSLContext | None = None, timeout: float = 10.0) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if ssl_context is not None:
            sock = ssl_context.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8", validate_outbound_headers=False)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.answers: dict[int, Answer] = {}
        self.connection = Answer()
        self.settled = False
        self.flush()
        deadline = time.monotonic() + timeout
        while not self.settled and not self.connection.eof and time.monotonic() < deadline:
            self.read_once(deadline - time.monotonic())  # the server's SETTINGS and window before any DATA

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def open_stream(self, path: str = PING, *extra: tuple[str, str], end: bool = False) -> int:
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, request_headers(path, *extra), end_stream=end)
        self.flush()
        return stream_id

    def send(self, stream_id: int, data: bytes, end: bool = True) -> None:
        """DATA in frames of the peer's maximum size (waits for no window: callers stay inside it)."""
        size = self.conn.max_outbound_frame_size
        chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        for i, chunk in enumerate(chunks):
            self.conn.send_data(stream_id, chunk, end_stream=end and i == len(chunks) - 1)
        self.flush()

    def call(self, path: str, body: bytes, *extra: tuple[str, str], deadline_s: float = 10.0) -> Answer:
        """A unary call with `body` as its (already framed) request; waits for the end of the stream."""
        stream_id = self.open_stream(path, *extra)
        self.send(stream_id, body)
        return self.wait(stream_id, deadline_s)

    def wait(self, stream_id: int, deadline_s: float = 10.0) -> Answer:
        """Read until the stream ends or is reset, or the connection goes away."""
        deadline = time.monotonic() + deadline_s
        answer = self.answers.setdefault(stream_id, Answer())
        while not (answer.ended or answer.reset is not None or self.connection.goaway is not None):
            if self.connection.eof or time.monotonic() > deadline:
                break
            self.read_once(deadline - time.monotonic())
        return answer

    def wait_closed(self, deadline_s: float = 10.0) -> Answer:
        """Read until the server closes the connection; the connection-level answer (GOAWAY code, EOF)."""
        deadline = time.monotonic() + deadline_s
        while not self.connection.eof and time.monotonic() < deadline:
            self.read_once(deadline - time.monotonic())
        return self.connection

    def read_once(self, timeout: float) -> None:
        self.sock.settimeout(max(timeout, 0.01))
        try:
            data = self.sock.recv(1 << 16)
        except TimeoutError:
            return
        except (ConnectionResetError, ssl.SSLError, OSError):
            data = b""
        if not data:
            self.connection.eof = True
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.connection.eof = True
            return
        for event in events:
            self._record(event)
        with contextlib.suppress(OSError):
            self.flush()

    def _record(self, event: h2.events.Event) -> None:
        stream_id = getattr(event, "stream_id", None)
        answer = self.answers.setdefault(stream_id, Answer()) if stream_id else self.connection
        if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
            answer.headers.update(dict(event.headers))
        elif isinstance(event, h2.events.DataReceived):
            answer.data += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            answer.ended = True
        elif isinstance(event, h2.events.StreamReset):
            answer.reset = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.connection.goaway = event.error_code
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            self.settled = True

    def raw_until_closed(self, deadline_s: float = 10.0) -> int | None:
        """After raw frames that h2 does not track: read frames unparsed until EOF; the GOAWAY code, if any."""
        buffer, goaway = b"", None
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(1 << 16)
            except TimeoutError:
                break
            except OSError:
                data = b""
            if not data:
                self.connection.eof = True
                break
            buffer += data
            while len(buffer) >= 9 and len(buffer) >= 9 + int.from_bytes(buffer[:3], "big"):
                length, frame_type = int.from_bytes(buffer[:3], "big"), buffer[3]
                if frame_type == 0x7:
                    goaway = int.from_bytes(buffer[9 + 4 : 9 + 8], "big")
                buffer = buffer[9 + length :]
        return goaway

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


@contextlib.contextmanager
def raw_connection(port: int, ssl_context: ssl.SSLContext | None = None) -> Iterator[RawH2]:
    client = RawH2(port, ssl_context)
    try:
        yield client
    finally:
        client.close()


def ping_ok(port: int, ssl_context: ssl.SSLContext | None = None) -> bool:
    """A fresh connection's Ping answers OK."""
    try:
        with raw_connection(port, ssl_context) as client:
            return client.call(PING, grpc_frame(b""), deadline_s=5).grpc_status == 0
    except OSError:
        return False


@dataclass
class ServeProcess:
    """`signer serve` on 127.0.0.1 as a subprocess (plaintext, tokens not checked: development mode)."""

    proc: subprocess.Popen
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def fds(self) -> int:
        return len(list(Path(f"/proc/{self.pid}/fd").iterdir()))

    def alive(self) -> bool:
        return self.proc.poll() is None


@contextlib.contextmanager
def serve(tmp_path: Path, port: int, *settings: str, args: Sequence[str] = ()) -> Iterator[ServeProcess]:
    """Start the node with `--set KEY=VALUE` for each of `settings`; wait until Ping answers; stop it after."""
    log_path = tmp_path / "serve.log"
    sets = [arg for s in settings for arg in ("--set", s)]
    command = [sys.executable, "-m", "signer", "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*command, *sets, *args], stdout=log, stderr=subprocess.STDOUT)
    node = ServeProcess(proc, port, log_path)
    try:
        deadline = time.monotonic() + 30
        while not ping_ok(port):
            assert node.alive(), node.log()
            assert time.monotonic() < deadline, "signer serve did not become ready"
            time.sleep(0.1)
        yield node
    finally:
        if node.alive():
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
