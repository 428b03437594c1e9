"""The session manager: starts, feeds, reports on, cancels and drains sessions inside one Trio nursery.

    manager = SessionManager(EngineConfig(...), store)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        view = await manager.start(SessionKind.DKG, DkgRequest(...))
        result = await manager.deliver(ProtocolMessage(...))
        view = await manager.status(session_id, wait_s=5.0)
        await manager.drain(grace_s=20.0)          # run() returns once everything has stopped

Every session is a task in the manager's nursery, wrapped in its own cancel scope (session.py); the
pre-parameters pool runs in the same nursery under its own scope; a reaper forgets finished sessions
after `retention_s`. Every error is an `EngineError` with the docs/contract.md §5 status code.

GG20 presignatures (SessionKind.PRESIGN, asked for with StartSign's `presign`): mpc-service drives a
presigning like any session; each party keeps its share of the result in the store under id = the
session id. A signing that names a `presignature_id` claims that item from the store (one atomic,
durable delete) before its session exists, so a presignature is never used twice, also across
restarts and replicas; then only the online round runs.

No result without its audit row (docs/contract.md §5): a DKG's key share, a presigning's presignature and a
presignature's claim are stored in one transaction with their audit rows; a signature is shown to callers
only after its audit row committed. A session that ends without a result gets its row afterwards. Store
faults become engine errors through `errors.STORE_FAULTS` (DATA_LOSS, RESOURCE_EXHAUSTED, UNAVAILABLE).

Session ids are single-use (contract §4.7): a start records its id in the store (`consume_once`, kind
"session") before the session exists, so no message of a new session leaves the node under an id used
before, whether that session is still retained, was forgotten, or ran before a restart. A start naming
an ended session, or an id the store already holds, is ALREADY_EXISTS.

Key refresh and reshare (docs/contract.md §12, docs/lifecycle.md §4) are DKG sessions with an `operation`
on an existing key. The session's new share is stored as the key's pending version (with its audit row)
before its round-3 confirmation leaves the node; every participant's confirmation of the same digest
commits it (the old secret and the key's presignatures go in the same transaction). After the prepare no
round deadline applies: only differing confirmations or a new operation on the key (the relay's roll back)
drop the pending version, and a restart rebuilds the confirmation round from the store (`lifecycle.py`).

The store is an `EngineStore` (storage.py): signer.store.Store, or the in-memory store of the tests.
Ids, party counts and indices are checked with `signer.limits`, the functions the gRPC edge uses.

Party identities (docs/contract.md §11): a DKG names every party's identity key, the node's own
included; they are stored with the key share. Every session has a `SessionContext` built from its
request (and, for a signing, from the stored key): the node signs each outbound message over it with its
identity key, and `deliver` refuses (UNAUTHENTICATED) any inbound message its claimed sender did not sign.
A signing or presigning first checks the other signers' approvals of its context (`auth.approvals`),
before any presignature is claimed, anything is stored or any message leaves the node.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, replace
from typing import Any, TypeVar

import trio

from signer import limits
from signer.crypto.identity import ED25519 as IDENTITY_ED25519
from signer.crypto.identity import IdentityError, IdentityKey
from signer.engine import telemetry
from signer.engine.config import APPROVE_ALL_OTHER_SIGNERS, EngineConfig
from signer.engine.errors import (
    AlreadyExists,
    EngineError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
    store_faults,
)
from signer.engine.lifecycle import ConfirmationWait, Resume, encode_resume
from signer.engine.model import (
    DeliverResult,
    DkgRequest,
    ProtocolMessage,
    SessionKind,
    SessionState,
    SessionView,
    SignRequest,
)
from signer.engine.offload import InlineRunner, ProcessRunner
from signer.engine.pools import PreparamsPool
from signer.engine.presignatures import PresignatureGuard
from signer.engine.registry import PresignResult, ProtocolBinding, SchemeKey, default_protocols
from signer.engine.session import Builder, Session, SessionSetup
from signer.engine.stock import PrecomputeStock
from signer.engine.storage import EngineStore
from signer.protocols.base import DkgResult, ProtocolError, SessionProtocol, SignResult
from signer.protocols.echo import inner_round, uses_echo
from signer.session_context import (
    CREATE,
    KEY_OPERATIONS,
    REFRESH,
    RESHARE,
    PartyIdentity,
    SessionContext,
    decode_identities,
    encode_identities,
    lifecycle_extra,
    sign_extra,
    verify_approval,
)
from signer.store.errors import AlreadyConsumed, ItemExists, KeyExists, KeyNotFound, StalePresignature, StoreError
from signer.store.records import AuditEvent, KeyInfo, PendingVersion
from signer.wire import ProtocolMessage as WireMessage

T = TypeVar("T")

# The `consume_once` kind under which started session ids are kept.
SESSION_ID_KIND = "session"

log = logging.getLogger("signer.engine.manager")


class SessionManager:
    """All sessions of this node. Serve it with `await nursery.start(manager.run)`."""

    def __init__(
        self,
        config: EngineConfig,
        store: EngineStore,
        *,
        identity: IdentityKey,
        protocols: Mapping[SchemeKey, ProtocolBinding] | None = None,
        preparams: PreparamsPool | None = None,
    ) -> None:
        """`identity` is the node's Ed25519 identity key (the store keeps it: `Store.node_identity`)."""
        if identity.scheme != IDENTITY_ED25519:
            raise ValueError("a node's identity key is Ed25519")
        self._config = config
        self._store = store
        self._identity = identity
        self._protocols = dict(default_protocols() if protocols is None else protocols)
        self._preparams = preparams if preparams is not None else PreparamsPool(store, config.preparams_target)
        # The precompute stocks of the protocols whose steps run in worker processes (stock.py).
        runners = [b.runner for b in self._protocols.values() if isinstance(b.runner, ProcessRunner)]
        self._stocks = list({id(r.stock): r.stock for r in runners}.values())
        for stock in self._stocks:
            stock.presignings = config.precompute_presignings
        self._presignatures = PresignatureGuard(store, config.state_dir, config.presignature_ttl_s)
        self._sessions: dict[str, Session] = {}
        self._clients: dict[str, str] = {}
        self._dkg_keys: set[str] = set()
        self._retained: deque[tuple[float, Session]] = deque()
        self._retained_changed = trio.Event()
        self._running = 0
        # Starts in progress by session id: a second start of the same id waits for the first to finish.
        self._starting: dict[str, trio.Event] = {}
        # Capacity held by starts between their last check and registering (a presignature claim).
        self._reserved = 0
        self._idle = trio.Event()
        self._idle.set()
        self._nursery: trio.Nursery | None = None
        self._draining = False

    # ----- service lifecycle ---------------------------------------------------------------------

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Host sessions, the reaper and the pools until `drain` finishes or the caller cancels."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._reap)
                if any(b.needs_preparams for b in self._protocols.values()):
                    await nursery.start(self._preparams.run)
                for stock in self._stocks:
                    await nursery.start(stock.run)
                if any(b.new_presign is not None for b in self._protocols.values()):
                    nursery.start_soon(self._presignatures_changed)
                await self._restore_pending()
                task_status.started()
        finally:
            self._draining = True
            self._nursery = None

    async def drain(self, grace_s: float) -> None:
        """Refuse new sessions (UNAVAILABLE), stop the pools, give running sessions `grace_s`, cancel the
        rest; `run` returns afterwards."""
        self._draining = True
        self._preparams.scope.cancel()
        for stock in self._stocks:
            stock.scope.cancel()
        log.info("draining: %d sessions running, grace %.1fs", self._running, grace_s)
        with trio.move_on_after(grace_s):
            await self._idle.wait()
        for session in list(self._sessions.values()):
            if not session.state.terminal:
                session.cancel("node shutting down")
        await self._idle.wait()
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    @property
    def precompute_stocks(self) -> list[PrecomputeStock]:
        """The precomputed-value stocks of the protocols whose steps run in worker processes (stock.py)."""
        return list(self._stocks)

    @property
    def running(self) -> int:
        """Sessions not yet in a terminal state."""
        return self._running

    @property
    def held(self) -> int:
        """Sessions held in memory: running ones and finished ones within their retention."""
        return len(self._sessions)

    @property
    def identity_public_key(self) -> bytes:
        """The node's Ed25519 identity public key (Ping answers it; StartDKG must name it)."""
        return self._identity.public_key

    def identity(self, party: int) -> PartyIdentity:
        """This node's entry for `party_identities` when it is party `party`."""
        return PartyIdentity(party, IDENTITY_ED25519, self._identity.public_key)

    async def sign_context(self, request: SignRequest) -> SessionContext:
        """The context a signing or presigning `request` would run under here: what the other signers
        approve (docs/contract.md §11.4). NotFound for an unknown key."""
        try:
            async with store_faults():
                info = await self._store.key_info(request.key_id)
        except KeyNotFound:
            raise NotFound(f"no key with key id {request.key_id!r}") from None
        return sign_context(SessionKind.PRESIGN if request.presign else SessionKind.SIGN, request, info)

    @property
    def accepting(self) -> bool:
        return self._nursery is not None and not self._draining

    # ----- the four operations -------------------------------------------------------------------

    async def start(self, kind: SessionKind, request: DkgRequest | SignRequest, *, client: str = "") -> SessionView:
        """Start a DKG, signing or presigning session (idempotent for identical requests); returns once round 1
        is out (at once for protocols whose steps are slow to start).

        A SignRequest with `presign` set is a PRESIGN session whether `kind` says SIGN or PRESIGN.
        `client` (the caller's certificate subject) goes to logs and the audit log.
        """
        self._check_accepting()
        if isinstance(request, SignRequest) and kind in (SessionKind.SIGN, SessionKind.PRESIGN):
            _check(limits.check_session_id, request.session_id)
            if request.presign is not True and kind is SessionKind.PRESIGN:
                raise InvalidArgument("a presign session needs a request with presign set")
            kind = SessionKind.PRESIGN if request.presign is True else SessionKind.SIGN
        elif not (kind is SessionKind.DKG and isinstance(request, DkgRequest)):
            raise InvalidArgument(f"a {kind.value} session needs a {kind.value} request")
        else:
            _check(limits.check_session_id, request.session_id)
        sid = request.session_id
        while (other := self._starting.get(sid)) is not None:
            await other.wait()
        done = self._starting[sid] = trio.Event()
        try:
            async with store_faults():
                return await self._start(kind, request, client)
        finally:
            del self._starting[sid]
            done.set()

    async def _start(self, kind: SessionKind, request: DkgRequest | SignRequest, client: str) -> SessionView:
        """`start` for one session id at a time."""
        if isinstance(request, DkgRequest):
            binding = self._check_dkg(request)
        else:
            _check(limits.check_key_id, request.key_id)
        existing = self._existing(kind, request)
        if existing is not None:
            return existing
        self._check_capacity()
        lifecycle_share: bytes | None = None
        if isinstance(request, DkgRequest) and request.operation != CREATE:
            setup, lifecycle_share = await self._lifecycle_setup(request, binding)
            await self._supersede(request)
        elif isinstance(request, DkgRequest):
            if request.key_id in self._dkg_keys:
                raise AlreadyExists(f"a DKG for key id {request.key_id!r} is already running")
            try:
                await self._store.key_info(request.key_id)
            except KeyNotFound:
                pass
            else:
                raise AlreadyExists(f"key id {request.key_id!r} already exists")
            parties = tuple(range(1, request.total_parties + 1))
            context = dkg_context(request)
            setup = SessionSetup(
                kind,
                request,
                request.protocol,
                request.curve,
                request.party_index,
                parties,
                context,
                binding.slow_start,
            )
        else:
            try:
                share = await self._store.get_share(request.key_id)
            except KeyNotFound:
                raise NotFound(f"no key with key id {request.key_id!r}") from None
            info = share.info
            key_binding = self._protocols.get((info.protocol, info.curve))
            if key_binding is None:
                raise InvalidArgument(
                    f"key {request.key_id!r} is for protocol {info.protocol!r} on {info.curve!r}, not served here"
                )
            binding = key_binding
            self._check_sign(request, binding, info)
            context = sign_context(kind, request, info)
            self._check_approvals(context, request, info.party_index)
            signers = tuple(sorted(request.signers))
            setup = SessionSetup(
                kind, request, info.protocol, info.curve, info.party_index, signers, context, binding.slow_start,
                info.key_version,
            )  # fmt: skip
        await self._use_session_id(request.session_id)
        # The awaits above let other calls run: check again before registering.
        self._check_accepting()
        self._check_capacity()
        if isinstance(request, DkgRequest):
            if request.key_id in self._dkg_keys:
                raise AlreadyExists(f"a DKG for key id {request.key_id!r} is already running")
            if request.operation == CREATE:
                build = self._dkg_builder(binding, request)
            else:
                build = self._lifecycle_builder(binding, request, lifecycle_share, setup.key_version)
        elif kind is SessionKind.PRESIGN:
            build = self._presign_builder(binding, request, info.party_index, share.share)
        else:
            presignature = await self._claim_presignature(request, binding, client) if request.presignature_id else None
            build = self._sign_builder(binding, request, info.party_index, share.share, presignature)
        if isinstance(request, DkgRequest):
            self._dkg_keys.add(request.key_id)
        lifecycle = isinstance(request, DkgRequest) and request.operation != CREATE
        session = Session(
            setup,
            self._config,
            build=build,
            runner=binding.runner,
            identity=self._identity,
            finish=self._finish,
            audit=self._audit,
            on_terminal=self._on_terminal,
            on_done=self._on_done,
            prepare=self._prepare_version if lifecycle else None,
        )
        self._register(session, client)
        assert self._nursery is not None
        log.info(
            "starting %s session for %s",
            kind.value,
            self._clients[setup.session_id],
            extra={"session_id": setup.session_id, "key_id": setup.key_id, "client": client},
        )
        telemetry.session_started(setup.protocol, kind.value)
        await self._nursery.start(session.run)
        return session.take_view()

    def _register(self, session: Session, client: str) -> None:
        """Make a new session known: findable by id, counted as running."""
        setup = session.setup
        self._sessions[setup.session_id] = session
        self._clients[setup.session_id] = client or "unidentified"
        self._running += 1
        if self._running == 1:
            self._idle = trio.Event()
        assert self._nursery is not None

    async def _use_session_id(self, session_id: str) -> None:
        """Record the id as used, durably, before the session exists; ALREADY_EXISTS if it was used before.
        Capacity is held meanwhile, so a start that passed the capacity check cannot lose its slot to a
        start that ran during this await (the id would then be burnt for nothing)."""
        self._reserved += 1
        try:
            await self._store.consume_once(SESSION_ID_KIND, session_id)
        except AlreadyConsumed:
            raise AlreadyExists(f"session id {session_id!r} was already used") from None
        finally:
            self._reserved -= 1

    async def _claim_presignature(self, request: SignRequest, binding: ProtocolBinding, client: str) -> bytes:
        """Take the named presignature out of the store (durably, before any use, with an audit row naming
        it and the signing); NotFound if it is not there for this key: never made, already used, or
        another key's."""
        audit = AuditEvent(
            request.session_id, request.key_id, "claim", _digest(binding, request),
            f"claimed presignature={request.presignature_id}", client or "unidentified",
        )  # fmt: skip
        self._reserved += 1
        try:
            blob = await self._store.claim_presignature(request.key_id, request.presignature_id, audit=audit)
        except StalePresignature as exc:
            raise FailedPrecondition(f"{exc}: refused; make new presignatures") from None
        finally:
            self._reserved -= 1
        if blob is None:
            raise NotFound(f"no presignature {request.presignature_id!r} for key {request.key_id!r}")
        # FailedPrecondition if the claimed presignature is refused (earlier store epoch, expired, already
        # used: presignatures.py); no checkpoint since the claim, so the capacity stays held meanwhile.
        self._reserved += 1
        try:
            blob = await self._presignatures.release(blob)
        except FailedPrecondition:
            if self._nursery is not None:
                self._nursery.start_soon(self._presignatures_changed)  # the refused one is gone too
            raise
        finally:
            self._reserved -= 1
        # Claimed is gone: if the node stopped accepting meanwhile, the presignature is lost, never reused.
        self._check_accepting()
        assert self._nursery is not None
        self._nursery.start_soon(self._presignatures_changed)  # off the signing's path
        return blob

    async def _presignatures_changed(self) -> None:
        try:
            telemetry.presignatures_ready(await self._store.count_presignatures())
        except StoreError as exc:  # one line: while the database is down, this runs on every claim
            log.warning("could not count presignatures for the pool metric: %s", exc)
        except Exception:  # a bug: never let the metric take the manager's nursery down
            log.exception("could not count presignatures for the pool metric")

    async def deliver(self, message: ProtocolMessage) -> DeliverResult:
        """Hand one inbound protocol message (MAC already checked) to its session.

        An exact duplicate is acknowledged (`duplicate=True`) and ignored; every refusal is an EngineError.
        """
        _check_message(message)
        session = self._get(message.session_id)
        if session is None:
            raise NotFound(f"no session {message.session_id!r}")
        session.authenticate(message)
        duplicate = session.accept(message)
        await trio.lowlevel.checkpoint()
        return DeliverResult(duplicate=duplicate, view=session.take_view())

    async def status(self, session_id: str, wait_s: float = 0.0, *, kind: SessionKind | None = None) -> SessionView:
        """The session's view; with `wait_s` > 0, first wait (long-poll) until there is outbound no
        response has carried yet, or a terminal state, or `wait_s` passed. `kind` restricts the lookup
        (GetDKGStatus must not see signing sessions)."""
        if not isinstance(wait_s, int | float) or not 0 <= wait_s:
            raise InvalidArgument("wait must be a non-negative number of seconds")
        session = self._lookup(session_id, kind)
        if wait_s > 0:
            await session.wait_for_news(session.reported, min(wait_s, self._config.max_wait_s))
        else:
            await trio.lowlevel.checkpoint()
        return session.take_view()

    async def cancel(self, session_id: str) -> SessionView:
        """Cancel a running session (CANCELLED) and wait until it has stopped; a finished one is returned as is."""
        session = self._lookup(session_id, None)
        session.cancel()
        await session.done.wait()
        return session.take_view()

    # ----- start helpers -------------------------------------------------------------------------

    def _check_accepting(self) -> None:
        if not self.accepting:
            raise Unavailable("the node is not accepting sessions (draining or not running)")

    def _check_capacity(self) -> None:
        if self._running + self._reserved >= self._config.max_sessions:
            raise ResourceExhausted(f"the node already runs {self._config.max_sessions} sessions")

    def _existing(self, kind: SessionKind, request: DkgRequest | SignRequest) -> SessionView | None:
        session = self._get(request.session_id)
        if session is None:
            return None
        if session.setup.kind is not kind or session.setup.request != request:
            raise AlreadyExists(f"session {request.session_id!r} exists with other parameters")
        if session.state.terminal:
            raise AlreadyExists(f"session id {request.session_id!r} was already used (that session has ended)")
        return session.take_view()

    def _get(self, session_id: str) -> Session | None:
        """The session, unless unknown or past its retention (then forgotten now, not at the reaper's turn)."""
        session = self._sessions.get(session_id)
        if session is not None and session.expires_at is not None and trio.current_time() >= session.expires_at:
            self._forget(session)
            return None
        return session

    def _forget(self, session: Session) -> None:
        sid = session.setup.session_id
        if self._sessions.get(sid) is session:
            del self._sessions[sid]
            self._clients.pop(sid, None)

    def _lookup(self, session_id: str, kind: SessionKind | None) -> Session:
        """The session, if it is of `kind`; SIGN also finds PRESIGN sessions (both answer GetSignStatus)."""
        session = self._get(session_id) if isinstance(session_id, str) else None
        kinds = (SessionKind.SIGN, SessionKind.PRESIGN) if kind is SessionKind.SIGN else (kind,)
        if session is None or (kind is not None and session.setup.kind not in kinds):
            raise NotFound(f"no {kind.value + ' ' if kind else ''}session {session_id!r}")
        return session

    def _check_dkg(self, req: DkgRequest) -> ProtocolBinding:
        _check(limits.check_session_id, req.session_id)
        _check(limits.check_key_id, req.key_id)
        protocols = sorted({p for p, _ in self._protocols})
        if req.protocol not in protocols:
            raise InvalidArgument(f"protocol must be one of {protocols}")
        binding = self._protocols.get((req.protocol, req.curve)) if isinstance(req.curve, str) else None
        if binding is None:
            curves = sorted(c for p, c in self._protocols if p == req.protocol)
            raise InvalidArgument(f"protocol {req.protocol} works on curve {' or '.join(curves)}, not {req.curve!r}")
        total = _check(limits.check_party_count, req.total_parties)
        _check(limits.check_threshold, req.threshold, total)
        if req.operation not in KEY_OPERATIONS:
            raise InvalidArgument(f"operation must be one of {[o.upper() for o in KEY_OPERATIONS]}")
        if not isinstance(req.old_parties, tuple) or (req.old_parties and req.operation != RESHARE):
            raise InvalidArgument("old_parties is for a RESHARE only")
        if req.operation == CREATE:
            _check(limits.check_party_index, req.party_index, "party_index", total)
            self._check_identities(req)
        elif binding.new_refresh is None or binding.new_reshare is None:
            raise InvalidArgument(f"protocol {req.protocol} on {req.curve} has no refresh or reshare")
        return binding

    def _check_identities(self, req: DkgRequest) -> None:
        """`party_identities` names parties 1..total_parties once each with valid keys, and this node's entry
        is this node's identity."""
        named = [p.party for p in req.party_identities] if isinstance(req.party_identities, tuple) else []
        if sorted(named) != list(range(1, req.total_parties + 1)):
            raise InvalidArgument(f"party_identities must name parties 1..{req.total_parties} exactly once each")
        self._check_identity_keys(req.party_identities, req.party_index)

    def _check_identity_keys(self, ids: tuple[PartyIdentity, ...], party_index: int) -> None:
        """Every identity key valid for its scheme, and this node's entry, where `ids` has one, this node's
        identity (INVALID_ARGUMENT naming the party)."""
        for p in ids:
            try:
                p.check()
            except IdentityError as exc:
                raise InvalidArgument(f"party_identities: party {p.party}: {exc}") from None
        own = [p for p in ids if p.party == party_index]
        if own and own[0] != self.identity(party_index):
            raise InvalidArgument(
                f"party_identities: the entry for party {party_index} (this node) is not this node's identity"
            )

    # ----- refresh and reshare (docs/contract.md §12) ----------------------------------------------

    async def _supersede(self, req: DkgRequest) -> None:
        """A refresh or reshare of a key whose previous one is still running: if that one has stored its
        pending version and released its confirmation, only the coordinator knows whether anyone committed;
        starting a new operation on the key is its decision that nobody did (it could not deliver every
        confirmation), so the old session is cancelled and its pending version rolled back. One that is still
        in its first rounds is ALREADY_EXISTS (it ends by its round deadline). Runs only once the new request
        has passed its checks: a refused start rolls nothing back."""
        for session in list(self._sessions.values()):
            setup = session.setup
            if setup.kind is not SessionKind.DKG or setup.key_id != req.key_id or session.state.terminal:
                continue
            if not session.prepared:
                raise AlreadyExists(f"a DKG for key id {req.key_id!r} is already running")
            session.superseded_by = req.session_id
            session.cancel(f"superseded by session {req.session_id!r}: the coordinator rolled this one back")
            await session.done.wait()
        # A pending version whose session is no longer here (it ended on a store fault after its prepare, or
        # ran on another replica) is dropped by the same decision.
        for pending in await self._store.pending_versions():
            if pending.info.key_id == req.key_id:
                v = pending.info.key_version
                result = f"version {v} dropped: superseded by {req.session_id}"
                audit = AuditEvent(pending.session_id, req.key_id, "key.rollback", None, result, "relay")
                await self._store.rollback_version(req.key_id, v, pending.session_id, audit=audit)

    async def _lifecycle_setup(self, req: DkgRequest, binding: ProtocolBinding) -> tuple[SessionSetup, bytes | None]:
        """Check a REFRESH or RESHARE against the stored key (docs/lifecycle.md §6) and make its setup;
        returns it with this node's current key share (None for a party new to the key)."""
        try:
            share = await self._store.get_share(req.key_id)
        except KeyNotFound:
            share = None
        if req.operation == REFRESH:
            if share is None:
                raise NotFound(f"no key with key id {req.key_id!r} to refresh")
            info = share.info
            stored = _stored_identities(info)
            self._check_same_key(req, info, total_parties=True, party_index=True)
            if req.party_identities and tuple(sorted(req.party_identities, key=lambda p: p.party)) != stored:
                raise InvalidArgument("party_identities: a refresh keeps the key's identities (send none, or those)")
            parties = tuple(p.party for p in stored)
            context = lifecycle_context(req, stored)
            setup = SessionSetup(
                SessionKind.DKG, req, info.protocol, info.curve, info.party_index, parties, context,
                binding.slow_start, info.key_version,
            )  # fmt: skip
            return setup, share.share
        new_ids = self._check_new_set(req)
        new_parties = req.new_parties
        quorum = _check_quorum(req.old_parties)
        me = req.party_index
        if me not in quorum and me not in new_parties:
            raise InvalidArgument(f"party_index {me} is in neither old_parties nor the new parties")
        if share is None and me in quorum:
            raise NotFound(f"no key with key id {req.key_id!r}: party {me} of old_parties must hold it")
        if share is not None and me not in quorum:
            raise AlreadyExists(f"key id {req.key_id!r} already exists here, and party {me} is not in old_parties")
        leaving = [p for p in quorum if p not in new_parties]
        identities = dict((p.party, p) for p in new_ids)
        from_version = 0
        if share is not None:
            info = share.info
            self._check_same_key(req, info, total_parties=False, party_index=True)
            held = {p.party: p for p in _stored_identities(info)}
            if not set(quorum) <= set(held):
                raise InvalidArgument(f"old_parties must be parties of the key {sorted(held)}")
            if len(quorum) < info.threshold:
                raise InvalidArgument(f"old_parties must be at least the key's threshold ({info.threshold})")
            changed = [p for p in new_parties if p in held and identities[p] != held[p]]
            if changed:
                raise InvalidArgument(f"party_identities: parties {changed} keep their identities in a reshare")
            identities.update((p, held[p]) for p in leaving)
            from_version = info.key_version
        elif leaving:
            raise InvalidArgument(
                f"parties {leaving} leave the key: a party joining it cannot authenticate them; "
                "reshare in two steps (add the new parties, then reshare without the leaving ones)"
            )
        participants = tuple(sorted(set(quorum) | set(new_parties)))
        everyone = tuple(identities[p] for p in participants)
        context = lifecycle_context(req, everyone)
        setup = SessionSetup(
            SessionKind.DKG, req, req.protocol, req.curve, me, participants, context, binding.slow_start, from_version
        )
        return setup, None if share is None else share.share

    @staticmethod
    def _check_same_key(req: DkgRequest, info: KeyInfo, *, total_parties: bool, party_index: bool) -> None:
        """The request's fields that must equal the stored key's (INVALID_ARGUMENT naming the field)."""
        fields: list[tuple[str, object, object]] = [
            ("protocol", req.protocol, info.protocol),
            ("curve", req.curve, info.curve),
        ]
        if total_parties:
            fields += [("threshold", req.threshold, info.threshold), ("total_parties", req.total_parties, info.parties)]
        if party_index:
            fields.append(("party_index", req.party_index, info.party_index))
        for name, given, stored in fields:
            if given != stored:
                raise InvalidArgument(f"{name} must be the stored key's ({stored!r}), not {given!r}")

    def _check_new_set(self, req: DkgRequest) -> tuple[PartyIdentity, ...]:
        """A reshare's `party_identities`: total_parties distinct parties with valid keys, this node's own
        entry its identity if it is one of them."""
        ids = req.party_identities if isinstance(req.party_identities, tuple) else ()
        named = [p.party for p in ids]
        if len(named) != req.total_parties or len(set(named)) != len(named):
            raise InvalidArgument(f"party_identities must name the {req.total_parties} new parties once each")
        for p in ids:
            _check(limits.check_party_index, p.party, "party_identities")
        _check(limits.check_party_index, req.party_index, "party_index")
        self._check_identity_keys(ids, req.party_index)
        return tuple(sorted(ids, key=lambda p: p.party))

    def _lifecycle_builder(
        self, binding: ProtocolBinding, req: DkgRequest, share: bytes | None, key_version: int
    ) -> Builder:
        make = binding.new_refresh if req.operation == REFRESH else binding.new_reshare

        async def build() -> SessionProtocol:
            preparams = None
            if binding.needs_preparams:
                async with store_faults():
                    preparams = await self._preparams.take({"session_id": req.session_id, "key_id": req.key_id})
            return await _construct(binding, make, req, share, key_version, preparams)

        return build

    @store_faults()
    async def _prepare_version(
        self, session: Session, pending: DkgResult, digest: bytes, messages: list[WireMessage]
    ) -> None:
        """Store the new version as pending, with its audit row, before its confirmation is released
        (docs/lifecycle.md §4.1); with it the public data to finish the session after a restart. A party
        joining the key (setup version 0) takes the version the dealers stated in round 1 as its start, so
        every party commits the same v+1 (the session already stopped if the dealers disagreed)."""
        setup = session.setup
        req = setup.request
        assert isinstance(req, DkgRequest)
        if setup.key_version == 0:
            if pending.from_version < 1:
                raise FailedPrecondition("the reshare did not state the key version it starts from")
            setup = session.setup = replace(setup, key_version=pending.from_version)
        version = setup.key_version + 1
        retiring = not pending.key_share
        resume = encode_resume(setup.context, req, setup.parties, pending.public_key, setup.key_version, messages)
        new_ids = setup.context.parties if req.operation == REFRESH else tuple(req.party_identities)
        what = "retirement" if retiring else "share"
        audit = self._lifecycle_event(session, "key.prepare", f"version {version} pending ({what})")
        try:
            await self._store.prepare_version(
                req.key_id,
                None if retiring else pending.key_share,
                key_version=version,
                session_id=req.session_id,
                confirm_digest=digest,
                resume=resume,
                protocol=setup.protocol,
                curve=setup.curve,
                public_key=pending.public_key,
                threshold=req.threshold,
                parties=req.total_parties,
                party_index=req.party_index,
                party_identities=encode_identities(new_ids),
                audit=audit,
            )
        except KeyExists:
            raise AlreadyExists(f"key id {req.key_id!r} has a pending version of another session") from None

    def _lifecycle_event(self, session: Session, operation: str, result: str) -> AuditEvent:
        client = self._clients.get(session.setup.session_id, "unidentified")
        return AuditEvent(session.setup.session_id, session.setup.key_id, operation, None, result, client)

    async def _commit_version(self, session: Session) -> None:
        """Every participant confirmed: the pending version becomes current (docs/lifecycle.md §4.2)."""
        setup = session.setup
        v = setup.key_version
        leaving = await self._pending_is_retirement(session)
        operation, note = ("key.retire", ": this party left the key") if leaving else ("key.commit", "")
        audit = self._lifecycle_event(session, operation, f"version {v} → {v + 1}{note}")
        try:
            await self._store.commit_version(setup.key_id, v + 1, setup.session_id, audit=audit)
        except KeyNotFound:
            raise FailedPrecondition(f"the pending version {v + 1} of key {setup.key_id!r} is gone") from None
        session.key_version = v + 1

    async def _pending_is_retirement(self, session: Session) -> bool:
        for p in await self._store.pending_versions():
            if p.info.key_id == session.setup.key_id and p.session_id == session.setup.session_id:
                return p.retiring
        return False

    async def _roll_back(self, session: Session) -> None:
        """Drop a session's pending version when nobody can have committed it: the confirmations differ (a
        protocol failure after prepare), or the coordinator started another operation on the key. Any other
        end after the confirmation went out (shutdown, a store fault) keeps it: a restart finishes it."""
        setup = session.setup
        if session.superseded_by:
            reason = f"superseded by {session.superseded_by}"
        elif session.state is SessionState.FAILED and session.failed_by_protocol:
            reason = "the confirmations differ"
        else:
            log.warning(
                "session ended %s after its confirmation went out: its pending version is kept",
                session.state.name,
                extra={"session_id": setup.session_id, "key_id": setup.key_id},
            )
            return
        v = setup.key_version + 1
        audit = self._lifecycle_event(session, "key.rollback", f"version {v} dropped: {reason}")
        await self._store.rollback_version(setup.key_id, v, setup.session_id, audit=audit)

    async def _restore_pending(self) -> None:
        """At start: every pending version (its node died after prepare) becomes a session waiting in its
        confirmation round again, under its own session id (docs/lifecycle.md §4 table)."""
        try:
            async with store_faults():
                pending = await self._store.pending_versions()
        except EngineError as exc:
            log.error("pending key versions not restored: %s", exc)
            return
        for p in pending:
            try:
                await self._restore(p)
            except Exception:
                log.exception("could not restore the session of a pending key version", extra={"key_id": p.info.key_id})

    async def _restore(self, p: PendingVersion) -> None:
        resume = Resume(p.resume)
        req = resume.request
        binding = self._protocols[(req.protocol, req.curve)]
        read = binding.read_confirmation
        assert read is not None
        context = lifecycle_context(req, resume.identities)
        setup = SessionSetup(
            SessionKind.DKG, req, req.protocol, req.curve, req.party_index, resume.parties, context, False,
            resume.from_version,
        )  # fmt: skip

        # The stored confirmation carries its wire round; in an echoed session (three or more parties) the
        # session's echo wrapper numbers rounds itself, so ConfirmationWait is given the inner round.
        echoed = uses_echo(resume.parties)
        messages = [
            (to, (inner_round(rnd) or rnd) if echoed else rnd, seq, body) for to, rnd, seq, body in resume.messages
        ]

        async def build() -> SessionProtocol:
            return ConfirmationWait(
                req.session_id, req.party_index, resume.parties, p.confirm_digest, read, resume.public_key, messages
            )

        session = Session(
            setup,
            self._config,
            build=build,
            runner=InlineRunner(),
            identity=self._identity,
            finish=self._finish,
            audit=self._audit,
            on_terminal=self._on_terminal,
            on_done=self._on_done,
            first_sequence=resume.first_sequence,
            prepared=True,
        )
        self._dkg_keys.add(req.key_id)
        self._register(session, "restored")
        log.info(
            "restored the confirmation round of a pending key version",
            extra={"session_id": req.session_id, "key_id": req.key_id},
        )
        assert self._nursery is not None
        await self._nursery.start(session.run)

    def _check_sign(self, req: SignRequest, binding: ProtocolBinding, info: KeyInfo) -> None:
        if req.presign is not True and req.presign is not False:
            raise InvalidArgument("presign must be a boolean")
        if not isinstance(req.presignature_id, str):
            raise InvalidArgument("presignature_id must be a string")
        if not isinstance(req.message, bytes):
            raise InvalidArgument("message must be bytes")
        if req.presign:
            if binding.new_presign is None:
                raise InvalidArgument(f"protocol {info.protocol} has no presigning")
            if req.message or req.derivation_path or req.presignature_id:
                raise InvalidArgument("a presigning takes no message, derivation_path or presignature_id")
        else:
            if not req.message:
                raise InvalidArgument("message must be non-empty bytes")
            if binding.message_is_digest and len(req.message) != limits.DIGEST_BYTES:
                raise InvalidArgument(
                    f"message must be a {limits.DIGEST_BYTES}-byte digest for {info.protocol}, got {len(req.message)}"
                )
            if len(req.message) > self._config.max_message_bytes:
                raise InvalidArgument(f"message exceeds {self._config.max_message_bytes} bytes")
            if req.presignature_id:
                if binding.new_presign is None:
                    raise InvalidArgument(f"protocol {info.protocol} has no presignatures")
                _check(limits.check_session_id, req.presignature_id, "presignature_id")
        signers = req.signers
        parties = _key_parties(info)
        if not isinstance(signers, tuple) or not all(limits.is_int(s) and s in parties for s in signers):
            raise InvalidArgument(f"signers must be parties of the key {list(parties)}")
        if len(set(signers)) != len(signers):
            raise InvalidArgument("signers must not repeat")
        if len(signers) < info.threshold:
            raise InvalidArgument(f"key {req.key_id!r} needs at least {info.threshold} signers")
        if info.party_index not in signers:
            raise InvalidArgument(f"signers must include this node (party {info.party_index})")
        path = req.derivation_path
        if not isinstance(path, tuple) or not all(limits.is_int(i) and 0 <= i < limits.HARDENED for i in path):
            raise InvalidArgument("derivation_path must be non-hardened indices below 2^31")
        if path and not binding.derivation:
            raise InvalidArgument(f"protocol {info.protocol} on {info.curve} does not support derivation paths")
        self._check_taproot(req, binding, info)

    @staticmethod
    def _check_taproot(req: SignRequest, binding: ProtocolBinding, info: KeyInfo) -> None:
        """A Taproot signing needs well-formed fields (`limits.check_taproot`), a scheme that has it and a
        32-byte sighash."""
        _check(limits.check_taproot, req.taproot, req.taproot_merkle_root, req.presign, req.presignature_id)
        if not req.taproot:
            return
        if not binding.taproot:
            raise InvalidArgument(f"protocol {info.protocol} on {info.curve} has no taproot signing")
        if len(req.message) != limits.DIGEST_BYTES:
            raise InvalidArgument(f"message: a taproot message is the {limits.DIGEST_BYTES}-byte BIP-341 sighash")

    def _check_approvals(self, context: SessionContext, req: SignRequest, me: int) -> None:
        """With `auth.approvals: all-other-signers`: an approval of exactly this context from every other
        signer, else PERMISSION_DENIED. Runs before anything is claimed, stored or sent."""
        if self._config.approvals != APPROVE_ALL_OTHER_SIGNERS:
            return
        given = {a.party: a.signature for a in req.approvals}
        if len(given) != len(req.approvals) or not set(given) <= set(req.signers) - {me}:
            raise InvalidArgument("approvals must come from the other signers, one each")
        for party in sorted(set(req.signers) - {me}):
            if party not in given:
                raise PermissionDenied(f"the approval of signer {party} is missing")
            try:
                verify_approval(context, party, given[party])
            except IdentityError as exc:
                raise PermissionDenied(str(exc)) from None

    def _dkg_builder(self, binding: ProtocolBinding, req: DkgRequest) -> Builder:
        async def build() -> SessionProtocol:
            preparams = None
            if binding.needs_preparams:
                async with store_faults():
                    preparams = await self._preparams.take({"session_id": req.session_id, "key_id": req.key_id})
            return await _construct(binding, binding.new_dkg, req, preparams)

        return build

    def _sign_builder(
        self, binding: ProtocolBinding, req: SignRequest, party_index: int, share: bytes, presignature: bytes | None
    ) -> Builder:
        async def build() -> SessionProtocol:
            return await _construct(binding, binding.new_sign, req, party_index, share, presignature)

        return build

    def _presign_builder(self, binding: ProtocolBinding, req: SignRequest, party_index: int, share: bytes) -> Builder:
        async def build() -> SessionProtocol:
            return await _construct(binding, binding.new_presign, req, party_index, share)

        return build

    # ----- session hooks -------------------------------------------------------------------------

    @store_faults()
    async def _finish(self, session: Session, result: DkgResult | SignResult | PresignResult) -> None:
        """Runs before a session becomes COMPLETED, and commits its audit row: a DKG's key share is stored
        with it (put-once), a presigning's presignature too (under id = the session id), a signing's row
        alone. If this fails the session FAILS: nothing is released without its row."""
        request = session.setup.request
        audit = self._audit_event(session, "completed")
        if isinstance(request, DkgRequest) and request.operation != CREATE:
            await self._commit_version(session)
        elif isinstance(request, DkgRequest) and isinstance(result, DkgResult):
            try:
                await self._store.put_share(
                    request.key_id,
                    result.key_share,
                    protocol=request.protocol,
                    curve=request.curve,
                    public_key=result.public_key,
                    threshold=request.threshold,
                    parties=request.total_parties,
                    party_index=request.party_index,
                    party_identities=encode_identities(request.party_identities),
                    audit=audit,
                )
            except KeyExists:
                raise AlreadyExists(f"key id {request.key_id!r} was stored meanwhile") from None
            session.key_version = 1
        elif session.setup.kind is SessionKind.PRESIGN and not isinstance(result, DkgResult | SignResult):
            blob = await self._presignatures.seal(result.presignature_id, result.consume())
            try:
                await self._store.add_presignature(
                    request.key_id, blob, item_id=request.session_id, key_version=session.setup.key_version, audit=audit
                )
            except ItemExists:
                raise AlreadyExists(f"a presignature with id {request.session_id!r} is already stored") from None
            await self._presignatures_changed()
        else:
            await self._store.append_audit(**asdict(audit))

    @store_faults()
    async def _audit(self, session: Session) -> None:
        """The audit row of a session that ended without a result (a COMPLETED one has it already); a refresh or
        reshare that ended after its prepare may roll its pending version back (`_roll_back`)."""
        if session.state is SessionState.COMPLETED:
            return
        if session.prepared:
            await self._roll_back(session)
        result = session.state.name.lower()
        if session.culprits:
            result += f" culprits={list(session.culprits)}"
        await self._store.append_audit(**asdict(self._audit_event(session, result, session.blame_evidence())))

    def _audit_event(self, session: Session, result: str, evidence: bytes | None = None) -> AuditEvent:
        """What the audit log records of a session: what it was, for whom, how it ended, and the signed
        messages that prove whom it blamed (docs/contract.md §11.8)."""
        setup = session.setup
        digest = None
        if setup.kind is SessionKind.SIGN and isinstance(setup.request, SignRequest):
            digest = _digest(self._protocols[setup.scheme], setup.request)
        client = self._clients.get(setup.session_id, "unidentified")
        return AuditEvent(setup.session_id, setup.key_id, setup.kind.value, digest, result, client, evidence)

    def _on_terminal(self, session: Session) -> None:
        """The session's state just became terminal: a DKG's key id is free again (a COMPLETED one is in
        the store by now), so a caller who sees FAILED can retry the same key id at once."""
        if session.setup.kind is SessionKind.DKG:
            self._dkg_keys.discard(session.setup.key_id)

    def _on_done(self, session: Session) -> None:
        telemetry.session_ended(session.setup.protocol, session.setup.kind.value, session.state)
        self._running -= 1
        if self._running == 0:
            self._idle.set()
        session.expires_at = trio.current_time() + self._config.retention_s
        self._retained.append((session.expires_at, session))
        self._retained_changed.set()

    async def _reap(self) -> None:
        """Forget finished sessions after `retention_s` (or sooner beyond `max_retained`)."""
        while True:
            now = trio.current_time()
            while self._retained and (self._retained[0][0] <= now or len(self._retained) > self._config.max_retained):
                self._forget(self._retained.popleft()[1])
            self._retained_changed = trio.Event()
            if self._retained:
                with trio.move_on_at(self._retained[0][0]):
                    await self._retained_changed.wait()
            else:
                await self._retained_changed.wait()


async def _construct(binding: ProtocolBinding, make: Any, *args: Any) -> SessionProtocol:
    """Build a protocol session where its steps run; parameter errors end the session as FAILED."""
    try:
        return await binding.runner.build(make, *args)
    except ValueError as exc:
        raise ProtocolError(f"invalid session parameters: {exc}") from None


def dkg_context(req: DkgRequest) -> SessionContext:
    """The session context of a DKG: what its parties sign their messages over."""
    return SessionContext(
        "dkg", req.session_id, req.key_id, req.protocol, req.curve, req.threshold, tuple(req.party_identities)
    )


def lifecycle_context(req: DkgRequest, parties: tuple[PartyIdentity, ...]) -> SessionContext:
    """The session context of a refresh or reshare (docs/contract.md §12.3): every participant's identity (a
    refresh: the stored ones; a reshare: the new set's and those of old parties leaving), the new threshold,
    and the operation (with a reshare's dealing quorum) in `extra`."""
    return SessionContext(
        "dkg", req.session_id, req.key_id, req.protocol, req.curve, req.threshold, parties,
        extra=lifecycle_extra(req.operation, req.old_parties),
    )  # fmt: skip


def _stored_identities(info: KeyInfo) -> tuple[PartyIdentity, ...]:
    try:
        return tuple(sorted(decode_identities(info.party_identities), key=lambda p: p.party))
    except IdentityError:
        raise FailedPrecondition(f"key {info.key_id!r} has no party identities (made before they existed)") from None


def _key_parties(info: KeyInfo) -> tuple[int, ...]:
    """The key's party indices: those its identities name (a reshare may leave gaps), else 1..parties."""
    try:
        named = tuple(sorted(p.party for p in decode_identities(info.party_identities)))
    except IdentityError:
        named = ()
    return named or tuple(range(1, info.parties + 1))


def _check_quorum(old_parties: object) -> tuple[int, ...]:
    if not isinstance(old_parties, tuple) or not old_parties:
        raise InvalidArgument("old_parties must name the parties that deal the key")
    for p in old_parties:
        _check(limits.check_party_index, p, "old_parties")
    if len(set(old_parties)) != len(old_parties):
        raise InvalidArgument("old_parties must not repeat")
    return tuple(sorted(old_parties))


def sign_context(kind: SessionKind, req: SignRequest, info: KeyInfo) -> SessionContext:
    """The session context of a signing or presigning on a stored key: the key's parties and identities
    come from the store only, never from the request."""
    try:
        parties = decode_identities(info.party_identities)
    except IdentityError:
        raise FailedPrecondition(f"key {info.key_id!r} has no party identities (made before they existed)") from None
    return SessionContext(
        kind.value,
        req.session_id,
        req.key_id,
        info.protocol,
        info.curve,
        info.threshold,
        parties,
        signers=tuple(sorted(req.signers)),
        message=req.message,
        derivation_path=req.derivation_path,
        presignature_id=req.presignature_id,
        extra=sign_extra(req.taproot, req.taproot_merkle_root),
    )


def _check(check: Callable[..., T], *args: object) -> T:
    """Apply one `signer.limits` check (the gRPC edge applies the same); LimitError -> InvalidArgument."""
    return limits.check_as(InvalidArgument, check, *args)


def _digest(binding: ProtocolBinding, request: SignRequest) -> bytes:
    """The message digest the audit log keeps: the digest itself for ECDSA, SHA-256 of an EdDSA message."""
    return request.message if binding.message_is_digest else hashlib.sha256(request.message).digest()


def _check_message(m: ProtocolMessage) -> None:
    _check(limits.check_session_id, m.session_id)
    _check(limits.check_party_index, m.from_party, "from_party")
    _check(limits.check_int, "to_party", m.to_party, 0, limits.MAX_PARTIES)
    _check(limits.check_int, "round", m.round, 0, limits.MAX_ROUND)
    _check(limits.check_int, "sequence", m.sequence, 0, limits.MAX_SEQUENCE)
    if not isinstance(m.payload, bytes):
        raise InvalidArgument("payload must be bytes")
