"""Versioned schema migrations, one list per SQL dialect, applied in order at open.

A migration is (version, description, statements). Versions only ever grow; a database whose version is
newer than the newest migration here is refused (an older binary must not write to a newer schema).
"""

from __future__ import annotations

Migration = tuple[int, str, tuple[str, ...]]

# Migration 2: protocol names are not the schema's business. The store validates them against the
# `signer.schemes` registry on write, so adding a protocol needs no migration.
_DROP_PROTOCOL_CHECK = "protocol names checked by the store against the scheme registry, not by a CHECK"
# Migration 3: every party's identity key, kept with the key share (public, bound into the record's
# associated data); empty for keys made before.
_PARTY_IDENTITIES = "party identity keys with each key share"
# Migration 4: key versions (docs/lifecycle.md §5). key_shares keeps the current version of each key;
# key_share_versions the pending one (sealed like a share) and the metadata of replaced and retired ones;
# presignatures record the key version they were made under. Existing keys and presignatures are version 1.
_KEY_VERSIONS = "key versions: the current one in key_shares, pending/replaced/retired in key_share_versions"


def _versions_table(blob: str, time: str) -> str:
    """key_share_versions in a dialect (blob and timestamp types)."""
    return f"""CREATE TABLE key_share_versions (
                key_id TEXT NOT NULL,
                key_version INTEGER NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'replaced', 'retired')),
                session_id TEXT NOT NULL,
                confirm_digest {blob} NOT NULL,
                resume {blob} NOT NULL,
                protocol TEXT NOT NULL,
                curve TEXT NOT NULL,
                public_key {blob} NOT NULL,
                threshold INTEGER NOT NULL,
                parties INTEGER NOT NULL,
                party_index INTEGER NOT NULL,
                record_version INTEGER NOT NULL,
                created_at {time} NOT NULL,
                party_identities {blob} NOT NULL,
                wrapped_key {blob},
                ciphertext {blob},
                PRIMARY KEY (key_id, key_version))"""


def _key_versions(blob: str, time: str) -> tuple[str, ...]:
    return (
        "ALTER TABLE key_shares ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1",
        f"ALTER TABLE key_shares ADD COLUMN updated_at {time}",
        "ALTER TABLE secret_pool ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0",
        "UPDATE secret_pool SET key_version = 1 WHERE kind = 'presignature'",
        _versions_table(blob, time),
        # At most one pending version per key (docs/lifecycle.md §4).
        "CREATE UNIQUE INDEX key_share_versions_pending ON key_share_versions (key_id) WHERE state = 'pending'",
    )


# Migration 5: a failed session's blame evidence (the signed messages that prove whom it named, with the
# session context; docs/contract.md §11.8) in its audit row; NULL in every other row. Adding a column keeps
# the append-only triggers.
_BLAME_EVIDENCE = "blame evidence in the audit log"


def _sqlite_key_shares(table: str, protocol_check: str = "") -> str:
    """The SQLite key_shares table (SQLite drops a CHECK only by rebuilding the table)."""
    return f"""CREATE TABLE {table} (
                key_id TEXT PRIMARY KEY,
                protocol TEXT NOT NULL{protocol_check},
                curve TEXT NOT NULL,
                public_key BLOB NOT NULL,
                threshold INTEGER NOT NULL,
                parties INTEGER NOT NULL,
                party_index INTEGER NOT NULL,
                record_version INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                wrapped_key BLOB NOT NULL,
                ciphertext BLOB NOT NULL)"""


_SHARE_COLUMNS = (
    "key_id, protocol, curve, public_key, threshold, parties, party_index, record_version, created_at, "
    "wrapped_key, ciphertext"
)

SQLITE_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        "key shares, secret pools, single-use records, audit log",
        (
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
            _sqlite_key_shares("key_shares", " CHECK (protocol IN ('frost', 'gg20'))"),
            """CREATE TABLE secret_pool (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,
                owner TEXT NOT NULL,
                item_id TEXT NOT NULL UNIQUE,
                record_version INTEGER NOT NULL,
                created_at TEXT NOT NULL,
                wrapped_key BLOB NOT NULL,
                ciphertext BLOB NOT NULL)""",
            "CREATE INDEX secret_pool_claim ON secret_pool (kind, owner, seq)",
            """CREATE TABLE used_once (
                kind TEXT NOT NULL,
                item_id TEXT NOT NULL,
                used_at TEXT NOT NULL,
                PRIMARY KEY (kind, item_id))""",
            """CREATE TABLE audit_log (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                entry_id TEXT NOT NULL UNIQUE,
                at TEXT NOT NULL,
                node_id TEXT NOT NULL,
                session_id TEXT NOT NULL,
                key_id TEXT NOT NULL,
                operation TEXT NOT NULL,
                message_digest BLOB,
                result TEXT NOT NULL,
                client_identity TEXT NOT NULL)""",
            "CREATE INDEX audit_log_key ON audit_log (key_id, seq)",
            """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
            """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
        ),
    ),
    (
        2,
        _DROP_PROTOCOL_CHECK,
        (
            _sqlite_key_shares("key_shares_v2"),
            f"INSERT INTO key_shares_v2 ({_SHARE_COLUMNS}) SELECT {_SHARE_COLUMNS} FROM key_shares",
            "DROP TABLE key_shares",
            "ALTER TABLE key_shares_v2 RENAME TO key_shares",
        ),
    ),
    (3, _PARTY_IDENTITIES, ("ALTER TABLE key_shares ADD COLUMN party_identities BLOB NOT NULL DEFAULT x''",)),
    (4, _KEY_VERSIONS, _key_versions("BLOB", "TEXT")),
    (5, _BLAME_EVIDENCE, ("ALTER TABLE audit_log ADD COLUMN evidence BLOB",)),
)

POSTGRES_MIGRATIONS: tuple[Migration, ...] = (
    (
        1,
        "key shares, secret pools, single-use records, audit log",
        (
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value BYTEA NOT NULL)",
            """CREATE TABLE key_shares (
                key_id TEXT PRIMARY KEY,
                protocol TEXT NOT NULL CHECK (protocol IN ('frost', 'gg20')),
                curve TEXT NOT NULL,
                public_key BYTEA NOT NULL,
                threshold INTEGER NOT NULL,
                parties INTEGER NOT NULL,
                party_index INTEGER NOT NULL,
                record_version INTEGER NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                wrapped_key BYTEA NOT NULL,
                ciphertext BYTEA NOT NULL)""",
            """CREATE TABLE secret_pool (
                seq BIGSERIAL PRIMARY KEY,
                kind TEXT NOT NULL,
                owner TEXT NOT NULL,
                item_id TEXT NOT NULL UNIQUE,
                record_version INTEGER NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                wrapped_key BYTEA NOT NULL,
                ciphertext BYTEA NOT NULL)""",
            "CREATE INDEX secret_pool_claim ON secret_pool (kind, owner, seq)",
            """CREATE TABLE used_once (
                kind TEXT NOT NULL,
                item_id TEXT NOT NULL,
                used_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (kind, item_id))""",
            """CREATE TABLE audit_log (
                seq BIGSERIAL PRIMARY KEY,
                entry_id TEXT NOT NULL UNIQUE,
                at TIMESTAMPTZ NOT NULL,
                node_id TEXT NOT NULL,
                session_id TEXT NOT NULL,
                key_id TEXT NOT NULL,
                operation TEXT NOT NULL,
                message_digest BYTEA,
                result TEXT NOT NULL,
                client_identity TEXT NOT NULL)""",
            "CREATE INDEX audit_log_key ON audit_log (key_id, seq)",
            """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
            """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
        ),
    ),
    (
        2,
        _DROP_PROTOCOL_CHECK,
        ("ALTER TABLE key_shares DROP CONSTRAINT IF EXISTS key_shares_protocol_check",),
    ),
    (3, _PARTY_IDENTITIES, ("ALTER TABLE key_shares ADD COLUMN party_identities BYTEA NOT NULL DEFAULT ''::bytea",)),
    (4, _KEY_VERSIONS, _key_versions("BYTEA", "TIMESTAMPTZ")),
    (5, _BLAME_EVIDENCE, ("ALTER TABLE audit_log ADD COLUMN evidence BYTEA",)),
)


# The column lists both backends read and write, in the order their row mappers expect (one source, so the
# SQLite and PostgreSQL stores cannot drift apart).
SHARE_COLS = (
    "key_id, protocol, curve, public_key, threshold, parties, party_index, record_version, created_at, "
    "party_identities, key_version, updated_at"
)
# A version row's share metadata (key_share_versions has no updated_at: a version is made once).
VERSION_SHARE_COLS = (
    "key_id, protocol, curve, public_key, threshold, parties, party_index, record_version, created_at, "
    "party_identities, key_version"
)
VERSION_COLS = f"{VERSION_SHARE_COLS}, wrapped_key, ciphertext, state, session_id, confirm_digest, resume"
POOL_COLS = "kind, owner, item_id, record_version, wrapped_key, ciphertext, key_version"
AUDIT_COLS = "seq, at, node_id, session_id, key_id, operation, message_digest, result, client_identity, evidence"
