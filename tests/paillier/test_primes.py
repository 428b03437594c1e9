"""Safe-prime generation logic at reduced size (the real 1024-bit size is only used via fixtures)."""

from __future__ import annotations

import gmpy2
import pytest

from signer.crypto.preparams import PRIME_BITS
from signer.crypto.primes import Cancelled, generate_safe_prime, is_safe_prime


@pytest.mark.parametrize("bits", [16, 64, 256])
def test_small_safe_primes_logic(bits):
    for _ in range(3):
        p = generate_safe_prime(bits)
        assert p.bit_length() == bits and p >> (bits - 2) == 3  # top two bits set
        assert p % 4 == 3
        assert gmpy2.is_prime(p, 50) and gmpy2.is_prime((p - 1) // 2, 50)
        assert is_safe_prime(p)


def test_fixture_primes_are_safe(preparams):
    for pp in preparams:
        for p in (pp.paillier.p, pp.paillier.q, pp.ring_pedersen.p, pp.ring_pedersen.q):
            assert p.bit_length() == PRIME_BITS and is_safe_prime(p)


def test_is_safe_prime_rejects():
    assert not is_safe_prime(13)  # prime, (13-1)/2 = 6 is not
    assert not is_safe_prime(15)
    assert is_safe_prime(23) and is_safe_prime(7) and is_safe_prime(5)


def test_cancellation():
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        generate_safe_prime(PRIME_BITS, stop)


def test_bad_arguments():
    with pytest.raises(ValueError):
        generate_safe_prime(8)
    with pytest.raises(ValueError):
        generate_safe_prime("1024")  # type: ignore[arg-type]


def test_runs_in_a_worker_process():
    """generate_safe_prime pickles into a spawned worker process (how the engine pools pre-parameters)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        p = pool.submit(generate_safe_prime, 128).result(timeout=60)
    assert p.bit_length() == 128 and is_safe_prime(p)
