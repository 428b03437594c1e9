"""Typed errors of the key-share store.

Messages name the record and the check that failed, never a secret: a share, a data key or a KEK never
appears in an error.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every store failure."""


class StoreConfigError(StoreError):
    """A bad storage URL, node id or argument (a caller error, not a database failure)."""


class KekFileError(StoreError):
    """The KEK file is missing, unreadable, or not 64 hex characters (32 bytes)."""


class WrongKek(StoreError):
    """The KEK given does not match the one this store was created (or last rotated) with."""


class NodeMismatch(StoreError):
    """The store belongs to another signer node id; its records would not decrypt under this one."""


class KeyExists(StoreError):
    """A key share with this key id is already stored; shares are written once and never replaced."""


class KeyNotFound(StoreError):
    """No key share with this key id."""


class ItemExists(StoreError):
    """A single-use pool item with this id is already stored (ids given by the caller are never reused)."""


class AlreadyConsumed(StoreError):
    """A single-use record (nonce, session id, ...) was consumed before."""


class DecryptionFailed(StoreError):
    """A stored record does not authenticate: tampered, moved to another key id or node, or wrong KEK."""


class SchemaError(StoreError):
    """The database schema is newer than this program, or a migration failed."""


class StoreUnavailable(StoreError):
    """The database cannot do the work now: unreachable, restarting, overloaded or busy past the retries.

    The operation did not happen (or, for a lost commit reply, is safe to repeat); it may succeed later.
    """


class StoreFull(StoreError):
    """The database or its disk is full: nothing was written, and nothing will be until an operator frees space."""


class StoreCorrupt(StoreError):
    """The database reports that its own files or pages are corrupt."""


class StoreInUse(StoreError):
    """An operation that needs the store to itself (KEK rotation) found a node using it."""


class StalePresignature(StoreError):
    """A presignature made under an earlier version of its key (deleted by the version switch, or a row
    of another version): refused, never combined with a share of another version (docs/lifecycle.md §4)."""
