"""Operator slips against a real `signer serve` over mTLS (issue 13 item 10): each is one line that says
what to do, never a traceback; and `signer demo` signs with an ES256 service key as well as EdDSA."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signer.auth.devcerts import make_dev_certs
from tests.support.ports import unused_port
from tests.support.ready import ReadySocket

SIGNER = [sys.executable, "-m", "signer"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*SIGNER, *args], capture_output=True, timeout=timeout)


def run_together(*commands: list[str]) -> list[subprocess.CompletedProcess]:
    """`run` for each command, all at once: a demo facing a TLS slip retries the lost connection for its
    10 s (the coordinator's retry_s) before it says so, and those waits need not follow one another."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda command: run(*command), commands))


def one_line(res: subprocess.CompletedProcess) -> str:
    """The one error line on stderr (the demo's "[demo] ..." progress lines aside)."""
    lines = [line for line in res.stderr.decode().strip().splitlines() if not line.startswith("[demo] ")]
    assert len(lines) == 1, res.stderr.decode()
    return lines[0]


def _pem_pair(key, directory: Path, name: str) -> tuple[Path, Path]:
    private = directory / f"{name}.pem"
    public = directory / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


@pytest.fixture(scope="module")
def es256_node(tmp_path_factory):
    """`signer serve` over mTLS whose service tokens are ES256 (mpc-service with a P-256 key)."""
    tmp = tmp_path_factory.mktemp("es256")
    certs = make_dev_certs(tmp / "certs")
    es_private, es_public = _pem_pair(ec.generate_private_key(ec.SECP256R1()), tmp, "es256")
    port = unused_port()
    config = tmp / "signer.yaml"
    config.write_text(
        f"""
node: {{data_dir: {tmp / "node"}}}
grpc:
  listen: 127.0.0.1:{port}
  tls_enabled: true
  cert_file: {certs.server_cert}
  key_file: {certs.server_key}
  ca_cert: {certs.ca_cert}
auth:
  jwt: {{public_key_file: {es_public}}}
  hmac: {{key_file: {certs.hmac_key}}}
pools: {{preparams_size: 0}}
"""
    )
    log = (tmp / "serve.log").open("wb")
    ready = ReadySocket()
    proc = subprocess.Popen([*SIGNER, "serve", "--config", str(config)], stdout=log, stderr=log, env=ready.env())
    try:
        ready.wait(proc, tmp / "serve.log")
        yield certs, config, port, es_private, tmp
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
        ready.close()


def _demo(certs, port: int, data_dir: Path, *extra: str) -> list[str]:
    """`signer demo` against the node, P1's store in `data_dir` (never the default ./data of the checkout)."""
    target = ["--target", f"127.0.0.1:{port}", "--hmac-key-file", str(certs.hmac_key), "--data-dir", str(data_dir)]
    return ["demo", "--json", *target, *extra]


def _mtls(certs) -> list[str]:
    files = {"--ca-cert": certs.ca_cert, "--client-cert": certs.client_cert, "--client-key": certs.client_key}
    return [arg for flag, path in files.items() for arg in (flag, str(path))]


def test_demo_with_an_es256_service_key(es256_node):
    certs, _, port, es_private, tmp = es256_node
    base = _demo(certs, port, tmp / "p1", *_mtls(certs), "--jwt-private-key", str(es_private))
    res = run(*base)  # the algorithm comes from the key
    assert res.returncode == 0, res.stderr.decode()
    obj = json.loads(res.stdout)
    assert obj["verified"] is True
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(obj["public_key"])).verify(
        bytes.fromhex(obj["signature"]), bytes.fromhex(obj["message"])
    )
    res = run(*base, "--jwt-algorithm", "ES256")
    assert res.returncode == 0, res.stderr.decode()
    # a named algorithm that does not fit the key, or one that does not exist: one line, exit 1
    res = run(*base, "--jwt-algorithm", "RS256")
    assert res.returncode == 1
    assert (
        one_line(res) == "signer: error: --jwt-private-key: JWT private key (EC secp256r1) does not fit algorithm RS256"
    )
    res = run(*base, "--jwt-algorithm", "HS256")
    assert res.returncode == 1 and "HMAC" in one_line(res)
    # an RSA service key is minted as RS256, which this node (ES256 key) refuses: the node's answer, one line
    rs_private, _ = _pem_pair(rsa.generate_private_key(65537, 2048), tmp, "rs256")
    res = run(*_demo(certs, port, tmp / "p1-rs256", *_mtls(certs), "--jwt-private-key", str(rs_private)))
    assert res.returncode == 1
    assert (
        one_line(res) == "signer: error: DKG ended FAILED: node 2: refused with UNAUTHENTICATED: "
        "service token algorithm RS256 does not fit the key"
    )


def test_tls_slips_are_one_line(es256_node):
    certs, config, port, _, tmp = es256_node
    target = f"127.0.0.1:{port}"
    plaintext = (["healthcheck", "--target", target], _demo(certs, port, tmp / "p1-plaintext"))
    no_client_cert = (
        ["healthcheck", "--target", target, "--ca-cert", str(certs.ca_cert)],
        _demo(certs, port, tmp / "p1-no-client-cert", "--ca-cert", str(certs.ca_cert)),
    )
    results = run_together(*plaintext, *no_client_cert)
    # plaintext against the TLS port
    for res in results[:2]:
        assert res.returncode == 1
        assert one_line(res) == (
            f"signer: error: {target} closed the connection: it probably serves TLS; pass --ca-cert "
            "(and --client-cert and --client-key if it requires client certificates)"
        )
    # TLS without the client certificate the node requires
    for res in results[2:]:
        assert res.returncode == 1
        assert one_line(res) == (
            f"signer: error: {target} closed the TLS connection: it requires a client certificate; "
            "pass --client-cert and --client-key"
        )
    # the node's configuration says so before any connection is tried
    res = run("healthcheck", "--config", str(config))
    assert res.returncode == 2
    assert "grpc.client_auth: require" in one_line(res)
    # the client certificate from the configuration (healthcheck.client_cert) is enough
    res = run(
        "healthcheck",
        "--config",
        str(config),
        "--set",
        f"healthcheck.client_cert={certs.client_cert}",
        "--set",
        f"healthcheck.client_key={certs.client_key}",
    )
    assert res.returncode == 0 and res.stdout.decode().strip() == "SERVING", res.stderr.decode()


def test_tls_against_a_plaintext_port_is_one_line(tmp_path):
    """A TLS client on a port that answers in clear text (a plaintext node, or anything else)."""
    certs = make_dev_certs(tmp_path / "certs")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer_in_clear() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"\x00\x00\x12\x04\x00\x00\x00\x00\x00" + bytes(18))  # an HTTP/2 SETTINGS frame

    thread = threading.Thread(target=answer_in_clear, daemon=True)
    thread.start()
    target = f"127.0.0.1:{port}"
    expected = (
        f"signer: error: {target} does not speak TLS (plaintext port?): drop --ca-cert, or enable grpc.tls_enabled"
    )
    try:
        res = run("healthcheck", "--target", target, "--ca-cert", str(certs.ca_cert))
        assert res.returncode == 1 and one_line(res) == expected
        res = run(*_demo(certs, port, tmp_path / "p1", *_mtls(certs)))
        assert res.returncode == 1 and one_line(res) == expected
    finally:
        server.close()
