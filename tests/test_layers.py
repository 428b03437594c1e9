"""The import contract of signer/: layers import downward only.

Read from the source with `ast` (every import statement, also those inside functions), so a lazy import
cannot slip past. The rules:

- Bottom modules `signer.limits`, `signer.schemes`, `signer.wire` (and `signer/__init__`) import nothing
  from signer: every layer may use them. `signer.session_context` (the signed layouts both the node and
  the client compute) is a bottom module too, but signs and verifies with `signer.crypto.identity`; and
  `signer.blame` (blame evidence, read by the engine, the CLI and any verifier) uses those two and `signer.wire`.
- The core chain is transport -> engine -> protocols -> crypto, downward only:
  - crypto imports nothing from signer outside crypto;
  - protocols (sans-IO) import only crypto and the bottom modules, and no I/O library;
  - engine imports protocols, crypto, store (the records and errors behind `EngineStore`), metrics and the
    bottom modules, never transport, client, auth, app or cli;
  - transport imports engine, auth, metrics and below, never client, app or cli.
- Only `signer.transport` and `signer.client` import the generated protobuf code `gen`.
- client never imports engine, transport or store: it shares `signer.wire` with transport and talks to a
  node over gRPC (the demo starts an in-process node through `signer.app`, the composition root).
- store and auth are below engine and transport: they import neither, nor client, protocols or gen.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIGNER = ROOT / "signer"
BOTTOM = ("signer.limits", "signer.schemes", "signer.wire", "signer.session_context", "signer.blame")
# Bottom modules that may import these modules (and nothing else from signer).
BOTTOM_CRYPTO = {
    "signer.session_context": ("signer.crypto.identity",),
    "signer.blame": ("signer.crypto.identity", "signer.session_context", "signer.wire"),
}
IO_LIBRARIES = ("trio", "trio_asyncio", "trio_parallel", "asyncio", "grpclib", "grpc", "socket", "sqlite3", "asyncpg")

ALLOWED_EXCEPTIONS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; `from signer import x` counts as signer.x if x is one)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                as_path = ROOT.joinpath(*candidate.split("."))
                if as_path.with_suffix(".py").exists() or (as_path / "__init__.py").exists():
                    found.add(candidate)
    return found


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violation(importer: str, target: str) -> str | None:
    """Why `importer` must not import `target`, or None if it may."""
    ours = within(target, "signer") and target != "signer"
    if within(target, "gen") and not within(importer, "signer.transport", "signer.client"):
        return "only transport and client import gen"
    if within(importer, *BOTTOM) and ours and not within(target, *BOTTOM_CRYPTO.get(importer, ())):
        return "bottom modules import nothing from signer"
    if within(importer, "signer.crypto") and ours and not within(target, "signer.crypto"):
        return "crypto imports nothing from signer outside crypto"
    if within(importer, "signer.protocols"):
        if ours and not within(target, "signer.protocols", "signer.crypto", *BOTTOM):
            return "protocols import only crypto and the bottom modules"
        if within(target, *IO_LIBRARIES):
            return "protocols are sans-IO"
    if within(importer, "signer.engine") and within(
        target, "signer.transport", "signer.client", "signer.auth", "signer.app", "signer.cli"
    ):
        return "engine imports downward only"
    if within(importer, "signer.transport") and within(target, "signer.client", "signer.app", "signer.cli"):
        return "transport imports downward only"
    if within(importer, "signer.transport") and within(target, "signer.store"):
        return "transport reaches the store only through the engine"
    if within(importer, "signer.client") and within(target, "signer.engine", "signer.transport", "signer.store"):
        return "client never imports engine, transport or store"
    if within(importer, "signer.store", "signer.auth") and within(
        target, "signer.engine", "signer.transport", "signer.client", "signer.protocols", "signer.app", "signer.cli"
    ):
        return "store and auth sit below engine and transport"
    return None


def test_imports_point_downward_only() -> None:
    found = []
    for path in sorted(SIGNER.rglob("*.py")):
        importer = module_name(path)
        for target in sorted(imports(path)):
            why = violation(importer, target)
            if why is not None and (importer, target) not in ALLOWED_EXCEPTIONS:
                found.append(f"{importer} imports {target}: {why}")
    assert not found, "\n".join(found)


def test_the_rules_catch_what_they_forbid() -> None:
    """The checker itself: each rule fires on an example of what it forbids."""
    assert violation("signer.client.coordinator", "signer.transport.convert")
    assert violation("signer.client.party", "signer.engine.model")
    assert violation("signer.crypto.group", "signer.protocols.base")
    assert violation("signer.protocols.frost.session", "signer.engine.model")
    assert violation("signer.protocols.gg20.sessions", "trio")
    assert violation("signer.engine.manager", "gen.mpc.v1")
    assert violation("signer.engine.manager", "signer.transport.service")
    assert violation("signer.limits", "signer.config")
    assert violation("signer.session_context", "signer.crypto.group")
    assert violation("signer.session_context", "signer.crypto.identity") is None
    assert violation("signer.store.repository", "signer.engine.errors")
    assert violation("signer.transport.convert", "gen.mpc.v1") is None
    assert violation("signer.client.coordinator", "signer.wire") is None
    assert violation("signer.engine.manager", "signer.store.errors") is None
