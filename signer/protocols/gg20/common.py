"""What every GG20 session shares: argument validation, round bookkeeping, culprit attribution, big-int fields.

Each session is a list of round handlers; `RoundMachine` checks that an inbox holds exactly the messages
`expected()` named, runs the handler, and marks the session dead on any error, so a failed session can
never be advanced again (a failure is terminal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from signer.protocols.base import (
    BROADCAST,
    InboxKey,
    Outgoing,
    ProtocolError,
    RoundSpec,
    SessionProtocol,
)
from signer.protocols.params import validate_session_id


@contextmanager
def blame(party: int, what: str) -> Iterator[None]:
    """Attribute any decoding or validation failure inside the block to `party`."""
    try:
        yield
    except ProtocolError as exc:
        if exc.culprits:
            raise
        raise type(exc)(f"{what} from party {party}: {exc}", culprits=[party]) from None
    except (ValueError, ArithmeticError) as exc:
        # Input-validation errors of the crypto layer (bad point, bad ciphertext, bad range).
        raise ProtocolError(f"{what} from party {party} is invalid: {type(exc).__name__}", culprits=[party]) from None


Handler = Callable[[Mapping[InboxKey, bytes]], list[Outgoing]]


class RoundMachine(SessionProtocol):
    """Round bookkeeping shared by the keygen, presign and sign sessions."""

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
        self._result: object | None = None

    # subclasses: start() calls self._begin(...) and returns first messages
    def _next(self, round_no: int, handler: Handler, broadcast: bool = True, p2p: bool = False) -> None:
        others = frozenset(self.others)
        self._spec = RoundSpec(round_no, others if broadcast else frozenset(), others if p2p else frozenset())
        self._handler = handler

    def _finish(self, result: object) -> None:
        self._spec = None
        self._handler = None
        self._result = result

    def _begin(self) -> None:
        if self._started:
            raise ProtocolError("session already started")
        self._started = True

    def expected(self) -> RoundSpec | None:
        return None if self._dead else self._spec

    def advance(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        if self._dead:
            raise ProtocolError("session has failed; it cannot advance")
        if self._spec is None or self._handler is None:
            raise ProtocolError("session is not waiting for messages")
        if set(inbox) != set(self._spec.keys()):
            raise ProtocolError(f"inbox for round {self._spec.round} does not match the expected senders")
        handler = self._handler
        try:
            return handler(inbox)
        except BaseException:
            self._dead = True
            self._spec = None
            raise

    @property
    def result(self):  # type: ignore[override]
        if self._result is None:
            raise ProtocolError("session has no result yet")
        return self._result

    def broadcast(self, round_no: int, payload: bytes) -> Outgoing:
        return Outgoing(BROADCAST, round_no, payload)
