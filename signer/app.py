"""Wiring only: config -> store -> engine -> transport, and the process's signal handling.

`run_node` is a Trio task started with `nursery.start`; it reports a `NodeHandle` once the gRPC port is
bound. `serve_forever` adds the operator-facing lifecycle: SIGINT/SIGTERM turn health NOT_SERVING and
refuse new sessions, running sessions get `session.grace_period_s`, then everything is cancelled and the
process exits 0; a second signal exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import trio
import trio_asyncio
from grpclib.server import Server

from signer import __version__
from signer.config import Config, ConfigError
from signer.engine.config import EngineConfig
from signer.engine.manager import SessionManager
from signer.metrics import start_metrics_server
from signer.sdnotify import sd_notify
from signer.security import load_security
from signer.store import Store, StoreError, open_store
from signer.transport.auth import install_call_auth
from signer.transport.guard import ConnectionLimits
from signer.transport.observe import install_rpc_observer
from signer.transport.server import HealthState, serve_grpc
from signer.transport.service import SignerService

log = logging.getLogger("signer.app")


@dataclass
class NodeHandle:
    """What a started node exposes to its owner (the CLI, tests, the in-process demo)."""

    address: tuple[str, int]
    health: HealthState
    engine: SessionManager

    async def drain(self, grace_s: float) -> None:
        """Health NOT_SERVING first, then new sessions get UNAVAILABLE; running ones get `grace_s`."""
        self.health.set_serving(False)
        sd_notify("STOPPING=1")
        await self.engine.drain(grace_s)


def engine_config(config: Config) -> EngineConfig:
    return EngineConfig(
        round_timeout_s=config["session.round_timeout_s"],
        max_sessions=config["session.max_sessions"],
        max_message_bytes=config["session.max_message_bytes"],
        retention_s=config["session.retention_s"],
        preparams_target=config["pools.preparams_size"],
        precompute_presignings=config["pools.precompute_presignings"],
        approvals=config["auth.approvals"],
        presignature_ttl_s=config["pools.presignature_ttl_s"],
        state_dir=config.data_dir,
    )


def connection_limits(config: Config) -> ConnectionLimits:
    """The `grpc.*` connection limits, by their config key names."""
    return ConnectionLimits(**{name: config[f"grpc.{name}"] for name in ConnectionLimits.__dataclass_fields__})


async def run_node(config: Config, *, task_status: trio.TaskStatus[NodeHandle] = trio.TASK_STATUS_IGNORED) -> None:
    """Run the node until cancelled (or until drained)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    security = load_security(config)
    host, port = config.listen
    health = HealthState()

    def configure(server: Server) -> None:
        install_rpc_observer(server)
        install_call_auth(server, security.token_verifier)

    def waiting(error: BaseException, pause_s: float) -> None:
        # Starting before the database (a reboot, a failover) is normal: say so, instead of exiting at once
        # and tripping the service manager's start limit.
        log.warning("storage unreachable (%s: %s); trying again in %.1fs", type(error).__name__, error, pause_s)
        sd_notify(f"STATUS=waiting for the database ({type(error).__name__})")

    async with (
        trio_asyncio.open_loop(),
        open_store(
            config.storage_url,
            security.kek,
            config["node.id"],
            connect_timeout_s=config["storage.connect_timeout_s"],
            on_wait=waiting,
        ) as store,
    ):
        engine = SessionManager(engine_config(config), store, identity=await store.node_identity())
        service = SignerService(
            config["node.id"], engine, security.authenticator, device_authority=security.device_authority
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(engine.run)
            nursery.start_soon(probe_store, store, health, config["storage.probe_interval_s"])
            services = [service, health.service(service)]
            limits = connection_limits(config)
            address = await nursery.start(serve_grpc, services, host, port, security.ssl_context, limits, configure)
            log.info("node %s (mpc-signer %s) ready", config["node.id"], __version__)
            with _metrics_server(config):
                sd_notify("READY=1\nSTATUS=serving")
                task_status.started(NodeHandle(address, health, engine))
                await trio.sleep_forever()


async def probe_store(store: Store, health: HealthState, interval_s: float) -> None:
    """Every `interval_s`, one cheap read (a pool count) bounded by the same time: health follows whether
    the database answers. A change is logged once (and reported to systemd), not every probe."""
    while True:
        reachable, cause = False, f"no answer within {interval_s:g}s"
        with trio.move_on_after(interval_s):
            try:
                await store.count_preparams()
                reachable = True
            except StoreError as exc:
                cause = f"{type(exc).__name__}: {exc}"
        if reachable != health.store_reachable:
            if reachable:
                log.info("storage reachable again: health SERVING")
                sd_notify("STATUS=serving")
            else:
                log.warning("storage unreachable (%s): health NOT_SERVING until it answers", cause)
                sd_notify("STATUS=storage unreachable")
            health.set_store_reachable(reachable)
        await trio.sleep(interval_s)


@contextmanager
def _metrics_server(config: Config) -> Iterator[None]:
    """Prometheus metrics on `metrics.listen` (off when empty), stopped with the node."""
    if not config["metrics.listen"]:
        yield
        return
    try:
        server, thread = start_metrics_server(config["metrics.listen"])
    except OSError as exc:
        raise ConfigError(f"metrics.listen: cannot listen on {config['metrics.listen']}: {exc.strerror}") from None
    log.info("metrics on http://%s:%d/metrics", server.server_address[0], server.server_port)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def serve_forever(config: Config) -> None:
    """`signer serve`: run the node and handle SIGINT/SIGTERM as described in the module docstring."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            starting, watched = trio.CancelScope(), trio.Event()

            async def stop_while_starting() -> None:
                # Start-up can wait for the database (storage.connect_timeout_s): a stop then is immediate.
                try:
                    with starting:
                        async for signum in signals:
                            log.info("%s received while starting: exiting", signal.Signals(signum).name)
                            nursery.cancel_scope.cancel()
                finally:
                    watched.set()

            nursery.start_soon(stop_while_starting)
            node: NodeHandle = await nursery.start(run_node, config)
            starting.cancel()
            await watched.wait()  # one reader of the signals at a time
            async for signum in signals:
                log.info(
                    "%s received: draining (grace %.1fs)", signal.Signals(signum).name, config["session.grace_period_s"]
                )
                break
            async with trio.open_nursery() as waiters:
                waiters.start_soon(_exit_on_second_signal, signals)
                await node.drain(config["session.grace_period_s"])
                waiters.cancel_scope.cancel()
            nursery.cancel_scope.cancel()
    log.info("stopped")


async def _exit_on_second_signal(signals: AsyncIterator[int]) -> None:
    async for signum in signals:
        log.warning("second %s: exiting at once", signal.Signals(signum).name)
        logging.shutdown()
        os._exit(1)
