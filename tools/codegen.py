"""Regenerate gen/ (betterproto2 messages + grpclib server/client) and the grpcio test stubs.

Both outputs come from proto/mpc/v1/signer.proto. gen/ is committed and checked for staleness by
tests/test_gen_fresh.py; the grpcio stubs (tests/grpcio_stubs/) are an independent client used only
by tests and benchmarks, on their own import root because they import `mpc.v1` absolutely.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PROTO = "mpc/v1/signer.proto"
BETTERPROTO_OPTS = "client_generation=async,server_generation=async,google_protobuf_descriptors"


def protoc(*args: str) -> None:
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", *args, PROTO]
    subprocess.run(cmd, check=True, cwd=ROOT)


def generate_betterproto(out: Path) -> None:
    protoc(f"--python_betterproto2_out={out}", f"--python_betterproto2_opt={BETTERPROTO_OPTS}")


def generate_grpcio(out: Path) -> None:
    protoc(f"--python_out={out}", f"--grpc_python_out={out}", f"--pyi_out={out}")
    for d in [out / "mpc", out / "mpc" / "v1"]:
        (d / "__init__.py").touch()


def render(target: Path, producer) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        producer(Path(tmp))
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(tmp, target)


def main() -> None:
    render(ROOT / "gen", generate_betterproto)
    render(ROOT / "tests" / "grpcio_stubs", generate_grpcio)
    print("generated gen/ and tests/grpcio_stubs/")


if __name__ == "__main__":
    main()
