"""The engine's Prometheus observations: sessions started and ended, round durations, presignature pool level.

Label values are closed sets (signer.metrics): a protocol outside `metrics.PROTOCOLS` (a test protocol
plugged into the registry) is simply not observed, rather than minting a new time series.
"""

from __future__ import annotations

from signer import metrics
from signer.engine.model import SessionState


def _observed(protocol: str) -> bool:
    return protocol in metrics.PROTOCOLS


def session_started(protocol: str, kind: str) -> None:
    if _observed(protocol):
        metrics.session_started(protocol, kind)


def session_ended(protocol: str, kind: str, state: SessionState) -> None:
    """`state` is terminal; its value ("completed", "failed", "timed_out", "cancelled") is the outcome label."""
    if _observed(protocol):
        metrics.session_ended(protocol, kind, state.value)


def round_finished(protocol: str, kind: str, seconds: float) -> None:
    """One round, from entering it (waiting for peers included) to its outgoing messages being ready."""
    if _observed(protocol):
        metrics.ROUND_DURATION.labels(protocol, kind).observe(seconds)


def presignatures_ready(total: int) -> None:
    """The node's presignatures ready in the store, over all keys."""
    metrics.POOL_LEVEL.labels("presignatures").set(total)


def preparams_ready(count: int) -> None:
    """GG20 pre-parameter sets ready in the store (as the filler last counted them)."""
    metrics.POOL_LEVEL.labels("preparams").set(count)
