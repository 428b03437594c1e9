"""The sans-IO interface every protocol session implements, and the engine and P1 client drive.

A protocol session is a state machine for one party in one DKG or signing. It never does I/O, never
reads a clock and never sleeps: the engine (or the P1 client) moves messages and owns time.

Life of a session:
    outgoing = proto.start()                 # round-1 messages
    while (spec := proto.expected()) is not None:
        inbox = collect(spec)                # one payload per (sender, kind) the spec names
        outgoing = proto.advance(inbox)      # validates everything, raises ProtocolError(culprits)
    result = proto.result                    # DkgResult or SignResult

Within a round, each other party sends this party at most one broadcast payload (to_party = 0) and at
most one point-to-point payload (to_party = this party); `RoundSpec` says which of the two it expects
from whom. Payload bytes are the protocol's own versioned, length-checked encoding.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

BROADCAST = 0


@dataclass(frozen=True)
class Outgoing:
    """A message this party sends: to_party = 0 is a broadcast to every other party in the session."""

    to_party: int
    round: int
    payload: bytes


@dataclass(frozen=True)
class InboxKey:
    """Where a received payload came from: the sender, and whether it was a broadcast or point-to-point."""

    from_party: int
    broadcast: bool


@dataclass(frozen=True)
class RoundSpec:
    """The messages a party waits for before it can advance past `round`."""

    round: int
    broadcast_from: frozenset[int] = frozenset()
    p2p_from: frozenset[int] = frozenset()

    def keys(self) -> frozenset[InboxKey]:
        return frozenset([InboxKey(p, True) for p in self.broadcast_from] + [InboxKey(p, False) for p in self.p2p_from])


class ProtocolError(Exception):
    """A protocol failure; `culprits` names the parties it can be pinned on (empty if none).

    Messages never contain secret values: they name the check that failed and the party.
    """

    def __init__(self, message: str, culprits: tuple[int, ...] | list[int] = ()) -> None:
        super().__init__(message)
        self.culprits: tuple[int, ...] = tuple(sorted(set(culprits)))


class DecodeError(ProtocolError):
    """A payload that is malformed: wrong version, wrong length, a bad point or an out-of-range scalar."""


@dataclass(frozen=True)
class DkgResult:
    """What a finished DKG leaves behind for this party.

    `key_share` is the party's secret key package in the protocol's own encoding (the store encrypts it);
    `public_key` is the group key in the SPEC.md encoding (33-byte SEC1 or 32-byte Ed25519).
    """

    public_key: bytes
    key_share: bytes = field(repr=False)


@dataclass(frozen=True)
class SignResult:
    """A finished signing: 64-byte signature (r||s low-s, or R||S) and the ECDSA recovery id (0 for EdDSA)."""

    signature: bytes
    public_key: bytes
    recovery_id: int = 0


class SessionProtocol(ABC):
    """One party's state machine for one DKG or signing session."""

    party_index: int
    parties: tuple[int, ...]

    @abstractmethod
    def start(self) -> list[Outgoing]:
        """Begin the session; returns the first round's messages."""

    @abstractmethod
    def expected(self) -> RoundSpec | None:
        """The messages the current round waits for; None once the session is finished."""

    @abstractmethod
    def advance(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        """Consume exactly the messages `expected()` names; return the next round's messages.

        Raises ProtocolError (with culprits) on any invalid input; the session is then dead.
        """

    @property
    @abstractmethod
    def result(self) -> DkgResult | SignResult:
        """The outcome; only valid once `expected()` is None."""
