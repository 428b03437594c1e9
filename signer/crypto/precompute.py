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

Public API:
    PrecomputePool(max_per_key=64, max_keys=64)
        .take(key, make) -> value        removed from the pool, or make() now when none is ready
        .refill(key, make, target) -> n  make() until `target` values are ready (at most max_per_key)
        .available(key), .clear(), .misses
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

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
        fresh = [make() for _ in range(max(0, missing))]
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

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
