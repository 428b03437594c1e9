"""Subprocess side of the store tests: a parallel claimer, and a fork server for SIGKILL crash trials.

    python store_worker.py claim URL KEK_HEX NODE_ID KEY_ID
        opens the store, prints "ready", waits for a line on stdin, claims presignatures of KEY_ID until
        the pool is empty, prints them as one JSON list of hex strings.
    python store_worker.py claim-ids URL KEK_HEX NODE_ID KEY_ID ID,ID,...
        the same, but claims each named presignature id once, in order, and prints one JSON list with
        the hex of each claim it won and null for each it lost.
    python store_worker.py zygote
        reads one JSON job per stdin line ({"url", "kek", "trial", "delay_ms", "after_open"}); forks a
        child that writes records in a loop and reports each operation only after it returned,
        SIGKILLs the child delay_ms after the fork (or after the child opened the store, if
        after_open), and prints {"lines": [...]} (the child's acknowledged operations).

The fork server imports everything once, so a trial costs a fork, not an interpreter start.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import sys
import time

import trio

from signer.store import AuditEvent, open_store

CRASH_NODE = "crash-node"


def share_bytes(key_id: str) -> bytes:
    return hashlib.sha512(b"share:" + key_id.encode()).digest() * 2


def share_meta(key_id: str) -> dict[str, object]:
    digest = hashlib.sha256(b"pub:" + key_id.encode()).digest()
    if int(key_id.rsplit("k", 1)[1]) % 2:
        return dict(
            protocol="gg20", curve="secp256k1", public_key=b"\x02" + digest, threshold=2, parties=3, party_index=2
        )
    return dict(protocol="frost", curve="ed25519", public_key=digest, threshold=2, parties=2, party_index=1)


def presig_bytes(key_id: str, j: int) -> bytes:
    return f"presig:{key_id}:{j}:".encode() + hashlib.sha256(f"{key_id}:{j}".encode()).digest()


async def claim_main(url: str, kek_hex: str, node_id: str, key_id: str) -> None:
    async with open_store(url, bytes.fromhex(kek_hex), node_id) as store:
        print("ready", flush=True)
        await trio.to_thread.run_sync(sys.stdin.readline)
        got = []
        while (blob := await store.claim_presignature(key_id)) is not None:
            got.append(blob.hex())
        print(json.dumps(got), flush=True)


async def claim_ids_main(url: str, kek_hex: str, node_id: str, key_id: str, ids: str) -> None:
    async with open_store(url, bytes.fromhex(kek_hex), node_id) as store:
        print("ready", flush=True)
        await trio.to_thread.run_sync(sys.stdin.readline)
        got = []
        for item_id in ids.split(","):
            blob = await store.claim_presignature(key_id, item_id)
            got.append(None if blob is None else blob.hex())
        print(json.dumps(got), flush=True)


async def crash_writes(job: dict[str, object], fd: int) -> None:
    def report(*parts: str) -> None:
        os.write(fd, (" ".join(parts) + "\n").encode())

    async with open_store(str(job["url"]), bytes.fromhex(str(job["kek"])), CRASH_NODE, pool_size=2) as store:
        report("open")
        for i in range(100_000):
            key_id = f"t{job['trial']}-k{i}"
            dkg = AuditEvent(key_id, key_id, "dkg", None, "completed", "crash-test")
            await store.put_share(key_id, share_bytes(key_id), audit=dkg, **share_meta(key_id))  # type: ignore[arg-type]
            report("put", key_id)
            await store.add_presignatures(key_id, [presig_bytes(key_id, j) for j in range(3)])
            report("presig", key_id)
            claim = AuditEvent(f"sign-{key_id}", key_id, "claim", None, "claimed", "crash-test")
            blob = await store.claim_presignature(key_id, audit=claim)
            assert blob is not None
            report("claim", key_id, blob.hex())
            await store.consume_once("nonce", key_id)
            report("nonce", key_id)
            await store.append_audit(
                session_id=key_id,
                key_id=key_id,
                operation="sign",
                message_digest=None,
                result="completed",
                client_identity="crash-test",
            )
            report("audit", key_id)


def _wait_open(fd: int) -> bytes:
    """Read the child's reports until it says the store is open (or it died, or 30 s passed)."""
    buf = b""
    deadline = time.monotonic() + 30.0
    while b"open\n" not in buf and time.monotonic() < deadline:
        if select.select([fd], [], [], 1.0)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
    return buf


def zygote() -> None:
    for line in sys.stdin:
        job = json.loads(line)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            code = 0
            try:
                trio.run(crash_writes, job, w)
            except BaseException as exc:  # reported to the test, which fails on it
                os.write(w, f"error {type(exc).__name__}: {exc}\n".encode())
                code = 1
            os._exit(code)
        os.close(w)
        chunks = [_wait_open(r) if job["after_open"] else b""]
        time.sleep(job["delay_ms"] / 1000.0)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        while chunk := os.read(r, 65536):
            chunks.append(chunk)
        os.close(r)
        print(json.dumps({"lines": b"".join(chunks).decode().splitlines()}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "claim":
        trio.run(claim_main, *sys.argv[2:6])
    elif sys.argv[1] == "claim-ids":
        trio.run(claim_ids_main, *sys.argv[2:7])
    elif sys.argv[1] == "zygote":
        zygote()
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]}")
