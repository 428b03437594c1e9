"""Protobuf <-> engine domain types. Only shapes and enum names change here; the engine validates values."""

from __future__ import annotations

import grpclib
from grpclib.const import Status

from gen.mpc.v1 import Curve, Protocol, ProtocolMessage, SessionState, StartSignRequest
from signer.auth.mac import MacError, MessageAuthenticator
from signer.engine import model

PROTOCOLS = {Protocol.FROST: model.FROST, Protocol.GG20: model.GG20}
CURVES = {Curve.ED25519: model.ED25519, Curve.SECP256K1: model.SECP256K1}
STATES = {
    model.SessionState.RUNNING: SessionState.RUNNING,
    model.SessionState.COMPLETED: SessionState.COMPLETED,
    model.SessionState.FAILED: SessionState.FAILED,
    model.SessionState.TIMED_OUT: SessionState.TIMED_OUT,
    model.SessionState.CANCELLED: SessionState.CANCELLED,
}


def invalid(message: str) -> grpclib.GRPCError:
    return grpclib.GRPCError(Status.INVALID_ARGUMENT, message)


def protocol_name(value: Protocol | int) -> str:
    try:
        return PROTOCOLS[Protocol(value)]
    except (KeyError, ValueError):
        raise invalid("protocol must be PROTOCOL_GG20 or PROTOCOL_FROST") from None


def curve_name(value: Curve | int) -> str:
    try:
        return CURVES[Curve(value)]
    except (KeyError, ValueError):
        raise invalid("curve must be CURVE_SECP256K1 or CURVE_ED25519") from None


def wait_seconds(wait_ms: int | None) -> float:
    """A status call's long-poll bound; an absent `wait_ms` means do not wait."""
    return (wait_ms or 0) / 1000.0


def sign_request(message: StartSignRequest) -> model.SignRequest:
    """StartSign -> a signing, a signing with a stored presignature, or (presign) a GG20 presigning."""
    return model.SignRequest(
        session_id=message.session_id,
        key_id=message.key_id,
        message=message.message,
        signers=tuple(message.signers),
        derivation_path=tuple(message.derivation_path),
        presign=message.presign,
        presignature_id=message.presignature_id,
    )


def seal(m: model.ProtocolMessage, authenticator: MessageAuthenticator) -> ProtocolMessage:
    """The wire form of a protocol message, MACed as SPEC.md §3 lays the bytes out (both relay legs use it)."""
    mac = authenticator.mac(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload)
    return ProtocolMessage(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload, mac)


def unseal(p: ProtocolMessage, authenticator: MessageAuthenticator) -> model.ProtocolMessage:
    """Check the MAC before anything else about the message, then convert; raises MacError."""
    authenticator.verify(p.session_id, p.from_party, p.to_party, p.round, p.sequence, p.payload, p.mac)
    return model.ProtocolMessage(p.session_id, p.from_party, p.to_party, p.round, p.sequence, p.payload)


def inbound(message: ProtocolMessage | None, authenticator: MessageAuthenticator) -> model.ProtocolMessage:
    """A relayed message for the engine; UNAUTHENTICATED for a missing or wrong MAC."""
    if message is None:
        raise invalid("message is required")
    try:
        return unseal(message, authenticator)
    except MacError as exc:
        raise grpclib.GRPCError(Status.UNAUTHENTICATED, f"message MAC rejected: {exc}") from None


def outbound(view: model.SessionView, authenticator: MessageAuthenticator) -> list[ProtocolMessage]:
    """The session's outbound messages, each MACed as the receiving side will check it."""
    return [seal(m, authenticator) for m in view.outbound]
