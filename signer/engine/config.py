"""Engine limits and timings.

The node's configuration maps onto these: session.round_timeout_s, session.max_sessions,
session.retention_s, session.max_message_bytes, pools.preparams_size (-> preparams_target),
pools.precompute_presignings, pools.presignature_ttl_s and node.data_dir (-> state_dir);
session.grace_period_s is the argument of `SessionManager.drain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from signer import limits
from signer.engine.stock import DEFAULT_PRESIGNINGS
from signer.session_context import APPROVAL_POLICIES, APPROVE_ALL_OTHER_SIGNERS


@dataclass(frozen=True)
class EngineConfig:
    """Limits that keep memory bounded and deadlines that keep sessions finite.

    round_timeout_s: each protocol round (waiting for its messages and computing it) must finish in this.
    max_sessions: running sessions at once; one more start is RESOURCE_EXHAUSTED.
    max_message_bytes: largest accepted payload.
    max_buffered: messages held for rounds beyond the next one, per session (the current and the next
        round are bounded by their one-message-per-sender slots).
    retention_s: how long a finished session stays queryable.
    max_wait_s: cap on a long-poll status wait.
    max_retained: finished sessions kept at most (oldest dropped first), bounding memory under churn.
    preparams_target: GG20 pre-parameter sets kept ready in the store (0 disables the filler).
    precompute_presignings: presignings' worth of precomputed Paillier nonces and ring-Pedersen masks kept in
        memory for each recently used GG20 key (stock.py; 0 disables the refill: steps compute them inline).
    approvals: `auth.approvals`: which approvals a StartSign needs (APPROVAL_POLICIES; docs/contract.md §11.4).
    presignature_ttl_s: a stored presignature older than this is refused (presignatures.py).
    state_dir: where the presignature epoch file lives, outside the database (None: in memory only, so
        a restart refuses every earlier presignature).
    """

    round_timeout_s: float = 30.0
    max_sessions: int = 1000
    max_message_bytes: int = limits.DEFAULT_MAX_MESSAGE_BYTES
    max_buffered: int = 64
    retention_s: float = 300.0
    max_wait_s: float = 60.0
    max_retained: int = 10_000
    preparams_target: int = 0
    precompute_presignings: int = DEFAULT_PRESIGNINGS
    approvals: str = APPROVE_ALL_OTHER_SIGNERS
    presignature_ttl_s: float = 24 * 3600.0
    state_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.approvals not in APPROVAL_POLICIES:
            raise ValueError(f"approvals must be one of {APPROVAL_POLICIES}")
        if not self.round_timeout_s > 0 or not self.max_wait_s > 0:
            raise ValueError("round_timeout_s and max_wait_s must be positive")
        if self.max_sessions < 1 or self.max_buffered < 1 or self.max_retained < 1:
            raise ValueError("max_sessions, max_buffered and max_retained must be at least 1")
        if self.max_message_bytes < 1:
            raise ValueError("max_message_bytes must be at least 1")
        if not self.presignature_ttl_s > 0:
            raise ValueError("presignature_ttl_s must be positive")
        if self.retention_s < 0 or self.preparams_target < 0 or self.precompute_presignings < 0:
            raise ValueError("retention_s and pool sizes must not be negative")
