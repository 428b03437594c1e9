"""The HTTP/2 connection guard: what any peer may cost the node, enforced below grpclib's handlers.

grpclib has no limits of its own: it buffers a request of any declared size, keeps stream objects of
streams reset before their handler ran, raises out of `data_received` on frames it does not know (unknown
types, ORIGIN, ALTSVC) or on a header that is not ASCII — and inside trio-asyncio an exception escaping
an asyncio callback is re-raised into the node's nursery, which stops the node. `GuardedServer` keeps
grpclib's request handling and replaces its connection protocol with `GuardedProtocol`, which looks at
every h2 event before grpclib does. The rule: whatever a peer sends, the worst outcome is that its own
stream is refused or its own connection is closed.

Per stream (a refusal is a trailers-only response, then RST_STREAM; grpclib's handler task is cancelled):
- a gRPC message whose length prefix exceeds `grpc.max_message_bytes` (or a larger `content-length`):
  RESOURCE_EXHAUSTED as soon as its 5-byte prefix arrives, before its body is buffered;
- request bytes beyond the per-connection or node-wide budget (`grpc.max_connection_buffered_bytes`,
  `grpc.max_buffered_bytes`; counted from arrival until the call ends): RESOURCE_EXHAUSTED;
- the compressed flag: UNIMPLEMENTED — the node negotiates no message compression (gRPC's rule for an
  unsupported encoding); any other flag bit, or a body that ends inside a message: INVALID_ARGUMENT;
- a request not complete (client END_STREAM) within `grpc.request_timeout_s` of its HEADERS:
  DEADLINE_EXCEEDED;
- a message that does not decode as the method's protobuf type: INVALID_ARGUMENT (`StrictProtoCodec`).
Each refusal is one log line, never a traceback. `grpc.max_message_bytes` defaults to 2 MiB: the largest
legitimate request measured is a GG20 keygen round-1 broadcast relayed by SubmitProtocolMessage (135 KB with m = 128;
presigning messages are at most 9.5 KB, FROST's smaller), and a relayed message must still fit the engine's
own payload cap (`session.max_message_bytes`, 1 MiB) plus its envelope.

Per connection (GOAWAY, then close):
- at most `grpc.max_concurrent_streams` open streams (SETTINGS_MAX_CONCURRENT_STREAMS; h2 treats an
  excess stream as a protocol error); and while more calls than that are still running — streams the
  peer reset stay running until their task ends — the node stops reading from the connection;
- client resets (RST_STREAM) at most `grpc.max_resets_per_s` per second, with a burst of as many:
  past that, GOAWAY ENHANCE_YOUR_CALM (the rapid-reset attack, CVE-2023-44487);
- any h2 protocol error, undecodable header or unexpected failure while handling the peer's bytes;
- no open stream for `grpc.idle_timeout_s` (GOAWAY NO_ERROR);
- beyond `grpc.max_connections` connections, a new one gets GOAWAY ENHANCE_YOUR_CALM at once;
- a TLS handshake not done within `grpc.tls_handshake_timeout_s` (such a connection is not counted yet).
A closed connection frees its streams and handler tasks at once (grpclib would keep them until later
connections triggered its own clean-up).

The HTTP/2 flow-control windows bound what a peer may send ahead of the node's reading (per stream a bit
more than one maximal message, per connection the connection budget); the byte budgets above bound what
the node keeps while calls run.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import ssl
import struct
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import grpclib
from google.protobuf import message_factory
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet
from grpclib.config import Configuration
from grpclib.const import Status
from grpclib.encoding.proto import ProtoCodec, ProtoStatusDetailsCodec, _googleapis_available
from grpclib.metadata import encode_grpc_message
from grpclib.protocol import EventsProcessor, H2Protocol
from grpclib.protocol import Stream as H2Stream
from grpclib.server import Handler, Server
from h2.errors import ErrorCodes
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.exceptions import ProtocolError
from h2.settings import SettingCodes

log = logging.getLogger("signer.transport.guard")

GRPC_PREFIX = 5  # compressed flag (1 byte) + message length (4 bytes, big-endian)
GRPC_CONTENT_TYPE = "application/grpc+proto"


@dataclass(frozen=True)
class ConnectionLimits:
    """The `grpc.*` limits, one field per config key of the same name (defaults live in signer/config.py)."""

    max_message_bytes: int
    max_connection_buffered_bytes: int
    max_buffered_bytes: int
    max_concurrent_streams: int
    max_resets_per_s: float
    max_connections: int
    idle_timeout_s: float
    request_timeout_s: float
    tls_handshake_timeout_s: float

    def grpclib_config(self) -> Configuration:
        """Flow-control windows: a stream may run one maximal message ahead, a connection its budget."""
        stream_window = min(max(self.max_message_bytes + GRPC_PREFIX, 65535), 2**31 - 1)
        connection_window = min(max(self.max_connection_buffered_bytes, stream_window), 2**31 - 1)
        return Configuration(http2_connection_window_size=connection_window, http2_stream_window_size=stream_window)


@dataclass
class NodeBudget:
    """Counters shared by every connection of one server."""

    connections: int = 0
    buffered: int = 0


class StrictProtoCodec(ProtoCodec):
    """ProtoCodec that refuses, with INVALID_ARGUMENT, what is not a well-formed message of the method's type.

    betterproto2 is lenient: it cuts a truncated field short and stores a varint in a string field. So a
    betterproto2 request is first parsed by protobuf's own (upb) parser from the same descriptor, which
    rejects truncation and bad UTF-8; a field whose number is known but whose wire type is not is kept by
    protobuf as an unknown field, and refused here. Health and reflection requests are protobuf classes
    already. The refusal carries the parser's reason; the RPC observer logs it once, under the rate limit of
    the `invalid_argument` event (observe.py), so junk cannot flood the log.
    """

    def decode(self, data: bytes, message_type: Any) -> Any:
        name = getattr(message_type, "__name__", "message")
        try:
            reference = _reference_class(message_type)
            if reference is not None:
                _refuse_wrong_wire_types(reference.FromString(data))
            return super().decode(data, message_type)
        except Exception as exc:
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise grpclib.GRPCError(Status.INVALID_ARGUMENT, f"malformed {name}: {reason}") from None


@functools.cache
def _reference_class(message_type: type) -> type[Message] | None:
    """The protobuf class for a betterproto2 type (None for a protobuf class, which parses strictly itself)."""
    if issubclass(message_type, Message):
        return None
    return message_factory.GetMessageClass(message_type.DESCRIPTOR)  # type: ignore[attr-defined]


def _refuse_wrong_wire_types(message: Message) -> None:
    known = message.DESCRIPTOR.fields_by_number
    for unknown in UnknownFieldSet(message):
        if unknown.field_number in known:
            raise ValueError(f"field {known[unknown.field_number].name} has the wrong wire type")
    for descriptor, value in message.ListFields():
        if descriptor.message_type is not None:
            for child in [value] if isinstance(value, Message) else value:
                _refuse_wrong_wire_types(child)


class GuardedServer(Server):
    """grpclib's Server with `GuardedProtocol` connections, the strict codec and the limits' windows."""

    def __init__(self, handlers: Collection[Any], limits: ConnectionLimits) -> None:
        status_codec = ProtoStatusDetailsCodec() if _googleapis_available() else None
        config = limits.grpclib_config()
        super().__init__(handlers, codec=StrictProtoCodec(), status_details_codec=status_codec, config=config)
        self.limits = limits
        self.budget = NodeBudget()

    def _protocol_factory(self) -> H2Protocol:
        handler = _CallHandler(self._mapping, self._codec, self._status_details_codec, self.__dispatch__)
        self._handlers.add(handler)
        handler.on_drained = lambda: self._handlers.discard(handler)
        return GuardedProtocol(handler, self._config, self._h2_config, self.limits, self.budget)

    async def start_on(self, sock: socket.socket, ssl_context: ssl.SSLContext | None) -> None:
        """grpclib's `start(sock=..., ssl=...)` with a TLS handshake deadline (`grpc.tls_handshake_timeout_s`).

        A connection still in its handshake is not yet a `GuardedProtocol` (asyncio hands it over once the
        handshake is done), so `max_connections` cannot count it: its only bound is this deadline, which
        grpclib's `start` does not pass on (asyncio's default is 60 s).
        """
        if self._server is not None:
            raise RuntimeError("Server is already started")
        timeout = self.limits.tls_handshake_timeout_s if ssl_context is not None else None
        self._server = await self._loop.create_server(
            self._protocol_factory, sock=sock, ssl=ssl_context, ssl_handshake_timeout=timeout
        )
        self._server_closed_fut = self._loop.create_future()


class _CallHandler(Handler):
    """grpclib's per-connection Handler, made to forget every call as soon as its task ends.

    A stream reset before its task first ran never enters grpclib's `finally: release_stream()`, so the
    stream stayed registered: the task's done-callback releases it in every case (release is idempotent).
    """

    on_drained: Callable[[], None] | None = None

    def accept(self, stream: H2Stream, headers: Any, release_stream: Callable[[], Any]) -> None:
        super().accept(stream, headers, release_stream)
        task = self._tasks[stream]

        def done(t: asyncio.Task[None]) -> None:
            release_stream()
            if self._tasks.get(stream) is t:
                del self._tasks[stream]
            self._cancelled.discard(t)
            self._maybe_drained()

        task.add_done_callback(done)

    def cancel(self, stream: H2Stream) -> None:
        task = self._tasks.pop(stream, None)
        if task is not None:
            task.cancel()
            self._cancelled.add(task)

    def close(self) -> None:
        super().close()
        self._maybe_drained()

    def _maybe_drained(self) -> None:
        if self.closing and not self._tasks and not self._cancelled and self.on_drained is not None:
            self.on_drained()
            self.on_drained = None


@dataclass
class _Inbound:
    """One request stream as the guard sees it: the gRPC framing so far and the bytes it holds."""

    prefix: bytearray = field(default_factory=bytearray)
    remaining: int = 0  # body bytes of the current message still to come
    held: int = 0


class _Refusal(Exception):
    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Processor(EventsProcessor):
    """grpclib's event processor with an idempotent release that also tells the guard."""

    def __init__(self, handler: Any, connection: Any, on_release: Callable[[int], None]) -> None:
        super().__init__(handler, connection)
        self.on_release = on_release

    def register(self, stream: H2Stream) -> Callable[[], None]:
        release = super().register(stream)
        released = False

        def release_once() -> None:
            nonlocal released
            if not released:
                released = True
                release()
                assert stream.id is not None
                self.on_release(stream.id)

        return release_once


class _CoalescingTransport:
    """A connection's transport whose writes are gathered until the event loop's next turn.

    grpclib writes a response in three pieces (headers, message, trailers), each its own TLS record and
    its own send(), so its peer wakes up three times; gathered, a response (and whatever else the same
    turn produced: other responses, h2's acknowledgements) is one record and one system call. The bytes
    still go out in the loop iteration that wrote them (`call_soon`), so nothing waits for a timer, and
    TCP_NODELAY stays set on the socket (grpclib sets it on the real transport's socket).
    """

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._loop = asyncio.get_event_loop()

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedProtocol(H2Protocol):
    """grpclib's H2Protocol with the checks of the module docstring applied to every h2 event."""

    handler: _CallHandler

    def __init__(
        self, handler: _CallHandler, config: Configuration, h2_config: Any, limits: ConnectionLimits, budget: NodeBudget
    ) -> None:
        super().__init__(handler, config, h2_config)
        self.limits = limits
        self.budget = budget
        self.inbound: dict[int, _Inbound] = {}
        self.held = 0
        self.closed = False
        self.counted = False
        self.tokens = limits.max_resets_per_s
        self.refilled = time.monotonic()
        self.deadlines: dict[int, float] = {}  # incomplete requests, oldest first (all share one timeout)
        self.busy_at = time.monotonic()
        self.tick: asyncio.TimerHandle | None = None
        self.peer = "?"
        self.transport: Any = None
        self.reset_now: set[int] = set()
        self.paused = False

    # -- connection lifecycle

    def connection_made(self, transport: Any) -> None:
        transport = _CoalescingTransport(transport)
        super().connection_made(transport)
        self.transport = transport
        self.processor = _Processor(self.handler, self.connection, self._released)
        h2 = self.connection._connection
        h2.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: self.limits.max_concurrent_streams})
        self.connection.flush()
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        if self.budget.connections >= self.limits.max_connections:
            self._goaway(ErrorCodes.ENHANCE_YOUR_CALM, f"more than {self.limits.max_connections} connections")
            return
        self.budget.connections += 1
        self.counted = True
        self._schedule_tick()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._shutdown("connection lost")

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            events = self.connection.feed(data)
        except ProtocolError as exc:
            self.connection.flush()  # h2 has queued its GOAWAY
            self._drop(f"HTTP/2 protocol error: {exc}")
            return
        except Exception as exc:  # e.g. a header h2 cannot decode as ASCII
            self._goaway(ErrorCodes.PROTOCOL_ERROR, f"undecodable frame: {type(exc).__name__}")
            return
        # A stream the peer opens and resets within the same read never reaches grpclib (no task at all).
        self.reset_now = {e.stream_id for e in events if isinstance(e, StreamReset) and e.remote_reset}
        try:
            self.connection.flush()
            for event in events:
                if self.closed:
                    return
                self._on_event(event)
            self.reset_now = set()
            self.connection.flush()
            if len(self.processor.streams) > self.limits.max_concurrent_streams and not self.paused:
                self.paused = True
                self.transport.pause_reading()
        except Exception as exc:
            self._fail(exc)

    # -- events

    def _on_event(self, event: Any) -> None:
        if isinstance(event, RequestReceived):
            self._on_request(event)
        elif isinstance(event, DataReceived):
            self._on_data(event)
        elif isinstance(event, StreamEnded):
            self._on_end(event)
        elif isinstance(event, StreamReset):
            self._on_reset(event)
        elif isinstance(event, ConnectionTerminated):
            self._drop(f"GOAWAY from the peer ({event.error_code!r})", logging.DEBUG)
        elif type(event) in self.processor.processors:
            self.processor.process(event)
        # Anything else (unknown frame types, ALTSVC, ORIGIN, ...) is ignored, as RFC 9113 §5.5 requires.

    def _on_request(self, event: RequestReceived) -> None:
        stream_id = event.stream_id
        if stream_id in self.reset_now:
            return
        self.processor.process(event)
        self.inbound[stream_id] = _Inbound()
        self.busy_at = time.monotonic()
        self.deadlines[stream_id] = self.busy_at + self.limits.request_timeout_s
        headers: dict[Any, Any] = dict(event.headers or ())  # str pairs: the server decodes headers as ASCII
        length = str(headers.get("content-length", ""))
        if length.isdigit() and int(length) > self.limits.max_message_bytes + GRPC_PREFIX:
            self._refuse(stream_id, Status.RESOURCE_EXHAUSTED, self._too_large(int(length)))

    def _on_data(self, event: DataReceived) -> None:
        stream_id = event.stream_id
        state = self.inbound.get(stream_id)
        if state is None:  # refused or finished: drop the bytes but keep the connection window open
            self.connection.ack(stream_id, event.flow_controlled_length)
            return
        try:
            self._check_framing(state, event.data)
            self._hold(state, len(event.data))
        except _Refusal as refusal:
            self.connection.ack(stream_id, event.flow_controlled_length)
            self._refuse(stream_id, refusal.status, refusal.message)
            return
        self.processor.process(event)

    def _on_end(self, event: StreamEnded) -> None:
        state = self.inbound.get(event.stream_id)
        self.deadlines.pop(event.stream_id, None)
        if state is not None:
            if state.prefix or state.remaining:
                self._refuse(event.stream_id, Status.INVALID_ARGUMENT, "request body ends inside a message")
                return
        self.processor.process(event)

    def _on_reset(self, event: StreamReset) -> None:
        self.deadlines.pop(event.stream_id, None)
        if event.remote_reset:
            now = time.monotonic()
            rate = self.limits.max_resets_per_s
            self.tokens = min(rate, self.tokens + (now - self.refilled) * rate)
            self.refilled = now
            self.tokens -= 1
            if self.tokens < 0:
                self._goaway(ErrorCodes.ENHANCE_YOUR_CALM, f"more than {rate:g} stream resets per second")
                return
        self.processor.process(event)

    # -- per-stream checks

    def _check_framing(self, state: _Inbound, data: bytes) -> None:
        """Walk the gRPC length-prefixed messages in `data`, refusing a bad prefix as soon as it is whole."""
        view = memoryview(data)
        while view:
            if state.remaining:
                step = min(state.remaining, len(view))
                state.remaining -= step
                view = view[step:]
                continue
            need = GRPC_PREFIX - len(state.prefix)
            state.prefix += view[:need]
            view = view[need:]
            if len(state.prefix) < GRPC_PREFIX:
                return
            flag, length = struct.unpack(">BI", state.prefix)
            state.prefix.clear()
            if flag == 1:
                raise _Refusal(Status.UNIMPLEMENTED, "compressed messages are not supported (no grpc-encoding)")
            if flag:
                raise _Refusal(Status.INVALID_ARGUMENT, "reserved bits set in the message flag")
            if length > self.limits.max_message_bytes:
                raise _Refusal(Status.RESOURCE_EXHAUSTED, self._too_large(length))
            state.remaining = length

    def _hold(self, state: _Inbound, size: int) -> None:
        limits = self.limits
        if self.held + size > limits.max_connection_buffered_bytes:
            raise _Refusal(Status.RESOURCE_EXHAUSTED, "too much request data in flight on this connection")
        if self.budget.buffered + size > limits.max_buffered_bytes:
            raise _Refusal(Status.RESOURCE_EXHAUSTED, "node busy: too much request data in flight")
        state.held += size
        self.held += size
        self.budget.buffered += size

    def _too_large(self, size: int) -> str:
        return f"request message of {size} bytes exceeds grpc.max_message_bytes ({self.limits.max_message_bytes})"

    def _refuse(self, stream_id: int, status: Status, message: str) -> None:
        """Answer `status` on the stream (trailers), reset it, cancel its handler and forget its bytes."""
        log.warning("refused stream %d from %s: %s %s", stream_id, self.peer, status.name, message)
        self._forget(stream_id)
        h2 = self.connection._connection
        h2_stream = h2.streams.get(stream_id)
        if h2_stream is not None and not h2_stream.closed:
            headers = (
                []
                if h2_stream.state_machine.headers_sent
                else [(":status", "200"), ("content-type", GRPC_CONTENT_TYPE)]
            )
            headers += [("grpc-status", str(status.value)), ("grpc-message", encode_grpc_message(message))]
            h2.send_headers(stream_id, headers, end_stream=True)
            if not h2_stream.closed:
                h2.reset_stream(stream_id, ErrorCodes.NO_ERROR)
        stream = self.processor.streams.get(stream_id)
        if stream is not None:
            self.handler.cancel(stream)  # a plain cancel: grpclib logs nothing more for it

    def _released(self, stream_id: int) -> None:
        self._forget(stream_id)
        self.busy_at = time.monotonic()
        if self.paused and not self.closed and len(self.processor.streams) <= self.limits.max_concurrent_streams:
            self.paused = False
            self.transport.resume_reading()

    def _forget(self, stream_id: int) -> None:
        self.deadlines.pop(stream_id, None)
        state = self.inbound.pop(stream_id, None)
        if state is not None:
            self.held -= state.held
            self.budget.buffered -= state.held

    # -- timeouts and closing

    def _schedule_tick(self) -> None:
        """One timer per connection, re-armed as it fires (cancelled timers would linger in the loop)."""
        period = min(self.limits.request_timeout_s, self.limits.idle_timeout_s) / 4
        self.tick = asyncio.get_event_loop().call_later(period, self._on_tick)

    def _on_tick(self) -> None:
        """Refuse requests past their deadline; close the connection when idle for too long."""
        if self.closed:
            return
        try:
            now = time.monotonic()
            for stream_id, deadline in list(self.deadlines.items()):
                if deadline > now:
                    break
                self._refuse(stream_id, Status.DEADLINE_EXCEEDED, "request not received within grpc.request_timeout_s")
            self.connection.flush()
            if self.processor.streams:
                self.busy_at = now
            elif now - self.busy_at >= self.limits.idle_timeout_s:
                self._goaway(ErrorCodes.NO_ERROR, "idle", logging.DEBUG)
                return
        except Exception as exc:
            self._fail(exc)
            return
        self._schedule_tick()

    def _fail(self, exc: Exception) -> None:
        """A bug while handling this peer costs the peer its connection, never the node its life."""
        log.error("closing connection from %s after an error: %r", self.peer, exc)
        self._goaway(ErrorCodes.INTERNAL_ERROR, "internal error")

    def _goaway(self, code: ErrorCodes, reason: str, level: int = logging.WARNING) -> None:
        """Tell the peer why (GOAWAY) and close this connection only."""
        h2 = self.connection._connection
        try:
            h2.close_connection(error_code=code)
            self.connection.flush()
        except Exception:  # noqa: S110 - the state machine may already be closed; closing is what matters
            pass
        self._drop(reason, level)

    def _drop(self, reason: str, level: int = logging.WARNING) -> None:
        log.log(level, "closing connection from %s: %s", self.peer, reason)
        self._shutdown(reason)

    def _shutdown(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        if self.tick is not None:
            self.tick.cancel()
        for stream_id in list(self.inbound):
            self._forget(stream_id)
        if self.counted:
            self.budget.connections -= 1
            self.counted = False
        self.processor.close(reason)
