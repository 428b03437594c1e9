"""Safe-prime generation: a joint sieve over q and p = 2q + 1, then strong tests.

Why: Paillier-Blum moduli and ring-Pedersen parameters need safe primes, and a plain `next_prime`
search for one takes seconds (7.8 s median at 1024 bits here). Sieving q and 2q+1 together removes
almost every candidate with a small factor in either, so only a few survivors reach a modular
exponentiation.

Per window: a random odd start q0 (top two bits of p set, so a product of two such primes has exactly
2·bits bits; q odd makes p ≡ 3 mod 4, a Blum prime), and for each small prime r the offsets k with
r | q0 + 2k or r | 2(q0 + 2k) + 1 are struck out. Survivors are tested:
a base-2 Fermat test on p (cheap, kills most), a Fermat test on q, then Miller–Rabin on q
(gmpy2.is_prime, 32 rounds). p is then prime by Pocklington: q prime, q > √p, 2^(p-1) ≡ 1 (mod p)
and gcd(2^2 - 1, p) = 1.

Cancellable: `should_stop()` is polled between candidates and raises `Cancelled`. Module-level
functions only, so they pickle into a worker process (trio-parallel / multiprocessing).

Public API:
    Cancelled (Exception)
    generate_safe_prime(bits, should_stop=None) -> int    p = 2q + 1, p.bit_length() == bits, top 2 bits set
    is_safe_prime(p, reps=32) -> bool
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import gmpy2
from gmpy2 import mpz

MIN_SAFE_PRIME_BITS = 16
_SIEVE_LIMIT = 1 << 15
_WINDOW = 1 << 14
_MR_ROUNDS = 32


class Cancelled(Exception):
    """Safe-prime generation was cancelled by its should_stop callback."""


def _small_primes(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for i in range(2, int(limit**0.5) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytearray(len(range(i * i, limit, i)))
    return [i for i in range(3, limit) if sieve[i]]


_PRIMES = _small_primes(_SIEVE_LIMIT)


def _start(bits: int) -> int:
    """A random odd q0 with p0 = 2·q0 + 1 having exactly `bits` bits and its top two bits set."""
    qbits = bits - 1
    q0 = secrets.randbits(qbits) | (3 << (qbits - 2)) | 1
    return q0


def _sieve_window(q0: int, bits: int) -> list[int]:
    """Offsets k in [0, _WINDOW) with neither q0 + 2k nor 2(q0 + 2k) + 1 divisible by a small prime."""
    alive = bytearray([1]) * _WINDOW
    for r in _PRIMES:
        if r.bit_length() >= bits - 1:
            break
        rem = q0 % r
        inv2 = (r + 1) // 2  # 2^-1 mod r
        # q0 + 2k ≡ 0 (mod r)  <=>  k ≡ -q0 / 2
        k1 = (-rem * inv2) % r
        # 2(q0 + 2k) + 1 ≡ 0  <=>  q0 + 2k ≡ (r - 1)/2  <=>  k ≡ ((r - 1)/2 - q0) / 2
        k2 = (((r - 1) // 2 - rem) * inv2) % r
        alive[k1::r] = bytes(len(range(k1, _WINDOW, r)))
        alive[k2::r] = bytes(len(range(k2, _WINDOW, r)))
    return [k for k in range(_WINDOW) if alive[k]]


def is_safe_prime(p: int, reps: int = _MR_ROUNDS) -> bool:
    """p and (p - 1)/2 both (probable) primes."""
    p = mpz(p)
    if p < 7 or p % 2 == 0:
        return p == 5 or p == 7
    return bool(gmpy2.is_prime((p - 1) // 2, reps) and gmpy2.is_prime(p, reps))


def generate_safe_prime(bits: int, should_stop: Callable[[], bool] | None = None) -> int:
    """A random safe prime p = 2q + 1 of exactly `bits` bits with its top two bits set."""
    if not isinstance(bits, int) or bits < MIN_SAFE_PRIME_BITS:
        raise ValueError(f"bits must be an int >= {MIN_SAFE_PRIME_BITS}")
    two = mpz(2)
    while True:
        q0 = _start(bits)
        for k in _sieve_window(q0, bits):
            if should_stop is not None and should_stop():
                raise Cancelled("safe-prime generation cancelled")
            q = mpz(q0 + 2 * k)
            p = 2 * q + 1
            if p.bit_length() != bits:
                break
            if gmpy2.powmod(two, p - 1, p) != 1:
                continue
            if gmpy2.powmod(two, q - 1, q) != 1:
                continue
            if not gmpy2.is_prime(q, _MR_ROUNDS):
                continue
            # Pocklington with a = 2: q prime, q > sqrt(p), 2^(p-1) = 1 mod p, and gcd(2^2 - 1, p) = 1
            # because the sieve struck out every p divisible by 3.
            return int(p)
