"""Prometheus metrics of the node, served on a separate opt-in address (`metrics.listen`).

Why a separate listener: the gRPC port is mTLS-only for mpc-service, while scrapers live on the operator's
network; keeping them apart means a scrape never needs a client certificate and metrics never ride on the
signing port. Labels are small closed sets (protocol, kind, rpc method, outcome) — never a session id or
key id, which would grow without bound and belong in logs instead.

The metric objects are module-level singletons registered on prometheus-client's default registry, as is
usual for one-process services; the wiring code increments them at the named points. The `*_created`
series prometheus-client adds to every counter and histogram are switched off: they double the series
count and no dashboard or alert of ours reads them. `mpc_build_info{version=...} 1` says which release
answers the scrape.
"""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

from signer import __version__, schemes
from signer.config import parse_listen

disable_created_metrics()

#: Session kinds: a key generation, a GG20 presignature, a signing.
KINDS = ("dkg", "presign", "sign")
#: Protocols as configured in StartDKG (the `signer.schemes` registry: `frost`, `gg20`).
PROTOCOLS = schemes.PROTOCOLS

SESSIONS_STARTED = Counter(
    "mpc_sessions_started",
    "Sessions started on this node.",
    ["protocol", "kind"],
)
SESSIONS_COMPLETED = Counter(
    "mpc_sessions_completed",
    "Sessions that reached COMPLETED.",
    ["protocol", "kind"],
)
SESSIONS_FAILED = Counter(
    "mpc_sessions_failed",
    "Sessions that ended without a result, by reason: failed (protocol error or culprit), timed_out, cancelled.",
    ["protocol", "kind", "reason"],
)
SESSIONS_ACTIVE = Gauge(
    "mpc_sessions_active",
    "Sessions currently running.",
    ["protocol", "kind"],
)
ROUND_DURATION = Histogram(
    "mpc_round_duration_seconds",
    "Time from a round's start to its completion (waiting for peers included).",
    ["protocol", "kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
POOL_LEVEL = Gauge(
    "mpc_pool_level",
    "Items ready in a background pool: preparams (GG20 Paillier pre-parameter sets), presignatures.",
    ["pool"],
)
RPC_LATENCY = Histogram(
    "mpc_rpc_duration_seconds",
    "gRPC handler latency of mpc.v1.SignerService calls by method and status code (health, reflection left out).",
    ["method", "code"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30),
)

BUILD_INFO = Gauge("mpc_build_info", "The running release; always 1.", ["version"])
BUILD_INFO.labels(__version__).set(1)

FAILURE_REASONS = ("failed", "timed_out", "cancelled")
POOLS = ("preparams", "presignatures")


def _check(protocol: str, kind: str) -> None:
    # label values are a closed set: an unexpected one is a wiring bug, not a new time series
    if protocol not in PROTOCOLS or kind not in KINDS:
        raise ValueError(f"unknown session labels protocol={protocol!r} kind={kind!r}")


def session_started(protocol: str, kind: str) -> None:
    """Count a session as started and running."""
    _check(protocol, kind)
    SESSIONS_STARTED.labels(protocol, kind).inc()
    SESSIONS_ACTIVE.labels(protocol, kind).inc()


def session_ended(protocol: str, kind: str, outcome: str) -> None:
    """Count a session's terminal state: "completed", or a FAILURE_REASONS entry; it stops being active."""
    _check(protocol, kind)
    if outcome == "completed":
        SESSIONS_COMPLETED.labels(protocol, kind).inc()
    elif outcome in FAILURE_REASONS:
        SESSIONS_FAILED.labels(protocol, kind, outcome).inc()
    else:
        raise ValueError(f"unknown session outcome {outcome!r}")
    SESSIONS_ACTIVE.labels(protocol, kind).dec()


# Create every series up front so dashboards and rate() see zeros instead of missing data.
for _protocol in PROTOCOLS:
    for _kind in KINDS:
        if _kind == "presign" and not schemes.has_presign(_protocol):
            continue
        SESSIONS_STARTED.labels(_protocol, _kind)
        SESSIONS_COMPLETED.labels(_protocol, _kind)
        SESSIONS_ACTIVE.labels(_protocol, _kind)
        for _reason in FAILURE_REASONS:
            SESSIONS_FAILED.labels(_protocol, _kind, _reason)
for _pool in POOLS:
    POOL_LEVEL.labels(_pool)


def start_metrics_server(listen: str) -> tuple[WSGIServer, threading.Thread]:
    """Serve /metrics on HOST:PORT (the `metrics.listen` value) from a daemon thread.

    prometheus-client's server runs in its own thread and only reads metric values, so it neither blocks
    nor is blocked by the Trio loop. Port 0 picks a free port (`server.server_port`). Stop it with
    `server.shutdown(); server.server_close()`. ValueError for a malformed address, OSError if it cannot bind.
    """
    host, port = parse_listen(listen)
    return start_http_server(port, addr=host)
