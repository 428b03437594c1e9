"""Where a protocol step runs: inline on the event loop, or in a worker process.

FROST steps cost well under a millisecond and run inline. GG20 steps do Paillier and ZK work in gmpy2,
which holds the GIL (STACK-NOTES.md), so a thread would still stall the event loop: they run in
`trio_parallel` worker processes instead (benchmarks/bench_engine.py measures both).

Process offload ships the whole `SessionProtocol` object to the worker and back, so protocols that use it
must be picklable (plain attributes, gmpy2/bytes/int values, no open handles or lambdas). The step
returns the updated object, which replaces the engine's copy; a cancelled step (deadline, shutdown)
kills the worker, and the session is over anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import trio_parallel

from signer.protocols.base import InboxKey, Outgoing, ProtocolError, SessionProtocol

Step = tuple[SessionProtocol, list[Outgoing]]


class StepRunner(Protocol):
    async def start(self, proto: SessionProtocol) -> Step: ...

    async def advance(self, proto: SessionProtocol, inbox: Mapping[InboxKey, bytes]) -> Step: ...


class InlineRunner:
    """Runs each step directly on the event loop (cheap protocols)."""

    async def start(self, proto: SessionProtocol) -> Step:
        return proto, proto.start()

    async def advance(self, proto: SessionProtocol, inbox: Mapping[InboxKey, bytes]) -> Step:
        return proto, proto.advance(inbox)


class ProcessRunner:
    """Runs each step in a `trio_parallel` worker process; cancellation kills the worker."""

    async def start(self, proto: SessionProtocol) -> Step:
        return _unwrap(await trio_parallel.run_sync(_start_in_worker, proto, kill_on_cancel=True))

    async def advance(self, proto: SessionProtocol, inbox: Mapping[InboxKey, bytes]) -> Step:
        return _unwrap(await trio_parallel.run_sync(_advance_in_worker, proto, dict(inbox), kill_on_cancel=True))


# ProtocolError keeps `culprits` outside Exception.args, so it would lose them when pickled back from the
# worker; the worker functions return the failure as plain data and the parent re-raises it.
_Outcome = tuple[SessionProtocol, list[Outgoing]] | tuple[str, tuple[int, ...]]


def _start_in_worker(proto: SessionProtocol) -> tuple[bool, _Outcome]:
    try:
        return True, (proto, proto.start())
    except ProtocolError as exc:
        return False, (str(exc), exc.culprits)


def _advance_in_worker(proto: SessionProtocol, inbox: dict[InboxKey, bytes]) -> tuple[bool, _Outcome]:
    try:
        return True, (proto, proto.advance(inbox))
    except ProtocolError as exc:
        return False, (str(exc), exc.culprits)


def _unwrap(outcome: tuple[bool, _Outcome]) -> Step:
    ok, value = outcome
    if not ok:
        message, culprits = value
        raise ProtocolError(str(message), culprits)  # type: ignore[arg-type]
    return value  # type: ignore[return-value]
