"""Typed engine errors, one class per SPEC.md §2 status code.

Transport maps them mechanically: `grpclib.Status[err.code]`. Messages are human-readable, name the
check that failed, and never carry secret values.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine returns to a caller; `code` names the SPEC.md status."""

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
    """A message for a finished session or for a round already passed."""

    code = "FAILED_PRECONDITION"


class ResourceExhausted(EngineError):
    """Session limit reached, or a session's buffer of early messages is full."""

    code = "RESOURCE_EXHAUSTED"


class Unavailable(EngineError):
    """The node is draining for shutdown (or not running) and accepts no new sessions."""

    code = "UNAVAILABLE"
