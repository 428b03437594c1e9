"""`signer key list` and `signer audit show` as an operator runs them (subprocesses), on both backends,
after a real FROST DKG and signing through two engines (party 1's engine on the store under test), and
after a DKG in which party 2 lied (the audit row's blame evidence)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import nacl.signing
import trio

from signer.blame import verify_evidence
from signer.crypto.identity import fingerprint
from signer.engine import ED25519, FROST, DkgRequest, EngineConfig, SessionKind, SignRequest
from signer.store import open_store
from signer.wire import ProtocolMessage
from tests.engine.harness import serving
from tests.engine.relay import relay
from tests.store.conftest import Target, worker_env
from tests.support.blame import bad_proof, fail_round1
from tests.support.identities import KEYS, node, start_as
from tests.support.memstore import MemoryStore

KEK = os.urandom(32)
MESSAGE = b"pay 42 to bob"


async def dkg_and_sign(url: str) -> bytes:
    """A 2-of-2 FROST key `wallet-1` (party 1 stored at `url`) and one signing `sign-1`; the public key."""
    async with open_store(url, KEK, "node-1") as store:
        parties = {
            1: node(EngineConfig(round_timeout_s=20.0), store, identity=await store.node_identity()),
            2: node(EngineConfig(round_timeout_s=20.0), MemoryStore()),
        }
        async with serving(*parties.values()):
            for p, m in parties.items():
                await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg-1", "wallet-1", FROST, ED25519, 2, 2, p))
            public_key = (await relay(parties, "dkg-1"))[1].public_key
            for m in parties.values():
                await start_as(parties, m, SessionKind.SIGN, SignRequest("sign-1", "wallet-1", MESSAGE, (1, 2)))
            signature = (await relay(parties, "sign-1"))[1].signature
    nacl.signing.VerifyKey(public_key).verify(MESSAGE, signature)
    return public_key


def signer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "signer", *args], capture_output=True, text=True, timeout=60, env=worker_env()
    )


def test_key_list_and_audit_show(target: Target) -> None:
    public_key = trio.run(dkg_and_sign, target.url)
    url = ["--storage-url", target.url]

    res = signer("key", "list", "--json", *url)
    assert res.returncode == 0, res.stderr
    (key,) = [json.loads(line) for line in res.stdout.splitlines()]
    created = key.pop("created_at")
    assert key == {
        "key_id": "wallet-1", "protocol": "frost", "curve": "ed25519", "threshold": 2, "parties": 2,
        "party_index": 1, "public_key": public_key.hex(), "key_version": 1, "refreshed_at": "",
    }  # fmt: skip
    assert created.endswith("+00:00")
    share = target.fetch("SELECT ciphertext FROM key_shares")[0][0]
    assert bytes(share).hex() not in res.stdout
    res = signer("key", "list", *url)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("key_id=wallet-1 protocol=frost curve=ed25519 threshold=2 parties=2 party_index=1 ")
    assert f"public_key={public_key.hex()}" in res.stdout

    res = signer("audit", "show", "sign-1", "--json", *url)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [(r["operation"], r["key_id"], r["result"], r["node_id"]) for r in rows] == [
        ("sign", "wallet-1", "completed", "node-1")
    ]
    assert rows[0]["message_digest"] == hashlib.sha256(MESSAGE).hexdigest()
    assert rows[0]["evidence"] is None  # nobody was blamed
    res = signer("audit", "show", "dkg-1", *url)
    assert res.returncode == 0, res.stderr
    (line,) = res.stdout.splitlines()
    assert " node_id=node-1 operation=dkg key_id=wallet-1 result=completed " in line

    res = signer("audit", "show", "no-such-session", *url)
    assert (res.returncode, res.stdout) == (1, "")
    assert res.stderr == "signer: error: no audit rows for session 'no-such-session'\n"


async def lying_dkg(url: str) -> tuple[ProtocolMessage, bytes]:
    """A FROST DKG `dkg-bad` in which party 2 sends a bad proof of knowledge; party 1's store is at `url`.
    Returns the message party 2 sent and its identity key."""
    async with open_store(url, KEK, "node-1") as store:
        parties = {
            1: node(EngineConfig(round_timeout_s=20.0), store, identity=await store.node_identity()),
            2: node(EngineConfig(round_timeout_s=20.0), MemoryStore()),
        }
        async with serving(*parties.values()):
            _, sent = await fail_round1(parties, DkgRequest("dkg-bad", "w", FROST, ED25519, 2, 2, 0), bad_proof)
    return sent, KEYS[parties[2]].public_key


def test_audit_show_prints_blame_evidence(target: Target) -> None:
    """The audit row of a session that named a culprit shows its evidence decoded, and `--json` gives the
    encoded evidence too, which verifies with public keys only."""
    sent, culprit_key = trio.run(lying_dkg, target.url)
    url = ["--storage-url", target.url]
    res = signer("audit", "show", "dkg-bad", "--json", *url)
    assert res.returncode == 0, res.stderr
    (row,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert (row["operation"], row["result"]) == ("dkg", "failed culprits=[2]")
    evidence = row["evidence"]
    assert (evidence["reporter"], evidence["culprits"], evidence["signatures_valid"]) == (1, [2], True)
    assert evidence["equivocations"] == []
    assert "proof of knowledge" in evidence["reason"]
    assert evidence["context"]["parties"][1] == {
        "party": 2, "scheme": "ed25519", "public_key": culprit_key.hex(), "fingerprint": fingerprint(culprit_key)
    }  # fmt: skip
    received, own = evidence["messages"]  # party 2's lie, then party 1's own round-1 broadcast
    assert received == {
        "source": "received", "from_party": 2, "to_party": 0, "round": 1, "sequence": sent.sequence,
        "payload": sent.payload.hex(), "party_signature": sent.party_signature.hex(), "signature_valid": True,
        "signature_error": "",
    }  # fmt: skip
    assert (own["source"], own["from_party"], own["round"], own["signature_valid"]) == ("sent", 1, 1, True)
    blame = verify_evidence(bytes.fromhex(evidence["encoded"]))
    assert blame.by_culprit[2] == (sent,) and blame.context.session_id == "dkg-bad"

    res = signer("audit", "show", "dkg-bad", *url)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert ' operation=dkg key_id=w result="failed culprits=[2]" ' in lines[0]
    assert lines[1].startswith("  evidence v1: reporter=1 culprits=[2] signatures=all valid reason=")
    assert f"  party 2: ed25519 {culprit_key.hex()} ({fingerprint(culprit_key)})" in lines
    assert f"  message 1 (received): from=2 to=0 round=1 sequence={sent.sequence} signature=valid" in lines
    assert f"    payload={sent.payload.hex()}" in lines
    assert f"    party_signature={sent.party_signature.hex()}" in lines
    assert "  message 2 (sent): from=1 to=0 round=1 sequence=1 signature=valid" in lines


def test_key_list_of_an_empty_store_and_a_missing_one(tmp_path, target: Target) -> None:
    res = signer("db", "migrate", "--storage-url", target.url)
    assert res.returncode == 0, res.stderr
    res = signer("key", "list", "--storage-url", target.url)
    assert (res.returncode, res.stdout, res.stderr) == (0, "", "")
    res = signer("key", "list", "--storage-url", f"sqlite:///{tmp_path}/nothing.db")
    assert res.returncode == 1 and len(res.stderr.splitlines()) == 1, res.stderr
    assert res.stderr.startswith("signer: error: storage: ")


def test_a_store_never_created_and_a_bad_session_id_are_one_line(tmp_path, target: Target) -> None:
    if target.sqlite_file is not None:  # a file, but no schema in it
        target.sqlite_file.parent.mkdir(parents=True)
        target.execute("CREATE TABLE unrelated (x)")
    for command in (("key", "list"), ("audit", "show", "s-1")):
        res = signer(*command, "--storage-url", target.url)
        assert (res.returncode, res.stdout) == (1, ""), res.stderr
        assert res.stderr == (
            "signer: error: storage: storage.url: no store there yet (start the node or run `signer db migrate`)\n"
        )
    res = signer("audit", "show", "bad\nid", "--storage-url", target.url)
    assert res.returncode == 2 and res.stderr.startswith("signer: error: SESSION_ID: "), res.stderr


def test_after_a_demo_signing(tmp_path) -> None:
    """The in-process demo node's store (`<data-dir>/node`), read by the commands an operator would run."""
    res = signer("demo", "--json", "--message", "c0ffee", "--data-dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    demo = json.loads(res.stdout)
    data_dir = ["--data-dir", str(tmp_path / "node")]
    res = signer("key", "list", "--json", *data_dir)
    assert res.returncode == 0, res.stderr
    (key,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert (key["key_id"], key["public_key"], key["party_index"]) == (demo["key_id"], demo["public_key"], 2)
    (session_id,) = Target("sqlite", "", tmp_path / "node" / "signer.db").fetch(
        "SELECT session_id FROM audit_log WHERE operation = 'sign'"
    )[0]
    res = signer("audit", "show", session_id, "--json", *data_dir)
    assert res.returncode == 0, res.stderr
    (row,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert (row["operation"], row["key_id"], row["result"]) == ("sign", demo["key_id"], "completed")
    assert row["message_digest"] == hashlib.sha256(bytes.fromhex("c0ffee")).hexdigest()
    assert row["client_identity"]
