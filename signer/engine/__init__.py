"""The Trio session engine: one task and cancel scope per session, deadlines per round, bounded inboxes,
background pools, limits and graceful drain. Transport calls `SessionManager`; see manager.py."""

from signer.engine.config import EngineConfig
from signer.engine.errors import (
    AlreadyExists,
    DataLoss,
    EngineError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from signer.engine.manager import SessionManager
from signer.engine.model import (
    ED25519,
    FROST,
    GG20,
    SECP256K1,
    DeliverResult,
    DkgRequest,
    ProtocolMessage,
    SessionKind,
    SessionState,
    SessionView,
    SignRequest,
)
from signer.engine.pools import PreparamsPool
from signer.engine.registry import PresignResult, ProtocolBinding, SchemeKey, default_protocols
from signer.engine.storage import EngineStore

__all__ = [
    "ED25519",
    "FROST",
    "GG20",
    "SECP256K1",
    "AlreadyExists",
    "DataLoss",
    "DeliverResult",
    "DkgRequest",
    "EngineConfig",
    "EngineError",
    "EngineStore",
    "FailedPrecondition",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "PreparamsPool",
    "PresignResult",
    "ProtocolBinding",
    "ProtocolMessage",
    "ResourceExhausted",
    "SchemeKey",
    "SessionKind",
    "SessionManager",
    "SessionState",
    "SessionView",
    "SignRequest",
    "Unauthenticated",
    "Unavailable",
    "default_protocols",
]
