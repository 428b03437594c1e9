"""Where a protocol step runs: inline on the event loop, or in a worker process.

FROST steps cost well under a millisecond and run inline. GG20 steps do Paillier and ZK work in gmpy2,
which holds the GIL (STACK-NOTES.md), so a thread would still stall the event loop: they run in
`trio_parallel` worker processes. Measured here (2 cores, 4 concurrent gmpy2 jobs of ~0.2 s each, a 1 ms
sleep probing the loop): trio.to_thread p99 loop delay 68-85 ms, trio_parallel 3-4 ms, and the batch
finishes sooner in processes (two cores really used).

Process offload moves the session's whole state to the worker and back for every step: the parent
pickles the `SessionProtocol` object, the worker unpickles it, runs `start()`/`advance()`, and returns
the pickled object with the step's messages; the returned object replaces the engine's copy. Protocols
offloaded this way must be picklable. Two library types that GG20 state holds are not, and get
reducers in a private dispatch table (never registered globally, so nothing else in the process can
pickle them by accident): coincurve public keys (as compressed SEC1) and X25519 private keys (as raw
bytes). The state crosses only the local pipe between this process and its own worker. A cancelled
step (deadline, cancel, shutdown) kills the worker; the session is over anyway.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import coincurve
import trio_parallel
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from signer.protocols.base import InboxKey, Outgoing, ProtocolError, SessionProtocol
from signer.wire import ProtocolMessage

Step = tuple[SessionProtocol, list[Outgoing]]


class StepRunner(Protocol):
    async def build(self, make: Callable[..., SessionProtocol], *args: Any) -> SessionProtocol: ...

    async def start(self, proto: SessionProtocol) -> Step: ...

    async def advance(self, proto: SessionProtocol, inbox: Mapping[InboxKey, ProtocolMessage]) -> Step: ...


class InlineRunner:
    """Runs each step directly on the event loop (cheap protocols)."""

    async def build(self, make: Callable[..., SessionProtocol], *args: Any) -> SessionProtocol:
        return make(*args)

    async def start(self, proto: SessionProtocol) -> Step:
        return proto, proto.start()

    async def advance(self, proto: SessionProtocol, inbox: Mapping[InboxKey, ProtocolMessage]) -> Step:
        return proto, proto.advance_messages(inbox)


class ProcessRunner:
    """Runs construction and each step in a `trio_parallel` worker process; cancellation kills the worker.

    `make` must be a module-level function (it is pickled by reference).
    """

    async def build(self, make: Callable[..., SessionProtocol], *args: Any) -> SessionProtocol:
        return _loads(await trio_parallel.run_sync(_build_in_worker, make, *args, kill_on_cancel=True))

    async def start(self, proto: SessionProtocol) -> Step:
        return _loads(await trio_parallel.run_sync(_step_in_worker, _dumps(proto), None, kill_on_cancel=True))

    async def advance(self, proto: SessionProtocol, inbox: Mapping[InboxKey, ProtocolMessage]) -> Step:
        blob = _dumps(proto)
        return _loads(await trio_parallel.run_sync(_step_in_worker, blob, dict(inbox), kill_on_cancel=True))


def _x25519_private(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


_Reducer = Callable[[Any], Any]
_EXTRA_REDUCERS: dict[type, _Reducer] = {
    coincurve.PublicKey: lambda pk: (coincurve.PublicKey, (pk.format(compressed=True),)),
    type(X25519PrivateKey.generate()): lambda k: (_x25519_private, (k.private_bytes_raw(),)),
}
# Ours first, then the live global table (gmpy2 registers its reducers there when it is imported).
_DISPATCH: ChainMap[type, _Reducer] = ChainMap(_EXTRA_REDUCERS, copyreg.dispatch_table)  # type: ignore[arg-type]


def _dumps(obj: object) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(obj)
    return buf.getvalue()


def _loads(blob: bytes) -> Any:
    """Unpickle a worker's answer; a ProtocolError travels as data (its culprits and evidence are not in
    args)."""
    value = pickle.loads(blob)
    if isinstance(value, tuple) and len(value) == 4 and value[0] == "protocol-error":
        raise ProtocolError(value[1], value[2], value[3])
    return value


def _failure(exc: ProtocolError) -> bytes:
    return _dumps(("protocol-error", str(exc), exc.culprits, exc.evidence))


def _build_in_worker(make: Callable[..., SessionProtocol], *args: Any) -> bytes:
    try:
        return _dumps(make(*args))
    except ProtocolError as exc:
        return _failure(exc)


def _step_in_worker(blob: bytes, inbox: dict[InboxKey, ProtocolMessage] | None) -> bytes:
    proto: SessionProtocol = pickle.loads(blob)
    try:
        out = proto.start() if inbox is None else proto.advance_messages(inbox)
    except ProtocolError as exc:
        return _failure(exc)
    return _dumps((proto, out))
