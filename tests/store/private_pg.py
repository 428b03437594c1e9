"""A private PostgreSQL server that a test may stop and start: store faults against a really stopped database.

The shared server at MPC_TEST_PG_URL serves every other test (and other suites running in parallel), so
it is never stopped; this one is `initdb`-ed into a temporary directory, listens on its own port on
127.0.0.1 with trust authentication, and is removed afterwards. Needs the server binaries
(/usr/lib/postgresql/*/bin) and, when run as root, the `postgres` user to run them as. Without the
binaries the tests are skipped, unless MPC_REQUIRE_POSTGRES=1, where they fail.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from tests.support.ports import unused_port

REQUIRE_PG = os.environ.get("MPC_REQUIRE_POSTGRES") == "1"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """One throwaway cluster: `start()`, `stop()`, `url`."""

    def __init__(self, bin_dir: Path, root: Path, user: str | None) -> None:
        self._bin = bin_dir
        self._root = root
        self._user = user
        self.data = root / "data"
        self.port = unused_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        cmd = [str(self._bin / argv[0]), *argv[1:]]
        if self._user is not None:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {res.stdout}{res.stderr}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self._root / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture(scope="module")
def private_pg() -> Iterator[PrivatePostgres]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        if REQUIRE_PG:
            pytest.fail("PostgreSQL server binaries not found (MPC_REQUIRE_POSTGRES=1)")
        pytest.skip("PostgreSQL server binaries not found")
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.skip("running as root without a postgres user to run the server as")
    root = Path(tempfile.mkdtemp(prefix="mpc-private-pg-"))
    if user is not None:
        shutil.chown(root, user)
    pg = PrivatePostgres(bin_dir, root, user)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        if pg.running():
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_server(private_pg: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The private server, running at the start of the test and again after it (whatever the test did)."""
    if not private_pg.running():
        private_pg.start()
    yield private_pg
    if not private_pg.running():
        private_pg.start()


def create_database(pg: PrivatePostgres, name: str) -> str:
    """A fresh database on the private server; returns its URL."""

    async def go() -> None:
        conn = await asyncpg.connect(pg.url, timeout=10)
        try:
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:  # its own thread: callable from inside Trio tests too
        pool.submit(asyncio.run, go()).result()
    return pg.url.rsplit("/", 1)[0] + "/" + name
