"""The relayed protocol message as both relay legs see it, and its MAC seal.

`ProtocolMessage` is the domain form of `mpc.v1.ProtocolMessage` without the MAC: the engine routes it,
the client's local parties produce and consume it. `seal` adds the MAC (docs/contract.md §3.3 lays out the MACed
bytes; `signer.auth.mac` computes them) while converting to a wire object; `unseal` checks the MAC before
anything else about a wire object is believed. Transport (node side) and client (coordinator side) both
use these, with the generated protobuf class as the wire object, so neither reaches into the other.

Imports nothing from signer: the authenticator and the wire class are passed in (duck-typed), so this
module sits below every layer that needs it. `skip_default_warnings` speeds up both sides' generated
message classes (the module is passed in, for the same reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol, TypeVar

import betterproto2

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


def _field_default(message: Any, field_name: str) -> Any:
    """betterproto2's Message._get_field_default without its warnings.catch_warnings."""
    return message._betterproto.default_gen[field_name]()


def skip_default_warnings(module: ModuleType) -> None:
    """Give the generated message classes of `module` (gen.mpc.v1) a cheaper field-default lookup.

    Why: betterproto2 compares every field with a freshly made default whenever it serializes a message,
    and makes each default inside `warnings.catch_warnings()` so that deprecated fields' defaults warn
    nothing. Entering and leaving that context per field was about half of the CPU of serializing and
    parsing a relayed ProtocolMessageRequest here (about 160 -> 80 µs per round trip), a visible share of a
    node's CPU per FROST signing. A class none of whose fields is deprecated has nothing to silence, so it
    gets the same default (still made fresh on each call) without the context; a class with a deprecated
    field keeps the library's method. Idempotent."""
    for cls in vars(module).values():
        if isinstance(cls, type) and issubclass(cls, betterproto2.Message) and cls is not betterproto2.Message:
            generated: Any = cls  # a generated class: it has a DESCRIPTOR (google_protobuf_descriptors)
            if not any(f.GetOptions().deprecated for f in generated.DESCRIPTOR.fields):
                generated._get_field_default = _field_default
