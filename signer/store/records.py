"""What the store keeps: the public records callers see and the sealed rows the backends move.

Backends only ever see `ShareRow` / `PoolRow` (ciphertext and wrapped data keys); plaintext exists in
`StoredKeyShare.share` and in what a claim returns, never in a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Record format version: part of every record's associated data, so a future format cannot be confused
# with this one.
RECORD_VERSION = 1

POOL_PREPARAMS = "preparams"
POOL_PRESIGNATURE = "presignature"
# The node's identity key: one item of this kind under the fixed id below, never claimed (read with
# `pool_get`), so it is sealed and re-wrapped on KEK rotation like every other secret.
POOL_IDENTITY = "identity"
NODE_IDENTITY_ITEM = "node-identity"


@dataclass(frozen=True)
class KeyInfo:
    """The public part of a stored key share: readable without decrypting anything."""

    key_id: str
    protocol: str
    curve: str
    public_key: bytes
    threshold: int
    parties: int
    party_index: int
    created_at: datetime
    # Every party's identity key as StartDKG named them (`signer.session_context.encode_identities`);
    # empty for a key made before identities existed.
    party_identities: bytes = b""
    # The key version this share belongs to: 1 from the DKG, +1 for each committed refresh or reshare
    # (docs/lifecycle.md §4); `updated_at` is when the last one was committed (None: never refreshed).
    key_version: int = 1
    updated_at: datetime | None = None


@dataclass(frozen=True)
class StoredKeyShare:
    """A stored key share as the store hands it out: decrypted share bytes (opaque to the store, the
    protocol's own encoding; kept out of repr) with the record's metadata."""

    info: KeyInfo
    share: bytes = field(repr=False)


@dataclass(frozen=True)
class AuditEntry:
    """One append-only audit row: a DKG or a signature, who asked for it and how it ended; `evidence` is a
    failed session's blame evidence (`signer.blame`, docs/contract.md §11.8) when it named a culprit."""

    seq: int
    at: datetime
    node_id: str
    session_id: str
    key_id: str
    operation: str
    message_digest: bytes | None
    result: str
    client_identity: str
    evidence: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class AuditEvent:
    """What a caller records in the audit log; the store adds the time, its node id and the sequence number.

    Given to the call that stores a result (`put_share(audit=...)`, ...), it is written in the same
    transaction as that result: no result without its row. `evidence`: the blame evidence of a session that
    named a culprit (None otherwise); the store keeps it as given, it is public like the rest of the row.
    """

    session_id: str
    key_id: str
    operation: str
    message_digest: bytes | None
    result: str
    client_identity: str
    evidence: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ShareRow:
    """A key share as stored: metadata in clear, share sealed under a wrapped data key."""

    key_id: str
    protocol: str
    curve: str
    public_key: bytes
    threshold: int
    parties: int
    party_index: int
    record_version: int
    created_at: datetime
    wrapped_key: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)
    party_identities: bytes = b""
    key_version: int = 1
    updated_at: datetime | None = None

    def info(self) -> KeyInfo:
        return KeyInfo(
            self.key_id,
            self.protocol,
            self.curve,
            self.public_key,
            self.threshold,
            self.parties,
            self.party_index,
            self.created_at,
            self.party_identities,
            self.key_version,
            self.updated_at,
        )


@dataclass(frozen=True)
class PoolRow:
    """A single-use secret (pre-parameters, a presignature) as stored; `owner` is the key id or ''."""

    kind: str
    owner: str
    item_id: str
    record_version: int
    wrapped_key: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)
    # A presignature's key version (the share it was made with); 0 for items of no key.
    key_version: int = 0


# States of a row in key_share_versions (docs/lifecycle.md §5); the current version lives in key_shares.
PENDING = "pending"
REPLACED = "replaced"
RETIRED = "retired"


@dataclass(frozen=True)
class PendingVersion:
    """A key version prepared by a refresh or reshare and not yet committed: the new share's public
    metadata (`info`, with the new `key_version`), the session that made it, the digest its party
    confirmed, and `resume`, the engine's public bytes to finish the session after a restart
    (docs/lifecycle.md §4). `retiring`: this party leaves the key with this version (no share)."""

    info: KeyInfo
    session_id: str
    confirm_digest: bytes
    resume: bytes
    retiring: bool


@dataclass(frozen=True)
class VersionRow:
    """A row of key_share_versions as stored: a pending share (sealed like any share, under the share
    associated data of `share`), a pending retirement, or the metadata of a replaced or retired version
    (no ciphertext: `wrapped_key` and `ciphertext` are empty)."""

    share: ShareRow
    state: str
    session_id: str
    confirm_digest: bytes
    resume: bytes

    def pending(self) -> PendingVersion:
        return PendingVersion(
            self.share.info(), self.session_id, self.confirm_digest, self.resume, not self.share.ciphertext
        )


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database's schema stands relative to this program's migrations."""

    current: int
    latest: int
    applied: tuple[tuple[int, str, datetime], ...]
    pending: tuple[tuple[int, str], ...]
