"""Precomputed single-use values for the GG20 steps this node runs: made in the background, handed to the
worker process that runs each step.

Why: most of a presigning's exponentiations are Paillier nonces r^N mod N² and ring-Pedersen mask
commitments (signer/crypto/precompute.py), which depend on no message. The steps run in `trio_parallel`
worker processes (offload.py) and any worker may run any step, so a pool filled inside one worker would
help only the steps that happen to land there. The values are therefore kept here, in the engine's
process: a background task (`run`) makes them in a worker process of its own, started at the lowest CPU
priority (nice 19) and outside the sessions' worker limiter, so refilling uses spare CPU only, never holds
the event loop's GIL, and never makes a step wait for a worker. The runner hands each step the values its
protocol says the step will take (`SessionProtocol.precompute_needs`) together with the step's state, and
takes back what the step did not use.

Rules (precompute.py's): a value is in one pool at a time and is taken once; values are secrets that live
only in memory (never stored or logged); they cross only the local pipe to this node's own workers, as the
session state does. Bounded: at most `max_per_key` values for each of `max_keys` keys per pool, and the
refill keeps `presignings` presignings' worth for the `max_keys` keys seen most recently. A step with
nothing ready computes its values on the spot, so a refill falling behind (or disabled: presignings = 0)
costs speed, never correctness.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import replace

import trio
import trio_parallel

from signer.crypto.precompute import Bundle, Need, PrecomputePool, make
from signer.protocols.base import SessionProtocol

log = logging.getLogger("signer.engine.stock")

# Presignings' worth of values kept ready per key (EngineConfig.precompute_presignings).
DEFAULT_PRESIGNINGS = 2
# Values made per call to the refill worker: about 0.1-0.3 s of work, so a wanted key is served soon and
# cancelling (drain) abandons little.
CHUNK = 8
# Pause after a failed refill before the next try.
RETRY_S = 5.0


def _lowest_priority() -> bool:
    """Refill worker initializer: nice 19, so the sessions' workers and the event loop come first."""
    os.nice(19)
    return True


class PrecomputeStock:
    """This engine's precomputed values by pool name; `hand_out` / `take_back` around each offloaded step,
    `run` refills them (see the module docstring)."""

    def __init__(self, presignings: int = DEFAULT_PRESIGNINGS, max_per_key: int = 64, max_keys: int = 64) -> None:
        if presignings < 0:
            raise ValueError("presignings must not be negative")
        self.presignings = presignings
        self._max_per_key = max_per_key
        self._max_keys = max_keys
        self._pools: dict[str, PrecomputePool[object]] = {}
        # What to keep ready: (pool, key) -> Need whose count is the target, most recently wanted last.
        self._wants: OrderedDict[tuple[str, Hashable], Need] = OrderedDict()
        self._wanted = trio.Event()
        self.scope = trio.CancelScope()
        self.handed_out = 0  # values steps took: handed out and not given back (for benchmarks and tests)

    def _pool(self, name: str) -> PrecomputePool[object]:
        pool = self._pools.get(name)
        if pool is None:
            pool = self._pools[name] = PrecomputePool(self._max_per_key, self._max_keys)
        return pool

    def available(self, need: Need) -> int:
        return self._pool(need.pool).available(need.key)

    @property
    def full(self) -> bool:
        """Every wanted key has its target ready (what a quiet node reaches between presignings)."""
        return all(self.available(need) >= need.count for need in self._wants.values())

    def want(self, needs: list[Need]) -> None:
        """Keep `presignings` times these counts ready from now on (the needs of one whole session)."""
        if not self.presignings:
            return
        for need in needs:
            slot = (need.pool, need.key)
            old = self._wants.pop(slot, None)
            target = max(old.count if old else 0, min(need.count * self.presignings, self._max_per_key))
            self._wants[slot] = replace(need, count=target)
        while len(self._wants) > self._max_keys:
            self._wants.popitem(last=False)
        self._wanted.set()

    def hand_out(self, proto: SessionProtocol, first: bool = False) -> Bundle:
        """The ready values the next step of `proto` will take, removed from the stock; `first` (the
        session's start) also registers what the whole session takes, for the refill."""
        if not self.presignings:
            return {}
        if first:
            self.want(proto.precompute_needs(whole=True))
        bundle: Bundle = {}
        for need in proto.precompute_needs():
            values = self._pool(need.pool).take_ready(need.key, need.count)
            if values:
                bundle.setdefault(need.pool, {}).setdefault(need.key, []).extend(values)
                self.handed_out += len(values)
        if bundle:
            self._wanted.set()
        return bundle

    def take_back(self, bundle: Bundle) -> None:
        """Values a step was handed and did not take."""
        for name, by_key in bundle.items():
            for key, values in by_key.items():
                self.handed_out -= self._pool(name).put(key, values)

    def _next_refill(self) -> Need | None:
        """The most recently wanted key below its target, as a Need for at most CHUNK values."""
        for need in reversed(self._wants.values()):
            missing = need.count - self.available(need)
            if missing > 0:
                return replace(need, count=min(missing, CHUNK))
        return None

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Refill what is wanted, in a low-priority worker process of its own; cancel via `scope`."""
        with self.scope:
            task_status.started()
            if not self.presignings:
                await trio.sleep_forever()
            limiter = trio.CapacityLimiter(1)  # not the sessions' limiter: a refill never delays a step
            async with trio_parallel.open_worker_context(init=_lowest_priority, grace_period=1.0) as workers:
                while True:
                    self._wanted = wanted = trio.Event()
                    need = self._next_refill()
                    if need is None:
                        await wanted.wait()
                        continue
                    try:
                        values = await workers.run_sync(make, need, kill_on_cancel=True, limiter=limiter)
                    except Exception as exc:
                        name = type(exc).__name__
                        log.warning("precompute refill failed (%s: %s); retrying in %gs", name, exc, RETRY_S)
                        await trio.sleep(RETRY_S)
                        continue
                    self._pool(need.pool).put(need.key, values)
