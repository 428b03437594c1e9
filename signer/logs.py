"""Logging set-up: readable lines for people by default, JSON lines for log shippers.

Context such as `session_id`, `key_id` and `client` travels as `extra=` fields and is printed by both
formats. Nothing secret is ever passed to a logger: callers log identifiers, sizes and outcomes only.
"""

from __future__ import annotations

import json
import logging
import sys
import time

#: `extra=` fields that both formats print when present.
CONTEXT_FIELDS = ("session_id", "key_id", "protocol", "party", "client", "peer", "state", "culprits")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and any context fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if name in record.__dict__:
                out[name] = record.__dict__[name]
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """`2026-11-24T01:02:03Z INFO  signer.app  message  session_id=... key_id=...`"""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        ctx = " ".join(f"{n}={record.__dict__[n]}" for n in CONTEXT_FIELDS if n in record.__dict__)
        line = f"{ts} {record.levelname:<7} {record.name}  {record.getMessage()}"
        if ctx:
            line += f"  {ctx}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str = "info", fmt: str = "text") -> None:
    """Route every `signer.*` (and library) logger to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # grpclib logs every client disconnect at INFO; keep its noise at warnings.
    logging.getLogger("grpclib").setLevel(max(logging.WARNING, root.level))
