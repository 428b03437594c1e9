"""The relayed protocol message as both relay legs see it, and its MAC seal.

`ProtocolMessage` is the domain form of `mpc.v1.ProtocolMessage` without the MAC: the engine routes it,
the client's local parties produce and consume it. `seal` adds the MAC (docs/contract.md §3.3 lays out the MACed
bytes; `signer.auth.mac` computes them) while converting to a wire object; `unseal` checks the MAC before
anything else about a wire object is believed. Transport (node side) and client (coordinator side) both
use these, with the generated protobuf class as the wire object, so neither reaches into the other.

Imports nothing from signer: the authenticator and the wire class are passed in (duck-typed), so this
module sits below every layer that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

W = TypeVar("W")

# `to_party` of a message to every other party of the session (docs/contract.md §3.1).
BROADCAST = 0


@dataclass(frozen=True)
class ProtocolMessage:
    """One relayed protocol message (inbound or outbound); to_party = 0 is a broadcast.

    The MAC is not here: `unseal` checks it on the way in and `seal` adds it on the way out.
    `party_signature` is the sender's identity signature (`signer.session_context`); it is not part of
    the message's content: two messages that differ only in it are the same message (a resend).
    """

    session_id: str
    from_party: int
    to_party: int
    round: int
    sequence: int
    payload: bytes = field(repr=False)
    party_signature: bytes = field(default=b"", repr=False, compare=False)


class Authenticator(Protocol):
    """What sealing needs of `signer.auth.mac.MessageAuthenticator`."""

    def mac(
        self, session_id: str, from_party: int, to_party: int, round: int, sequence: int, payload: bytes
    ) -> bytes: ...

    def verify(
        self, session_id: str, from_party: int, to_party: int, round: int, sequence: int, payload: bytes, mac: bytes
    ) -> None: ...


class SealedFields(Protocol):
    """A wire message as received: the message fields and its MAC (the generated protobuf class has these)."""

    session_id: str
    from_party: int
    to_party: int
    round: int
    sequence: int
    payload: bytes
    mac: bytes
    party_signature: bytes


def seal(
    m: ProtocolMessage,
    authenticator: Authenticator,
    into: Callable[[str, int, int, int, int, bytes, bytes, bytes], W],
) -> W:
    """The wire form `into(session_id, from_party, to_party, round, sequence, payload, mac, party_signature)`
    of `m`, MACed (the MAC does not cover the party signature, which covers the same fields itself)."""
    mac = authenticator.mac(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload)
    return into(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload, mac, m.party_signature)


def unseal(p: SealedFields, authenticator: Authenticator) -> ProtocolMessage:
    """Check the MAC before anything else about the message, then convert; the authenticator's error
    (`signer.auth.mac.MacError`) propagates for a missing or wrong MAC."""
    authenticator.verify(p.session_id, p.from_party, p.to_party, p.round, p.sequence, p.payload, p.mac)
    return ProtocolMessage(p.session_id, p.from_party, p.to_party, p.round, p.sequence, p.payload, p.party_signature)
