"""`signer demo --refresh` and `--reshare-to` end to end: the command line, an in-process node with the full
production security (mTLS, service tokens, message MACs), P1 and a backup party P3 played by the demo.
Every signature, before and after the operation, is verified here by libsodium (PyNaCl) under the one
public key the first signing reported; the parties' stores on disk are checked to hold exactly the new
version; and an operator's wrong order is one line."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from nacl.signing import VerifyKey

from signer.cli import parse_reshare_to
from signer.client import (
    Coordinator,
    NodeClient,
    NodeView,
    TokenMinter,
    WireMessage,
    client_ssl_context,
    load_hex_key,
)
from signer.client.coordinator import KeyParties
from signer.client.demo import KeyRecord, PartyStore
from signer.config import ConfigError
from signer.crypto.identity import ED25519
from signer.protocols.base import DkgResult
from signer.protocols.frost import FrostRefreshSession
from signer.session_context import PartyIdentity
from tests.support.served import ServedNode

SIGNER = [sys.executable, "-m", "signer"]


def demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SIGNER, "demo", "--json", *args], capture_output=True, timeout=120)


def signings(res: subprocess.CompletedProcess) -> list[dict]:
    assert res.returncode == 0, res.stderr.decode()
    return [json.loads(line) for line in res.stdout.decode().splitlines()]


def assert_one_key_verifies_all(objects: list[dict], public_key: str) -> None:
    """Every object has the shape of a plain demo signing plus key_version, and libsodium verifies it
    under `public_key` (the key of the first signing: the operation must not have changed it)."""
    for obj in objects:
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
        assert obj["verified"] is True and obj["public_key"] == public_key
        message = bytes.fromhex(obj["message"])
        assert VerifyKey(bytes.fromhex(public_key)).verify(message, bytes.fromhex(obj["signature"])) == message


def store_files(directory: Path) -> set[str]:
    return {p.name.split(".", 1)[1] for p in directory.iterdir() if p.name not in ("identity.key", "node.pin")}


def test_demo_refresh_signs_before_and_after_under_the_same_key(tmp_path):
    objects = signings(demo("--refresh", "--message", "cafe", "--data-dir", str(tmp_path)))
    assert [o["key_version"] for o in objects] == [1, 2]
    assert_one_key_verifies_all(objects, objects[0]["public_key"])
    assert objects[0]["signature"] != objects[1]["signature"]
    # P1 keeps only the new version: its share file, and the parties file naming version 2; no pending left.
    p1 = tmp_path / "p1"
    assert store_files(p1) == {"v2.share", "parties.json"}
    assert json.loads(next(p1.glob("*.parties.json")).read_text())["key_version"] == 2


def test_demo_reshare_to_2_of_3_then_the_node_and_the_backup_sign_without_p1_and_refresh_together(tmp_path):
    objects = signings(demo("--reshare-to", "2-of-3", "--data-dir", str(tmp_path)))
    # One signing before (P1 + node), two after: P1 + node, then node + backup P3.
    assert [o["key_version"] for o in objects] == [1, 2, 2]
    assert_one_key_verifies_all(objects, objects[0]["public_key"])
    assert store_files(tmp_path / "p1") == store_files(tmp_path / "p3") == {"v2.share", "parties.json"}
    assert (tmp_path / "p3" / "identity.key").exists()  # the backup's own identity, not P1's
    assert (tmp_path / "p3" / "identity.key").read_bytes() != (tmp_path / "p1" / "identity.key").read_bytes()
    # A later refresh of the 2-of-3 key takes the backup along (every holder refreshes), and both quorums
    # sign with version 3.
    key_id = objects[0]["key_id"]
    refreshed = signings(demo("--refresh", "--key-id", key_id, "--data-dir", str(tmp_path)))
    assert [o["key_version"] for o in refreshed] == [2, 2, 3, 3]
    assert_one_key_verifies_all(refreshed, objects[0]["public_key"])
    assert store_files(tmp_path / "p1") == store_files(tmp_path / "p3") == {"v3.share", "parties.json"}


def test_refresh_of_a_key_that_does_not_exist_is_one_line(tmp_path):
    res = demo("--refresh", "--key-id", "no-such-wallet", "--data-dir", str(tmp_path))
    assert res.returncode == 1 and res.stdout == b""
    assert res.stderr.decode().splitlines()[-1] == (
        f"signer: error: --refresh: key 'no-such-wallet' does not exist in {tmp_path / 'p1'} "
        "(run the demo without the operation first, or without --key-id to make a new key)"
    )
    assert "Traceback" not in res.stderr.decode()


def test_reshare_to_an_impossible_threshold_is_a_usage_error():
    res = demo("--reshare-to", "3-of-2")
    assert res.returncode == 2
    assert res.stderr.decode().strip() == "signer: error: --reshare-to 3-of-2: T: an integer in [2, 2] is required"
    for arg, message in (
        ("2of3", "--reshare-to 2of3: expected T-of-N, e.g. 2-of-3"),
        ("-2-of-3", "--reshare-to -2-of-3: expected T-of-N, e.g. 2-of-3"),
        ("1-of-3", "--reshare-to 1-of-3: T: an integer in [2, 3] is required"),
        ("2-of-256", "--reshare-to 2-of-256: N: an integer in [2, 255] is required"),
    ):
        with pytest.raises(ConfigError) as err:
            parse_reshare_to(arg)
        assert str(err.value) == message


def test_the_party_store_switches_versions_in_one_step_and_keeps_the_old_until_then(tmp_path):
    """prepare writes the new version beside the current one (a reopened store, as after a crash, still
    signs with the current one); commit switches and deletes the old share; rollback keeps the current."""
    identities = (PartyIdentity(1, ED25519, b"\x01" * 32), PartyIdentity(2, ED25519, b"\x02" * 32))
    backup = PartyIdentity(3, ED25519, b"\x03" * 32)
    before, after = KeyParties("frost", 2, identities), KeyParties("frost", 2, (*identities, backup))
    store = PartyStore(tmp_path)
    store.put("k", KeyRecord(b"share-1", before, 1))
    store.prepare("k", KeyRecord(b"share-2", after, 2), "refresh-1")
    reopened = PartyStore(tmp_path)
    assert reopened.current("k") == KeyRecord(b"share-1", before, 1)
    assert reopened.pending("k") == (2, "refresh-1")
    reopened.rollback("k")
    assert reopened.current("k") == KeyRecord(b"share-1", before, 1) and reopened.pending("k") is None
    assert store_files(tmp_path) == {"share", "parties.json"}
    store.prepare("k", KeyRecord(b"share-2", after, 2), "refresh-2")
    store.commit("k")
    assert PartyStore(tmp_path).current("k") == KeyRecord(b"share-2", after, 2)
    assert store_files(tmp_path) == {"v2.share", "parties.json"}
    assert all(p.stat().st_mode & 0o077 == 0 for p in tmp_path.iterdir())  # secrets stay 0600


def served_demo(node: ServedNode, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    certs = node.certs
    return demo(
        "--target",
        f"127.0.0.1:{node.port}",
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
        str(data_dir),
        *args,
    )


async def interrupted_refresh(node: ServedNode, store: PartyStore, key_id: str, sid: str, *, delivered: bool) -> None:
    """A refresh whose relay dies at P1's confirmation, after delivering it to the node (`delivered`: the
    node then has every confirmation and commits) or before (the node waits in its confirmation round,
    which has no deadline). Either way P1 has prepared (its pending version is on disk) and never saw the
    outcome."""
    certs = node.certs
    ctx = client_ssl_context(certs.ca_cert, certs.client_cert, certs.client_key)
    minter = TokenMinter.from_file(certs.jwt_private_key, "mpc-service", "mpc-signer")
    hmac_key = load_hex_key(certs.hmac_key).key
    async with NodeClient.connect("localhost", node.port, hmac_key=hmac_key, ssl_context=ctx, minter=minter) as client:
        coordinator = Coordinator({2: client}, identities={1: store.identity()}, pinned=store.pinned())
        current = store.current(key_id)
        assert current is not None
        coordinator.remember_key(key_id, current.parties)
        submit = client.submit

        async def dies_at_p1_confirmation(m: WireMessage) -> NodeView:
            confirmation = m.from_party == 1 and m.round == 3
            if confirmation and not delivered:
                raise ConnectionResetError("relay lost")
            view = await submit(m)
            if confirmation:
                raise ConnectionResetError("relay lost")
            return view

        client.submit = dies_at_p1_confirmation  # type: ignore[method-assign]

        def prepare(index: int, key: KeyParties, pending: DkgResult) -> None:
            store.prepare(key_id, KeyRecord(pending.key_share, key, current.version + 1), sid)

        with pytest.raises(ConnectionResetError):
            await coordinator.refresh(sid, key_id, {1: FrostRefreshSession(sid, 1, current.share)}, prepare=prepare)
    assert store.pending(key_id) == (current.version + 1, sid)
    assert store.current(key_id) == current  # P1 still signs with the current version beside the pending one


def test_an_interrupted_refresh_is_settled_by_the_next_run_from_the_node(served, tmp_path):
    first = signings(served_demo(served, tmp_path, "--key-id", "wallet-r"))
    store = PartyStore(tmp_path / "p1")

    # P1's confirmation never reached the node: nobody committed; the next run drops P1's pending version
    # and signs with version 1 (the node still has it current).
    asyncio.run(interrupted_refresh(served, store, "wallet-r", "refresh-undelivered", delivered=False))
    res = served_demo(served, tmp_path, "--key-id", "wallet-r")
    kept = signings(res)
    assert "session refresh-undelivered dropped (on the node it still waits for confirmations)" in res.stderr.decode()
    assert store.pending("wallet-r") is None and store_files(tmp_path / "p1") == {"share", "parties.json"}

    # It reached the node, which committed: the next run commits P1's pending version and signs with it.
    # (This refresh's start also cancels the node's session left waiting above.)
    asyncio.run(interrupted_refresh(served, store, "wallet-r", "refresh-delivered", delivered=True))
    res = served_demo(served, tmp_path, "--key-id", "wallet-r")
    again = signings(res)
    assert "session refresh-delivered committed (the node completed it)" in res.stderr.decode()
    assert [o["key_version"] for o in first + kept + again] == [1, 1, 2]
    assert_one_key_verifies_all(first + kept + again, first[0]["public_key"])
    assert store.pending("wallet-r") is None and store_files(tmp_path / "p1") == {"v2.share", "parties.json"}

    # A pending version from a session the node does not know: both kept, nothing signed, one line.
    current = store.current("wallet-r")
    store.prepare("wallet-r", KeyRecord(b"not-a-share", current.parties, 3), "refresh-never-started")
    res = served_demo(served, tmp_path, "--key-id", "wallet-r")
    assert res.returncode == 1 and res.stdout == b""
    assert res.stderr.decode().splitlines()[-1] == (
        f"signer: error: key 'wallet-r': session refresh-never-started left key version 3 pending in {store.directory} "
        "and the node answers NOT_FOUND for it: both versions kept, nothing signed "
        "(`signer key list` on the node shows the version it holds)"
    )
    assert store.current("wallet-r") == current and store.pending("wallet-r") == (3, "refresh-never-started")
