"""A party run locally by the client side (P1, the wallet app): the same sans-IO protocol code the node
runs, plus the bookkeeping a relay-fed party needs.

Messages are `signer.wire.ProtocolMessage` (as `WireMessage`), the shape the node's engine uses too.
`LocalParty` takes relayed messages in any order and with repeats: it keeps messages for later rounds
until their round comes, drops exact repeats, refuses a second, different payload for the same slot,
and advances the protocol as soon as the current round's messages are all in. It numbers its own
outbound messages with a per-session sequence, as docs/contract.md §3.2 requires of every sender.

Identities (docs/contract.md §11.5): the party signs every message it sends with its identity key over the
session context it computed itself, and checks every message it takes against the sender's identity in
that context before anything else; a message its claimed sender did not sign ends the session here, so a
relay posing as the node cannot get this party to finish. In a session of three or more parties the
protocol runs inside its echo broadcast (`signer.protocols.echo.with_echo`, as in the node), which is
handed the signed messages so that it can name a party that signed two different broadcasts.

Key refresh and reshare (docs/lifecycle.md §4): such a session exposes the new key share as `pending` in
the step that also sends this party's confirmation (under echo, the step that releases it). `prepare`, if
given, is called with it before that confirmation leaves the party: the caller stores the pending version
durably there, so no other party can commit a version this party might lose in a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from signer.crypto.identity import IdentityError, IdentityKey
from signer.protocols.base import BROADCAST, DkgResult, InboxKey, ProtocolError, SessionProtocol, SignResult
from signer.protocols.echo import with_echo
from signer.session_context import SessionContext, sign_message, verify_message
from signer.wire import ProtocolMessage as WireMessage


class LocalParty:
    """Drive one local SessionProtocol from relayed messages."""

    def __init__(
        self,
        session_id: str,
        protocol: SessionProtocol,
        *,
        identity: IdentityKey,
        context: SessionContext,
        prepare: Callable[[DkgResult], None] | None = None,
    ) -> None:
        self.session_id = session_id
        self.protocol = with_echo(protocol, context)
        self.identity = identity
        self.context = context
        self.prepare = prepare
        self._prepared = False
        self.index = protocol.party_index
        self._next_sequence = 1
        self._pending: dict[tuple[int, InboxKey], WireMessage] = {}
        self._started = False
        # A failure met after earlier rounds of the same `receive` produced messages: those are returned
        # first (a peer may wait for them, as for an echo reveal), and the next `receive` raises this.
        self.failure: ProtocolError | None = None

    @property
    def done(self) -> bool:
        return self._started and self.protocol.expected() is None

    @property
    def result(self) -> DkgResult | SignResult:
        return self.protocol.result

    def start(self) -> list[WireMessage]:
        self._started = True
        return self._wire(self.protocol.start())

    def wants(self, message: WireMessage) -> bool:
        """Whether this message is addressed to this party (a broadcast from another party, or to us)."""
        return message.from_party != self.index and message.to_party in (BROADCAST, self.index)

    def receive(self, message: WireMessage) -> list[WireMessage]:
        """Take one relayed message; return whatever the protocol sends once rounds complete.

        A ProtocolError ends the session; one met after this call already finished rounds is kept in
        `failure` (and raised by the next call) so that their messages are returned."""
        if self.failure is not None:
            raise self.failure
        if message.session_id != self.session_id or not self.wants(message):
            raise ValueError("message is not for this party")
        if message.from_party not in self.protocol.parties:
            raise ProtocolError(f"message from party {message.from_party}, which is not in this session")
        try:
            verify_message(self.context, message, message.party_signature)
        except IdentityError as exc:
            raise ProtocolError(f"refused a message: {exc}") from None
        slot = (message.round, InboxKey(message.from_party, message.to_party == BROADCAST))
        seen = self._pending.get(slot)
        if seen is not None:
            if seen.payload != message.payload:
                raise ProtocolError(
                    f"party {message.from_party} sent two different round-{message.round} messages",
                    [message.from_party],
                )
            return []
        spec = self.protocol.expected()
        if spec is None or message.round < spec.round:
            return []  # a relay retry of a round already consumed
        self._pending[slot] = message
        return self._advance()

    def _advance(self) -> list[WireMessage]:
        out: list[WireMessage] = []
        while (spec := self.protocol.expected()) is not None:
            keys = spec.keys()
            if not all((spec.round, k) in self._pending for k in keys):
                break
            inbox = {k: self._pending.pop((spec.round, k)) for k in keys}
            try:
                outgoing = self.protocol.advance_messages(inbox)
            except ProtocolError as exc:
                if not out:
                    raise
                self.failure = exc
                break
            self._prepare()
            out += self._wire(outgoing)
        return out

    def _prepare(self) -> None:
        """Hand a refresh's or reshare's new version to `prepare` once, before its confirmation is sent."""
        pending = getattr(self.protocol, "pending", None)
        if pending is not None and not self._prepared and self.prepare is not None:
            self.prepare(pending)
            self._prepared = True

    def _wire(self, outgoing: list) -> list[WireMessage]:
        wire = []
        for o in outgoing:
            m = WireMessage(self.session_id, self.index, o.to_party, o.round, self._next_sequence, o.payload)
            wire.append(replace(m, party_signature=sign_message(self.identity, self.context, m)))
            self._next_sequence += 1
        return wire
