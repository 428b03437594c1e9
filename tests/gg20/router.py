"""A tiny in-memory router for running every party of a GG20 session in one process (tests, benchmarks).

Each round: every live party's outgoing messages are delivered (broadcasts to every other party,
point-to-point to their recipient), then each party advances on exactly the inbox its RoundSpec names.
`tamper(sender, outgoing) -> payload` lets an adversarial test rewrite what one party sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from signer.protocols.base import BROADCAST, InboxKey, Outgoing, ProtocolError, SessionProtocol

Tamper = Callable[[int, Outgoing], bytes]


def run(sessions: Mapping[int, SessionProtocol], tamper: Tamper | None = None) -> dict[int, ProtocolError]:
    """Run all sessions to completion; returns the ProtocolError each failing party raised (empty if none)."""
    pending: dict[int, list[Outgoing]] = {i: s.start() for i, s in sessions.items()}
    errors: dict[int, ProtocolError] = {}
    while True:
        mail: dict[int, dict[InboxKey, bytes]] = {i: {} for i in sessions}
        for sender, outs in pending.items():
            for out in outs:
                payload = tamper(sender, out) if tamper else out.payload
                targets = [p for p in sessions if p != sender] if out.to_party == BROADCAST else [out.to_party]
                for p in targets:
                    mail[p][InboxKey(sender, out.to_party == BROADCAST)] = payload
        pending = {}
        live = {i: s for i, s in sessions.items() if i not in errors and s.expected() is not None}
        if not live:
            return errors
        for i, s in live.items():
            spec = s.expected()
            assert spec is not None
            inbox = {k: mail[i][k] for k in spec.keys() if k in mail[i]}
            if len(inbox) != len(spec.keys()):
                continue  # a peer failed earlier and sent nothing: this party would time out
            try:
                pending[i] = s.advance(inbox)
            except ProtocolError as exc:
                errors[i] = exc
        if errors or not pending:
            return errors
