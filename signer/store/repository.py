"""The repository the engine and service use: `open_store(url, kek, node_id)` -> `Store`.

`Store` owns the envelope encryption and input validation; the backend chosen by the URL scheme
(`sqlite:///path`, `postgresql://...`) only stores sealed rows. Opening a store applies pending schema
migrations, then checks that the store belongs to this node id and that the KEK matches the check
value recorded when the store was created: a wrong KEK is `WrongKek` at open, never an empty store.

`node_id` is the signer party's identity (SPEC `node.id`); replicas of one signer that share a
PostgreSQL database use the same node id.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

from signer import limits, schemes
from signer.auth.keyfiles import KEY_LEN as KEK_BYTES
from signer.crypto.identity import ED25519, IdentityKey
from signer.store import envelope
from signer.store.backend import SUPERSEDED, AuditWrite, Backend, OnWait
from signer.store.errors import (
    AlreadyConsumed,
    ItemExists,
    KeyExists,
    KeyNotFound,
    NodeMismatch,
    StalePresignature,
    StoreConfigError,
    WrongKek,
)
from signer.store.records import (
    NODE_IDENTITY_ITEM,
    PENDING,
    POOL_IDENTITY,
    POOL_PREPARAMS,
    POOL_PRESIGNATURE,
    RECORD_VERSION,
    RETIRED,
    AuditEntry,
    AuditEvent,
    KeyInfo,
    PendingVersion,
    PoolRow,
    ShareRow,
    StoredKeyShare,
    VersionRow,
)
from signer.store.sqlite import SqliteBackend

# Ids the store itself makes up or is configured with (node id, pool kinds); ids that callers send are
# checked with signer.limits, as at the gRPC edge.
MAX_ID = 256
MAX_TEXT = 1024
MAX_SECRET = 16 * 1024 * 1024
# "claim" records a presignature taken for a signing (result names it), in the claim's own transaction.
# The key.* rows record every key version change (docs/lifecycle.md §6), each in the transaction that makes it.
AUDIT_OPERATIONS = ("dkg", "presign", "sign", "claim", "key.prepare", "key.commit", "key.rollback", "key.retire")


def _check_id(name: str, value: object, limit: int = MAX_ID) -> str:
    if not isinstance(value, str) or not value or len(value) > limit or not value.isprintable():
        raise StoreConfigError(f"{name} must be a non-empty printable string of at most {limit} characters")
    return value


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise StoreConfigError(f"{name} must be an integer in [{low}, {high}]")
    return value


def _check_limit(check: Callable[..., str], value: object, *args: str) -> str:
    """A `signer.limits` check whose LimitError becomes StoreConfigError."""
    return limits.check_as(StoreConfigError, check, value, *args)


def _key_id(value: object) -> str:
    return _check_limit(limits.check_key_id, value)


def _item_id(value: object) -> str:
    """Presignature ids are the ids of the presigning sessions that made them."""
    return _check_limit(limits.check_session_id, value, "item_id")


def _check_secret(name: str, value: object) -> bytes:
    if not isinstance(value, bytes | bytearray) or not value or len(value) > MAX_SECRET:
        raise StoreConfigError(f"{name} must be non-empty bytes of at most {MAX_SECRET} bytes")
    return bytes(value)


def _share_row(
    key_id: str,
    protocol: str,
    curve: str,
    public_key: bytes,
    threshold: int,
    parties: int,
    party_index: int,
    party_identities: bytes,
    key_version: int,
) -> ShareRow:
    """A share row's checked metadata (no ciphertext yet). `party_index` may exceed `parties`: after a
    reshare that replaced a party the indices need not be 1..parties."""
    _key_id(key_id)
    if protocol not in schemes.PROTOCOLS:
        raise StoreConfigError(f"protocol must be one of {schemes.PROTOCOLS}")
    if curve not in schemes.curves_of(protocol):
        raise StoreConfigError(f"curve must be one of {schemes.curves_of(protocol)} for {protocol}")
    if not isinstance(public_key, bytes) or len(public_key) not in (32, 33):
        raise StoreConfigError("public_key must be 32 (Ed25519) or 33 (SEC1) bytes")
    _check_int("parties", parties, 1, limits.MAX_PARTIES)
    _check_int("threshold", threshold, 1, parties)
    _check_int("party_index", party_index, 1, limits.MAX_PARTIES)
    if not isinstance(party_identities, bytes) or len(party_identities) > MAX_SECRET:
        raise StoreConfigError("party_identities must be bytes")
    return ShareRow(
        key_id, protocol, curve, public_key, threshold, parties, party_index, RECORD_VERSION,
        datetime.now(UTC), b"", b"", party_identities, key_version,
    )  # fmt: skip


def _check_kek(kek: object) -> bytes:
    if not isinstance(kek, bytes) or len(kek) != KEK_BYTES:
        raise StoreConfigError(f"the KEK must be {KEK_BYTES} bytes")
    return kek


class Store:
    """Encrypted key shares, single-use secret pools, single-use markers and the audit log."""

    def __init__(self, backend: Backend, kek: bytes, node_id: str, *, exclusive: bool = False) -> None:
        self._backend = backend
        self._kek = kek
        self.node_id = node_id
        # Opened with the store to itself (no node running on it): what a KEK rotation needs.
        self.exclusive = exclusive

    def __repr__(self) -> str:
        return f"Store(backend={self._backend.name!r}, node_id={self.node_id!r})"

    @property
    def backend(self) -> Backend:
        return self._backend

    async def _check_identity(self) -> None:
        owner = await self._backend.init_meta("node_id", self.node_id.encode())
        if owner != self.node_id.encode():
            raise NodeMismatch(
                f"this store belongs to node id {owner.decode(errors='replace')!r}, not {self.node_id!r}"
            )
        check = envelope.kek_check(self._kek)
        stored = await self._backend.init_meta("kek_check", check)
        if not hmac.compare_digest(stored, check):
            raise WrongKek("the KEK does not match the one this store was created with (wrong storage.kek_file?)")
        self._backend.kek_check = check

    # -- key shares -------------------------------------------------------------------------------

    async def put_share(
        self,
        key_id: str,
        share: bytes,
        *,
        protocol: str,
        curve: str,
        public_key: bytes,
        threshold: int,
        parties: int,
        party_index: int,
        party_identities: bytes = b"",
        audit: AuditEvent | None = None,
    ) -> KeyInfo:
        """Store a DKG's key share once, in one committed transaction with its `audit` row; KeyExists if
        the id is taken (and then no row is written).

        `party_identities` (every party's identity key, encoded by `signer.session_context`) is public
        metadata, bound into the record's associated data like the rest.
        """
        share = _check_secret("share", share)
        row = _share_row(key_id, protocol, curve, public_key, threshold, parties, party_index, party_identities, 1)
        sealed = self._seal_share(row, share)
        if not await self._backend.insert_share(sealed, self._audit_write(audit)):
            raise KeyExists(f"a key share with key id {key_id!r} already exists")
        return sealed.info()

    def _seal_share(self, row: ShareRow, share: bytes) -> ShareRow:
        wrapped, ciphertext = envelope.seal(self._kek, envelope.share_aad(self.node_id, row), share)
        return replace(row, wrapped_key=wrapped, ciphertext=ciphertext)

    # -- key versions (docs/lifecycle.md §4, §5) --------------------------------------------------

    async def prepare_version(
        self,
        key_id: str,
        share: bytes | None,
        *,
        key_version: int,
        session_id: str,
        confirm_digest: bytes,
        resume: bytes,
        protocol: str,
        curve: str,
        public_key: bytes,
        threshold: int,
        parties: int,
        party_index: int,
        party_identities: bytes = b"",
        audit: AuditEvent | None = None,
    ) -> PendingVersion:
        """Keep a refresh's or reshare's new share as the key's pending version `key_version`, sealed like
        any share, in one transaction with its `audit` row (`share` None: this party leaves the key with
        that version). `resume` is public data the engine needs to finish the session after a restart.
        KeyExists if the key already has a pending version (of another session)."""
        _check_limit(limits.check_session_id, session_id)
        _check_int("key_version", key_version, 1, 2**31 - 1)
        for name, value in (("confirm_digest", confirm_digest), ("resume", resume)):
            if not isinstance(value, bytes) or len(value) > MAX_SECRET:
                raise StoreConfigError(f"{name} must be bytes")
        row = _share_row(
            key_id, protocol, curve, public_key, threshold, parties, party_index, party_identities, key_version
        )
        if share is not None:
            row = self._seal_share(row, _check_secret("share", share))
        version = VersionRow(row, PENDING, session_id, confirm_digest, resume)
        if not await self._backend.insert_pending(version, self._audit_write(audit)):
            raise KeyExists(f"key {key_id!r} already has a pending version")
        return version.pending()

    async def commit_version(
        self, key_id: str, key_version: int, session_id: str, *, audit: AuditEvent | None = None
    ) -> KeyInfo | None:
        """Make the pending version `key_version` of `session_id` current in one transaction: the previous
        share's ciphertext is deleted (its metadata kept as `replaced`), the key's presignatures are deleted
        (a later claim of one is StalePresignature), and `audit` is written. Returns the new current
        metadata, or None when this party left the key (retired). Repeatable: a commit that went through
        answers the same again. KeyNotFound if there is no such pending version."""
        _key_id(key_id)
        _check_limit(limits.check_session_id, session_id)
        outcome = await self._backend.commit_pending(
            key_id, key_version, session_id, datetime.now(UTC), self._audit_write(audit)
        )
        if outcome is None:
            raise KeyNotFound(f"key {key_id!r} has no pending version {key_version} of session {session_id!r}")
        return None if outcome == RETIRED else await self.key_info(key_id)

    async def rollback_version(
        self, key_id: str, key_version: int, session_id: str, *, audit: AuditEvent | None = None
    ) -> bool:
        """Drop the pending version `key_version` of `session_id` with its `audit` row; False if there was none
        (never prepared, already rolled back, or committed)."""
        _key_id(key_id)
        _check_limit(limits.check_session_id, session_id)
        return await self._backend.rollback_pending(key_id, key_version, session_id, self._audit_write(audit))

    async def pending_versions(self) -> list[PendingVersion]:
        """Every pending version (public data only): what a restarted engine has to finish or roll back."""
        return [v.pending() for v in await self._backend.list_versions(None, PENDING)]

    async def get_pending_share(self, key_id: str) -> StoredKeyShare:
        """The decrypted pending share of `key_id` (KeyNotFound if none, or a pending retirement)."""
        _key_id(key_id)
        for v in await self._backend.list_versions(key_id, PENDING):
            if v.share.ciphertext:
                return StoredKeyShare(v.share.info(), self._open_share(v.share))
        raise KeyNotFound(f"key {key_id!r} has no pending share")

    def _open_share(self, row: ShareRow) -> bytes:
        aad = envelope.share_aad(self.node_id, row)
        return envelope.open_sealed(self._kek, aad, row.wrapped_key, row.ciphertext, f"key share {row.key_id!r}")

    async def get_share(self, key_id: str) -> StoredKeyShare:
        """Decrypt a key share; KeyNotFound, or DecryptionFailed if the row does not authenticate."""
        _key_id(key_id)
        row = await self._backend.fetch_share(key_id)
        if row is None:
            raise KeyNotFound(f"no key share with key id {key_id!r}")
        return StoredKeyShare(row.info(), self._open_share(row))

    async def key_info(self, key_id: str) -> KeyInfo:
        """The public metadata of a key share, without decrypting it."""
        _key_id(key_id)
        info = await self._backend.fetch_key_info(key_id)
        if info is None:
            raise KeyNotFound(f"no key share with key id {key_id!r}")
        return info

    async def list_keys(self) -> list[KeyInfo]:
        """Every stored key's public metadata, ordered by key id."""
        return await self._backend.list_key_info()

    async def delete_share(self, key_id: str) -> None:
        """Operator command only: remove a key share (and its presignatures) for good."""
        _key_id(key_id)
        if not await self._backend.delete_share(key_id):
            raise KeyNotFound(f"no key share with key id {key_id!r}")

    # -- the node's identity key ------------------------------------------------------------------

    async def node_identity(self) -> IdentityKey:
        """The node's Ed25519 identity key, created on the first call ever (the node's first start).

        Replicas sharing the store share it: creating is an insert-if-absent under a fixed item id, and
        every caller reads back the one that won. Sealed like a key share, re-wrapped by `rotate_kek`.
        """
        row = await self._backend.pool_get(POOL_IDENTITY, "", NODE_IDENTITY_ITEM)
        if row is None:
            fresh = self._seal_pool(POOL_IDENTITY, "", NODE_IDENTITY_ITEM, IdentityKey.generate(ED25519).secret)
            await self._backend.pool_put(fresh, datetime.now(UTC))
            row = await self._backend.pool_get(POOL_IDENTITY, "", NODE_IDENTITY_ITEM)
            if row is None:
                raise StoreConfigError("the node identity key could not be stored")
        aad = envelope.pool_aad(self.node_id, row)
        secret = envelope.open_sealed(self._kek, aad, row.wrapped_key, row.ciphertext, "node identity key")
        return IdentityKey(ED25519, secret)

    # -- single-use pools -------------------------------------------------------------------------

    def _seal_pool(self, kind: str, owner: str, item_id: str, blob: bytes, key_version: int = 0) -> PoolRow:
        blob = _check_secret(kind, blob)
        head = PoolRow(kind, owner, item_id, RECORD_VERSION, b"", b"", key_version)
        wrapped, ciphertext = envelope.seal(self._kek, envelope.pool_aad(self.node_id, head), blob)
        return replace(head, wrapped_key=wrapped, ciphertext=ciphertext)

    async def _pool_add(self, kind: str, owner: str, blobs: Sequence[bytes], key_version: int = 0) -> list[str]:
        rows = [self._seal_pool(kind, owner, secrets.token_hex(16), blob, key_version) for blob in blobs]
        if rows:
            await self._backend.pool_add(rows, datetime.now(UTC))
        return [r.item_id for r in rows]

    async def _pool_claim(
        self, kind: str, owner: str, item_id: str | None = None, audit: AuditWrite | None = None
    ) -> bytes | None:
        row = await self._backend.pool_claim(kind, owner, item_id, audit)
        if row is None:
            return None
        aad = envelope.pool_aad(self.node_id, row)
        return envelope.open_sealed(self._kek, aad, row.wrapped_key, row.ciphertext, f"{kind} {row.item_id}")

    async def add_preparams(self, blob: bytes) -> str:
        """Add one encrypted pre-parameter set to the pool; returns its item id."""
        return (await self._pool_add(POOL_PREPARAMS, "", [blob]))[0]

    async def claim_preparams(self) -> bytes | None:
        """Remove one pre-parameter set (committed before it is returned); None if the pool is empty."""
        return await self._pool_claim(POOL_PREPARAMS, "")

    async def count_preparams(self) -> int:
        return await self._backend.pool_count(POOL_PREPARAMS, "")

    async def add_presignatures(self, key_id: str, blobs: Sequence[bytes], key_version: int = 1) -> list[str]:
        """Add presignatures for `key_id` (made under `key_version`) in one transaction; returns their item ids."""
        _key_id(key_id)
        _check_int("key_version", key_version, 1, 2**31 - 1)
        return await self._pool_add(POOL_PRESIGNATURE, key_id, blobs, key_version)

    async def add_presignature(
        self,
        key_id: str,
        blob: bytes,
        item_id: str | None = None,
        *,
        key_version: int = 1,
        audit: AuditEvent | None = None,
    ) -> str:
        """Add one presignature for `key_id`, made with its share of `key_version`, in one transaction with
        its `audit` row; returns its item id.

        With `item_id` (the engine uses the presigning session's id, which every party shares) the item
        is kept under that id; ItemExists if any pool item already has it. Without, a random id is made.
        """
        _key_id(key_id)
        if item_id is None:
            item_id = secrets.token_hex(16)
        _item_id(item_id)
        _check_int("key_version", key_version, 1, 2**31 - 1)
        row = self._seal_pool(POOL_PRESIGNATURE, key_id, item_id, blob, key_version)
        if not await self._backend.pool_put(row, datetime.now(UTC), self._audit_write(audit)):
            raise ItemExists(f"a pool item with id {item_id!r} already exists")
        return item_id

    async def claim_presignature(
        self, key_id: str, item_id: str | None = None, *, audit: AuditEvent | None = None
    ) -> bytes | None:
        """Atomically remove one presignature of `key_id` and return it; None if there is none. The
        `audit` row is written in the claim's transaction (and only if something was claimed).

        Without `item_id` the oldest one is taken; with it, exactly that one, and only if it belongs to
        `key_id` (a presignature of another key is never handed out, and stays where it is).
        The removal is one statement committed before this returns, so no other process, replica or
        restart can get the same presignature; if the caller crashes afterwards it is lost, never reused.
        """
        _key_id(key_id)
        if item_id is not None:
            _item_id(item_id)
        row = await self._backend.pool_claim(POOL_PRESIGNATURE, key_id, item_id, self._audit_write(audit))
        if row is None:
            if item_id is not None and await self._backend.is_used(SUPERSEDED, item_id):
                raise StalePresignature(f"presignature {item_id!r} was deleted when key {key_id!r} changed version")
            return None
        current = await self._backend.fetch_key_info(key_id)
        if current is not None and current.key_version != row.key_version:
            # Made under another version (a presigning that ended after the switch, a restored row): claimed,
            # so gone, and never combined with a share of another version.
            raise StalePresignature(f"presignature {row.item_id!r} was made under another version of key {key_id!r}")
        aad = envelope.pool_aad(self.node_id, row)
        return envelope.open_sealed(self._kek, aad, row.wrapped_key, row.ciphertext, f"{row.kind} {row.item_id}")

    async def count_presignatures(self, key_id: str | None = None) -> int:
        """Presignatures ready for `key_id`, or for all keys together when it is None."""
        if key_id is not None:
            _key_id(key_id)
        return await self._backend.pool_count(POOL_PRESIGNATURE, key_id)

    async def consume_once(self, kind: str, item_id: str) -> None:
        """Mark (kind, item_id) used, durably; AlreadyConsumed for every call after the first."""
        _check_id("kind", kind)
        _check_id("item_id", item_id)
        if not await self._backend.consume_once(kind, item_id, datetime.now(UTC)):
            raise AlreadyConsumed(f"{kind} {item_id!r} was already used")

    # -- audit ------------------------------------------------------------------------------------

    async def append_audit(
        self,
        *,
        session_id: str,
        key_id: str,
        operation: str,
        message_digest: bytes | None,
        result: str,
        client_identity: str,
        evidence: bytes | None = None,
    ) -> None:
        """Append one audit row on its own (a session that ended without a result to store); rows are
        never updated or deleted. A stored result takes its row as `audit=` in its own call instead."""
        event = AuditEvent(session_id, key_id, operation, message_digest, result, client_identity, evidence)
        await self._backend.audit_append(*self._audit_row(event))

    def _audit_write(self, event: AuditEvent | None) -> AuditWrite | None:
        return None if event is None else self._audit_row(event)

    def _audit_row(self, event: AuditEvent) -> AuditWrite:
        """Check an audit event and make its row (with a fresh entry id, fixed across retries)."""
        if not isinstance(event, AuditEvent):
            raise StoreConfigError("audit must be an AuditEvent")
        _check_limit(limits.check_session_id, event.session_id)
        _key_id(event.key_id)
        if event.operation not in AUDIT_OPERATIONS:
            raise StoreConfigError(f"operation must be one of {AUDIT_OPERATIONS}")
        digest = event.message_digest
        if digest is not None and (not isinstance(digest, bytes) or len(digest) > 64):
            raise StoreConfigError("message_digest must be at most 64 bytes")
        _check_id("result", event.result, MAX_TEXT)
        _check_id("client_identity", event.client_identity, MAX_TEXT)
        if event.evidence is not None and (not isinstance(event.evidence, bytes) or not event.evidence):
            raise StoreConfigError("evidence must be non-empty bytes or None")
        entry = AuditEntry(
            0, datetime.now(UTC), self.node_id, event.session_id, event.key_id, event.operation, digest,
            event.result, event.client_identity, event.evidence,
        )  # fmt: skip
        return secrets.token_hex(16), entry

    async def read_audit(
        self, *, key_id: str | None = None, session_id: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """Audit rows in append order, optionally only one key's or one session's."""
        if key_id is not None:
            _key_id(key_id)
        if session_id is not None:
            _check_limit(limits.check_session_id, session_id)
        if limit is not None:
            _check_int("limit", limit, 1, 10**9)
        return await self._backend.audit_read(key_id, session_id, limit)

    # -- KEK rotation -----------------------------------------------------------------------------

    async def rotate_kek(self, new_kek: bytes) -> int:
        """Re-wrap every data key under `new_kek` in one transaction; records are not re-encrypted.

        Only with the store to itself (`open_store(..., exclusive=True)`, which fails with StoreInUse
        while a node runs on it): a node still holding the old KEK would write records that the new KEK
        cannot open. Returns the number of re-wrapped records.
        """
        if not self.exclusive:
            raise StoreConfigError("KEK rotation needs the store to itself: open it with exclusive=True")
        new_kek = _check_kek(new_kek)
        if hmac.compare_digest(new_kek, self._kek):
            raise StoreConfigError("the new KEK is the same as the current one")
        node = self.node_id

        def share(row: ShareRow) -> bytes:
            aad = envelope.share_aad(node, row)
            return envelope.rewrap(self._kek, new_kek, aad, row.wrapped_key, f"key share {row.key_id!r}")

        def pool(row: PoolRow) -> bytes:
            aad = envelope.pool_aad(node, row)
            return envelope.rewrap(self._kek, new_kek, aad, row.wrapped_key, f"{row.kind} {row.item_id}")

        new_check = envelope.kek_check(new_kek)
        count = await self._backend.rotate(envelope.kek_check(self._kek), new_check, share, pool)
        self._kek = new_kek
        self._backend.kek_check = new_check
        return count


@asynccontextmanager
async def open_backend(
    url: str,
    *,
    create: bool = True,
    pool_size: int = 10,
    connect_timeout_s: float | None = None,
    on_wait: OnWait | None = None,
) -> AsyncIterator[Backend]:
    """Connect the backend the URL names (no migration, no KEK): used by open_store and db commands.

    PostgreSQL needs an asyncio loop hosted by trio-asyncio; if the caller has not opened one with
    `trio_asyncio.open_loop()`, one is opened here for the lifetime of the backend. With
    `connect_timeout_s`, an unreachable PostgreSQL is waited for that long (reported to `on_wait`).
    """
    if not isinstance(url, str):
        raise StoreConfigError("storage.url must be a string")
    if url.startswith("sqlite:"):
        backend: Backend = await SqliteBackend.connect(url, create=create)
        try:
            yield backend
        finally:
            await backend.aclose()
    elif url.startswith(("postgresql:", "postgres:")):
        from signer.store.postgres import open_postgres

        async with open_postgres(url, pool_size=pool_size, connect_timeout_s=connect_timeout_s, on_wait=on_wait) as pg:
            yield pg
    else:
        raise StoreConfigError("storage.url must start with sqlite:/// or postgresql://")


@asynccontextmanager
async def open_store(
    url: str,
    kek: bytes,
    node_id: str,
    *,
    pool_size: int = 10,
    exclusive: bool = False,
    connect_timeout_s: float | None = None,
    on_wait: OnWait | None = None,
) -> AsyncIterator[Store]:
    """Open the store at `url`: migrate, mark it in use, check node id and KEK, yield the `Store`, close on exit.

    Every opener marks the store in use (shared) until it closes; `exclusive=True` (KEK rotation) instead
    needs it to itself and fails at once with StoreInUse while anyone else has it open. The mark is taken
    before the KEK check, so a node never runs on a KEK a rotation replaced under it. `pool_size` is the
    PostgreSQL connection pool's maximum size (ignored for SQLite); `connect_timeout_s` and `on_wait`
    are as for `open_backend`.
    """
    kek = _check_kek(kek)
    _check_id("node_id", node_id)
    async with open_backend(url, pool_size=pool_size, connect_timeout_s=connect_timeout_s, on_wait=on_wait) as backend:
        await backend.migrate()
        await backend.hold(exclusive)
        store = Store(backend, kek, node_id, exclusive=exclusive)
        await store._check_identity()
        yield store
