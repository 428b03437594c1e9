"""paillier.NoncePool: precomputed (r, r^N mod N²) pairs are correct, handed out once, bounded, and never
cross a fork; every encrypt() draws from the process's pool and still decrypts."""

from __future__ import annotations

import os

import gmpy2
import pytest

from signer.crypto.paillier import NONCE_POOL, NoncePool
from signer.crypto.secp256k1 import random_scalar


@pytest.fixture
def pool() -> NoncePool:
    return NoncePool(max_per_key=4, max_keys=2)


def test_pairs_are_nonce_powers_under_the_public_and_the_secret_key(pool, alice, bob):
    pool.refill(alice.paillier, 2)  # the owner's CRT path
    pool.refill(bob.paillier.public, 2)  # a peer's key: the public path
    for key in (alice.paillier.public, alice.paillier, bob.paillier.public, bob.paillier.public):
        r, rn = pool.take(key)
        assert 0 < r < key.n and gmpy2.gcd(r, key.n) == 1
        assert rn == gmpy2.powmod(r, key.n, key.n2)
    assert pool.misses == 0


def test_each_pair_is_handed_out_once_and_an_empty_pool_computes(pool, alice):
    key = alice.paillier.public
    assert pool.refill(key, 3) == 3
    taken = [pool.take(key) for _ in range(3)]
    assert len({r for r, _ in taken}) == 3
    assert pool.available(key) == 0 and pool.misses == 0
    r, rn = pool.take(key)  # nothing ready: computed on the spot, counted
    assert pool.misses == 1
    assert rn == gmpy2.powmod(r, key.n, key.n2)
    assert r not in {t for t, _ in taken}


def test_refill_tops_up_to_a_bounded_target(pool, alice, bob, preparams):
    key = alice.paillier
    assert pool.refill(key, 2) == 2
    assert pool.refill(key, 2) == 0  # already at target
    assert pool.refill(key, 100) == 2  # max_per_key = 4
    assert pool.available(key) == 4
    pool.refill(bob.paillier, 1)
    pool.refill(preparams[2].paillier, 1)  # a third modulus: alice's, refilled longest ago, is dropped
    assert pool.available(key) == 0
    assert pool.available(bob.paillier) == pool.available(preparams[2].paillier) == 1


def test_a_forked_process_does_not_inherit_the_pairs(pool, alice):
    key = alice.paillier
    pool.refill(key, 4)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what it could take from the inherited pool, then exits at once
        try:
            os.write(write, bytes([pool.available(key)]) + int(pool.take(key)[0]).to_bytes(256, "big"))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        report = f.read()
    os.waitpid(pid, 0)
    assert report[0] == 0
    assert pool.available(key) == 4
    parent_nonces = {int(pool.take(key)[0]) for _ in range(4)}
    assert int.from_bytes(report[1:], "big") not in parent_nonces


def test_encrypt_draws_from_the_process_pool(alice, bob):
    NONCE_POOL.clear()
    try:
        for key, owner in ((alice.paillier, alice.paillier), (bob.paillier.public, bob.paillier)):
            NONCE_POOL.refill(owner, 1)
            misses = NONCE_POOL.misses
            m = random_scalar()
            c, r = key.encrypt(m)
            assert NONCE_POOL.available(key) == 0 and NONCE_POOL.misses == misses
            assert owner.decrypt(c) == m
            assert c == owner.public.encrypt_with(m, r)
    finally:
        NONCE_POOL.clear()
