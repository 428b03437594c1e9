"""Every party of one session played in this process: the sans-IO loop of `base.py` over an in-memory relay.

What the engine and the P1 client do across the network, `run_local` does in memory: it delivers each
party's `Outgoing` (a broadcast to every other party, a point-to-point message to its recipient), and
advances any party whose inbox holds exactly what its `expected()` names, until nobody can move. It is
for benchmarks, tools and tests that need a whole session without I/O (tests/support adds hostile-relay
helpers on top of it).

`relay(sender, recipient, message) -> payload | None` decides what each recipient is handed: by default
the payload itself; a hook may rewrite it (a lying party, a tampering relay) or drop it (None).

A session of three or more parties runs with its echo broadcast (`signer.protocols.echo.with_echo`, as
the engine and the P1 client run it), so the relay sees wire rounds. There are no identities here: an
echo mismatch ends the session, but names nobody whose fault unsigned copies cannot prove.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from signer.protocols.base import BROADCAST, InboxKey, InternalError, Outgoing, ProtocolError, SessionProtocol
from signer.protocols.echo import with_echo

Relay = Callable[[int, int, Outgoing], bytes | None]
Failures = dict[int, ProtocolError | InternalError]


def run_local(sessions: Mapping[int, SessionProtocol], relay: Relay | None = None) -> Failures:
    """Run every session until none can advance; returns each failed party's error (empty: all finished).

    A failed party sends nothing more, so the parties waiting for it stop where they are, as they would
    before a round timeout. Raises RuntimeError if parties are left waiting although nobody failed (the
    relay dropped a message)."""
    sessions = {i: with_echo(s) for i, s in sessions.items()}
    mailbox: dict[int, dict[tuple[int, InboxKey], bytes]] = {i: {} for i in sessions}
    failures: Failures = {}

    def deliver(sender: int, outgoing: list[Outgoing]) -> None:
        for msg in outgoing:
            broadcast = msg.to_party == BROADCAST
            for j in [j for j in sessions if j != sender] if broadcast else [msg.to_party]:
                payload = msg.payload if relay is None else relay(sender, j, msg)
                if payload is not None:
                    mailbox[j][(msg.round, InboxKey(sender, broadcast))] = payload

    def step(i: int, action: Callable[[], list[Outgoing]]) -> None:
        try:
            deliver(i, action())
        except (ProtocolError, InternalError) as exc:
            failures[i] = exc

    for i, session in sessions.items():
        step(i, session.start)
    progress = True
    while progress:
        progress = False
        for i, session in sessions.items():
            spec = session.expected()
            if i in failures or spec is None:
                continue
            wanted = {(spec.round, key) for key in spec.keys()}
            if wanted <= mailbox[i].keys():
                inbox = {key: mailbox[i].pop((r, key)) for r, key in wanted}
                step(i, partial(session.advance, inbox))
                progress = True
    stuck = [i for i, s in sessions.items() if i not in failures and s.expected() is not None]
    if stuck and not failures:
        raise RuntimeError(f"parties {stuck} are waiting for messages that never came")
    return failures
