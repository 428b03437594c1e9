"""Precomputed single-use values (precompute.PrecomputePool): Paillier nonces (r, r^N mod N²) and ring-Pedersen
mask commitments are correct, handed out once, bounded, never cross a fork, and are what encrypt() and the
provers draw; proofs made from pooled values verify."""

from __future__ import annotations

import os

import gmpy2
import pytest

from signer.crypto.paillier import NONCE_POOL, refill_nonces, take_nonce
from signer.crypto.precompute import PrecomputePool
from signer.crypto.ringpedersen import MASK_POOL
from signer.crypto.secp256k1 import random_scalar
from signer.crypto.zk import enc
from signer.crypto.zk.base import MASK_KINDS, ProofContext, refill_masks

CTX = ProofContext(b"precompute", 1, 2)


@pytest.fixture(autouse=True)
def empty_pools():
    NONCE_POOL.clear()
    MASK_POOL.clear()
    yield
    NONCE_POOL.clear()
    MASK_POOL.clear()


def test_nonces_are_nonce_powers_under_the_public_and_the_secret_key(alice, bob):
    refill_nonces(alice.paillier, 2)  # the owner's CRT path
    refill_nonces(bob.paillier.public, 2)  # a peer's key: the public path
    misses = NONCE_POOL.misses
    for key in (alice.paillier.public, alice.paillier, bob.paillier.public, bob.paillier):
        r, rn = take_nonce(key)
        assert 0 < r < key.n and gmpy2.gcd(r, key.n) == 1
        assert rn == gmpy2.powmod(r, key.n, key.n2)
    assert NONCE_POOL.misses == misses


def test_each_nonce_is_handed_out_once_and_an_empty_pool_computes(alice):
    key = alice.paillier.public
    assert refill_nonces(key, 3) == 3
    taken = [take_nonce(key) for _ in range(3)]
    assert len({r for r, _ in taken}) == 3
    assert NONCE_POOL.available(int(key.n)) == 0
    misses = NONCE_POOL.misses
    r, rn = take_nonce(key)  # nothing ready: computed on the spot, counted
    assert NONCE_POOL.misses == misses + 1
    assert rn == gmpy2.powmod(r, key.n, key.n2)
    assert r not in {t for t, _ in taken}


def test_refill_tops_up_to_a_bounded_target():
    pool: PrecomputePool[int] = PrecomputePool(max_per_key=4, max_keys=2)
    counter = iter(range(1000))
    make = lambda: next(counter)  # noqa: E731
    assert pool.refill("a", make, 2) == 2
    assert pool.refill("a", make, 2) == 0  # already at target
    assert pool.refill("a", make, 100) == 2  # max_per_key = 4
    assert [pool.take("a", make) for _ in range(4)] == [0, 1, 2, 3]  # in order, each once
    pool.refill("a", make, 1)
    pool.refill("b", make, 1)
    pool.refill("c", make, 1)  # a third key: "a", refilled longest ago, is dropped
    assert pool.available("a") == 0 and pool.available("b") == pool.available("c") == 1


def test_a_forked_process_does_not_inherit_the_nonces(alice):
    key = alice.paillier
    refill_nonces(key, 4)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what it could take from the inherited pool, then exits at once
        try:
            os.write(write, bytes([NONCE_POOL.available(int(key.n))]) + int(take_nonce(key)[0]).to_bytes(256, "big"))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        report = f.read()
    os.waitpid(pid, 0)
    assert report[0] == 0
    assert NONCE_POOL.available(int(key.n)) == 4
    parent_nonces = {int(take_nonce(key)[0]) for _ in range(4)}
    assert int.from_bytes(report[1:], "big") not in parent_nonces


def test_encrypt_draws_from_the_pool_and_decrypts(alice, bob):
    for key, owner in ((alice.paillier, alice.paillier), (bob.paillier.public, bob.paillier)):
        refill_nonces(owner, 1)
        misses = NONCE_POOL.misses
        m = random_scalar()
        c, r = key.encrypt(m)
        assert NONCE_POOL.available(int(key.n)) == 0 and NONCE_POOL.misses == misses
        assert owner.decrypt(c) == m
        assert c == owner.public.encrypt_with(m, r)


def test_pooled_masks_are_commitments_in_range_and_proofs_from_them_verify(alice, bob):
    rp = bob.ring_pedersen.public
    refill_masks(rp, {"t": 1, "alpha": 2})
    for x_bound, y_bound in (MASK_KINDS[kind](rp.n) for kind in ("alpha", "t")):
        x, y, c = MASK_POOL.take((rp, x_bound, y_bound), lambda: pytest.fail("pool empty"))
        assert -x_bound <= x <= x_bound and -y_bound <= y <= y_bound
        assert c == gmpy2.powmod(rp.s, x, rp.n) * gmpy2.powmod(rp.t, y, rp.n) % rp.n
    refill_masks(rp, {"t": 1, "alpha": 1})
    refill_nonces(alice.paillier, 1)
    k = random_scalar()
    K, rho = alice.paillier.encrypt(k)  # takes the pooled nonce
    misses = MASK_POOL.misses, NONCE_POOL.misses
    proof = enc.prove(CTX, alice.paillier, rp, K, k, rho)  # S's t^μ and C from the pool, A's nonce computed
    assert (MASK_POOL.misses, NONCE_POOL.misses) == (misses[0], misses[1] + 1)
    enc.verify(CTX, alice.paillier.public, bob.ring_pedersen, K, proof)
    assert all(MASK_POOL.available((rp, *MASK_KINDS[kind](rp.n))) == 0 for kind in ("t", "alpha"))
