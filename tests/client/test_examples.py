"""The README's client examples run as written: examples/asyncio_client.py (quoted in the README) and
examples/trio_client.py against a real `signer serve` node over mTLS, twice in a row (fresh session ids
every run), each checking its outcome and verifying the signature."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.served import ServedNode

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_example(name: str, node: ServedNode) -> str:
    args = [sys.executable, str(EXAMPLES / name)]
    if name == "trio_client.py":
        args += [str(node.certs.dir), str(node.port)]
    else:
        args += ["--certs", str(node.certs.dir), "--port", str(node.port)]
    res = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("name", ["asyncio_client.py", "trio_client.py"])
def test_example_signs_and_runs_again(served, name):
    first, second = run_example(name, served), run_example(name, served)
    for out in (first, second):
        assert "(verified)" in out
    assert first != second  # a new key and signature each run: nothing was replayed


def test_readme_quotes_the_asyncio_example():
    source = (EXAMPLES / "asyncio_client.py").read_text()
    body = source[source.index("async def main") : source.index('\n\nif __name__ == "__main__":')]
    assert body in (ROOT / "README.md").read_text()
