"""Logging set-up: readable lines for people by default, JSON lines for log shippers.

Context such as `session_id`, `key_id` and `client` travels as `extra=` fields and is printed by both
formats. Nothing secret is passed to a logger: callers log identifiers, sizes and outcomes only. Two
defences cover what libraries log: the HTTP/2 libraries (`hpack` logs every decoded header, bearer
tokens included, at debug level) are held at warnings, and every line is passed through `redact`.

Field values often come from the network (a session id, a method path), so the text format prints them
logfmt-style: quoted when they hold a space, `=`, a quote or anything unprintable, with escapes, so a
crafted value can neither forge another `key=value` field nor start a new line.

Refusals a peer can provoke at will (a bad MAC, a bad token, an invalid argument) are logged through
`log_event`: a fixed event name from `EVENTS`, the reason, and a token bucket per event name, so a
flood of bad requests costs a few lines per second, not one line each.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable

#: `extra=` fields that both formats print when present.
CONTEXT_FIELDS = (
    "event",
    "request_id",
    "session_id",
    "key_id",
    "protocol",
    "party",
    "client",
    "peer",
    "method",
    "code",
    "reason",
    "state",
    "culprits",
    "suppressed",
)

#: Event names of `log_event` lines, fixed so log shippers can alert on them (docs/operations.md, "Logs").
EVENTS = frozenset({"mac_refused", "token_refused", "invalid_argument"})

#: Loggers of the HTTP/2 stack: at debug level `hpack` prints every decoded header, bearer tokens included.
QUIET_LOGGERS = ("hpack", "h2")

#: The request id of the RPC being handled (set by the transport for each call; "" outside a call).
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

_REDACTIONS = (
    # an authorization header however a library prints it: `authorization: x`, `('authorization', 'x')`, ...
    (
        re.compile(r"""(?i)(\bauthorization\b['"]?\s*[:=,]\s*\(?\s*b?['"]?)[^'"\s,)}\]]+(?:\s+[^'"\s,)}\]]+)?"""),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [REDACTED]"),
    # a bare JWT (header.payload.signature, base64url JSON objects)
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
)
_PLAIN_VALUE = re.compile(r'[^\s="\\]+')
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def redact(text: str) -> str:
    """`text` with authorization values, bearer tokens and JWTs replaced by a marker."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def _escape(text: str, quote: bool) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES and (quote or ch not in '"\\'):
            out.append(_ESCAPES[ch])
        elif not ch.isprintable():
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def logfmt_value(value: object) -> str:
    """A field value as logfmt prints it: bare when it is one plain printable word, else quoted and escaped."""
    text = str(value)
    if _PLAIN_VALUE.fullmatch(text) and text.isprintable():
        return text
    return '"' + _escape(text, quote=True) + '"'


def one_line(text: str) -> str:
    """A message with control characters escaped, so no value inside it can start a new log line."""
    return _escape(text, quote=False)


def _utc(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and any context fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": _utc(record) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            if name in record.__dict__:
                out[name] = record.__dict__[name]
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """`2026-11-24T01:02:03Z INFO  signer.app  message  session_id=... key_id="a b"`"""

    def format(self, record: logging.LogRecord) -> str:
        ctx = " ".join(f"{n}={logfmt_value(record.__dict__[n])}" for n in CONTEXT_FIELDS if n in record.__dict__)
        line = f"{_utc(record)}Z {record.levelname:<7} {record.name}  {one_line(record.getMessage())}"
        if ctx:
            line += f"  {ctx}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return redact(line)


class _RequestIdFilter(logging.Filter):
    """Adds the current RPC's request id to every record logged while handling it."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        if request_id and "request_id" not in record.__dict__:
            record.request_id = request_id
        return True


class EventLimiter:
    """A token bucket per event name: `burst` lines at once, then `rate_per_s` lines a second.

    `allow(event)` returns None when the line is to be dropped, else how many lines of that event were
    dropped since the last one allowed (0 normally), so the next line can say so.
    """

    def __init__(self, rate_per_s: float = 1.0, burst: int = 10, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float, int]] = {}  # event -> (tokens, last refill, dropped)
        self._lock = threading.Lock()

    def allow(self, event: str) -> int | None:
        with self._lock:
            now = self._clock()
            tokens, last, dropped = self._buckets.get(event, (self._burst, now, 0))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            if tokens < 1:
                self._buckets[event] = (tokens, now, dropped + 1)
                return None
            self._buckets[event] = (tokens - 1, now, 0)
            return dropped


EVENT_LIMITER = EventLimiter()


def log_event(
    logger: logging.Logger, event: str, message: str, *, level: int = logging.WARNING, **fields: object
) -> None:
    """Log one refusal under a fixed event name, within that event's rate limit."""
    if event not in EVENTS:
        raise ValueError(f"unknown log event {event!r}")
    dropped = EVENT_LIMITER.allow(event)
    if dropped is None:
        return
    extra: dict[str, object] = {"event": event, **fields}
    if dropped:
        extra["suppressed"] = dropped
    logger.log(level, "%s", message, extra=extra)


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    """Route every `signer.*` (and library) logger to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # grpclib logs every client disconnect at INFO; keep its noise at warnings.
    logging.getLogger("grpclib").setLevel(max(logging.WARNING, root.level))
    # The HTTP/2 stack logs decoded headers (tokens) at debug: warnings only, whatever the node's level.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
