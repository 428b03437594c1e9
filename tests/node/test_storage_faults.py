"""Store faults seen by an operator, against a real `signer serve` subprocess: `kek rotate` is refused while the
node runs (both backends), a read-only SQLite file is a one-line error with exit 2, a PostgreSQL that is
down at start-up is waited for (log line and systemd STATUS=) and, when it stops under a running node,
calls get UNAVAILABLE instead of INTERNAL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio

from signer.client.health import check_health
from signer.store import open_store, sqlite_url
from tests.conftest import grpcurl_path
from tests.node.test_cli_serve import _start_serve, _wait_ready, dkg_request
from tests.store.conftest import drop_pg_schema, new_pg_target, require_pg
from tests.store.private_pg import PrivatePostgres, create_database
from tests.store.volume import Volume


def signer(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "signer", *args], capture_output=True, text=True, timeout=timeout)


def start_dkg(port: int, session_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [grpcurl_path(), "-plaintext", "-d", dkg_request(port, session_id, session_id), f"127.0.0.1:{port}",
         "mpc.v1.SignerService/StartDKG"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


# The DKGs these tests start are never finished (no P1 answers them), so a node that stops drains for its whole
# grace period: 1 s instead of the default 20 s; draining itself is tested in tests/node/test_cli_serve.py.
SHORT_GRACE = ("--set", "session.grace_period_s=1")


def stop(proc: subprocess.Popen) -> str:
    """SIGTERM, expect exit 0; returns the node's log."""
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    return proc.stderr.read().decode()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_kek_rotate_is_refused_while_a_node_runs(backend, tmp_path, free_port):
    storage: tuple[str, ...] = ()
    schema = None
    if backend == "postgres":
        require_pg()
        target, schema = new_pg_target()
        storage = ("--storage-url", target.url)
    try:
        common = ("--data-dir", str(tmp_path), *storage)
        proc = _start_serve(free_port, tmp_path, *storage, *SHORT_GRACE, "--set", "pools.preparams_size=0")
        try:
            _wait_ready(free_port, proc)
            res = signer("kek", "rotate", *common, "--new", str(tmp_path / "new-kek.hex"))
            assert (res.returncode, res.stderr) == (2, "signer: error: a node is using this store; stop it first\n")
            assert not (tmp_path / "new-kek.hex").exists() or res.stdout == ""
            assert json.loads(start_dkg(free_port, "after-refusal").stdout)["state"] == "SESSION_STATE_RUNNING"
        finally:
            if proc.poll() is None:
                stop(proc)
        res = signer("kek", "rotate", *common, "--new", str(tmp_path / "new-kek.hex"))
        assert res.returncode == 0 and "re-wrapped" in res.stdout, res.stderr
    finally:
        if schema is not None:
            drop_pg_schema(schema)


def test_a_read_only_sqlite_file_is_one_line_and_exit_2(tmp_path, volume: Volume, free_port):
    kek = bytes(range(32))
    (tmp_path / "kek.hex").write_text(kek.hex())
    db = volume.path / "signer.db"

    async def create() -> None:
        async with open_store(sqlite_url(db), kek, "server-signer-p2"):
            pass

    trio.run(create)
    volume.read_only()
    res = signer("serve", "--listen", f"127.0.0.1:{free_port}", "--data-dir", str(tmp_path), "--storage-url",
                 sqlite_url(db))  # fmt: skip
    assert res.returncode == 2, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("signer: error:")]
    assert len(errors) == 1 and errors[0].startswith("signer: error: storage: storage.url: "), res.stderr
    assert errors[0].endswith("signer.db is read-only; the node must be able to write it")
    assert "Traceback" not in res.stderr


def notify_socket(path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(30)
    return listener


def test_postgres_down_at_start_is_waited_for_then_unavailable_while_stopped(
    pg_server: PrivatePostgres, tmp_path, free_port
):
    url = create_database(pg_server, "node_waits")
    pg_server.stop()
    with notify_socket(tmp_path / "notify") as listener:
        proc = subprocess.Popen(
            [sys.executable, "-m", "signer", "serve", "--listen", f"127.0.0.1:{free_port}", "--data-dir",
             str(tmp_path), "--storage-url", url, *SHORT_GRACE, "--set", "pools.preparams_size=0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify")},
        )  # fmt: skip
        try:
            assert listener.recv(4096).decode().startswith("STATUS=waiting for the database (")
            assert listener.recv(4096).decode().startswith("STATUS=waiting for the database (")
            assert proc.poll() is None
            pg_server.start()
            while (state := listener.recv(4096).decode()).startswith("STATUS=waiting"):
                pass
            assert state == "READY=1\nSTATUS=serving"
            _wait_ready(free_port, proc)
            assert json.loads(start_dkg(free_port, "up").stdout)["state"] == "SESSION_STATE_RUNNING"

            pg_server.stop()
            res = start_dkg(free_port, "down")
            assert res.returncode != 0 and "Code: Unavailable" in res.stdout + res.stderr, res
            assert "storage is unavailable; retry later" in res.stdout + res.stderr
            pg_server.start()
            assert json.loads(start_dkg(free_port, "back").stdout)["state"] == "SESSION_STATE_RUNNING"
            log = stop(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "storage unreachable" in log and "trying again in" in log
    assert "Traceback" not in log  # asyncpg's reconnect warnings are one line each


def test_postgres_down_past_the_connect_timeout_is_one_line(pg_server: PrivatePostgres, tmp_path, free_port):
    url = create_database(pg_server, "node_gives_up")
    pg_server.stop()
    res = signer("serve", "--listen", f"127.0.0.1:{free_port}", "--data-dir", str(tmp_path), "--storage-url", url,
                 "--set", "storage.connect_timeout_s=2")  # fmt: skip
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("signer: error: storage: storage.url: cannot reach PostgreSQL"), res.stderr
    assert "Traceback" not in res.stderr


def test_a_stop_while_waiting_for_postgres_exits_at_once(pg_server: PrivatePostgres, tmp_path, free_port):
    url = create_database(pg_server, "node_stopped_waiting")
    pg_server.stop()
    with notify_socket(tmp_path / "notify") as listener:
        proc = subprocess.Popen(
            [sys.executable, "-m", "signer", "serve", "--listen", f"127.0.0.1:{free_port}", "--data-dir",
             str(tmp_path), "--storage-url", url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify")},
        )  # fmt: skip
        try:
            assert listener.recv(4096).decode().startswith("STATUS=waiting for the database (")
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
            assert time.monotonic() - started < 5
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "SIGTERM received while starting: exiting" in proc.stderr.read().decode()


def wait_health(port: int, want: str, proc: subprocess.Popen, timeout: float = 30.0) -> float:
    """Poll gRPC health until it reports `want`; returns the seconds that took."""
    started = time.monotonic()
    while (status := check_health("127.0.0.1", port, None, 5.0)) != want:
        assert proc.poll() is None and time.monotonic() - started < timeout, status
        time.sleep(0.2)
    return time.monotonic() - started


def test_health_is_not_serving_while_postgres_is_down(pg_server: PrivatePostgres, tmp_path, free_port):
    url = create_database(pg_server, "node_health")
    proc = _start_serve(free_port, tmp_path, "--storage-url", url, *SHORT_GRACE, "--set", "pools.preparams_size=0",
                        "--set", "storage.probe_interval_s=0.5")  # fmt: skip
    try:  # the node is killed if the test fails, and stopped normally (its log read) if it passes
        _wait_ready(free_port, proc)
        assert check_health("127.0.0.1", free_port) == "SERVING"
        pg_server.stop()
        assert wait_health(free_port, "NOT_SERVING", proc) < 10
        time.sleep(1.5)  # it stays NOT_SERVING while the database is down
        assert check_health("127.0.0.1", free_port) == "NOT_SERVING"
        pg_server.start()
        assert wait_health(free_port, "SERVING", proc) < 10
        assert json.loads(start_dkg(free_port, "back").stdout)["state"] == "SESSION_STATE_RUNNING"
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    log = stop(proc)
    assert log.count("health NOT_SERVING until it answers") == 1, log
    assert log.count("storage reachable again: health SERVING") == 1, log
    assert "Traceback" not in log
