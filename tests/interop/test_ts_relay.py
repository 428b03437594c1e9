"""The contract alone suffices: a relay written in TypeScript (interop/relay.ts, @grpc/grpc-js loading
proto/mpc/v1/signer.proto at run time) plays mpc-service between two `signer serve` subprocesses — parties 1
and 2, each with its own data dir — over mTLS, with its own JWTs and MACs. It runs a 2-of-2 FROST and a 2-of-2
GG20 DKG and signing; the signatures are checked here with PyNaCl and the pure-Python `ecdsa` package.
The relay names both nodes' identities (from Ping) in StartDKG and forwards every party_signature untouched;
no device takes part, so the nodes run with `auth.approvals: none` (docs/contract.md §11.4).

Needs `node` and interop/node_modules (`npm ci` in interop/): in CI (CI=true) their absence fails the test,
elsewhere it skips with the reason. Each node's pre-parameters pool is seeded from the committed fixtures
before it starts (never generated here).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
from coincurve import PublicKey
from ecdsa import SECP256k1, VerifyingKey
from ecdsa.util import sigdecode_string
from nacl.signing import VerifyKey

from signer.auth.devcerts import DevCertPaths, make_dev_certs
from signer.auth.mac import message_mac
from signer.config import load_config
from signer.crypto.preparams import load_fixture_preparams
from signer.store import create_kek_file, open_store
from tests.support.ports import unused_port
from tests.support.ready import ReadySocket

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "interop"
FIXTURES = ROOT / "tests" / "paillier" / "fixtures" / "preparams.json"
SIGNER = [sys.executable, "-m", "signer"]
RELAY_TIMEOUT_S = 600
NODE_MAJOR = 20


def relay_command() -> list[str]:
    """`node interop/relay.mjs`, or a skip (a failure in CI) saying what is missing."""
    node = shutil.which("node")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else ""
    if node is None:
        missing = "node is not installed"
    elif not version.startswith("v") or int(version[1:].split(".")[0]) < NODE_MAJOR:
        missing = f"Node {NODE_MAJOR}+ is needed (found {version or 'no version'})"
    elif not (INTEROP / "node_modules" / "tsx").is_dir():
        missing = "interop/node_modules is missing (run `npm ci` in interop/)"
    else:
        missing = ""
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the TypeScript relay cannot run in CI: {missing}")
        pytest.skip(missing)
    return [node, str(INTEROP / "relay.mjs")]


def node_config(tmp_path: Path, certs: DevCertPaths, party: int, port: int) -> Path:
    """One node's YAML: its own id and data dir; the shared CA, server certificate, JWT key and HMAC key."""
    path = tmp_path / f"p{party}.yaml"
    path.write_text(
        f"""
node: {{id: interop-p{party}, data_dir: {tmp_path / f"p{party}"}}}
grpc:
  listen: 127.0.0.1:{port}
  tls_enabled: true
  cert_file: {certs.server_cert}
  key_file: {certs.server_key}
  ca_cert: {certs.ca_cert}
auth:
  jwt: {{public_key_file: {certs.jwt_public_key}, algorithms: [EdDSA]}}
  hmac: {{key_file: {certs.hmac_key}}}
  approvals: none
pools: {{preparams_size: 0}}
session: {{grace_period_s: 1}}
"""
    )
    return path


async def seed_preparams(config_path: Path, fixture: int) -> None:
    """One committed pre-parameter set in the node's store (its own set: the parties' Paillier keys differ)."""
    config = load_config(config_path, env={})
    Path(config["node.data_dir"]).mkdir(mode=0o700)
    async with open_store(config.storage_url, create_kek_file(config.kek_file), config["node.id"]) as store:
        await store.add_preparams(load_fixture_preparams(FIXTURES)[fixture].to_bytes())


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Nodes:
    """Two running `signer serve` processes (parties 1 and 2) and the credentials the relay uses."""

    certs: DevCertPaths
    ports: dict[int, int]
    logs: list[Path]

    def relay(self, *args: str, certs: Path | None = None) -> subprocess.CompletedProcess:
        command = [*relay_command(), "--certs", str(certs or self.certs.dir), "--server-name", "localhost", *args]
        command += [arg for party, port in self.ports.items() for arg in ("--node", f"{party}=127.0.0.1:{port}")]
        return subprocess.run(command, capture_output=True, timeout=RELAY_TIMEOUT_S)

    def log_text(self) -> str:
        return "\n".join(log.read_text() for log in self.logs)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory) -> Iterator[Nodes]:
    """Started once for the module; each node's pool holds one fixture set, i.e. one GG20 DKG."""
    relay_command()  # skip (or fail in CI) before starting anything
    tmp_path = tmp_path_factory.mktemp("interop")
    certs = make_dev_certs(tmp_path / "certs")
    running = Nodes(certs, {}, [])
    with ExitStack() as stack:
        for party in (1, 2):
            running.ports[party] = unused_port()
            config = node_config(tmp_path, certs, party, running.ports[party])
            trio.run(seed_preparams, config, party - 1)
            log = tmp_path / f"p{party}.log"
            running.logs.append(log)
            out = stack.enter_context(log.open("wb"))
            ready = ReadySocket()
            stack.callback(ready.close)
            proc = subprocess.Popen(
                [*SIGNER, "serve", "--config", str(config)], stdout=out, stderr=out, env=ready.env()
            )
            stack.callback(stop, proc)
            ready.wait(proc, log, timeout=60)
        yield running


def test_relay_type_checks():
    """relay.ts is strict TypeScript: tsc finds no type error (so the code that ran is the code reviewed)."""
    node = relay_command()[0]
    res = subprocess.run(
        [node, "node_modules/typescript/bin/tsc", "--noEmit", "-p", "."], cwd=INTEROP, capture_output=True
    )
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()


# Runs interop/mac.ts on vectors given as JSON on stdin; prints one MAC (hex) per vector.
MAC_SCRIPT = """
import { messageMac } from "./mac.ts";
let text = "";
for await (const chunk of process.stdin) text += chunk;
for (const v of JSON.parse(text)) {
  console.log(messageMac(Buffer.from(v.key, "hex"), { ...v, payload: Buffer.from(v.payload, "hex") }).toString("hex"));
}
"""


def test_relay_mac_matches_the_node_byte_for_byte_at_the_edges():
    """The relay's MAC equals the node's on the inputs a careless encoder gets wrong: non-ASCII session ids
    (UTF-8 length, not characters), sequences above 2**53 (no float), the largest u32 and an empty payload."""
    vectors = [
        ("会话-ü-" + "x" * 100, 1, 0, 0, 0, b""),
        ("s", 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 2**64 - 1, b"\x00" * 70_000),
        ("dkg-1", 2, 1, 3, 2**53 + 1, bytes(range(256))),
    ]
    keys = [bytes([i]) * 32 for i in range(len(vectors))]
    given = [
        {"key": k.hex(), "session_id": sid, "from_party": f, "to_party": t, "round": r, "sequence": str(q),
         "payload": p.hex()}
        for k, (sid, f, t, r, q, p) in zip(keys, vectors, strict=True)
    ]  # fmt: skip
    node = relay_command()[0]
    res = subprocess.run(
        [node, "--import", "tsx", "--input-type=module", "-e", MAC_SCRIPT],
        input=json.dumps(given).encode(),
        cwd=INTEROP,
        capture_output=True,
    )
    assert res.returncode == 0, res.stderr.decode()
    expected = [message_mac(k, *v).hex() for k, v in zip(keys, vectors, strict=True)]
    assert res.stdout.decode().split() == expected


def test_typescript_relay_runs_frost_and_gg20_between_two_nodes(nodes):
    res = nodes.relay("--protocol", "both", "--message", "cafe")
    assert res.returncode == 0, res.stderr.decode() + nodes.log_text()
    print(res.stdout.decode(), end="")  # shown by `just interop`
    frost, gg20 = (json.loads(line) for line in res.stdout.decode().splitlines())

    assert frost["protocol"] == "frost" and frost["message"] == "cafe"
    VerifyKey(bytes.fromhex(frost["public_key"])).verify(bytes.fromhex("cafe"), bytes.fromhex(frost["signature"]))

    assert gg20["protocol"] == "gg20" and gg20["message"] == "cafe"
    digest = bytes.fromhex(gg20["digest"])
    assert digest == hashlib.sha256(bytes.fromhex("cafe")).digest()
    key = VerifyingKey.from_string(bytes.fromhex(gg20["public_key"]), curve=SECP256k1)
    signature = bytes.fromhex(gg20["signature"])
    assert key.verify_digest(signature, digest, sigdecode=sigdecode_string)
    assert int.from_bytes(signature[32:], "big") <= SECP256k1.order // 2
    recovered = PublicKey.from_signature_and_message(signature + bytes([gg20["recovery_id"]]), digest, hasher=None)
    assert recovered.format() == bytes.fromhex(gg20["public_key"])


def test_relay_refuses_node_messages_under_another_hmac_key(nodes, tmp_path):
    """The relay checks every node message's MAC: with a key the nodes do not share it stops at the first
    outbound message, with one line on stderr and exit code 1 (no session is driven on unchecked words)."""
    other = tmp_path / "certs"
    shutil.copytree(nodes.certs.dir, other)
    (other / "hmac.hex").write_text("11" * 32 + "\n")
    res = nodes.relay("--protocol", "frost", certs=other)
    assert res.returncode == 1 and res.stdout == b""
    err = res.stderr.decode()
    assert err.startswith("relay: error: message 1:1 of ts-dkg-frost-") or err.startswith(
        "relay: error: message 2:1 of ts-dkg-frost-"
    ), err
    assert err.rstrip().endswith("has a bad MAC") and err.count("\n") == 1, err
