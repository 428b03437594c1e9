"""The sans-IO interface every protocol session implements, and the engine and P1 client drive.

A protocol session is a state machine for one party in one DKG or signing. It never does I/O, never
reads a clock and never sleeps: the engine (or the P1 client) moves messages and owns time.

Life of a session:
    outgoing = proto.start()                 # round-1 messages
    while (spec := proto.expected()) is not None:
        inbox = collect(spec)                # one payload per (sender, kind) the spec names
        outgoing = proto.advance(inbox)      # validates everything, raises ProtocolError(culprits)
    result = proto.result                    # DkgResult or SignResult

(`signer.protocols.local` plays every party of a session in one process this way.)

Failures, and whom they blame:
    ProtocolError        the session cannot go on; `culprits` names the parties it is provably pinned on.
    MalformedPayload     a ProtocolError (and a DecodeError) for a peer's payload that does not decode.
    InternalError        any other exception raised while handling a round: a bug in this party's own
                         code. It names nobody, so a bug never accuses an honest peer.
The crypto layer's `DecodeError` and `ProofError` (signer.crypto.errors) carry no culprit; a round names
the sender by running the decoding and verification of that sender's data inside `attribute(sender, ...)`.

Within a round, each other party sends this party at most one broadcast payload (to_party = 0) and at
most one point-to-point payload (to_party = this party); `RoundSpec` says which of the two it expects
from whom. Payload bytes are the protocol's own versioned, length-checked encoding.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from signer.crypto.errors import DecodeError, ProofError
from signer.protocols.params import validate_session_id
from signer.wire import BROADCAST, ProtocolMessage

if TYPE_CHECKING:  # the client imports this module and must not load the precompute pools
    from signer.crypto.precompute import Need

__all__ = [
    "BROADCAST",
    "DecodeError",
    "DkgResult",
    "InboxKey",
    "InternalError",
    "MalformedPayload",
    "Outgoing",
    "ProofError",
    "ProtocolError",
    "RoundMachine",
    "RoundSpec",
    "SessionProtocol",
    "SecretState",
    "SignResult",
    "attribute",
]

T = TypeVar("T")


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

    `evidence`: signed messages that prove the blame to a third party when the culprit's own messages
    to this party do not suffice (an equivocation: the two differently signed broadcasts for one slot, one
    of which reached this party only inside another party's message). The engine keeps them, with the
    culprit's messages of the session, in the audit log.

    Messages never contain secret values: they name the check that failed and the party.
    """

    def __init__(
        self,
        message: str,
        culprits: tuple[int, ...] | list[int] = (),
        evidence: tuple[ProtocolMessage, ...] = (),
    ) -> None:
        super().__init__(message)
        self.culprits: tuple[int, ...] = tuple(sorted(set(culprits)))
        self.evidence: tuple[ProtocolMessage, ...] = tuple(evidence)


class MalformedPayload(ProtocolError, DecodeError):
    """A peer's payload that is malformed (wrong kind, version or length, a bad point, an out-of-range
    scalar); `culprits` is the sender. Also a DecodeError, so callers may catch either."""


class InternalError(Exception):
    """A failure of this party's own code while handling a round: never a peer's fault, so no culprit.

    The original exception is the `__cause__`; the engine logs it and fails the session as an internal
    error (it is not a ProtocolError, so it is never reported as one)."""


@contextmanager
def attribute(party: int, what: str) -> Iterator[None]:
    """Name `party` as the culprit of a decoding or proof failure inside the block.

    Only what a peer sent can fail this way: a `DecodeError` (its bytes do not decode) or a `ProofError`
    (its proof does not verify). Anything else raised inside the block propagates unchanged and, out of a
    `RoundMachine` round, becomes an InternalError with no culprit.
    """
    try:
        yield
    except ProtocolError:
        raise
    except DecodeError as exc:
        raise MalformedPayload(f"{what} from party {party}: {exc}", [party]) from None
    except ProofError as exc:
        raise ProtocolError(f"{what} from party {party}: {exc}", [party]) from None


@dataclass(frozen=True)
class DkgResult:
    """What a finished DKG leaves behind for this party.

    `key_share` is the party's secret key package in the protocol's own encoding (the store encrypts it);
    `public_key` is the group key in the docs/contract.md §4.10 encoding (33-byte SEC1 or 32-byte Ed25519).
    `from_version`, for a refresh or reshare, is the key version the operation started from as every dealer
    stated it in round 1 (0 for a new key): a party joining the key by a reshare knows it only from there.
    """

    public_key: bytes
    key_share: bytes = field(repr=False)
    from_version: int = 0


@dataclass(frozen=True)
class SignResult:
    """A finished signing: the signature (64-byte r||s low-s, RFC 9591's R||z, or BIP-340's x(R)||s), the
    ECDSA recovery id (0 for Schnorr) and, for a Taproot signing, the 32-byte x-only output key it verifies
    under (`public_key` is then the internal key)."""

    signature: bytes
    public_key: bytes
    recovery_id: int = 0
    output_key: bytes = b""


class SessionProtocol(ABC):
    """One party's state machine for one DKG or signing session (`session_id`, this party's index, and
    every party of the session: a signing's signers)."""

    session_id: str
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

    def advance_messages(self, inbox: Mapping[InboxKey, ProtocolMessage]) -> list[Outgoing]:
        """`advance` for a driver that holds the received messages with their identity signatures (the
        engine, the client's LocalParty). A protocol that must show a third party what a peer signed
        (the echo broadcast, signer.protocols.echo) overrides it; every other one gets the payloads."""
        return self.advance({key: m.payload for key, m in inbox.items()})

    @property
    @abstractmethod
    def result(self) -> DkgResult | SignResult:
        """The outcome; only valid once `expected()` is None."""

    def precompute_needs(self, whole: bool = False) -> list[Need]:
        """The precomputable single-use values (signer/crypto/precompute.py) the next step (with `whole`:
        the rest of the session) will take, so a runner can make them ahead and hand them over; none by
        default."""
        return []


class SecretState:
    """Mixin for a round's frozen secret state (declare the dataclass with repr=False): its repr names the
    type only, so no secret reaches a log line or a traceback."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"


Handler = Callable[[Mapping[InboxKey, bytes]], list[Outgoing]]


class RoundMachine(SessionProtocol):
    """Round bookkeeping every protocol session shares, with one contract for all of them.

    A subclass implements `_start()` (round 1's messages) and, for each round, names what it waits for
    and who handles it with `_expect(round, handler, broadcast=..., p2p=...)`; the last handler calls
    `_finish(result)`. Then:
      * `start()` a second time, or `advance()` when nothing is expected, raises ProtocolError;
      * an inbox that is not exactly the expected (sender, broadcast|p2p) set raises ProtocolError and
        leaves the session as it was (the caller collected wrongly; nobody sent anything bad);
      * any failure inside `start()` or a handler is terminal: the session is dead (`failed`,
        `expected()` is None); a ProtocolError propagates as is, anything else as InternalError.
    """

    def __init__(self, session_id: str, party_index: int, parties: tuple[int, ...]) -> None:
        validate_session_id(session_id)
        self.session_id = session_id
        self.party_index = party_index
        self.parties = parties
        self.others = tuple(p for p in parties if p != party_index)
        self._spec: RoundSpec | None = None
        self._handler: Handler | None = None
        self._started = False
        self._dead = False
        self._result: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(session={self.session_id!r}, party={self.party_index}, secret=<redacted>)"

    @abstractmethod
    def _start(self) -> list[Outgoing]:
        """Round 1: compute and return this party's first messages (and `_expect` round 1's inbox)."""

    def _expect(
        self,
        round_no: int,
        handler: Handler,
        broadcast: bool = True,
        p2p: bool = False,
        senders: Iterable[int] | None = None,
    ) -> None:
        """Wait for one broadcast and/or one point-to-point payload in `round_no` from every other party,
        or only from `senders` (a round some parties do not speak in, as a reshare's shares come only from
        the dealers)."""
        others = frozenset(self.others if senders is None else senders) - {self.party_index}
        self._expect_spec(
            RoundSpec(round_no, others if broadcast else frozenset(), others if p2p else frozenset()), handler
        )

    def _expect_spec(self, spec: RoundSpec, handler: Handler) -> None:
        """Wait for exactly `spec` (a wrapper passing on what its inner session waits for)."""
        self._spec = spec
        self._handler = handler

    def _receive(
        self, inbox: Mapping[InboxKey, bytes], what: str, decode: Callable[[int, bytes], T], p2p: bool = False
    ) -> dict[int, T]:
        """Decode every sender's broadcast (or point-to-point) payload in `inbox` as `decode(sender, payload)`;
        a payload that does not decode names its sender."""
        received = {}
        for key in sorted((k for k in inbox if k.broadcast != p2p), key=lambda k: k.from_party):
            with attribute(key.from_party, what):
                received[key.from_party] = decode(key.from_party, inbox[key])
        return received

    def _finish(self, result: Any) -> None:
        self._spec = None
        self._handler = None
        self._result = result

    @property
    def failed(self) -> bool:
        """True once a round has failed; the session can then never advance again."""
        return self._dead

    def start(self) -> list[Outgoing]:
        if self._started:
            raise ProtocolError("session already started")
        self._started = True
        return self._guarded(self._start)

    def expected(self) -> RoundSpec | None:
        return None if self._dead else self._spec

    def advance(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        if self._dead:
            raise ProtocolError("session has failed; it cannot advance")
        if self._spec is None or self._handler is None:
            raise ProtocolError("session is not waiting for messages")
        if frozenset(inbox) != self._spec.keys():
            raise ProtocolError(f"inbox for round {self._spec.round} does not match the expected senders")
        return self._guarded(self._handler, inbox)

    def _guarded(self, step: Callable[..., list[Outgoing]], *args: Any) -> list[Outgoing]:
        try:
            return step(*args)
        except (ProtocolError, InternalError):  # the latter from a wrapped session: already classified
            self._fail()
            raise
        except Exception as exc:
            self._fail()
            raise InternalError(f"internal error in {type(self).__name__}: {type(exc).__name__}") from exc
        except BaseException:
            self._fail()
            raise

    def _fail(self) -> None:
        self._dead = True
        self._spec = None
        self._handler = None

    @property
    def result(self) -> Any:
        if self._result is None:
            raise ProtocolError("session has no result yet")
        return self._result

    def broadcast(self, round_no: int, payload: bytes) -> Outgoing:
        return Outgoing(BROADCAST, round_no, payload)
