"""Knowing that a `signer serve` subprocess is up from the event it sends, instead of polling it.

The node tells $NOTIFY_SOCKET `READY=1` once its gRPC port is open (sd_notify, what systemd's Type=notify
unit waits for; signer/app.py). A test that binds that datagram socket learns the moment the node can be
called, where polling with `signer healthcheck` started a Python process every 0.2 s that competed with the
starting node for the machine's two cores.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from pathlib import Path


class ReadySocket:
    """An abstract-namespace datagram socket standing in for systemd's; bound for as long as the node runs,
    because the node's later notifications (STOPPING=1 on SIGTERM) fail loudly on a socket nobody binds."""

    def __init__(self) -> None:
        self.address = f"@mpc-signer-test-{secrets.token_hex(8)}"  # no file, no path-length limit
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._sock.bind(b"\0" + self.address[1:].encode())

    def env(self) -> dict[str, str]:
        """The environment for the node's process: this one's, plus NOTIFY_SOCKET naming this socket."""
        return {**os.environ, "NOTIFY_SOCKET": self.address}

    def wait(self, proc: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
        """Return when the node has said READY=1; fail with its log if it exits or stays silent `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"signer serve exited with {proc.returncode}:\n{log.read_text()}"
            self._sock.settimeout(min(0.5, max(deadline - time.monotonic(), 0.01)))
            try:
                state = self._sock.recv(4096).decode()
            except TimeoutError:
                continue
            if "READY=1" in state.splitlines():
                return
        raise AssertionError(f"signer serve was not ready within {timeout:g} s:\n{log.read_text()}")

    def close(self) -> None:
        self._sock.close()
