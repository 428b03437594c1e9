"""The relay side of the client library is light: importing it (what mpc-service embeds) loads neither the
node's store nor its metrics nor protocol arithmetic nor Trio. Checked in a fresh interpreter, so what
other tests imported earlier cannot hide a dependency."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN_PREFIXES = (
    "asyncpg",
    "sqlite3",
    "_sqlite3",
    "signer.store",
    "signer.engine",
    "signer.transport",
    "prometheus_client",
    "signer.metrics",
    "gmpy2",
    "signer.crypto",
    "signer.protocols.gg20",
    "signer.protocols.frost",
    "trio",
    "trio_asyncio",
    "trio_parallel",
)


def loaded_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(out.stdout))


#: Exception classes (what `signer.protocols.base` re-exports for the client's outcomes), and the identity keys
#: a coordinator signs messages and approvals with (docs/contract.md §11): Ed25519 and P-256 signatures
#: through pynacl and `cryptography`, which the client loads anyway for TLS and tokens. No protocol arithmetic.
ALLOWED = {"signer.crypto", "signer.crypto.errors", "signer.crypto.identity"}


def offenders(modules: set[str]) -> list[str]:
    forbidden = (m for m in modules if any(m == p or m.startswith(p + ".") for p in FORBIDDEN_PREFIXES))
    return sorted(m for m in forbidden if m not in ALLOWED)


def test_importing_the_relay_side_loads_no_store_metrics_protocol_math_or_trio():
    modules = loaded_after("from signer.client import Coordinator, NodeClient, Outcome, LocalParty, seal, unseal")
    assert "signer.client.coordinator" in modules and "grpclib.client" in modules  # the check sees real imports
    assert offenders(modules) == []


def test_the_check_would_see_a_forbidden_import():
    """The same check after importing protocol code does name it (the test above is not vacuous)."""
    modules = loaded_after("import signer.client\nimport signer.protocols.gg20")
    assert "gmpy2" in offenders(modules) and "signer.protocols.gg20" in offenders(modules)


def test_the_signer_command_on_a_client_only_install_says_what_to_install():
    """Without the node extra (Trio hidden here) the command answers one line, not a traceback."""
    hide_trio = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'trio': raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "sys.argv = ['signer', 'version']\n"
        "from signer.launcher import main\n"
        "sys.exit(main())\n"
    )
    res = subprocess.run([sys.executable, "-c", hide_trio], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert res.stderr.strip() == (
        "signer: error: this command needs the node's dependencies (no module 'trio'); "
        "install them with: pip install 'mpc-signer[node]'"
    )
