"""The asyncio client inside a Trio program: the same `NodeClient` and `Coordinator`, run through
trio-asyncio. Only this thin adapter knows about Trio; there is one client implementation.

    async with trio_asyncio.open_loop():
        async with TrioNodeClient.connect("localhost", port, hmac_key=key, ssl_context=ctx) as node:
            coordinator = TrioCoordinator({2: node}, identities={1: IdentityKey.generate()})
            outcome = await coordinator.dkg(sid, "wallet-1", "frost", 2, 2, {1: p1})

Every coroutine method of the wrapped object becomes a Trio coroutine (`trio_asyncio.aio_as_trio`);
other attributes are passed through. `.aio` is the wrapped asyncio object.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

import trio_asyncio

from signer.client.coordinator import Coordinator, NodeClient

A = TypeVar("A")


class _AsTrio(Generic[A]):
    """An asyncio object whose coroutine methods are called from Trio."""

    def __init__(self, aio: A) -> None:
        self.aio = aio

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.aio, name)
        return trio_asyncio.aio_as_trio(attr) if inspect.iscoroutinefunction(attr) else attr


class TrioNodeClient(_AsTrio[NodeClient]):
    """`NodeClient` for Trio callers (inside `trio_asyncio.open_loop()`)."""

    @classmethod
    @asynccontextmanager
    async def connect(cls, host: str, port: int, **options: Any) -> AsyncIterator[TrioNodeClient]:
        """`NodeClient.connect` with the same arguments."""
        async with trio_asyncio.aio_as_trio(NodeClient.connect(host, port, **options)) as node:
            yield cls(node)


class TrioCoordinator(_AsTrio[Coordinator]):
    """`Coordinator` for Trio callers; `nodes` are the TrioNodeClients it was given."""

    def __init__(self, nodes: Mapping[int, TrioNodeClient], **options: Any) -> None:
        super().__init__(Coordinator({i: n.aio for i, n in nodes.items()}, **options))
        self.nodes = dict(nodes)
