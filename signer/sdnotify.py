"""systemd's readiness protocol (sd_notify) without libsystemd: one datagram to $NOTIFY_SOCKET.

The unit is `Type=notify`, so systemd considers the node started only when it says READY=1 (after the
gRPC port is bound) and knows it is shutting down when it says STOPPING=1 (when draining begins). Outside
systemd NOTIFY_SOCKET is unset and every call is a no-op, so the daemon calls this unconditionally.
Protocol: sd_notify(3) — the state is newline-separated VAR=VALUE assignments sent as one datagram to the
AF_UNIX socket in NOTIFY_SOCKET; a leading '@' names a socket in the abstract namespace.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

READY = "READY=1"
STOPPING = "STOPPING=1"


def sd_notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Send `state` (e.g. READY, STOPPING, "STATUS=draining") to systemd; False when not run by systemd.

    Errors sending to a socket that systemd named are raised as OSError: a notify unit that never hears
    READY would be killed at its start timeout, so failing loudly is better than hanging silently.
    """
    if not isinstance(state, str) or not state or "\x00" in state:
        raise ValueError("sd_notify state must be a non-empty string of VAR=VALUE lines")
    address = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        target: str | bytes = b"\x00" + address[1:].encode()
    elif address.startswith("/"):
        target = address
    else:
        raise ValueError("NOTIFY_SOCKET must be an absolute path or start with '@'")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.sendto(state.encode(), target)
    return True
