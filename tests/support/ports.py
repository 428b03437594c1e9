"""A free loopback TCP port for a node, a database or a metrics listener the tests start themselves."""

from __future__ import annotations

import socket


def unused_port() -> int:
    """A port nothing listens on right now (the OS picks it; the caller binds it soon after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
