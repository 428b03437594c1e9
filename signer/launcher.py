"""The `signer` command's entry point. The command is the node's tool and needs the `node` extra; on a
client-only install (`pip install mpc-signer`, see the README) it says so in one line, not a traceback."""

from __future__ import annotations

import sys

# Top-level modules of the `node` extra in pyproject.toml (import names, not distribution names).
NODE_MODULES = frozenset({"trio", "trio_asyncio", "trio_parallel", "asyncpg", "tenacity", "yaml", "prometheus_client"})


def main() -> int:
    try:
        from signer.cli import main as cli_main

        return cli_main()
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in NODE_MODULES:
            raise
        print(
            f"signer: error: this command needs the node's dependencies (no module {exc.name!r}); "
            "install them with: pip install 'mpc-signer[node]'",
            file=sys.stderr,
        )
        return 1
