"""Protobuf <-> engine domain types, and the limit checks at the gRPC edge.

Shapes and enum names change here. Every field with a limit in `signer.limits` is checked here first
(INVALID_ARGUMENT naming the field), with the same functions the engine, protocols and store use inside,
so a request the edge accepts is never refused later for its size. Other checks on values (thresholds
against a stored key, signer sets, digests) stay in the engine, which knows the key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpclib
from grpclib.const import Status

from gen.mpc.v1 import (
    Curve,
    IdentityScheme,
    KeyOperation,
    PartyApproval,
    PartyIdentity,
    Protocol,
    ProtocolMessage,
    SessionState,
    StartDkgRequest,
    StartSignRequest,
)
from signer import limits, schemes
from signer.auth.mac import MacError, MessageAuthenticator
from signer.engine import model
from signer.session_context import KEY_OPERATIONS, RESHARE
from signer.wire import seal, unseal

T = TypeVar("T")

# Proto enum values are named like the registry's names (Protocol.FROST <-> "frost").
PROTOCOLS = {Protocol[name.upper()]: name for name in schemes.PROTOCOLS}
CURVES = {Curve[name.upper()]: name for name in schemes.CURVES}
OPERATIONS = {KeyOperation[name.upper()]: name for name in KEY_OPERATIONS}
STATES = {
    model.SessionState.RUNNING: SessionState.RUNNING,
    model.SessionState.COMPLETED: SessionState.COMPLETED,
    model.SessionState.FAILED: SessionState.FAILED,
    model.SessionState.TIMED_OUT: SessionState.TIMED_OUT,
    model.SessionState.CANCELLED: SessionState.CANCELLED,
}


def invalid(message: str) -> grpclib.GRPCError:
    return grpclib.GRPCError(Status.INVALID_ARGUMENT, message)


def checked(check: Callable[..., T], *args: object) -> T:
    """Apply one `signer.limits` check; its LimitError ("field: ...") becomes INVALID_ARGUMENT."""
    return limits.check_as(invalid, check, *args)


def _check_ids(message: StartDkgRequest | StartSignRequest) -> None:
    checked(limits.check_session_id, message.session_id)
    checked(limits.check_key_id, message.key_id)


def _enum_names(values: dict) -> str:
    return " or ".join(f"{type(v).__name__.upper()}_{v.name}" for v in values)


def protocol_name(value: Protocol | int) -> str:
    try:
        return PROTOCOLS[Protocol(value)]
    except (KeyError, ValueError):
        raise invalid(f"protocol must be {_enum_names(PROTOCOLS)}") from None


def curve_name(value: Curve | int) -> str:
    try:
        return CURVES[Curve(value)]
    except (KeyError, ValueError):
        raise invalid(f"curve must be {_enum_names(CURVES)}") from None


def key_operation(value: KeyOperation | int) -> str:
    """The `KeyOperation` name the engine uses ("create", "refresh", "reshare")."""
    try:
        return OPERATIONS[KeyOperation(value)]
    except (KeyError, ValueError):
        names = " or ".join(f"KEY_OPERATION_{v.name}" for v in OPERATIONS)
        raise invalid(f"operation must be {names}") from None


def dkg_request(message: StartDkgRequest) -> model.DkgRequest:
    """StartDKG -> a DKG request whose ids and party numbers are within the limits. A RESHARE's party_index
    may lie beyond total_parties (a new set such as {1, 3}); the engine checks it against the parties."""
    _check_ids(message)
    operation = key_operation(message.operation)
    total = checked(limits.check_party_count, message.total_parties)
    checked(limits.check_threshold, message.threshold, total)
    if operation == RESHARE:
        checked(limits.check_party_index, message.party_index, "party_index")
    else:
        checked(limits.check_party_index, message.party_index, "party_index", total)
    if len(message.old_parties) > limits.MAX_PARTIES:
        raise invalid(f"old_parties: at most {limits.MAX_PARTIES} parties")
    for p in message.old_parties:
        checked(limits.check_party_index, p, "old_parties")
    return model.DkgRequest(
        session_id=message.session_id,
        key_id=message.key_id,
        protocol=protocol_name(message.protocol),
        curve=curve_name(message.curve),
        threshold=message.threshold,
        total_parties=message.total_parties,
        party_index=message.party_index,
        party_identities=tuple(party_identity(p) for p in message.party_identities),
        operation=operation,
        old_parties=tuple(message.old_parties),
    )


def party_identity(p: PartyIdentity) -> model.PartyIdentity:
    """One StartDKG identity; whether the set is complete and the keys valid is the engine's check."""
    try:
        scheme = IdentityScheme(p.scheme)
    except ValueError:
        scheme = IdentityScheme.UNSPECIFIED
    if scheme is IdentityScheme.UNSPECIFIED:
        raise invalid(f"party_identities: party {p.party}: scheme must be IDENTITY_SCHEME_ED25519 or ..._P256_SHA256")
    if len(p.certificate) > limits.MAX_CERTIFICATE_CHARS:
        raise invalid(f"party_identities: party {p.party}: certificate over {limits.MAX_CERTIFICATE_CHARS} characters")
    return model.PartyIdentity(p.party, int(scheme), p.public_key, p.certificate)


def approval(a: PartyApproval) -> model.PartyApproval:
    return model.PartyApproval(a.party, a.signature)


def wait_seconds(wait_ms: int | None) -> float:
    """A status call's long-poll bound; an absent `wait_ms` means do not wait."""
    return (wait_ms or 0) / 1000.0


def sign_request(message: StartSignRequest) -> model.SignRequest:
    """StartSign -> a signing, a signing with a stored presignature, or (presign) a GG20 presigning.

    The Taproot fields are checked as far as the request alone tells (`limits.check_taproot`); whether the
    key's scheme has Taproot is the engine's check."""
    _check_ids(message)
    if message.presignature_id:
        checked(limits.check_session_id, message.presignature_id, "presignature_id")
    for s in message.signers:
        checked(limits.check_party_index, s, "signers")
    checked(
        limits.check_taproot, message.taproot, message.taproot_merkle_root, message.presign, message.presignature_id
    )
    return model.SignRequest(
        session_id=message.session_id,
        key_id=message.key_id,
        message=message.message,
        signers=tuple(message.signers),
        derivation_path=tuple(message.derivation_path),
        presign=message.presign,
        presignature_id=message.presignature_id,
        taproot=message.taproot,
        taproot_merkle_root=message.taproot_merkle_root,
        approvals=tuple(approval(a) for a in message.approvals),
    )


def inbound(message: ProtocolMessage | None, authenticator: MessageAuthenticator) -> model.ProtocolMessage:
    """A relayed message for the engine; UNAUTHENTICATED for a missing or wrong MAC (checked first), then
    INVALID_ARGUMENT for a party index outside the limits."""
    if message is None:
        raise invalid("message is required")
    try:
        m = unseal(message, authenticator)
    except MacError as exc:
        raise grpclib.GRPCError(Status.UNAUTHENTICATED, f"message MAC rejected: {exc}") from None
    checked(limits.check_party_index, m.from_party, "from_party")
    checked(limits.check_int, "to_party", m.to_party, 0, limits.MAX_PARTIES)
    return m


def outbound(view: model.SessionView, authenticator: MessageAuthenticator) -> list[ProtocolMessage]:
    """The session's outbound messages, each MACed as the receiving side will check it."""
    return [seal(m, authenticator, ProtocolMessage) for m in view.outbound]
