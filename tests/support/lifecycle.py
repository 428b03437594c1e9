"""Refresh and reshare against a real node from tests: StartDKG with `operation` through the client library's
NodeClient (its RPC, token and MAC handling), the session context every party signs over, and the node's
`key_version` as GetDKGStatus reports it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import trio_asyncio

from gen.mpc.v1 import KeyOperation
from signer.client.coordinator import NodeClient, NodeView
from signer.client.in_trio import TrioNodeClient
from signer.session_context import PartyIdentity, SessionContext, lifecycle_extra


def start_lifecycle(
    session_id: str,
    key_id: str,
    operation: str,
    index: int,
    identities: tuple[PartyIdentity, ...],
    *,
    protocol: str = "frost",
    curve: str = "ed25519",
    threshold: int = 2,
    total: int = 2,
    old_parties: tuple[int, ...] = (),
) -> Callable[[NodeClient], Awaitable[NodeView]]:
    """A `Coordinator._run` start for one node: StartDKG with `operation` ("refresh", "reshare")."""

    async def start(node: NodeClient) -> NodeView:
        return await node.start_dkg(
            session_id,
            key_id,
            protocol,
            threshold,
            total,
            index,
            identities,
            curve,
            operation=KeyOperation[operation.upper()],
            old_parties=old_parties,
        )

    return start


def lifecycle_context(
    session_id: str,
    key_id: str,
    operation: str,
    parties: tuple[PartyIdentity, ...],
    *,
    protocol: str = "frost",
    curve: str = "ed25519",
    threshold: int = 2,
    old_parties: tuple[int, ...] = (),
) -> SessionContext:
    """The context a local party of a refresh or reshare signs over (docs/contract.md §12.3)."""
    extra = lifecycle_extra(operation, old_parties)
    return SessionContext("dkg", session_id, key_id, protocol, curve, threshold, parties, extra=extra)


async def key_version(node: TrioNodeClient, session_id: str) -> int:
    """The node's DKGStatusResponse.key_version for the session."""
    view = await trio_asyncio.aio_as_trio(node.aio.status)(session_id, "dkg", 0)
    return view.key_version
