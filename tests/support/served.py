"""A real node for client tests: `signer serve` in a subprocess with full security (mTLS, service tokens,
message MACs) from `signer certs dev` credentials, stoppable and restartable on the same data directory
(its SQLite store survives restarts)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from signer.auth.devcerts import DevCertPaths, make_dev_certs

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

    def start(self) -> None:
        """Start the node and return once its gRPC health is SERVING."""
        with self.log.open("ab") as log:
            self._proc = subprocess.Popen([*SIGNER, "serve", "--config", str(self.config)], stdout=log, stderr=log)
        health = [*SIGNER, "healthcheck", "--config", str(self.config)]
        health += ["--client-cert", str(self.certs.client_cert), "--client-key", str(self.certs.client_key)]
        deadline = time.monotonic() + 30
        while subprocess.run(health, capture_output=True, timeout=30).returncode != 0:
            assert self._proc.poll() is None and time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

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
