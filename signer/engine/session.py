"""One session: its protocol state machine, inbox, early-message buffer, outbox and deadlines.

The session task drives the sans-IO protocol (start, then expected/advance until done) and owns all
timing: building the protocol and its first step, then every round (waiting for the round's messages and
computing it), run under `trio.fail_after(round_timeout)`. Callers never touch the protocol object:
`accept` checks an inbound message synchronously (so the caller gets its status code at once) and hands
it to the task through a bounded memory channel; the task files it into the current round or holds it
for a later one.

Inbound rules (docs/contract.md §3.2): a message equal to one already received from that sender with that sequence
is acknowledged and ignored; a different message reusing (from_party, sequence) is INVALID_ARGUMENT; a
second, different message for the same (round, sender, broadcast|p2p) slot is INVALID_ARGUMENT; a message
for a finished session or a round already passed is FAILED_PRECONDITION; messages for the next round are
held, and those for rounds further ahead up to `max_buffered`, then RESOURCE_EXHAUSTED. In a session of
three or more parties the protocol runs inside its echo broadcast (`signer.protocols.echo`), and "the next
round" means the next protocol step: up to `rounds_ahead` wire rounds ahead.

Blame (docs/contract.md §11.8): every accepted message is kept, with its party signature, until the session's
audit row is written, so a session that ends naming culprits can leave the proof in the audit log (each
culprit's signed messages, every broadcast, and the signed messages the protocol cites,
`ProtocolError.evidence`). The slot rules above bound what is kept as they bound the inbox: one broadcast
and one point-to-point message per sender and round, at most `max_buffered` of them for rounds ahead; the
audit log gets only those of the rounds up to the one that failed.
"""

from __future__ import annotations

import hashlib
import logging
import math
import struct
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol, cast

import trio

from signer.blame import make_evidence
from signer.crypto.identity import IdentityError, IdentityKey
from signer.engine import telemetry
from signer.engine.config import EngineConfig
from signer.engine.errors import EngineError, FailedPrecondition, InvalidArgument, ResourceExhausted, Unauthenticated
from signer.engine.model import (
    DkgRequest,
    ProtocolMessage,
    SessionKind,
    SessionState,
    SessionView,
    SignRequest,
)
from signer.engine.offload import StepRunner
from signer.protocols.base import (
    BROADCAST,
    DkgResult,
    InboxKey,
    Outgoing,
    ProtocolError,
    RoundSpec,
    SessionProtocol,
    SignResult,
)
from signer.protocols.echo import rounds_ahead, with_echo
from signer.session_context import SessionContext, sign_message, verify_message

log = logging.getLogger("signer.engine.session")

Builder = Callable[[], Awaitable[SessionProtocol]]
Finisher = Callable[["Session", DkgResult | SignResult], Awaitable[None]]
Auditor = Callable[["Session"], Awaitable[None]]
# Called with (session, pending result, confirmation digest, the step's outbound messages) once a refresh or
# reshare has its new version and before that step's messages (its confirmation) are released.
Preparer = Callable[["Session", DkgResult, bytes, list[ProtocolMessage]], Awaitable[None]]


class Confirming(Protocol):
    """A key lifecycle session (docs/lifecycle.md §4): `pending` is its new version once computed, before
    every participant confirmed it; `confirm_digest` what this party confirms."""

    @property
    def pending(self) -> DkgResult | None: ...

    @property
    def confirm_digest(self) -> bytes: ...


@dataclass(frozen=True)
class SessionSetup:
    """What a session is: fixed at start, compared for idempotent starts. `context` is what every party's
    identity signatures bind (docs/contract.md §11)."""

    kind: SessionKind
    request: DkgRequest | SignRequest
    protocol: str
    curve: str
    party_index: int
    parties: tuple[int, ...]
    context: SessionContext
    slow_start: bool = False
    # The key version the session works on: a signing's or presigning's key version, or for a refresh or
    # reshare the version it starts from (0 for a CREATE, and for a party new to the key until its session
    # learned the version from the dealers' round 1: the engine's prepare then sets it, Manager._prepare_version).
    key_version: int = 0

    @property
    def session_id(self) -> str:
        return self.request.session_id

    @property
    def key_id(self) -> str:
        return self.request.key_id

    @property
    def scheme(self) -> tuple[str, str]:
        """The protocol registry's key: (protocol, curve)."""
        return (self.protocol, self.curve)


class Session:
    """A running or finished session; the manager owns it, its `run` task drives it."""

    def __init__(
        self,
        setup: SessionSetup,
        config: EngineConfig,
        *,
        build: Builder,
        runner: StepRunner,
        identity: IdentityKey,
        finish: Finisher,
        audit: Auditor,
        on_terminal: Callable[[Session], None],
        on_done: Callable[[Session], None],
        prepare: Preparer | None = None,
        first_sequence: int = 1,
        prepared: bool = False,
    ) -> None:
        """`prepare` is the hook of a refresh or reshare (None for other sessions); a session restored after a
        restart starts `prepared`, numbering its messages from `first_sequence` as the session it continues did."""
        self.setup = setup
        self._config = config
        self._build = build
        self._runner = runner
        self._identity = identity
        self._finish = finish
        self._audit = audit
        self._on_terminal = on_terminal
        self._on_done = on_done
        self._prepare = prepare
        self._first_sequence = first_sequence
        # A refresh or reshare whose new version is stored as pending and whose confirmation may be out: from
        # then on only every confirmation (commit) or the coordinator (a new operation on the key) ends it,
        # never the round deadline (docs/contract.md §12.4).
        self.prepared = prepared
        # The session id of the refresh or reshare that replaced this one (the coordinator's roll back).
        self.superseded_by = ""
        # FAILED because the protocol said so (a check failed, confirmations differ), not on a store fault.
        self.failed_by_protocol = False
        self.key_version = 0
        self.state = SessionState.RUNNING
        self.round = 0
        self.error = ""
        self.culprits: tuple[int, ...] = ()
        # Only the public outcome is kept (a DKG result's key share goes to the store, not here).
        self.public_key = b""
        self.signature = b""
        self.recovery_id = 0
        self.output_key = b""
        self.outbound: list[ProtocolMessage] = []
        # How many outbound messages a response has already carried: the long-poll "new outbound" cursor.
        self.reported = 0
        # Set by the manager when the session finishes: from then on it is forgotten.
        self.expires_at: float | None = None
        self._spec: RoundSpec | None = None
        self._missing: frozenset[InboxKey] = frozenset()
        self._seen: dict[tuple[int, int], bytes] = {}
        self._slots: set[tuple[int, int, bool]] = set()
        self._accepted_per_round: Counter[int] = Counter()
        self._held: dict[int, dict[InboxKey, ProtocolMessage]] = {}
        # How far ahead a peer that still needs this party's messages can be (the next protocol step).
        self._ahead = rounds_ahead(setup.parties)
        # Room for the slots of the current round and of the rounds up to the next step, plus the
        # early-message allowance.
        capacity = config.max_buffered + 2 * (self._ahead + 1) * len(setup.parties)
        # Every accepted message (signature checked), and the signed messages a ProtocolError cited: the
        # blame evidence, kept until the audit row is written.
        self._received: list[ProtocolMessage] = []
        self._cited: tuple[ProtocolMessage, ...] = ()
        self._inbox_send, self._inbox_recv = trio.open_memory_channel[ProtocolMessage](capacity)
        self._changed = trio.Event()
        self._scope = trio.CancelScope()
        self._cancel_reason = ""
        self.done = trio.Event()
        self._log_extra = {"session_id": setup.session_id, "key_id": setup.key_id, "protocol": setup.protocol}

    # ----- queries -------------------------------------------------------------------------------

    def take_view(self) -> SessionView:
        """Snapshot for a response; advances the long-poll cursor: the outbound it carries counts as
        reported, so the next long-poll waits for newer outbound."""
        self.reported = len(self.outbound)
        return SessionView(
            session_id=self.setup.session_id,
            kind=self.setup.kind,
            state=self.state,
            round=self.round,
            key_id=self.setup.key_id,
            protocol=self.setup.protocol,
            outbound=tuple(self.outbound),
            public_key=self.public_key,
            signature=self.signature,
            recovery_id=self.recovery_id,
            output_key=self.output_key,
            error=self.error,
            culprits=self.culprits,
            key_version=self.key_version if self.state is SessionState.COMPLETED else 0,
        )

    async def wait_for_news(self, since: int, wait_s: float) -> None:
        """Return once there is outbound beyond `since`, the session is finished, or after `wait_s`."""
        with trio.move_on_after(wait_s):
            while not self.state.terminal and len(self.outbound) <= since:
                await self._changed.wait()

    # ----- inbound -------------------------------------------------------------------------------

    def authenticate(self, msg: ProtocolMessage) -> None:
        """Check that the message comes from another party of the session and carries its claimed sender's
        identity signature over this session's context: UNAUTHENTICATED otherwise. Runs before `accept`,
        so relay noise never touches the session's state (docs/contract.md §11.3)."""
        if msg.from_party == self.setup.party_index or msg.from_party not in self.setup.parties:
            raise InvalidArgument(f"from_party {msg.from_party} is not another party of this session")
        try:
            verify_message(self.setup.context, msg, msg.party_signature)
        except IdentityError as exc:
            raise Unauthenticated(f"message refused: {exc}") from None

    def accept(self, msg: ProtocolMessage) -> bool:
        """Check and enqueue one inbound message; returns True for an exact duplicate (ignored).

        Raises an EngineError with the docs/contract.md §5 status otherwise refusing it; a refused message changes
        nothing.
        """
        me = self.setup.party_index
        if len(msg.payload) > self._config.max_message_bytes:
            raise InvalidArgument(
                f"payload of {len(msg.payload)} bytes exceeds the limit of {self._config.max_message_bytes}"
            )
        if msg.from_party == me or msg.from_party not in self.setup.parties:
            raise InvalidArgument(f"from_party {msg.from_party} is not another party of this session")
        if msg.to_party not in (BROADCAST, me):
            raise InvalidArgument(f"to_party {msg.to_party} is neither 0 (broadcast) nor this node ({me})")
        fingerprint = _fingerprint(msg)
        previous = self._seen.get((msg.from_party, msg.sequence))
        if previous is not None:
            if previous == fingerprint:
                return True
            raise InvalidArgument(
                f"sequence {msg.sequence} from party {msg.from_party} was already used for another message"
            )
        if self.state.terminal:
            raise FailedPrecondition(f"session is {self.state.name}")
        if msg.round < self.round:
            raise FailedPrecondition(f"round {msg.round} has passed; the session is in round {self.round}")
        broadcast = msg.to_party == BROADCAST
        slot = (msg.round, msg.from_party, broadcast)
        if slot in self._slots:
            kind = "broadcast" if broadcast else "point-to-point message"
            raise InvalidArgument(f"party {msg.from_party} already sent a {kind} for round {msg.round}")
        spec = self._spec
        if spec is not None and msg.round == spec.round:
            if InboxKey(msg.from_party, broadcast) not in spec.keys():
                raise InvalidArgument(f"round {msg.round} expects no such message from party {msg.from_party}")
        elif msg.round > self.round + self._ahead and self._buffered() >= self._config.max_buffered:
            raise ResourceExhausted(f"session already holds {self._config.max_buffered} early messages")
        try:
            self._inbox_send.send_nowait(msg)
        except trio.WouldBlock:
            raise ResourceExhausted("session inbox is full") from None
        self._seen[(msg.from_party, msg.sequence)] = fingerprint
        self._received.append(msg)
        self._slots.add(slot)
        self._accepted_per_round[msg.round] += 1
        return False

    def _buffered(self) -> int:
        """Accepted messages for rounds beyond the next step.

        The rounds up to the next step are bounded by their slots (one broadcast and one point-to-point
        per sender and round), and a peer that needs this party's messages to progress can be at most one
        step ahead (one round, or `rounds_ahead` with echo rounds); so a flood of far-future messages can
        fill `max_buffered` but never crowd out the messages the session needs next.
        """
        return sum(n for r, n in self._accepted_per_round.items() if r > self.round + self._ahead)

    # ----- lifecycle -----------------------------------------------------------------------------

    def cancel(self, reason: str = "cancelled") -> None:
        if not self._cancel_reason:
            self._cancel_reason = reason
        self._scope.cancel()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Drive the session to a terminal state; reports started once round 1 is out (or it ended),
        or at once for a `slow_start` protocol.

        Never raises but for Cancelled from an enclosing scope (then the state is CANCELLED).
        """
        self._task_status = task_status
        self._started = False
        if self.setup.slow_start:
            self._report_started()
        log.info("%s session started", self.setup.kind.value, extra=self._log_extra)
        try:
            with self._scope:
                try:
                    await self._drive()
                except trio.TooSlowError:
                    self._end(SessionState.TIMED_OUT, self._timeout_text())
                except ProtocolError as exc:
                    self._cited = exc.evidence
                    self.failed_by_protocol = True
                    self._end(SessionState.FAILED, str(exc), exc.culprits)
                except EngineError as exc:
                    self._end(SessionState.FAILED, str(exc))
                except Exception:
                    log.exception("session failed on an internal error", extra=self._log_extra)
                    self._end(SessionState.FAILED, "internal error")
        finally:
            if not self.state.terminal:
                self._end(SessionState.CANCELLED, self._cancel_reason or "cancelled")
            self._inbox_send.close()
            self._inbox_recv.close()
            self._held.clear()
            self._report_started()
            # The audit row is written even when the session was cancelled by shutdown, but never hangs it.
            with trio.CancelScope(shield=True), trio.move_on_after(self._config.round_timeout_s):
                try:
                    await self._audit(self)
                except EngineError as exc:  # a store fault, already logged with its detail
                    log.error("audit row not written: %s", exc, extra=self._log_extra)
                except Exception:
                    log.exception("audit row not written", extra=self._log_extra)
            self._received, self._cited = [], ()
            self.done.set()
            self._on_done(self)

    async def _drive(self) -> None:
        timeout = self._config.round_timeout_s
        began = trio.current_time()
        with trio.fail_after(timeout):
            proto = with_echo(await self._build(), self.setup.context)
            proto, out = await self._runner.start(proto)
        self._emit(out)
        self._round_finished(began)
        self._report_started()
        while (spec := proto.expected()) is not None:
            self._enter(spec)
            began = trio.current_time()
            with trio.fail_after(math.inf if self.prepared else timeout):
                inbox = await self._collect(spec)
                proto, out = await self._runner.advance(proto, inbox)
            messages = self._messages(out)
            pending: DkgResult | None = getattr(proto, "pending", None)
            if self._prepare is not None and pending is not None and not self.prepared:
                with trio.fail_after(timeout):
                    await self._prepare(self, pending, cast(Confirming, proto).confirm_digest, messages)
                self.prepared = True
            self._publish(messages)
            self._round_finished(began)
        result = proto.result
        with trio.fail_after(timeout):
            await self._finish(self, result)
        self.public_key = result.public_key
        if isinstance(result, SignResult):
            self.signature, self.recovery_id = result.signature, result.recovery_id
            self.output_key = result.output_key
        self._end(SessionState.COMPLETED, "")

    def _round_finished(self, began: float) -> None:
        telemetry.round_finished(self.setup.protocol, self.setup.kind.value, trio.current_time() - began)

    def _enter(self, spec: RoundSpec) -> None:
        self._spec = spec
        self.round = spec.round
        for r in [r for r in self._accepted_per_round if r < spec.round]:
            del self._accepted_per_round[r]
        self._notify()

    async def _collect(self, spec: RoundSpec) -> dict[InboxKey, ProtocolMessage]:
        want = spec.keys()
        held = self._held.pop(spec.round, {})
        for key in held.keys() - want:
            log.warning(
                "dropping early message from party %d not expected in round %d",
                key.from_party,
                spec.round,
                extra=self._log_extra,
            )
        inbox = {k: v for k, v in held.items() if k in want}
        while len(inbox) < len(want):
            self._missing = want - inbox.keys()
            msg = await self._inbox_recv.receive()
            key = InboxKey(msg.from_party, msg.to_party == BROADCAST)
            if msg.round == spec.round and key in want:
                inbox[key] = msg
            elif msg.round == spec.round:
                # Accepted as a next-round message before this round's spec was known.
                log.warning(
                    "dropping message from party %d not expected in round %d",
                    key.from_party,
                    spec.round,
                    extra=self._log_extra,
                )
            elif msg.round > spec.round:
                self._held.setdefault(msg.round, {})[key] = msg
        self._missing = frozenset()
        return inbox

    def _emit(self, out: list[Outgoing]) -> None:
        self._publish(self._messages(out))

    def _messages(self, out: list[Outgoing]) -> list[ProtocolMessage]:
        """The step's outgoing messages, numbered and signed, not yet visible to anyone."""
        messages: list[ProtocolMessage] = []
        for o in out:
            m = ProtocolMessage(
                session_id=self.setup.session_id,
                from_party=self.setup.party_index,
                to_party=o.to_party,
                round=o.round,
                sequence=self._first_sequence + len(self.outbound) + len(messages),
                payload=o.payload,
            )
            messages.append(replace(m, party_signature=sign_message(self._identity, self.setup.context, m)))
        return messages

    def _publish(self, messages: list[ProtocolMessage]) -> None:
        self.outbound.extend(messages)
        if messages:
            self._notify()

    def _end(self, state: SessionState, error: str, culprits: tuple[int, ...] = ()) -> None:
        self.state = state
        self.error = error
        self.culprits = culprits
        self._on_terminal(self)  # before anyone can see the state: a caller may act on it at once
        level = logging.INFO if state is SessionState.COMPLETED else logging.WARNING
        log.log(
            level,
            "session %s in round %d%s",
            state.name,
            self.round,
            f": {error}" if error else "",
            extra={**self._log_extra, "state": state.name, "culprits": list(culprits)},
        )
        self._notify()

    def blame_evidence(self) -> bytes | None:
        """The blame evidence of a session that ended naming culprits (`signer.blame`), else None.

        Only messages of the rounds up to the one that failed: those are what its checks used. Messages a
        peer sent ahead (up to `max_buffered` of them) never reach the audit log, so a culprit cannot make
        the node store megabytes of junk with its blame."""
        if not self.culprits:
            return None
        received = [m for m in self._received if m.round <= self.round]
        sent = [m for m in self.outbound if m.round <= self.round]
        setup = self.setup
        return make_evidence(setup.context, setup.party_index, self.culprits, self.error, received, self._cited, sent)

    def _timeout_text(self) -> str:
        waiting = sorted({k.from_party for k in self._missing})
        if waiting:
            return f"round {self.round} timed out waiting for parties {waiting}"
        return f"round {self.round} did not finish within {self._config.round_timeout_s:g}s"

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    def _report_started(self) -> None:
        if not self._started:
            self._started = True
            self._task_status.started()


def _fingerprint(msg: ProtocolMessage) -> bytes:
    """Digest of everything but (from_party, sequence), the key it is stored under."""
    header = struct.pack(">IIQ", msg.to_party, msg.round, len(msg.payload))
    return hashlib.sha256(header + msg.payload).digest()
