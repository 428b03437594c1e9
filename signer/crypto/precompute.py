"""Pools of precomputed, single-use random values: what a prover can compute before it knows the message.

Why: most of a GG20 presigning's exponentiations act on fresh randomness alone — a Paillier nonce's
r^N mod N² (paillier.NONCE_POOL), a ring-Pedersen mask such as t^μ or s^α·t^γ under a peer's parameters
(ringpedersen.MASK_POOL). Their values depend on the key or parameters they are made for, never on the
message or on the party's secrets, so they can be computed ahead of need, off the critical path.

Rules, the same as for presignatures: a value is handed out once (`take` removes it; nothing puts it back),
it is a secret that lives only in this process's memory (never stored or logged), and a pool inherited by a
forked process is emptied before its first use there (parent and child would otherwise hand out the same
values). `take` never waits: with nothing ready it computes the value on the spot (the cost before pools
existed), so no caller depends on a refill having run; `misses` counts those. Bounded: at most
`max_per_key` values for each of at most `max_keys` keys (adding a key past that drops the one refilled
longest ago). Refilling is the owner's business, e.g. the engine's background pool task, in the process
that runs the sessions; `refill` computes outside the lock.

Values may move between processes (the engine makes them in one worker process and hands them to the
worker that runs a session's step, signer/engine/stock.py): `drain` removes values from one pool and `put`
adds them to another, so a value is in at most one pool at any time; a value `take` handed out is never
put anywhere. `Need` names values a computation is about to take, and `POOLS` names this process's pools,
so a caller can move exactly those values (`install`, `collect`) without knowing the pools' types.

Public API:
    PrecomputePool(max_per_key=64, max_keys=64)
        .take(key, make) -> value        removed from the pool, or make() now when none is ready
        .refill(key, make, target) -> n  make() until `target` values are ready (at most max_per_key)
        .put(key, values) -> n           add values made elsewhere (bounded as refill)
        .take_ready(key, count) -> [v]   up to `count` ready values, removed; computes nothing
        .drain() -> {key: [values]}      remove and return everything
        .available(key), .clear(), .misses
    Need(pool, key, fill, count)         `count` values of POOLS[pool] under `key`; fill(target) makes them here
    POOLS                                pool name -> this process's pool (paillier and ringpedersen register)
    Bundle                               {pool name: {key: [values]}}, values moving between processes
    install(bundle), collect() -> Bundle put a bundle into this process's pools / drain all of them
    make(need) -> [values]               need.count fresh values made here, for another process
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class PrecomputePool(Generic[V]):
    """Single-use values per key; see the module docstring."""

    def __init__(self, max_per_key: int = 64, max_keys: int = 64) -> None:
        self.max_per_key = max_per_key
        self.max_keys = max_keys
        self._values: dict[Hashable, deque[V]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self.misses = 0  # takes that found nothing ready and computed a value (a refill falling behind)

    def _check_process(self) -> None:
        """Caller holds the lock: drop values inherited across a fork."""
        if self._pid != os.getpid():
            self._values.clear()
            self._pid = os.getpid()

    def available(self, key: Hashable) -> int:
        with self._lock:
            self._check_process()
            return len(self._values.get(key, ()))

    def refill(self, key: Hashable, make: Callable[[], V], target: int) -> int:
        """Compute values with `make` until `key` has `target` of them (at most max_per_key); returns how many
        were added."""
        missing = min(target, self.max_per_key) - self.available(key)
        return self.put(key, [make() for _ in range(max(0, missing))])

    def put(self, key: Hashable, fresh: list[V]) -> int:
        """Add values nobody has taken (made by `refill` here or in another process's pool and drained from
        there) up to max_per_key; returns how many were added (the rest are dropped, never used)."""
        with self._lock:
            self._check_process()
            values = self._values.pop(key, None) or deque()
            added = fresh[: self.max_per_key - len(values)]
            values.extend(added)
            self._values[key] = values  # re-inserted: the dict's order is the refill order
            while len(self._values) > self.max_keys:
                del self._values[next(iter(self._values))]
            return len(added)

    def take(self, key: Hashable, make: Callable[[], V]) -> V:
        """A value for `key`, removed from the pool, or make() now if none is ready."""
        with self._lock:
            self._check_process()
            values = self._values.get(key)
            if values:
                return values.popleft()
            self.misses += 1
        return make()

    def take_ready(self, key: Hashable, count: int) -> list[V]:
        """Up to `count` ready values for `key`, removed from the pool; computes nothing."""
        with self._lock:
            self._check_process()
            values = self._values.get(key)
            return [values.popleft() for _ in range(min(count, len(values)))] if values else []

    def drain(self) -> dict[Hashable, list[V]]:
        """Remove every value, by key: to move them to another process's pool (`put`)."""
        with self._lock:
            self._check_process()
            values, self._values = self._values, {}
        return {key: list(v) for key, v in values.items() if v}

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


@dataclass(frozen=True)
class Need:
    """`count` values of the pool POOLS[pool] under `key`, about to be taken by one computation;
    `fill(target)` precomputes them into that pool in the process where it is called (a module-level or
    bound function with picklable arguments, so it can be sent to a worker process)."""

    pool: str
    key: Hashable
    fill: Callable[[int], int]
    count: int


# This process's pools by name; a module defining one registers it here when it is imported.
POOLS: dict[str, PrecomputePool[Any]] = {}

Bundle = dict[str, dict[Hashable, list[Any]]]


def install(bundle: Bundle) -> None:
    """Put values made elsewhere into this process's pools (a worker before it runs a step)."""
    for name, by_key in bundle.items():
        for key, values in by_key.items():
            POOLS[name].put(key, values)


def make(need: Need) -> list[Any]:
    """`need.count` fresh values made in this process and removed from its pool, to be sent elsewhere."""
    need.fill(need.count)
    return POOLS[need.pool].take_ready(need.key, need.count)


def collect() -> Bundle:
    """Drain all of this process's pools (a worker after a step: what the step did not take)."""
    bundle = {name: pool.drain() for name, pool in POOLS.items()}
    return {name: by_key for name, by_key in bundle.items() if by_key}
