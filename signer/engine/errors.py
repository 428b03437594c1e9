"""Typed engine errors, one class per docs/contract.md §5 status code, and the table that turns store faults into them.

Transport maps them mechanically: `grpclib.Status[err.code]`. Messages are human-readable, name the
check that failed, and never carry secret values.

Store faults (`STORE_FAULTS`, the one place that decides what a storage failure means to a caller):

| store fault                                   | engine error        | gRPC status        | retrying helps?        |
|-----------------------------------------------|---------------------|--------------------|------------------------|
| DecryptionFailed (a stored record does not    | DataLoss            | DATA_LOSS          | never: the row is bad  |
|   decrypt: wrong KEK on that row, altered row)|                     |                    |   (contract.md §5)     |
| StoreCorrupt (the database reports corruption)| DataLoss            | DATA_LOSS          | never                  |
| StoreFull (database or disk full)             | ResourceExhausted   | RESOURCE_EXHAUSTED | after an operator      |
|                                               |                     |                    |   frees space          |
| StoreUnavailable (unreachable, restarting,    | Unavailable         | UNAVAILABLE        | yes, later             |
|   overloaded or locked past the retries)      |                     |                    |                        |
| WrongKek (a KEK rotation replaced this node's | Unavailable         | UNAVAILABLE        | on another replica, or |
|   KEK: it writes nothing sealed any more)     |                     |                    |   after a restart      |
| any other StoreError (a bug: bad arguments)   | (none, re-raised)   | INTERNAL           | no                     |

A full store is RESOURCE_EXHAUSTED rather than UNAVAILABLE: gRPC defines RESOURCE_EXHAUSTED for "the entire
file system is out of space", and UNAVAILABLE tells clients to retry at once, which cannot succeed until
someone frees space. Whatever the fault, nothing was released: a result is visible only after it and its
audit row committed together.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from signer.store.errors import DecryptionFailed, StoreCorrupt, StoreError, StoreFull, StoreUnavailable, WrongKek

log = logging.getLogger("signer.engine.errors")


class EngineError(Exception):
    """Base of every error the engine returns to a caller; `code` names the docs/contract.md §5 status."""

    code: str = "INTERNAL"


class InvalidArgument(EngineError):
    """Malformed input: bad sizes, unknown party, a reused sequence with other content."""

    code = "INVALID_ARGUMENT"


class Unauthenticated(EngineError):
    """A relayed message without a valid identity signature of its claimed sender (party_signature)."""

    code = "UNAUTHENTICATED"


class PermissionDenied(EngineError):
    """A signing or presigning without every approval the node's `auth.approvals` policy requires."""

    code = "PERMISSION_DENIED"


class NotFound(EngineError):
    """Unknown session (or forgotten after retention), unknown key."""

    code = "NOT_FOUND"


class AlreadyExists(EngineError):
    """A session id reused with other parameters, or a DKG for a key id that already exists."""

    code = "ALREADY_EXISTS"


class FailedPrecondition(EngineError):
    """A message for a finished session or for a round already passed; a presignature the node refuses
    (expired, from an earlier store epoch, already used: docs/contract.md §4.3)."""

    code = "FAILED_PRECONDITION"


class ResourceExhausted(EngineError):
    """Session limit reached, a session's buffer of early messages is full, or the store is full."""

    code = "RESOURCE_EXHAUSTED"


class Unavailable(EngineError):
    """The node is draining for shutdown (or not running), or its database is unreachable for now."""

    code = "UNAVAILABLE"


class DataLoss(EngineError):
    """A stored record cannot be read back (it does not decrypt, or the database is corrupt): retrying
    never helps, an operator must restore it."""

    code = "DATA_LOSS"


# (store fault, engine error, message for the caller); the first matching row wins. The store's own
# message (which may name hosts or paths) goes to the log, the caller gets the fixed text and the record
# name for DATA_LOSS (the record's id is the caller's own key id, never a secret).
STORE_FAULTS: tuple[tuple[type[StoreError], type[EngineError], str], ...] = (
    (DecryptionFailed, DataLoss, "a stored record does not decrypt: {fault}"),
    (StoreCorrupt, DataLoss, "the node's database is corrupt"),
    (StoreFull, ResourceExhausted, "the node's storage is full; nothing was stored or released"),
    (StoreUnavailable, Unavailable, "the node's storage is unavailable; retry later"),
    (WrongKek, Unavailable, "the node's key-encryption key was rotated; it must restart"),
)


def from_store(fault: StoreError) -> EngineError | None:
    """The engine error for a store fault per `STORE_FAULTS`, or None for a fault that is a bug."""
    for kind, error, text in STORE_FAULTS:
        if isinstance(fault, kind):
            return error(text.format(fault=fault))
    return None


@asynccontextmanager
async def store_faults() -> AsyncIterator[None]:
    """Turn the store faults raised inside into engine errors (logging the store's own message).

    `async with store_faults():` around store calls, or `@store_faults()` on an async function.
    """
    try:
        yield
    except StoreError as exc:
        error = from_store(exc)
        if error is None:
            raise
        log.error("storage fault (%s): %s", type(exc).__name__, exc)
        raise error from None
