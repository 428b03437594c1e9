"""Echo broadcast: in a session of three or more parties, every party confirms that it saw the same
broadcasts as every other party before anything that depends on them is sent (docs/contract.md §7.9).

Why: a relayed "broadcast" is really n-1 point-to-point copies, so a lying party can sign a different
broadcast for each recipient. Every copy verifies on its own, and the parties only notice later, when
values computed from different views do not fit together, and then they blame each other (GG20 keygen
and presigning did). In a two-party session a broadcast has one recipient, so there is nothing to
compare: `with_echo` returns such a session unchanged, and its messages stay byte for byte the same.

`EchoBroadcast` wraps any `SessionProtocol`. Inner round r travels as wire round 3r-2 (`wire_round`);
after a round in which broadcasts were sent, two rounds follow:

* echo (wire 3r-1): each party broadcasts, for every slot of the round (sender j's broadcast, its own
  included), SHA-256 of the payload it holds for that slot. The echo is a normal message, so it carries
  the sender's identity signature. Comparing hashes of payloads is enough: a slot's other signed fields
  (session, from, to = 0, round) are fixed by the slot, and a sequence number is the sender's transport
  bookkeeping (a party does not know its own in a sans-IO state machine).
* reveal (wire 3r, only after a mismatch): party i compares every party k's echo with its own view.
  Two honest parties compare their own views directly, so they see a mismatch symmetrically, and a
  party that sees none never has to wait. A mismatch in k's own slot needs no reveal: i holds k's signed
  broadcast and k's signed echo of a different hash, so k is named at once with both. Otherwise i sends
  k (point-to-point) its signed copies of every slot but its own, and waits for k's: a copy validly
  signed by j that differs from i's for the same slot names j, the evidence being the two messages j
  signed; a reveal that does not back k's echo (a slot missing, a copy not signed by its slot's sender,
  or not hashing to k's echo) names k, the evidence being k's signed echo and k's signed reveal. Either
  way, a third party verifies the blame with the identity public keys and the session context only, and
  an honest party is never named: nobody can sign in its name, and it signs one broadcast per slot.

The wrapper first lets the inner protocol process round r (a bad proof or share is named by the inner
protocol as before) and holds round r+1's messages until the echo has passed: every honest party's
round-r+1 message depends only on broadcasts all honest parties agree on. The final round of a signing
(its result a `SignResult`) is not echoed: its broadcasts are signature shares, each checked against
values fixed by earlier, echoed rounds, and at most one signature verifies under the key for the
message, so every party that finishes holds the same signature and a bad share names its sender.

Without identities (`context` None: `run_local` in protocol tests) a mismatch is still detected and ends
the session, but names only a party whose echo is malformed: unsigned copies prove nothing.

The driver hands the wrapper the received messages with their signatures through
`SessionProtocol.advance_messages`; the wrapper is plain data, so it pickles for process offload.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from signer import limits
from signer.crypto.errors import DecodeError
from signer.crypto.identity import MAX_SIGNATURE_BYTES, IdentityError
from signer.protocols.base import (
    BROADCAST,
    DkgResult,
    InboxKey,
    Outgoing,
    ProtocolError,
    RoundMachine,
    RoundSpec,
    SessionProtocol,
    SignResult,
)
from signer.session_context import SessionContext, verify_message
from signer.wire import ProtocolMessage

if TYPE_CHECKING:  # the client imports this module and must not load the precompute pools
    from signer.crypto.precompute import Need

__all__ = [
    "MIN_ECHO_PARTIES",
    "EchoBroadcast",
    "decode_echo",
    "check_equivocation",
    "decode_reveal",
    "echo_round",
    "encode_echo",
    "encode_reveal",
    "inner_round",
    "rounds_ahead",
    "reveal_round",
    "uses_echo",
    "wire_round",
    "with_echo",
]

#: Sessions with at least this many parties echo their broadcasts; smaller ones are never wrapped.
MIN_ECHO_PARTIES = 3
KIND_ECHO, KIND_REVEAL = 0x71, 0x72
VERSION = 1
HASH_BYTES = 32


def uses_echo(parties: Iterable[int]) -> bool:
    return len(set(parties)) >= MIN_ECHO_PARTIES


def wire_round(inner: int) -> int:
    """The wire round of inner round `inner` in an echoed session."""
    return 3 * inner - 2


def echo_round(inner: int) -> int:
    return 3 * inner - 1


def reveal_round(inner: int) -> int:
    return 3 * inner


def inner_round(wire: int) -> int | None:
    """The inner round a wire round of an echoed session carries; None for an echo or reveal round."""
    return (wire + 2) // 3 if wire % 3 == 1 else None


def rounds_ahead(parties: Iterable[int]) -> int:
    """How many wire rounds ahead of this party a peer that still needs this party's messages can be:
    one without echo; with echo three (this party in round r's data round without broadcasts, or in
    its echo round, while the peer already sends round r+1), the messages a driver must hold as
    next-step messages rather than count as early ones."""
    return 3 if uses_echo(parties) else 1


def with_echo(proto: SessionProtocol, context: SessionContext | None = None) -> SessionProtocol:
    """`proto` wrapped in an echo broadcast if its session has three or more parties, else `proto` itself.
    The one place the engine, `LocalParty` and `run_local` decide it. `context` (identities) lets the
    wrapper check revealed copies and name an equivocating party."""
    if isinstance(proto, EchoBroadcast) or not uses_echo(proto.parties):
        return proto
    return EchoBroadcast(proto, context)


def _digest(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()


def encode_echo(view: Mapping[int, bytes]) -> bytes:
    """u8 0x71 ‖ u8 1 ‖ u16 count ‖ (u16 party ‖ 32-byte SHA-256 of its payload)*, parties ascending."""
    return struct.pack(">BBH", KIND_ECHO, VERSION, len(view)) + b"".join(
        struct.pack(">H", party) + view[party] for party in sorted(view)
    )


def encode_reveal(copies: Iterable[ProtocolMessage]) -> bytes:
    """u8 0x72 ‖ u8 1 ‖ u16 count ‖ (u16 from ‖ u64 sequence ‖ L(payload) ‖ L(party_signature))*,
    senders ascending; L(x) = u32 length ‖ x."""
    ordered = sorted(copies, key=lambda m: m.from_party)
    return struct.pack(">BBH", KIND_REVEAL, VERSION, len(ordered)) + b"".join(
        struct.pack(">HQI", m.from_party, m.sequence, len(m.payload))
        + m.payload
        + struct.pack(">I", len(m.party_signature))
        + m.party_signature
        for m in ordered
    )


class _Reader:
    """Strict parsing of the two layouts above (the protocol codec is not used: the client library, which
    runs this wrapper, loads no protocol arithmetic); DecodeError on anything short, unordered or left over."""

    def __init__(self, data: bytes, kind: int) -> None:
        self.data, self.at = bytes(data), 0
        if self.take(">BB") != (kind, VERSION):
            raise DecodeError(f"not an echo-broadcast message of kind {kind:#x}, version {VERSION}")
        self.last = 0

    def take(self, fmt: str) -> tuple[int, ...]:
        try:
            values = struct.unpack_from(fmt, self.data, self.at)
        except struct.error:
            raise DecodeError("payload truncated") from None
        self.at += struct.calcsize(fmt)
        return values

    def party(self) -> int:
        (party,) = self.take(">H")
        if not self.last < party <= limits.MAX_PARTIES:
            raise DecodeError("parties must be ascending party indices")
        self.last = party
        return party

    def field(self, n: int, most: int) -> bytes:
        if n > most or self.at + n > len(self.data):
            raise DecodeError("field truncated or too long")
        self.at += n
        return self.data[self.at - n : self.at]

    def end(self) -> None:
        if self.at != len(self.data):
            raise DecodeError(f"{len(self.data) - self.at} trailing bytes")


def decode_echo(payload: bytes) -> dict[int, bytes]:
    r = _Reader(payload, KIND_ECHO)
    (count,) = r.take(">H")
    view = {}
    for _ in range(count):
        party = r.party()
        view[party] = r.field(HASH_BYTES, HASH_BYTES)
    r.end()
    return view


def decode_reveal(payload: bytes, session_id: str, round_no: int) -> dict[int, ProtocolMessage]:
    """The revealed broadcasts of wire round `round_no`, as the messages their senders signed."""
    r = _Reader(payload, KIND_REVEAL)
    (count,) = r.take(">H")
    copies = {}
    for _ in range(count):
        party = r.party()
        sequence, size = r.take(">QI")
        body = r.field(size, len(payload))
        signature = r.field(r.take(">I")[0], MAX_SIGNATURE_BYTES)
        copies[party] = ProtocolMessage(session_id, party, BROADCAST, round_no, sequence, body, signature)
    r.end()
    return copies


class EchoBroadcast(RoundMachine):
    """An inner `SessionProtocol` with an echo (and, on a mismatch, a reveal) after each broadcast round."""

    def __init__(self, inner: SessionProtocol, context: SessionContext | None = None) -> None:
        super().__init__(inner.session_id, inner.party_index, inner.parties)
        self.inner = inner
        self.context = context
        self._own: dict[int, bytes] = {}  # inner round -> this party's broadcast payload of that round
        self._received: Mapping[InboxKey, ProtocolMessage] = {}  # the signed messages of the step running
        self._round = 0  # the inner round being echoed
        self._copies: dict[int, ProtocolMessage] = {}
        self._view: dict[int, bytes] = {}
        self._held: list[Outgoing] = []
        self._echoes: dict[int, ProtocolMessage] = {}
        self._proven: dict[int, tuple[ProtocolMessage, ...]] = {}

    @property
    def pending(self) -> DkgResult | None:
        """A refresh's or reshare's new version (docs/lifecycle.md §4), shown only from the step that
        releases the inner protocol's confirmation: the engine stores the version before that step's
        messages leave, and while the wrapper holds them for an echo they have not left yet."""
        return None if self._held else getattr(self.inner, "pending", None)

    @property
    def confirm_digest(self) -> bytes:
        """The inner lifecycle session's confirmation digest (only refresh and reshare sessions have one)."""
        digest: bytes = self.inner.confirm_digest  # type: ignore[attr-defined]
        return digest

    def precompute_needs(self, whole: bool = False) -> list[Need]:
        """The inner protocol's needs for a step in which it runs (its start or one of its rounds); an echo
        or reveal step runs none of its code and takes nothing."""
        runs_inner = not self._started or self._handler == self._on_round
        return self.inner.precompute_needs(whole) if whole or runs_inner else []

    # ----- driving ----------------------------------------------------------------------------------

    def advance_messages(self, inbox: Mapping[InboxKey, ProtocolMessage]) -> list[Outgoing]:
        self._received = inbox
        try:
            return self.advance({key: m.payload for key, m in inbox.items()})
        finally:
            self._received = {}

    def _message(self, key: InboxKey, payload: bytes, round_no: int) -> ProtocolMessage:
        """The signed message a payload came in (an unsigned stand-in when the driver gave payloads only)."""
        signed = self._received.get(key)
        if signed is not None and signed.payload == payload:
            return signed
        to = BROADCAST if key.broadcast else self.party_index
        return ProtocolMessage(self.session_id, key.from_party, to, round_no, 0, payload)

    def _start(self) -> list[Outgoing]:
        return self._release(self.inner.start())

    def _release(self, out: list[Outgoing]) -> list[Outgoing]:
        """Send the inner protocol's messages under their wire rounds and wait for what it expects next."""
        for o in out:
            if o.to_party == BROADCAST:
                self._own[o.round] = o.payload
        spec = self.inner.expected()
        if spec is None:
            self._finish(self.inner.result)
        else:
            self._expect_spec(RoundSpec(wire_round(spec.round), spec.broadcast_from, spec.p2p_from), self._on_round)
        return [Outgoing(o.to_party, wire_round(o.round), o.payload) for o in out]

    def _on_round(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        """An inner round: the inner protocol processes it, then its broadcasts are echoed."""
        spec = self.inner.expected()
        assert spec is not None
        r = spec.round
        copies = {k.from_party: self._message(k, p, wire_round(r)) for k, p in inbox.items() if k.broadcast}
        out = self.inner.advance(inbox)
        view = {j: _digest(m.payload) for j, m in copies.items()}
        own = self._own.pop(r, None)
        if own is not None:
            view[self.party_index] = _digest(own)
        finished = self.inner.expected() is None
        if not view or (finished and isinstance(self.inner.result, SignResult)):
            return self._release(out)
        self._round, self._copies, self._view, self._held = r, copies, view, out
        self._expect(echo_round(r), self._on_echo)
        return [self.broadcast(echo_round(r), encode_echo(view))]

    def _on_echo(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        """Compare every echo with this party's view; on a mismatch, reveal or name at once."""
        r = self._round
        disputed: list[int] = []
        malformed: list[int] = []
        slots: set[int] = set()
        for key in sorted(inbox, key=lambda k: k.from_party):
            k = key.from_party
            echo = self._message(key, inbox[key], echo_round(r))
            self._echoes[k] = echo
            try:
                theirs = decode_echo(echo.payload)
            except DecodeError:
                theirs = {}
            if theirs.keys() != self._view.keys():
                malformed.append(k)
                self._proven[k] = (echo,)
                continue
            differ = {j for j in theirs if theirs[j] != self._view[j]}
            slots |= differ
            if k in differ and self._signed(self._copies[k], echo):
                self._proven[k] = (self._copies[k], echo)  # k signed one broadcast and echoed another
            elif differ:
                disputed.append(k)
        if not disputed and not self._proven:
            self._echoes, self._copies, self._view = {}, {}, {}
            held, self._held = self._held, []
            return self._release(held)
        if self.context is None or any(not self._signed(m) for m in self._copies.values()):
            raise ProtocolError(
                f"parties disagree on the round-{r} broadcasts of parties {sorted(slots)}; without signed copies "
                "nobody can be named but a party whose echo is malformed",
                malformed,
            )
        if not disputed:
            self._blame()
        reveal = encode_reveal(self._copies.values())
        self._expect(reveal_round(r), self._on_reveal, broadcast=False, p2p=True, senders=disputed)
        return [Outgoing(k, reveal_round(r), reveal) for k in disputed]

    def _on_reveal(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        """Every disputed party's copies: name the party that signed two broadcasts for one slot, or the
        party whose reveal does not back its own echo."""
        r, me = self._round, self.party_index
        for key in sorted(inbox, key=lambda k: k.from_party):
            k = key.from_party
            reveal = self._message(key, inbox[key], reveal_round(r))
            echo = self._echoes[k]
            claimed = decode_echo(echo.payload)
            assert self.context is not None  # a reveal round only runs with identities
            if not _backs(self.context, k, claimed, reveal):
                self._proven.setdefault(k, (echo, reveal))
                continue
            copies = decode_reveal(reveal.payload, self.session_id, wire_round(r))
            for j, theirs in sorted(copies.items()):
                if j != me and theirs.payload != self._copies[j].payload:
                    self._proven.setdefault(j, (self._copies[j], theirs))
        self._blame()
        return []  # unreachable: _blame raises

    def _signed(self, *messages: ProtocolMessage) -> bool:
        """Whether each message carries its sender's valid identity signature in this session."""
        if self.context is None:
            return False
        try:
            for m in messages:
                verify_message(self.context, m, m.party_signature)
        except IdentityError:
            return False
        return True

    def _blame(self) -> None:
        culprits = sorted(self._proven)
        evidence = tuple(m for k in culprits for m in self._proven[k])
        if not culprits:
            raise ProtocolError(f"round-{self._round} broadcasts differ, but nobody could be named")
        raise ProtocolError(
            f"round-{self._round} broadcast equivocation: parties {culprits} signed contradicting messages",
            culprits,
            evidence,
        )


def check_equivocation(context: SessionContext, culprit: int, evidence: Iterable[ProtocolMessage]) -> None:
    """What a third party runs on an echo blame, with the identity keys in `context` only: returns if
    `evidence` (as `ProtocolError.evidence` names `culprit`) proves that `culprit` signed contradicting
    messages, else raises IdentityError. The three proofs this module produces:
    two broadcasts for one slot with different payloads; a broadcast and an echo of another hash for it;
    an echo and a reveal that does not back it (a slot missing, a copy not signed by its sender, or a
    copy of another hash). An undecodable echo is its own proof."""
    messages = sorted(evidence, key=lambda m: m.round)
    for m in messages:
        if m.from_party != culprit or m.session_id != context.session_id:
            raise IdentityError("evidence holds a message of another party or session")
        verify_message(context, m, m.party_signature)
    if len(messages) == 1 and messages[0].to_party == BROADCAST and inner_round(messages[0].round) is None:
        try:
            decode_echo(messages[0].payload)
        except DecodeError:
            return
    elif len(messages) == 2:
        first, second = messages
        slot = inner_round(first.round)
        if first.round == second.round and slot is not None and first.to_party == second.to_party == BROADCAST:
            if first.payload != second.payload:
                return
        elif slot is not None and first.to_party == BROADCAST and second.round == echo_round(slot):
            if _claim(second.payload).get(culprit) not in (None, _digest(first.payload)):
                return
        elif first.round % 3 == 2 and second.round == first.round + 1 and second.to_party != BROADCAST:
            if not _backs(context, culprit, _claim(first.payload), second):
                return
    raise IdentityError(f"the evidence does not prove that party {culprit} equivocated")


def _claim(payload: bytes) -> dict[int, bytes]:
    try:
        return decode_echo(payload)
    except DecodeError:
        return {}


def _backs(context: SessionContext, sender: int, claimed: Mapping[int, bytes], reveal: ProtocolMessage) -> bool:
    """Whether `reveal` holds, for every slot of `sender`'s echo `claimed` but its own, a copy signed by
    the slot's sender that hashes to the claim."""
    try:
        copies = decode_reveal(reveal.payload, reveal.session_id, reveal.round - 2)
        for c in copies.values():
            verify_message(context, c, c.party_signature)
    except (DecodeError, IdentityError):
        return False
    return copies.keys() == claimed.keys() - {sender} and all(
        _digest(c.payload) == claimed[j] for j, c in copies.items()
    )
