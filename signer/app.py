"""Wiring only: config -> store -> engine -> transport, and the process's signal handling.

`run_node` is a Trio task started with `nursery.start`; it reports a `NodeHandle` once the gRPC port is
bound. `serve_forever` adds the operator-facing lifecycle: SIGINT/SIGTERM turn health NOT_SERVING and
refuse new sessions, running work gets `session.grace_period_s`, then everything is cancelled and the
process exits 0; a second signal exits at once.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass

import trio
import trio_asyncio

from signer import __version__
from signer.config import Config
from signer.security import load_security
from signer.transport.auth import install_call_auth
from signer.transport.server import HealthState, serve_grpc
from signer.transport.service import Lifecycle, SignerService

log = logging.getLogger("signer.app")


@dataclass
class NodeHandle:
    """What a started node exposes to its owner (the CLI, tests, the in-process demo)."""

    address: tuple[str, int]
    health: HealthState
    lifecycle: Lifecycle

    def begin_drain(self) -> None:
        """Stop taking new work: health NOT_SERVING first, then new sessions get UNAVAILABLE."""
        self.health.set_serving(False)
        self.lifecycle.accepting = False

    async def wait_idle(self) -> None:
        """Return once no session is running (immediately while the node holds no sessions)."""
        await trio.lowlevel.checkpoint()


async def run_node(config: Config, *, task_status: trio.TaskStatus[NodeHandle] = trio.TASK_STATUS_IGNORED) -> None:
    """Run the node until cancelled."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    security = load_security(config)
    host, port = config.listen
    health = HealthState()
    lifecycle = Lifecycle()
    service = SignerService(config["node.id"], lifecycle)
    services = [service, health.service(service)]

    def configure(server: object) -> None:
        install_call_auth(server, security.token_verifier)  # type: ignore[arg-type]

    async with trio_asyncio.open_loop():
        async with trio.open_nursery() as nursery:
            address = await nursery.start(serve_grpc, services, host, port, security.ssl_context, configure)
            log.info("node %s (mpc-signer %s) ready", config["node.id"], __version__)
            task_status.started(NodeHandle(address, health, lifecycle))


async def serve_forever(config: Config) -> None:
    """`signer serve`: run the node and handle SIGINT/SIGTERM as described in the module docstring."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            node: NodeHandle = await nursery.start(run_node, config)
            async for signum in signals:
                log.info(
                    "%s received: draining (grace %.1fs)", signal.Signals(signum).name, config["session.grace_period_s"]
                )
                break
            node.begin_drain()
            async with trio.open_nursery() as waiters:
                waiters.start_soon(_exit_on_second_signal, signals)
                with trio.move_on_after(config["session.grace_period_s"]):
                    await node.wait_idle()
                waiters.cancel_scope.cancel()
            nursery.cancel_scope.cancel()
    log.info("stopped")


async def _exit_on_second_signal(signals: trio.abc.ReceiveChannel[int] | object) -> None:
    async for signum in signals:  # type: ignore[union-attr]
        log.warning("second %s: exiting at once", signal.Signals(signum).name)
        logging.shutdown()
        os._exit(1)
