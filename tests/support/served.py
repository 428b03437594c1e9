"""A real node for client tests: `signer serve` in a subprocess with full security (mTLS, service tokens,
message MACs) from `signer certs dev` credentials, stoppable and restartable on the same data directory
(its SQLite store survives restarts)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from signer.auth.devcerts import DevCertPaths, make_dev_certs
from tests.support.ready import ReadySocket

SIGNER = [sys.executable, "-m", "signer"]


class ServedNode:
    def __init__(self, directory: Path, port: int) -> None:
        self.certs: DevCertPaths = make_dev_certs(directory / "certs")
        self.port = port
        self.config = directory / "signer.yaml"
        self.log = directory / "serve.log"
        self.config.write_text(
            f"""
node: {{id: p2-client-tests, data_dir: {directory / "node"}}}
grpc:
  listen: 127.0.0.1:{port}
  tls_enabled: true
  cert_file: {self.certs.server_cert}
  key_file: {self.certs.server_key}
  ca_cert: {self.certs.ca_cert}
auth:
  jwt: {{public_key_file: {self.certs.jwt_public_key}}}
  hmac: {{key_file: {self.certs.hmac_key}}}
pools: {{preparams_size: 0}}
"""
        )
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready: ReadySocket | None = None

    def start(self) -> None:
        """Start the node and return once it has said READY=1 (its gRPC port is open)."""
        if self._ready is not None:  # left bound by a node that ended without stop()
            self._ready.close()
        self._ready = ReadySocket()
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen(
                [*SIGNER, "serve", "--config", str(self.config)], stdout=log, stderr=log, env=self._ready.env()
            )
        self._ready.wait(self._proc, self.log)

    def kill(self) -> None:
        """SIGKILL (kill -9): the node gets no chance to drain, answer or flush anything."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=30)
        self._proc = None

    def stop(self) -> None:
        """SIGTERM (the node drains) and wait for a clean exit."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            assert self._proc.wait(timeout=30) == 0, self.log.read_text()
        self._proc = None
        if self._ready is not None:
            self._ready.close()
            self._ready = None
