"""The one in-memory protocol driver of the tests, built on `signer.protocols.local.run_local`.

A `Tamper` hook sees every delivery as (sender, recipient, message) and returns the payload the
recipient gets (None drops it): the same signature for FROST and GG20, for a lying party or a relay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from signer.protocols.base import Outgoing, SessionProtocol
from signer.protocols.local import Failures, Relay, run_local

Tamper = Relay


def run(sessions: Mapping[int, SessionProtocol], tamper: Tamper | None = None) -> Failures:
    """Run every party; returns each failed party's error (empty if every session finished)."""
    return run_local(sessions, tamper)


def run_ok(sessions: Mapping[int, SessionProtocol], tamper: Tamper | None = None) -> None:
    """Run every party; raises the first failure (a ProtocolError naming culprits, or an InternalError)."""
    failures = run_local(sessions, tamper)
    if failures:
        raise next(iter(failures.values()))


def only(sender: int, round: int, rewrite: Callable[[bytes], bytes], recipient: int | None = None) -> Tamper:
    """A tamper hook rewriting the payloads `sender` sends in `round` (to `recipient`, or to all)."""

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes | None:
        if frm == sender and msg.round == round and recipient in (None, to):
            return rewrite(msg.payload)
        return msg.payload

    return tamper
