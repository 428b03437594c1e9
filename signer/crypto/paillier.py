"""Paillier encryption over gmpy2 with g = 1 + N, CRT decryption and CRT encryption for the key owner.

Why: GG20's MtA runs on Paillier ciphertexts, and BitForge (CVE-2023-33241) showed what a peer's
malformed modulus does. So a public key can only be built from a modulus that passes the checks
CGGMP21 and tss-lib make outside the proofs (odd, not prime, at least 2048 bits), and every
plaintext, nonce and ciphertext is range-checked before use. The proofs that N is a product of two
large Blum primes live in zk/mod.py and zk/fac.py.

Encryption: c = (1 + N)^m · r^N mod N², so (1+N)^m costs one multiplication (1 + mN).
Decryption with CRT: m_p = L_p(c^(p-1) mod p²) · h_p mod p, the same mod q, recombined.
The key owner encrypts with CRT too: r^N mod p² and mod q² with the exponent reduced mod p(p-1).

Public API:
    MIN_MODULUS_BITS = 2048
    PaillierError (ValueError)
    validate_modulus(n)                          raises PaillierError (even, prime, < 2048 bits)
    PaillierPublicKey(n)                         .n, .n2
        .encrypt(m) -> (c, r)                    m in [0, n), fresh r in Z*_n
        .encrypt_with(m, r) -> c                 explicit nonce r in Z*_n
        .add(c1, c2) -> c                        Enc(m1 + m2)
        .mul_const(c, k) -> c                    Enc(k·m), k any int (negative allowed)
        .validate_ciphertext(c)                  0 < c < n², gcd(c, n) = 1
        .pow_n2(base, exp) -> base^exp mod n²
        .to_bytes() / PaillierPublicKey.from_bytes(b)
    PaillierSecretKey(p, q)                      p, q distinct primes (not re-proved here)
        .public, .n, .n2, .p, .q, .phi
        .pow_n2(base, exp)                       CRT; the owner passes its secret key to zk verify() for speed
        .decrypt(c) -> int in [0, n)
        .decrypt_signed(c) -> int in (-n/2, n/2]
        .encrypt(m) -> (c, r), .encrypt_with(m, r)   CRT-accelerated, same ciphertexts as the public key
    to_signed(m, n) -> int in (-n/2, n/2]
"""

from __future__ import annotations

from .bigint import gcd, int_from_bytes, int_to_bytes, invert, is_prime, mpz, powmod, random_unit

MIN_MODULUS_BITS = 2048
MAX_MODULUS_BITS = 8192


class PaillierError(ValueError):
    """An invalid Paillier key, plaintext, nonce or ciphertext (messages never carry secret values)."""


def validate_modulus(n: int) -> None:
    """The checks outside the proofs: N odd, composite, and at least 2048 bits."""
    if not isinstance(n, int | mpz) or isinstance(n, bool):
        raise PaillierError("modulus must be an integer")
    if n.bit_length() < MIN_MODULUS_BITS:
        raise PaillierError(f"modulus shorter than {MIN_MODULUS_BITS} bits")
    if n.bit_length() > MAX_MODULUS_BITS:
        raise PaillierError("modulus too long")
    if n % 2 == 0:
        raise PaillierError("modulus is even")
    if is_prime(n):
        raise PaillierError("modulus is prime")


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
        r = self._check_nonce(r)
        return (1 + m * self.n) * powmod(r, self.n, self.n2) % self.n2

    def encrypt(self, m: int) -> tuple[mpz, mpz]:
        """Encrypt with a fresh nonce; returns (c, r) so the caller can prove statements about c."""
        r = random_unit(self.n)
        return self.encrypt_with(m, r), r

    def add(self, c1: int, c2: int) -> mpz:
        """Enc(m1) ⊕ Enc(m2) = Enc(m1 + m2 mod N)."""
        return self.validate_ciphertext(c1) * self.validate_ciphertext(c2) % self.n2

    def mul_const(self, c: int, k: int) -> mpz:
        """k ⊙ Enc(m) = Enc(k·m mod N); k may be negative."""
        return powmod(self.validate_ciphertext(c), k, self.n2)

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
        "_ep",
        "_eq",
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
        # h_p = L_p((1+N)^(p-1) mod p²)^-1 mod p, with L_p(x) = (x - 1) / p
        self._hp = invert((powmod(1 + n, p - 1, self._p2) - 1) // p, p)
        self._hq = invert((powmod(1 + n, q - 1, self._q2) - 1) // q, q)
        self._q_inv_p = invert(q, p)
        # r^N mod p² = r^(N mod p(p-1)) mod p² for r coprime to p
        self._ep = n % (p * (p - 1))
        self._eq = n % (q * (q - 1))
        self._q2_inv_p2 = invert(self._q2, self._p2)

    def __repr__(self) -> str:
        return f"PaillierSecretKey(bits={self.n.bit_length()}, secret=<redacted>)"

    __str__ = __repr__

    def decrypt(self, c: int) -> mpz:
        """Dec(c) in [0, N), by CRT."""
        c = self.public.validate_ciphertext(c)
        p, q = self.p, self.q
        mp = (powmod(c % self._p2, p - 1, self._p2) - 1) // p * self._hp % p
        mq = (powmod(c % self._q2, q - 1, self._q2) - 1) // q * self._hq % q
        return mq + q * ((mp - mq) * self._q_inv_p % p)

    def decrypt_signed(self, c: int) -> mpz:
        """Dec(c) as a signed value in (-N/2, N/2]."""
        return to_signed(self.decrypt(c), self.n)

    def nonce(self, c: int) -> mpz:
        """The encryption nonce of `c`: the r with c = (1+N)^m · r^N mod N², which is
        (c mod N)^(N⁻¹ mod φ(N)) mod N. Revealing it (with m) lets anyone re-encrypt and check `c`,
        as GG20's identification step requires."""
        self.public.validate_ciphertext(c)
        return powmod(c % self.n, invert(self.n, self.phi), self.n)

    def pow_n2(self, base: int, exp: int) -> mpz:
        """base^exp mod N² for a unit base, by CRT over p² and q² with the exponent reduced mod
        p(p-1) and q(q-1): the key owner's shortcut, also when it verifies proofs about its own key."""
        p2, q2 = self._p2, self._q2
        rp = powmod(base % p2, exp % (self.p * (self.p - 1)), p2)
        rq = powmod(base % q2, exp % (self.q * (self.q - 1)), q2)
        return rq + q2 * ((rp - rq) * self._q2_inv_p2 % p2)

    def encrypt_with(self, m: int, r: int) -> mpz:
        """Enc(m; r), equal to the public key's, with r^N computed by CRT over p² and q²."""
        pub = self.public
        m = pub._check_plaintext(m)
        r = pub._check_nonce(r)
        p2, q2 = self._p2, self._q2
        rp = powmod(r % p2, self._ep, p2)
        rq = powmod(r % q2, self._eq, q2)
        rn = rq + q2 * ((rp - rq) * self._q2_inv_p2 % p2)
        return (1 + m * self.n) * rn % pub.n2

    def encrypt(self, m: int) -> tuple[mpz, mpz]:
        r = random_unit(self.n)
        return self.encrypt_with(m, r), r
