"""Paillier encryption over gmpy2 with g = 1 + N, CRT decryption and CRT encryption for the key owner.

Why: GG20's MtA runs on Paillier ciphertexts, and BitForge (CVE-2023-33241) showed what a peer's
malformed modulus does. So a public key can only be built from a modulus that passes the checks
CGGMP21 and tss-lib make outside the proofs (odd, not prime, exactly MODULUS_BITS long), and every
plaintext, nonce and ciphertext is range-checked before use. The proofs that N is a product of two
large Blum primes live in zk/mod.py and zk/fac.py.

Modulus size, defined here once for Paillier N and ring-Pedersen Ñ (ringpedersen.py validates with
`validate_modulus` too): exactly 2048 bits. That is what CGGMP21's parameters (ℓ = 256, ε = 512,
ℓ' = 1280) are sized for and what every honest node generates (preparams.py: two 1024-bit primes with
their top two bits set). A longer modulus buys the protocol nothing and costs the verifying node work
that grows with the cube of the size (Π^mod's check: 0.39 s at 2048 bits, 11 s at 8192), so a peer
could make each key generation expensive by sending one; it is refused before any proof is looked at.

Side channels: every exponentiation whose exponent is secret or derived from p, q (decryption, the
nonce, the owner's CRT encryption and `pow_n2`, `mul_const_secret`) uses bigint.powmod_secret; the
public-key operations, whose exponent is N or a public value, keep the faster powmod.

Encryption: c = (1 + N)^m · r^N mod N², so (1+N)^m costs one multiplication (1 + mN).
Decryption with CRT: m_p = L_p(c^(p-1) mod p²) · h_p mod p, the same mod q, recombined.
The key owner encrypts with CRT too: r^N mod p² and mod q², each from a half-size power (`nonce_power`).

Public API:
    MODULUS_BITS = 2048                          the one accepted size of N (and of ring-Pedersen Ñ)
    PaillierError (ValueError)
    validate_modulus(n)                          raises PaillierError (not exactly 2048 bits, even, prime)
    shared_factor_pairs(moduli) -> [(a, b), ...] the pairs of entries whose moduli are not coprime
    PaillierPublicKey(n)                         .n, .n2
        .encrypt(m) -> (c, r)                    m in [0, n), fresh r in Z*_n (from NONCE_POOL)
        .encrypt_with(m, r) -> c                 explicit nonce r in Z*_n
        .nonce_power(r) -> r^N mod n²
        .add(c1, c2) -> c                        Enc(m1 + m2)
        .mul_const(c, k) -> c                    Enc(k·m), k any int (negative allowed), k public
        .mul_const_secret(c, k) -> c             the same for a secret k (constant-time in k)
        .validate_ciphertext(c)                  0 < c < n², gcd(c, n) = 1
        .pow_n2(base, exp) -> base^exp mod n²
        .to_bytes() / PaillierPublicKey.from_bytes(b)
    PaillierSecretKey(p, q)                      p, q distinct primes (not re-proved here)
        .public, .n, .n2, .p, .q, .phi
        .pow_n2(base, exp)                       CRT; the owner passes its secret key to zk verify() for speed
        .decrypt(c) -> int in [0, n)
        .decrypt_signed(c) -> int in (-n/2, n/2]
        .encrypt(m) -> (c, r), .encrypt_with(m, r), .nonce_power(r)
                                                 by CRT, the same values as the public key's
    NONCE_POOL                                   precompute.PrecomputePool of (r, r^N mod N²) keyed by N
    take_nonce(key) -> (r, r^N mod N²)           from NONCE_POOL or computed now; every encrypt() uses it
    refill_nonces(key, target) -> added          precompute until `target` are ready for key's modulus
    nonce_need(key, count) -> precompute.Need    `count` nonces for key's modulus, for moving between processes
    to_signed(m, n) -> int in (-n/2, n/2]
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from functools import lru_cache, partial
from itertools import combinations
from typing import TypeVar

from .bigint import (
    gcd,
    int_from_bytes,
    int_to_bytes,
    invert,
    is_prime,
    mpz,
    powmod,
    powmod_secret,
    random_unit,
    shortest_exponent,
)
from .precompute import POOLS, Need, PrecomputePool

MODULUS_BITS = 2048


class PaillierError(ValueError):
    """An invalid Paillier key, plaintext, nonce or ciphertext (messages never carry secret values)."""


def validate_modulus(n: int) -> None:
    """The checks outside the proofs: N exactly MODULUS_BITS long (checked first: it is the cheap check
    that bounds all later work), odd, and composite."""
    if not isinstance(n, int | mpz) or isinstance(n, bool):
        raise PaillierError("modulus must be an integer")
    if n.bit_length() < MODULUS_BITS:
        raise PaillierError(f"modulus shorter than {MODULUS_BITS} bits")
    if n.bit_length() > MODULUS_BITS:
        raise PaillierError(f"modulus longer than {MODULUS_BITS} bits (the only size accepted)")
    if n % 2 == 0:
        raise PaillierError("modulus is even")
    if _is_prime_cached(n):
        raise PaillierError("modulus is prime")


@lru_cache(maxsize=1024)
def _is_prime_cached(n: int) -> bool:
    """is_prime(n), remembered: every session decodes the same few moduli again (a presigning builds each
    party's keys from the stored share), and the test costs a full-size exponentiation each time."""
    return bool(is_prime(n))


K = TypeVar("K", bound=Hashable)


def shared_factor_pairs(moduli: Mapping[K, int]) -> list[tuple[K, K]]:
    """The pairs (a, b), in the mapping's order, whose moduli are equal or share a prime factor.

    Why: in GG20/CGGMP21 every party's Paillier N_k and ring-Pedersen Ñ_k must come from primes nobody
    else uses. A party whose Ñ_j shares a factor with another party's N_k (or its own N_j), or who
    copies another's modulus, either knows that party's secret factorisation or makes its own range
    proofs unsound; the per-modulus proofs cannot see it, only the comparison across parties can. Pass
    every modulus of the session (e.g. keys ("N", k) and ("Ñ", k) for each party k); honest sets give [].
    """
    items = list(moduli.items())
    return [(a, b) for (a, na), (b, nb) in combinations(items, 2) if gcd(na, nb) != 1]


def to_signed(m: int, n: int) -> mpz:
    """Map a residue mod n to (-n/2, n/2]."""
    m = mpz(m) % n
    return m - n if m > n // 2 else m


class PaillierPublicKey:
    """A Paillier public key (N); constructing one validates N."""

    __slots__ = ("n", "n2")

    def __init__(self, n: int) -> None:
        validate_modulus(n)
        self.n = mpz(n)
        self.n2 = self.n * self.n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PaillierPublicKey) and self.n == other.n

    def __hash__(self) -> int:
        return hash(int(self.n))

    def __repr__(self) -> str:
        return f"PaillierPublicKey(bits={self.n.bit_length()})"

    def _check_plaintext(self, m: int) -> mpz:
        if not 0 <= m < self.n:
            raise PaillierError("plaintext out of range [0, N)")
        return mpz(m)

    def _check_nonce(self, r: int) -> mpz:
        if not (0 < r < self.n and gcd(r, self.n) == 1):
            raise PaillierError("nonce not in Z*_N")
        return mpz(r)

    def validate_ciphertext(self, c: int) -> mpz:
        """Raise unless 0 < c < N² and gcd(c, N) = 1; returns c as mpz."""
        if not (0 < c < self.n2 and gcd(c, self.n) == 1):
            raise PaillierError("ciphertext not in Z*_N²")
        return mpz(c)

    def encrypt_with(self, m: int, r: int) -> mpz:
        """Enc(m; r) = (1 + N)^m · r^N mod N²."""
        m = self._check_plaintext(m)
        return (1 + m * self.n) * self.nonce_power(self._check_nonce(r)) % self.n2

    def nonce_power(self, r: int) -> mpz:
        """r^N mod N² (r a unit mod N)."""
        return powmod(r, self.n, self.n2)

    def encrypt(self, m: int) -> tuple[mpz, mpz]:
        """Encrypt with a fresh nonce (from NONCE_POOL); returns (c, r) so the caller can prove statements
        about c."""
        m = self._check_plaintext(m)
        r, rn = take_nonce(self)
        return (1 + m * self.n) * rn % self.n2, r

    def add(self, c1: int, c2: int) -> mpz:
        """Enc(m1) ⊕ Enc(m2) = Enc(m1 + m2 mod N)."""
        return self.validate_ciphertext(c1) * self.validate_ciphertext(c2) % self.n2

    def mul_const(self, c: int, k: int) -> mpz:
        """k ⊙ Enc(m) = Enc(k·m mod N); k may be negative."""
        return powmod(self.validate_ciphertext(c), k, self.n2)

    def mul_const_secret(self, c: int, k: int) -> mpz:
        """`mul_const` for a secret k (MtA's share x): constant-time in k's value."""
        return powmod_secret(self.validate_ciphertext(c), k, self.n2)

    def pow_n2(self, base: int, exp: int) -> mpz:
        """base^exp mod N² (base a unit when exp < 0)."""
        return powmod(base, exp, self.n2)

    def to_bytes(self) -> bytes:
        return int_to_bytes(self.n)

    @classmethod
    def from_bytes(cls, data: bytes) -> PaillierPublicKey:
        if not data or data[0] == 0:
            raise PaillierError("modulus encoding not minimal")
        return cls(int_from_bytes(data))


class PaillierSecretKey:
    """A Paillier secret key (p, q); secrets are never shown in repr."""

    __slots__ = (
        "p",
        "q",
        "n",
        "n2",
        "phi",
        "public",
        "_p2",
        "_q2",
        "_hp",
        "_hq",
        "_q_inv_p",
        "_np",
        "_nq",
        "_q2_inv_p2",
    )

    def __init__(self, p: int, q: int) -> None:
        p, q = mpz(p), mpz(q)
        if p == q or p < 3 or q < 3:
            raise PaillierError("p and q must be distinct odd primes")
        self.p, self.q = p, q
        self.public = PaillierPublicKey(p * q)
        self.n = self.public.n
        self.n2 = self.public.n2
        self.phi = (p - 1) * (q - 1)
        if gcd(self.n, self.phi) != 1:
            raise PaillierError("gcd(N, phi(N)) != 1")
        self._p2, self._q2 = p * p, q * q
        n = self.n
        # h_p = L_p((1+N)^(p-1) mod p²)^-1 mod p, with L_p(x) = (x - 1) / p; (1+N)^k = 1 + kN mod N²
        # (the binomial terms from N² on vanish), hence mod p² too: no exponentiation needed
        self._hp = invert(((1 + (p - 1) * n) % self._p2 - 1) // p, p)
        self._hq = invert(((1 + (q - 1) * n) % self._q2 - 1) // q, q)
        self._q_inv_p = invert(q, p)
        self._np = n % (p - 1)  # see nonce_power
        self._nq = n % (q - 1)
        self._q2_inv_p2 = invert(self._q2, self._p2)

    def __repr__(self) -> str:
        return f"PaillierSecretKey(bits={self.n.bit_length()}, secret=<redacted>)"

    __str__ = __repr__

    def decrypt(self, c: int) -> mpz:
        """Dec(c) in [0, N), by CRT."""
        c = self.public.validate_ciphertext(c)
        p, q = self.p, self.q
        mp = (powmod_secret(c % self._p2, p - 1, self._p2) - 1) // p * self._hp % p
        mq = (powmod_secret(c % self._q2, q - 1, self._q2) - 1) // q * self._hq % q
        return mq + q * ((mp - mq) * self._q_inv_p % p)

    def decrypt_signed(self, c: int) -> mpz:
        """Dec(c) as a signed value in (-N/2, N/2]."""
        return to_signed(self.decrypt(c), self.n)

    def nonce(self, c: int) -> mpz:
        """The encryption nonce of `c`: the r with c = (1+N)^m · r^N mod N², which is
        (c mod N)^(N⁻¹ mod φ(N)) mod N. Revealing it (with m) lets anyone re-encrypt and check `c`,
        as GG20's identification step requires."""
        self.public.validate_ciphertext(c)
        return powmod_secret(c % self.n, invert(self.n, self.phi), self.n)

    def pow_n2(self, base: int, exp: int) -> mpz:
        """base^exp mod N² for a unit base, by CRT over p² and q² with an exponent longer than p(p-1)
        (q(q-1)) reduced modulo it: the key owner's shortcut, also when it verifies proofs about its own key."""
        if exp == self.n:  # the w^N of the proofs about this key
            return self.nonce_power(base)
        p2, q2 = self._p2, self._q2
        rp = powmod_secret(base % p2, shortest_exponent(exp, self.p * (self.p - 1)), p2)
        rq = powmod_secret(base % q2, shortest_exponent(exp, self.q * (self.q - 1)), q2)
        return rq + q2 * ((rp - rq) * self._q2_inv_p2 % p2)

    def nonce_power(self, r: int) -> mpz:
        """r^N mod N², equal to the public key's, computed by CRT over p² and q².

        Mod p²: Z*_p² is the (p-1)-th roots of unity times the subgroup 1 + pZ of order p, which r^N loses
        since p | N; and x ↦ x^p mod p² maps x to the root of unity ≡ x mod p. So r^N mod p² =
        (r^(N mod (p-1)) mod p)^p mod p²: a half-size exponent mod p and a half-size one mod p², about 1.6
        times faster than r^(N mod p(p-1)) mod p²."""
        p2, q2 = self._p2, self._q2
        rp = powmod_secret(powmod_secret(r % self.p, self._np, self.p), self.p, p2)
        rq = powmod_secret(powmod_secret(r % self.q, self._nq, self.q), self.q, q2)
        return rq + q2 * ((rp - rq) * self._q2_inv_p2 % p2)

    def encrypt_with(self, m: int, r: int) -> mpz:
        """Enc(m; r), equal to the public key's, with r^N computed by CRT."""
        pub = self.public
        m = pub._check_plaintext(m)
        return (1 + m * self.n) * self.nonce_power(pub._check_nonce(r)) % pub.n2

    def encrypt(self, m: int) -> tuple[mpz, mpz]:
        """Encrypt with a fresh nonce (from NONCE_POOL, else computed now by CRT); returns (c, r)."""
        m = self.public._check_plaintext(m)
        r, rn = take_nonce(self)
        return (1 + m * self.n) * rn % self.n2, r


def _new_nonce(key: PaillierPublicKey | PaillierSecretKey) -> tuple[mpz, mpz]:
    r = random_unit(key.n)
    return r, key.nonce_power(r)


def take_nonce(key: PaillierPublicKey | PaillierSecretKey) -> tuple[mpz, mpz]:
    """A fresh nonce r and r^N mod N² for key's modulus: from NONCE_POOL, else computed now (by CRT for a
    PaillierSecretKey)."""
    return NONCE_POOL.take(int(key.n), lambda: _new_nonce(key))


def refill_nonces(key: PaillierPublicKey | PaillierSecretKey, target: int) -> int:
    """Precompute nonces for key's modulus until `target` are ready; returns how many were added."""
    return NONCE_POOL.refill(int(key.n), lambda: _new_nonce(key), target)


def nonce_need(key: PaillierPublicKey | PaillierSecretKey, count: int) -> Need:
    """`count` encryptions under key's modulus about to happen (made by CRT when `key` is the secret key)."""
    return Need(NONCE_POOL_NAME, int(key.n), partial(refill_nonces, key), count)


# Why a pool (precompute.py has the rules): r^N mod N² is most of an encryption's cost (a 2048-bit exponent
# modulo the 4096-bit N², or two half-size CRT ones for the key's owner) and does not depend on the message.
# A 2-of-2 presigning encrypts 11 times under each party's modulus (its own K, Π^enc, Π^log*, each MtA
# answer's Y and Π^aff-g's B_y; the peer's D and Π^aff-g's A); with nonces ready each costs a multiplication.
NONCE_POOL: PrecomputePool[tuple[mpz, mpz]] = PrecomputePool()
NONCE_POOL_NAME = "paillier.nonce"
POOLS[NONCE_POOL_NAME] = NONCE_POOL
