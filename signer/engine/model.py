"""The engine's domain types: session requests, protocol messages, states and status views.

Transport converts protobuf <-> these; nothing here knows about gRPC. Protocol and curve are plain
names from `signer.schemes`; the relayed message is `signer.wire.ProtocolMessage`, shared with the client.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from signer.schemes import ED25519, FROST, GG20, SECP256K1
from signer.session_context import CREATE, PartyApproval, PartyIdentity
from signer.wire import ProtocolMessage

__all__ = [
    "ED25519",
    "FROST",
    "GG20",
    "SECP256K1",
    "DeliverResult",
    "DkgRequest",
    "PartyApproval",
    "PartyIdentity",
    "ProtocolMessage",
    "SessionKind",
    "SessionState",
    "SessionView",
    "SignRequest",
]


class SessionKind(enum.Enum):
    """DKG, signing, or GG20 presigning (started through StartSign with `presign`, reported by
    GetSignStatus like a signing)."""

    DKG = "dkg"
    PRESIGN = "presign"
    SIGN = "sign"


class SessionState(enum.Enum):
    """docs/contract.md §4.9 SessionState without the UNSPECIFIED zero value."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self is not SessionState.RUNNING


@dataclass(frozen=True)
class DkgRequest:
    """StartDKG: `party_index` is this node's 1-based index among `total_parties`; `party_identities`
    names every party's identity key, this node's own included."""

    session_id: str
    key_id: str
    protocol: str
    curve: str
    threshold: int
    total_parties: int
    party_index: int
    party_identities: tuple[PartyIdentity, ...] = ()
    # docs/contract.md §12: CREATE makes key_id; REFRESH and RESHARE make a new version of it. For a
    # RESHARE, `old_parties` is the dealing quorum and the other fields describe the new party set (the
    # parties named by `party_identities`).
    operation: str = CREATE
    old_parties: tuple[int, ...] = ()

    @property
    def new_parties(self) -> tuple[int, ...]:
        """The parties of the key this session makes: those `party_identities` names."""
        return tuple(sorted(p.party for p in self.party_identities))


@dataclass(frozen=True)
class SignRequest:
    """StartSign: `message` is a 32-byte digest for ECDSA and Taproot, the message itself for RFC 9591.

    `presign`: run GG20 presigning only (no message, no derivation path); every party keeps its share of
    the presignature under id = session_id, for key_id. `presignature_id`: sign with the presignature
    kept under that id (claimed from the store before the session starts), running only the online round.
    `taproot`: a BIP-340 signature for the BIP-341 output key of the (derived) key, committing to the script
    tree `taproot_merkle_root` (32 bytes; empty for a key-path-only output).
    `approvals`: the other signers' approvals of this signing; not part of what identifies the session (a
    retried start with freshly made approvals is the same request).
    """

    session_id: str
    key_id: str
    message: bytes
    signers: tuple[int, ...]
    derivation_path: tuple[int, ...] = ()
    presign: bool = False
    presignature_id: str = ""
    taproot: bool = False
    taproot_merkle_root: bytes = b""
    approvals: tuple[PartyApproval, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class SessionView:
    """A snapshot of one session for Start*/Get*Status/SubmitProtocolMessage responses.

    `outbound` is every message this node produced in the session, in sequence order (docs/contract.md §4.8:
    outbound is never lost to a dropped response). `round` is the round the session waits in
    (the last one once finished). Result fields are empty until COMPLETED; `output_key` is set for a
    Taproot signing only.
    """

    session_id: str
    kind: SessionKind
    state: SessionState
    round: int
    key_id: str
    protocol: str
    outbound: tuple[ProtocolMessage, ...]
    public_key: bytes = b""
    signature: bytes = b""
    recovery_id: int = 0
    output_key: bytes = b""
    error: str = ""
    culprits: tuple[int, ...] = ()
    # A COMPLETED DKG's key version: 1 for CREATE, the previous version + 1 for a REFRESH or RESHARE.
    key_version: int = 0


@dataclass(frozen=True)
class DeliverResult:
    """SubmitProtocolMessage outcome: the message was acknowledged (`accepted` = true on the wire);
    `duplicate` is True for an exact resend, which was ignored."""

    duplicate: bool
    view: SessionView
