"""Party identities for tests that drive engines directly (docs/contract.md §11).

Each test engine gets its own Ed25519 identity key (`node`); `start_as` starts a session on one of them as
mpc-service and the device would: a DKG naming every engine's identity, a signing carrying every other
signer's approval of the context that engine computes. Tests about identities build requests themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from weakref import WeakKeyDictionary

from signer import limits
from signer.crypto.identity import ED25519, IdentityKey
from signer.engine import DkgRequest, EngineConfig, NotFound, SessionKind, SessionManager, SessionView, SignRequest
from signer.engine.storage import EngineStore
from signer.session_context import PartyApproval, PartyIdentity, sign_approval, sign_message
from signer.wire import ProtocolMessage

KEYS: WeakKeyDictionary[SessionManager, IdentityKey] = WeakKeyDictionary()


def node(config: EngineConfig, store: EngineStore, *, identity: IdentityKey | None = None, **kw: Any) -> SessionManager:
    """A SessionManager with `identity` (a real node's is its store's `node_identity()`), else a fresh key;
    kept in KEYS for approvals and re-signing."""
    key = identity or IdentityKey.generate()
    manager = SessionManager(config, store, identity=key, **kw)
    KEYS[manager] = key
    return manager


def named(parties: Mapping[int, SessionManager], total: int) -> tuple[PartyIdentity, ...]:
    """`party_identities` for a DKG of `total` parties where party p is parties[p] (a fresh key for a party
    no engine plays)."""
    return tuple(
        parties[p].identity(p) if p in parties else PartyIdentity(p, ED25519, IdentityKey.generate().public_key)
        for p in range(1, total + 1)
    )


def index_of(parties: Mapping[int, SessionManager], manager: SessionManager) -> int:
    return next(p for p, m in parties.items() if m is manager)


async def approved(parties: Mapping[int, SessionManager], manager: SessionManager, request: SignRequest) -> SignRequest:
    """`request` for `manager`, with every other signer's approval of the context `manager` computes."""
    context = await manager.sign_context(request)
    me = index_of(parties, manager)
    approvals = tuple(
        PartyApproval(p, sign_approval(KEYS[parties[p]], context)) for p in request.signers if p != me and p in parties
    )
    return replace(request, approvals=approvals)


async def start_as(
    parties: Mapping[int, SessionManager],
    manager: SessionManager,
    kind: SessionKind,
    request: DkgRequest | SignRequest,
    **kw: Any,
) -> SessionView:
    """`manager.start` with the identities (DKG) or approvals (signing) filled in, unless the request has some."""
    if isinstance(request, DkgRequest) and not request.party_identities:
        if limits.is_int(request.total_parties) and 0 < request.total_parties <= limits.MAX_PARTIES:
            request = replace(request, party_identities=named(parties, request.total_parties))
    elif isinstance(request, SignRequest) and not request.approvals:
        try:
            request = await approved(parties, manager, request)
        except NotFound:
            pass  # an unknown key: let start refuse it
    return await manager.start(kind, request, **kw)


def resigned(parties: Mapping[int, SessionManager], msg: ProtocolMessage) -> ProtocolMessage:
    """`msg` (changed by a test) signed anew by its sender: a lying party, not a relay. Unchanged if no
    engine here plays that sender in that session (the test is about another check)."""
    sender = parties.get(msg.from_party)
    session = None if sender is None else sender._sessions.get(msg.session_id)
    if sender is None or session is None:
        return msg
    return replace(msg, party_signature=sign_message(KEYS[sender], session.setup.context, msg))
