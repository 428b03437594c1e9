"""The GG20 pre-parameters pool: kept at a target size in the store by a background task.

Pre-parameters (safe primes, Paillier key, ring-Pedersen parameters, their proofs) take seconds of
CPU to generate, so a DKG must not wait for a fresh set: the filler generates them ahead of time in a
`trio_parallel` worker process (gmpy2 holds the GIL, so a thread would stall the event loop) and
persists each set through the store, so a restart keeps them. `take` claims one atomically from the store;
when the pool is empty it waits for the filler (the DKG's round deadline bounds that wait).

The pool runs inside the manager's nursery under its own cancel scope: drain stops it at once, and a
generation in progress is abandoned by killing its worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio
import trio_parallel

from signer.engine import telemetry
from signer.engine.storage import EngineStore

log = logging.getLogger("signer.engine.pools")

# How often an empty pool is looked at again while waiting: replicas sharing a PostgreSQL store fill it
# too, and their additions wake no event here.
POLL_S = 1.0
# Pauses after a failed generation or store call before the filler tries again: doubling from the first to
# the last while failures go on (a database outage), so an outage costs one log line per pause.
RETRY_FIRST_S = 1.0
RETRY_S = 30.0


def generate_preparams_blob() -> bytes:
    """Worker-process entry point: one fresh pre-parameter set in its storage encoding."""
    from signer.crypto.preparams import generate_preparams

    return generate_preparams().to_bytes()


class PreparamsPool:
    """Keeps `target` pre-parameter sets in the store; `take()` hands one out exactly once."""

    def __init__(
        self, store: EngineStore, target: int, generate: Callable[[], bytes] = generate_preparams_blob
    ) -> None:
        if target < 0:
            raise ValueError("target must not be negative")
        self._store = store
        self.target = target
        self._generate = generate
        self._added = trio.Event()
        self._wanted = trio.Event()
        self.scope = trio.CancelScope()

    async def take(self, log_extra: dict[str, str] | None = None) -> bytes:
        """Claim one set from the store, waiting for the filler while the pool is empty.

        `log_extra` is the waiting session's logging context (session_id, key_id).
        """
        logged = False
        while True:
            added = self._added
            blob = await self._store.claim_preparams()
            self._wanted.set()
            if blob is not None:
                return blob
            if not logged:
                log.info("pre-parameters pool empty: waiting for the filler", extra=log_extra)
                logged = True
            with trio.move_on_after(POLL_S):
                await added.wait()

    async def run(self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Fill the pool to its target, then sleep until something is taken; cancel via `scope`.

        A failed generation or store call is logged in one line (the traceback only at debug level) and
        retried with backoff up to `RETRY_S`: the filler must never take the node down with it, nor flood
        the log while the database is away.
        """
        with self.scope:
            task_status.started()
            if self.target == 0:
                await trio.sleep_forever()
            failures = 0
            while True:
                try:
                    await self._fill_one()
                except Exception as exc:
                    failures += 1
                    pause = min(RETRY_FIRST_S * 2 ** min(failures - 1, 16), RETRY_S)
                    log.warning(
                        "pre-parameters pool: filling failed (%s: %s); retrying in %gs",
                        type(exc).__name__,
                        exc,
                        pause,
                    )
                    log.debug("pre-parameters pool: the failure's traceback", exc_info=True)
                    await trio.sleep(pause)
                    continue
                if failures:
                    log.info("pre-parameters pool: filling works again after %d failure(s)", failures)
                    failures = 0

    async def _fill_one(self) -> None:
        """Add one set if the pool is below target, else wait until a set is taken."""
        # A fresh event before counting: a take() racing with the count wakes the wait below.
        wanted = self._wanted = trio.Event()
        have = await self._store.count_preparams()
        telemetry.preparams_ready(have)
        if have >= self.target:
            await wanted.wait()
            return
        log.info("pre-parameters pool at %d/%d: generating one set", have, self.target)
        started = trio.current_time()
        blob = await trio_parallel.run_sync(self._generate, kill_on_cancel=True)
        await self._store.add_preparams(blob)
        telemetry.preparams_ready(have + 1)
        log.info(
            "pre-parameters pool at %d/%d: set generated in %.1fs", have + 1, self.target, trio.current_time() - started
        )
        self._added.set()
        self._added = trio.Event()
