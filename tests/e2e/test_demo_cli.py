"""The command line end to end: `signer demo` in-process and against a `signer serve` subprocess over mTLS,
`signer healthcheck`, and the store commands. Signatures are re-verified here with pyca/cryptography."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signer.auth.devcerts import make_dev_certs
from tests.support.ports import unused_port
from tests.support.ready import ReadySocket

SIGNER = [sys.executable, "-m", "signer"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*SIGNER, *args], capture_output=True, timeout=timeout)


def check_ed25519(obj: dict) -> None:
    assert obj["verified"] is True
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(obj["public_key"]))
    key.verify(bytes.fromhex(obj["signature"]), bytes.fromhex(obj["message"]))


def test_demo_in_process_json():
    res = run("demo", "--json", "--count", "2", "--message", "deadbeef")
    assert res.returncode == 0, res.stderr.decode()
    lines = [json.loads(line) for line in res.stdout.decode().splitlines()]
    assert len(lines) == 2
    for obj in lines:
        assert set(obj) == {
            "protocol",
            "key_id",
            "key_version",
            "public_key",
            "message",
            "signature",
            "recovery_id",
            "verified",
        }
        assert obj["key_version"] == 1
        assert obj["message"] == "deadbeef"
        check_ed25519(obj)


def test_demo_rejects_bad_arguments():
    res = run("demo", "--message", "xyz")
    assert res.returncode == 2
    assert res.stderr.decode().strip() == "signer: error: --message: expected hex"
    res = run("demo", "--chain", "ethereum", "--protocol", "frost")
    assert res.returncode == 2
    assert "needs --protocol gg20" in res.stderr.decode()
    res = run("demo", "--target", "127.0.0.1:1", "--hmac-key-file", "/nonexistent/hmac.hex")
    assert res.returncode == 1
    assert res.stderr.decode().strip() == "signer: error: HMAC key file /nonexistent/hmac.hex not found"


@pytest.fixture
def served(tmp_path, free_port):
    """`signer serve` over mTLS with tokens, at debug log level, its stderr captured for the secret scan.

    The wrong-HMAC signing is left running in the node (its messages are refused, not fatal), so the node's
    SIGTERM drain gets 1 s rather than the default 20 s; draining is tested in tests/node/test_cli_serve.py."""
    certs = make_dev_certs(tmp_path / "certs")
    data = tmp_path / "node"
    config = tmp_path / "signer.yaml"
    metrics_port = unused_port()
    config.write_text(
        f"""
node: {{id: p2-e2e, data_dir: {data}}}
grpc:
  listen: 127.0.0.1:{free_port}
  tls_enabled: true
  cert_file: {certs.server_cert}
  key_file: {certs.server_key}
  ca_cert: {certs.ca_cert}
auth:
  jwt: {{public_key_file: {certs.jwt_public_key}}}
  hmac: {{key_file: {certs.hmac_key}}}
pools: {{preparams_size: 0}}
session: {{grace_period_s: 1}}
log: {{level: debug, format: json}}
metrics: {{listen: 127.0.0.1:{metrics_port}}}
"""
    )
    log = (tmp_path / "serve.log").open("wb")
    ready = ReadySocket()
    proc = subprocess.Popen([*SIGNER, "serve", "--config", str(config)], stdout=log, stderr=log, env=ready.env())
    health = [
        "healthcheck",
        "--config",
        str(config),
        "--client-cert",
        str(certs.client_cert),
        "--client-key",
        str(certs.client_key),
    ]
    try:
        ready.wait(proc, tmp_path / "serve.log")
        yield certs, config, free_port, proc, tmp_path / "serve.log", health, metrics_port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()
        ready.close()


def test_demo_against_served_node_then_reuse_key_and_no_secret_in_logs(served, tmp_path):
    certs, config, port, proc, log_path, health, metrics_port = served
    res = run(*health)
    assert res.returncode == 0 and res.stdout.decode().strip() == "SERVING"
    remote = [
        "demo",
        "--json",
        "--target",
        f"127.0.0.1:{port}",
        "--ca-cert",
        str(certs.ca_cert),
        "--client-cert",
        str(certs.client_cert),
        "--client-key",
        str(certs.client_key),
        "--jwt-private-key",
        str(certs.jwt_private_key),
        "--hmac-key-file",
        str(certs.hmac_key),
        "--data-dir",
        str(tmp_path / "p1"),
        "--key-id",
        "wallet-7",
        "--chain",
        "solana",
    ]
    first = run(*remote)
    assert first.returncode == 0, first.stderr.decode()
    one = json.loads(first.stdout)
    check_ed25519(one)
    assert one["chain"] == "solana" and one["address"]
    second = run(*remote, "--message", "00ff")
    assert second.returncode == 0, second.stderr.decode()
    two = json.loads(second.stdout)
    assert two["public_key"] == one["public_key"]  # the existing key, no second DKG
    check_ed25519(two)
    # Wrong HMAC key: the node refuses the relayed messages (UNAUTHENTICATED), one line, exit 1.
    wrong = tmp_path / "wrong.hex"
    wrong.write_text("11" * 32 + "\n")
    res = run(*[a if a != str(certs.hmac_key) else str(wrong) for a in remote])
    assert res.returncode == 1
    assert "MAC" in res.stderr.decode()
    assert "Traceback" not in res.stderr.decode()

    scrape = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    assert 'mpc_rpc_duration_seconds_count{code="OK",method="StartDKG"} 1.0' in scrape
    assert 'mpc_rpc_duration_seconds_count{code="OK",method="StartSign"} 3.0' in scrape

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    log = log_path.read_bytes()
    secrets_known = [
        certs.hmac_key.read_text().strip(),
        (tmp_path / "node" / "kek.hex").read_text().strip(),
        certs.jwt_private_key.read_text().splitlines()[1],
        certs.server_key.read_text().splitlines()[1],
    ]
    p1_shares = list((tmp_path / "p1" / "p1").glob("*.share"))
    assert p1_shares
    secrets_known += [s.read_bytes().hex()[-64:] for s in p1_shares]
    for secret in secrets_known:
        assert secret.encode() not in log
    assert b"p2-e2e" in log or b"session" in log


def test_store_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'db' / 'signer.db'}"
    (tmp_path / "db").mkdir()
    res = run("db", "migrate", "--storage-url", url)
    assert res.returncode == 0, res.stderr.decode()
    status = run("db", "status", "--storage-url", url)
    assert status.returncode == 0 and "up to date" in status.stdout.decode()
    res = run("kek", "rotate", "--storage-url", url, "--data-dir", str(tmp_path), "--new", str(tmp_path / "new.hex"))
    assert res.returncode == 1
    assert res.stderr.decode().startswith("signer: error: storage: ")
    res = run("key", "delete", "some-key", "--storage-url", url)
    assert res.returncode == 2 and "--yes" in res.stderr.decode()


def test_demo_gg20_ethereum_recovers_with_eth_account():
    """GG20 end to end (in-process node over mTLS): eth-account recovers the address from the personal-message
    signature, and the pure-Python `ecdsa` package verifies (r, s) over the digest."""
    import ecdsa
    from eth_account import Account
    from eth_account.messages import encode_defunct

    res = run("demo", "--protocol", "gg20", "--chain", "ethereum", "--json", "--message", "cafe", timeout=300)
    assert res.returncode == 0, res.stderr.decode()
    obj = json.loads(res.stdout)
    assert obj["verified"] is True and obj["protocol"] == "gg20"
    recovered = Account.recover_message(encode_defunct(bytes.fromhex("cafe")), signature=obj["chain_signature"])
    assert recovered == obj["address"]
    key = ecdsa.VerifyingKey.from_string(bytes.fromhex(obj["public_key"]), curve=ecdsa.SECP256k1)
    assert key.verify_digest(bytes.fromhex(obj["signature"]), bytes.fromhex(obj["digest"]))
    assert int(obj["signature"][64:], 16) <= ecdsa.SECP256k1.order // 2


def test_demo_frost_secp256k1_taproot_verifies_with_libsecp256k1():
    """FROST(secp256k1) for Taproot end to end (in-process node over mTLS): libsecp256k1 (coincurve) verifies
    the BIP-340 signature under the output key, which it also tweaks itself from the 33-byte group key; the
    P2TR address is bip_utils' encoding of that key; the digest is Bitcoin's double SHA-256 of the message."""
    import hashlib

    import coincurve
    from bip_utils import P2TRAddrEncoder

    from tests.frost.test_taproot import independent_output_key

    taproot = ("demo", "--protocol", "frost", "--curve", "secp256k1", "--chain", "bitcoin")
    res = run(*taproot, "--json", "--message", "cafe")
    assert res.returncode == 0, res.stderr.decode()
    obj = json.loads(res.stdout)
    assert obj["verified"] is True and obj["protocol"] == "frost" and obj["chain"] == "bitcoin"
    group_key, output_key = bytes.fromhex(obj["public_key"]), bytes.fromhex(obj["output_key"])
    digest, signature = bytes.fromhex(obj["digest"]), bytes.fromhex(obj["signature"])
    assert len(group_key) == 33 and len(output_key) == 32 and len(signature) == 64
    assert digest == hashlib.sha256(hashlib.sha256(bytes.fromhex("cafe")).digest()).digest()
    assert output_key == independent_output_key(group_key, None)
    assert coincurve.PublicKeyXOnly(output_key).verify(signature, digest)
    assert not coincurve.PublicKeyXOnly(group_key[1:]).verify(signature, digest)
    assert obj["address"] == P2TRAddrEncoder.EncodeKey(group_key, hrp="bc")  # BIP-86: tweaks the internal key
    assert obj["address"].startswith("bc1p")
    # a scheme the chain cannot take, or a curve the protocol does not run on: one line, exit 2
    res = run("demo", "--protocol", "frost", "--curve", "secp256k1", "--chain", "solana")
    assert res.returncode == 2 and "needs --protocol frost --curve ed25519" in res.stderr.decode()
    res = run("demo", "--protocol", "gg20", "--curve", "ed25519")
    assert res.returncode == 2 and res.stderr.decode().strip() == (
        "signer: error: --curve ed25519: --protocol gg20 runs on secp256k1"
    )
