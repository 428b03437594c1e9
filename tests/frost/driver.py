"""A tiny in-memory relay for tests: routes every party's Outgoing to the others, round by round."""

from __future__ import annotations

from collections.abc import Callable

from signer.protocols.base import BROADCAST, InboxKey, Outgoing, ProtocolError, SessionProtocol

# A hook that may rewrite (or drop, by returning None) a message in flight: (sender, recipient, msg).
Tamper = Callable[[int, int, Outgoing], bytes | None]


def run(
    sessions: dict[int, SessionProtocol],
    tamper: Tamper | None = None,
    errors: dict[int, ProtocolError] | None = None,
) -> None:
    """Drive all sessions to completion; raises whatever a session raises (ProtocolError with culprits).

    With `errors`, a party's ProtocolError is recorded there instead and the others keep going."""
    mailbox: dict[int, dict[tuple[int, InboxKey], bytes]] = {i: {} for i in sessions}

    def deliver(sender: int, out: list[Outgoing]) -> None:
        for msg in out:
            targets = [j for j in sessions if j != sender] if msg.to_party == BROADCAST else [msg.to_party]
            for j in targets:
                payload = msg.payload if tamper is None else tamper(sender, j, msg)
                if payload is not None:
                    mailbox[j][(msg.round, InboxKey(sender, msg.to_party == BROADCAST))] = payload

    for i, s in sessions.items():
        deliver(i, s.start())
    progress = True
    while progress:
        progress = False
        for i, s in sessions.items():
            spec = s.expected()
            if spec is None:
                continue
            wanted = {(spec.round, k) for k in spec.keys()}
            if wanted <= mailbox[i].keys():
                inbox = {k: mailbox[i].pop((r, k)) for r, k in wanted}
                try:
                    out = s.advance(inbox)
                except ProtocolError as exc:
                    if errors is None:
                        raise
                    errors[i] = exc
                    continue
                deliver(i, out)
                progress = True
    stuck = [i for i, s in sessions.items() if s.expected() is not None]
    if stuck and not errors:
        raise RuntimeError(f"parties {stuck} are waiting for messages that never came")
