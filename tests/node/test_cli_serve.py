"""`signer serve` as a real subprocess: grpcurl talks to it; SIGTERM drains (health NOT_SERVING) and exits 0."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time

from signer.crypto.identity import IdentityKey
from tests.conftest import grpcurl_path


def _start_serve(port: int, tmp_path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "signer", "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        res = subprocess.run(
            [grpcurl_path(), "-plaintext", f"127.0.0.1:{port}", "mpc.v1.SignerService/Ping"],
            capture_output=True,
        )
        if res.returncode == 0:
            return json.loads(res.stdout)
        time.sleep(0.1)
    raise AssertionError("signer serve did not become ready")


def test_serve_answers_grpcurl_and_exits_0_on_sigterm_after_not_serving(tmp_path, free_port):
    proc = _start_serve(free_port, tmp_path, "--node-id", "p2-sub", "--set", "session.grace_period_s=5")
    try:
        pong = _wait_ready(free_port, proc)
        assert pong["nodeId"] == "p2-sub"
        # Watch health while the node drains: the stream must show NOT_SERVING before the server goes away.
        watch = subprocess.Popen(
            [
                grpcurl_path(),
                "-plaintext",
                "-d",
                '{"service": ""}',
                f"127.0.0.1:{free_port}",
                "grpc.health.v1.Health/Watch",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        first = watch.stdout.readline() + watch.stdout.readline() + watch.stdout.readline()
        assert b"SERVING" in first
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 5
        rest = watch.communicate(timeout=10)[0]
        assert b'"NOT_SERVING"' in rest
        log = proc.stderr.read().decode()
        assert "draining" in log and "stopped" in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_port_in_use_is_one_line_error(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = subprocess.run(
            [sys.executable, "-m", "signer", "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path)],
            capture_output=True,
            timeout=30,
        )
    assert res.returncode == 1
    last = res.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("signer: error: cannot serve on 127.0.0.1:")
    assert "Traceback" not in res.stderr.decode()


def dkg_request(port: int, session_id: str, key_id: str) -> str:
    """StartDKG's JSON for grpcurl: FROST 2-of-2 with the node as party 2. It names the node's identity as
    Ping shows it (base64 in grpcurl's JSON) and a fresh device key for P1."""
    pong = subprocess.run(
        [grpcurl_path(), "-plaintext", f"127.0.0.1:{port}", "mpc.v1.SignerService/Ping"], capture_output=True
    )
    node_key = json.loads(pong.stdout)["identityPublicKey"]
    device_key = base64.b64encode(IdentityKey.generate().public_key).decode()
    identities = [
        {"party": 1, "scheme": "IDENTITY_SCHEME_ED25519", "public_key": device_key},
        {"party": 2, "scheme": "IDENTITY_SCHEME_ED25519", "public_key": node_key},
    ]
    return json.dumps(
        {
            "session_id": session_id,
            "key_id": key_id,
            "protocol": "PROTOCOL_FROST",
            "curve": "CURVE_ED25519",
            "threshold": 2,
            "total_parties": 2,
            "party_index": 2,
            "party_identities": identities,
        }
    )


def _start_waiting_dkg(port: int) -> None:
    """A FROST DKG that waits for P1 forever: work the node must give the grace period to."""
    request = dkg_request(port, "waits", "k")
    res = subprocess.run(
        [grpcurl_path(), "-plaintext", "-d", request, f"127.0.0.1:{port}", "mpc.v1.SignerService/StartDKG"],
        capture_output=True,
    )
    assert res.returncode == 0, res.stderr.decode()
    assert json.loads(res.stdout)["state"] == "SESSION_STATE_RUNNING"


def test_running_session_gets_the_grace_period_then_exit_0(tmp_path, free_port):
    proc = _start_serve(free_port, tmp_path, "--set", "session.grace_period_s=1.5", "--set", "pools.preparams_size=0")
    try:
        _wait_ready(free_port, proc)
        _start_waiting_dkg(free_port)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        elapsed = time.monotonic() - started
        assert 1.4 < elapsed < 10, elapsed
        assert "cancelled" in proc.stderr.read().decode().lower()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_second_signal_exits_at_once(tmp_path, free_port):
    proc = _start_serve(free_port, tmp_path, "--set", "session.grace_period_s=60", "--set", "pools.preparams_size=0")
    try:
        _wait_ready(free_port, proc)
        _start_waiting_dkg(free_port)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 1
        assert time.monotonic() - started < 5
        assert "second SIGINT" in proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
