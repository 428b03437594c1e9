"""Operator commands behind `signer db migrate|status`, `signer kek rotate`, `signer key delete|list`,
`signer audit show` and `signer identity show`.

Each has an async form (for callers already inside Trio) and a synchronous wrapper that runs it with
`trio.run` (for the CLI). Errors are `StoreError` subclasses whose message is one line fit for the
terminal; none carries a secret.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from signer import limits
from signer.crypto.identity import fingerprint
from signer.store.backend import Backend
from signer.store.errors import StoreConfigError
from signer.store.kek import create_kek_file, load_kek
from signer.store.records import AuditEntry, KeyInfo, SchemaStatus
from signer.store.repository import open_backend, open_store


def format_status(status: SchemaStatus) -> str:
    state = "up to date" if not status.pending else f"{len(status.pending)} migration(s) pending"
    lines = [f"schema version {status.current} of {status.latest} ({state})"]
    lines += [f"  applied {v}: {d} at {at.isoformat()}" for v, d, at in status.applied]
    lines += [f"  pending {v}: {d}" for v, d in status.pending]
    return "\n".join(lines)


async def db_migrate_async(url: str) -> str:
    """Apply pending schema migrations (no KEK needed); returns a report for the terminal."""
    async with open_backend(url) as backend:
        applied = await backend.migrate()
        status = await backend.status()
    done = ", ".join(f"{v} ({d})" for v, d in applied) if applied else "nothing to apply"
    return f"migrations applied: {done}\n{format_status(status)}"


async def db_status_async(url: str) -> str:
    """Report the schema version and the applied and pending migrations; changes nothing."""
    async with open_backend(url, create=False) as backend:
        return format_status(await backend.status())


async def kek_rotate_async(
    url: str, kek_file: str | os.PathLike[str], new_kek_file: str | os.PathLike[str], node_id: str
) -> int:
    """Re-wrap every data key from the KEK in `kek_file` to the one in `new_kek_file`.

    `new_kek_file` is created (random, mode 0600) if it does not exist. One transaction: either every
    record opens under the new KEK afterwards, or nothing changed. Refused with StoreInUse while any node
    uses the store (stop them first); afterwards point `storage.kek_file` at the new file. Returns the
    number of re-wrapped records.
    """
    async with open_store(url, load_kek(kek_file), node_id, exclusive=True) as store:
        new_path = Path(new_kek_file)
        new_kek = load_kek(new_path) if new_path.exists() else create_kek_file(new_path)
        return await store.rotate_kek(new_kek)


async def key_delete_async(url: str, kek_file: str | os.PathLike[str], node_id: str, key_id: str) -> None:
    """Delete one key share and its presignatures for good (the only way a share is ever removed)."""
    async with open_store(url, load_kek(kek_file), node_id) as store:
        await store.delete_share(key_id)


async def identity_show_async(url: str, kek_file: str | os.PathLike[str], node_id: str) -> str:
    """The node's identity public key and fingerprint (the key is made here if the node never started)."""
    async with open_store(url, load_kek(kek_file), node_id) as store:
        key = await store.node_identity()
    return f"scheme: ed25519\npublic key: {key.public_key.hex()}\nfingerprint: {fingerprint(key.public_key)}"


@asynccontextmanager
async def _reader(url: str) -> AsyncIterator[Backend]:
    """The backend of an existing store, for reading clear columns only (no KEK, no in-use mark, no migration)."""
    async with open_backend(url, create=False) as backend:
        if (await backend.status()).current == 0:
            raise StoreConfigError("storage.url: no store there yet (start the node or run `signer db migrate`)")
        yield backend


async def key_list_async(url: str) -> list[KeyInfo]:
    """Every stored key's public metadata, ordered by key id. Reads clear columns only: no KEK is opened,
    so an operator can list keys without the secret (and while nodes run on the store)."""
    async with _reader(url) as backend:
        return await backend.list_key_info()


async def audit_show_async(url: str, session_id: str) -> list[AuditEntry]:
    """The audit rows of one session in append order (empty when the store knows no such session)."""
    limits.check_as(StoreConfigError, limits.check_session_id, session_id)
    async with _reader(url) as backend:
        return await backend.audit_read(None, session_id, None)


def db_migrate(url: str) -> str:
    return trio.run(db_migrate_async, url)


def db_status(url: str) -> str:
    return trio.run(db_status_async, url)


def kek_rotate(url: str, kek_file: str | os.PathLike[str], new_kek_file: str | os.PathLike[str], node_id: str) -> int:
    return trio.run(kek_rotate_async, url, kek_file, new_kek_file, node_id)


def key_delete(url: str, kek_file: str | os.PathLike[str], node_id: str, key_id: str) -> None:
    trio.run(key_delete_async, url, kek_file, node_id, key_id)


def identity_show(url: str, kek_file: str | os.PathLike[str], node_id: str) -> str:
    return trio.run(identity_show_async, url, kek_file, node_id)


def key_list(url: str) -> list[KeyInfo]:
    return trio.run(key_list_async, url)


def audit_show(url: str, session_id: str) -> list[AuditEntry]:
    return trio.run(audit_show_async, url, session_id)
