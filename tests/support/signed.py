"""Every party of one session as a client `LocalParty` with its own identity key, relayed in memory.

What `driver.run` is for the bare protocols, this is with identities: every message is signed by its
sender and checked by its recipient, and a session of three or more parties runs with its echo broadcast
(as in the node), so an equivocating party is named with evidence a third party can check. A `Deliver`
hook decides what each recipient gets for each message (a list: none drops it, several inject more); a
lying party's changes are signed with its own key (`SignedRun.resign`), as a relay could not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from signer.client.party import LocalParty
from signer.crypto.identity import ED25519, IdentityKey
from signer.protocols.base import InternalError, ProtocolError, SessionProtocol
from signer.session_context import PartyIdentity, SessionContext, sign_message
from signer.wire import ProtocolMessage


@dataclass
class SignedRun:
    context: SessionContext
    keys: dict[int, IdentityKey]
    parties: dict[int, LocalParty]
    sent: list[ProtocolMessage] = field(default_factory=list)  # every message as its sender sent it
    failures: dict[int, ProtocolError | InternalError] = field(default_factory=dict)

    def resign(self, msg: ProtocolMessage, **changes: Any) -> ProtocolMessage:
        """`msg` with `changes`, signed by the party it claims to come from."""
        changed = replace(msg, **changes)
        return replace(changed, party_signature=sign_message(self.keys[changed.from_party], self.context, changed))


Deliver = Callable[[SignedRun, int, ProtocolMessage], list[ProtocolMessage]]


def run_signed(
    protocols: Mapping[int, SessionProtocol], deliver: Deliver | None = None, kind: str = "dkg"
) -> SignedRun:
    """Run every party until no message is left; `failures` holds each failed party's error."""
    keys = {i: IdentityKey.generate() for i in protocols}
    session_id = next(iter(protocols.values())).session_id
    identities = tuple(PartyIdentity(i, ED25519, k.public_key) for i, k in keys.items())
    context = SessionContext(kind, session_id, "echo-key", "test", "test", 2, identities)
    parties = {i: LocalParty(session_id, p, identity=keys[i], context=context) for i, p in protocols.items()}
    run = SignedRun(context, keys, parties)
    queue: deque[ProtocolMessage] = deque(m for p in parties.values() for m in p.start())
    while queue:
        msg = queue.popleft()
        run.sent.append(msg)
        for i, party in parties.items():
            if i in run.failures or not party.wants(msg):
                continue
            for m in [msg] if deliver is None else deliver(run, i, msg):
                try:
                    queue.extend(party.receive(m))
                except (ProtocolError, InternalError) as exc:
                    run.failures[i] = exc
                    break
                if party.failure is not None:  # it failed after sending what it returned
                    run.failures[i] = party.failure
                    break
    return run
