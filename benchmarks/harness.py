"""The benchmark harness: one registry of named entries, medians and p99s, JSON out.

An entry is a function registered with `@entry(name, ...)` that returns a zero-argument callable (the
operation to time, set up once) or, for entries that measure something other than wall time per call,
a ready `Result`. Entry modules are `benchmarks/bench_*.py`; they are imported lazily by the runner.
Format: ../shared/BENCHMARKS.md.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

Op = Callable[[], object]


@dataclass
class Result:
    median_ms: float
    p99_ms: float
    runs: int
    ops_per_s: float | None
    note: str

    def as_json(self) -> dict[str, object]:
        return {
            "median_ms": round(self.median_ms, 4),
            "p99_ms": round(self.p99_ms, 4),
            "runs": self.runs,
            "ops_per_s": None if self.ops_per_s is None else round(self.ops_per_s, 2),
            "note": self.note,
        }


@dataclass
class Entry:
    name: str
    setup: Callable[[], Op | Result]
    note: str
    min_runs: int
    warmup: int


REGISTRY: dict[str, Entry] = {}


def entry(name: str, note: str = "", min_runs: int = 20, warmup: int = 2):
    """Register a benchmark entry; the decorated function sets up and returns the op to time."""

    def deco(fn: Callable[[], Op | Result]) -> Callable[[], Op | Result]:
        if name in REGISTRY:
            raise ValueError(f"duplicate benchmark entry {name}")
        REGISTRY[name] = Entry(name, fn, note, min_runs, warmup)
        return fn

    return deco


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the samples."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summarize(samples_ms: list[float], note: str, ops_per_s: float | None = None) -> Result:
    median = statistics.median(samples_ms)
    if ops_per_s is None and median > 0:
        ops_per_s = 1000.0 / median
    return Result(median, percentile(samples_ms, 99), len(samples_ms), ops_per_s, note)


def time_op(op: Op, min_runs: int, warmup: int, budget_s: float = 5.0) -> list[float]:
    """Time `op` at least `min_runs` times (3 for ops over a second), more while within budget."""
    for _ in range(warmup):
        op()
    samples: list[float] = []
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        op()
        samples.append((time.perf_counter() - t0) * 1000.0)
        needed = 3 if samples[0] > 1000.0 else min_runs
        if len(samples) >= needed and time.perf_counter() - started > budget_s:
            break
        if len(samples) >= max(needed, 2000):
            break
    return samples


def run_entry(e: Entry) -> Result:
    made = e.setup()
    if isinstance(made, Result):
        return made
    return summarize(time_op(made, e.min_runs, e.warmup), e.note)
