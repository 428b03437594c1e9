"""The one in-memory protocol driver of the tests, built on `signer.protocols.local.run_local`.

A `Tamper` hook sees every delivery as (sender, recipient, message) and returns the payload the
recipient gets (None drops it): the same signature for FROST and GG20, for a lying party or a relay.
It sees the protocol's own rounds: in a session of three or more parties (run with its echo broadcast)
`run` hands it each message with its inner round number and delivers echo and reveal messages untouched;
tests of the echo itself hook `run_local` directly, which sees wire rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from signer.protocols.base import Outgoing, SessionProtocol
from signer.protocols.echo import inner_round, uses_echo
from signer.protocols.local import Failures, Relay, run_local

Tamper = Relay


def _inner_rounds(sessions: Mapping[int, SessionProtocol], tamper: Tamper | None) -> Tamper | None:
    """`tamper` seeing inner rounds when the session runs with echo rounds (see the module docstring)."""
    if tamper is None or not any(uses_echo(s.parties) for s in sessions.values()):
        return tamper
    hook = tamper

    def inner(frm: int, to: int, msg: Outgoing) -> bytes | None:
        r = inner_round(msg.round)
        return msg.payload if r is None else hook(frm, to, replace(msg, round=r))

    return inner


def run(sessions: Mapping[int, SessionProtocol], tamper: Tamper | None = None) -> Failures:
    """Run every party; returns each failed party's error (empty if every session finished)."""
    return run_local(sessions, _inner_rounds(sessions, tamper))


def run_ok(sessions: Mapping[int, SessionProtocol], tamper: Tamper | None = None) -> None:
    """Run every party; raises the first failure (a ProtocolError naming culprits, or an InternalError)."""
    failures = run(sessions, tamper)
    if failures:
        raise next(iter(failures.values()))


def only(sender: int, round: int, rewrite: Callable[[bytes], bytes], recipient: int | None = None) -> Tamper:
    """A tamper hook rewriting the payloads `sender` sends in `round` (to `recipient`, or to all)."""

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes | None:
        if frm == sender and msg.round == round and recipient in (None, to):
            return rewrite(msg.payload)
        return msg.payload

    return tamper
