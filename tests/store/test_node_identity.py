"""The node's identity key (docs/contract.md §11.1): made once, kept sealed in the store, the same after a
restart, for every replica sharing the store, and after a KEK rotation; never readable without the KEK."""

from __future__ import annotations

import os

import nacl.signing
import pytest
import trio

from signer.crypto.identity import ED25519
from signer.store import open_store
from signer.store.errors import WrongKek

NODE = "node-identity-test"


async def test_made_once_kept_across_restarts_and_shared_by_replicas(target):
    kek = os.urandom(32)
    async with open_store(target.url, kek, NODE) as store:
        first = await store.node_identity()
    assert first.scheme == ED25519
    async with open_store(target.url, kek, NODE) as store:  # a restart
        assert await store.node_identity() == first
    # Two replicas starting at once on one store: one key wins, both read it back.
    keys = []

    async def replica() -> None:
        async with open_store(target.url, kek, NODE) as store:
            keys.append(await store.node_identity())

    async with trio.open_nursery() as nursery:
        for _ in range(2):
            nursery.start_soon(replica)
    assert keys == [first, first]
    # It signs as the public key says (checked with pynacl directly).
    signature = first.sign(b"hello")
    nacl.signing.VerifyKey(first.public_key).verify(b"hello", signature)


async def test_a_fresh_store_gets_its_own_key_and_rotation_keeps_it(target, tmp_path):
    kek, new_kek = os.urandom(32), os.urandom(32)
    async with open_store(target.url, kek, NODE) as store:
        before = await store.node_identity()
    async with open_store(target.url, kek, NODE, exclusive=True) as store:  # as `signer kek rotate` opens it
        await store.rotate_kek(new_kek)
    async with open_store(target.url, new_kek, NODE) as store:
        assert await store.node_identity() == before
    with pytest.raises(WrongKek):
        async with open_store(target.url, kek, NODE):
            pass


async def test_the_key_is_sealed_at_rest(target):
    kek = os.urandom(32)
    async with open_store(target.url, kek, NODE) as store:
        key = await store.node_identity()
    rows = target.fetch("SELECT ciphertext FROM secret_pool WHERE kind = 'identity'")
    assert len(rows) == 1 and key.secret not in bytes(rows[0][0])
