"""Test helpers: serve engines in a nursery, and relay messages between parties' engines as
mpc-service would (long-poll status, deliver each new outbound message to its addressee)."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import trio

from signer.engine import EngineError, FailedPrecondition, ProtocolMessage, SessionManager, SessionView


def session_tasks() -> int:
    """Live tasks running a session (walks the whole Trio task tree)."""
    count = 0
    stack = [trio.lowlevel.current_root_task()]
    while stack:
        task = stack.pop()
        if task.name.endswith("Session.run"):
            count += 1
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return count


def targets(msg: ProtocolMessage, parties: Mapping[int, SessionManager]) -> list[int]:
    if msg.to_party == 0:
        return [p for p in parties if p != msg.from_party]
    return [msg.to_party]


async def relay(
    parties: Mapping[int, SessionManager],
    session_id: str,
    *,
    wait_s: float = 1.0,
    tolerate: tuple[type[EngineError], ...] = (FailedPrecondition,),
    rewrite: Callable[[int, ProtocolMessage], ProtocolMessage] | None = None,
) -> dict[int, SessionView]:
    """Move one session's messages between the parties until every party's session is finished.

    Refusals of the `tolerate` kinds are skipped (by default: the addressee already finished).
    `rewrite(addressee, message)` gives what the addressee is handed instead (a lying party).
    """
    finals: dict[int, SessionView] = {}

    async def pump(p: int) -> None:
        sent = 0
        wait = 0.0  # the first call returns at once with what the start response carried
        while True:
            view = await parties[p].status(session_id, wait)
            wait = wait_s
            for msg in view.outbound[sent:]:
                for q in targets(msg, parties):
                    try:
                        await parties[q].deliver(msg if rewrite is None else rewrite(q, msg))
                    except tolerate:
                        pass
            sent = len(view.outbound)
            if view.state.terminal:
                finals[p] = view
                return

    async with trio.open_nursery() as nursery:
        for p in parties:
            nursery.start_soon(pump, p)
    return finals


async def shuffled_relay(
    parties: Mapping[int, SessionManager], session_id: str, seed: int, *, wait_s: float = 1.0
) -> dict[int, SessionView]:
    """Like `relay`, but every message is delivered twice and all pending messages in random order."""
    rng = random.Random(seed)
    pending: list[tuple[int, ProtocolMessage]] = []
    sent = dict.fromkeys(parties, 0)
    while True:
        views = {p: await m.status(session_id) for p, m in parties.items()}
        for p, view in views.items():
            for msg in view.outbound[sent[p] :]:
                pending += [(q, msg) for q in targets(msg, parties)] * 2
            sent[p] = len(view.outbound)
        if all(v.state.terminal for v in views.values()):
            return views
        if not pending:
            await trio.sleep(wait_s)
            continue
        rng.shuffle(pending)
        batch, pending = pending, []
        for q, msg in batch:
            await parties[q].deliver(msg)
        await trio.sleep(0.001)
