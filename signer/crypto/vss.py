"""Feldman verifiable secret sharing over any `Group`, with Lagrange interpolation helpers.

A dealer picks a random polynomial f of degree t-1 with a chosen constant term, sends party j the share
f(j) (parties are numbered 1..n, so x = 0 is never a share) and publishes commitments C_k = a_k * G.
Anyone can then compute the verifying share F(j) = sum_k C_k * j^k = f(j) * G ("interpolation in the
exponent") and check a share against it. Used by the FROST DKG and the GG20 key generation.

Side-channel stance. Polynomial coefficients, shares, Lagrange-weighted shares and nonces are secret, and
the arithmetic on them here (Horner evaluation, sums, products mod the order) is on plain Python ints,
which are not constant time: CPython's bignum operations take time that depends on the operands' sizes
(a value with leading zero limbs is faster), and `%` and `pow(., -1, .)` run data-dependent loops. What
that exposes is timing at the granularity of a few nanoseconds per limb on 256-bit values, inside an
interpreter whose own jitter is microseconds; it is measurable by code on the same core (cache and
branch-predictor probing), not plausibly over the network through gRPC, TLS and Trio scheduling. The
node's deployment model therefore requires a host (VM or dedicated machine) not shared with untrusted
code, and makes these choices:
  - every point operation with a secret scalar goes to the curve library (libsodium for Ed25519,
    libsecp256k1 via coincurve for secp256k1), which is constant time in the scalar;
  - the per-signature secret scalar work of FROST(Ed25519) — z_i = d + e·ρ + λ·s·c in core.sign — goes
    through `Group.scalar_muladd`, which Ed25519 implements with libsodium's constant-time
    crypto_core_ed25519_scalar_mul/add (the conversion to and from 32-byte strings stays in Python);
  - key generation and resharing (this module, the DKGs) keep Python ints: they run once per key, so an
    observer gets one trace per secret, where the signing path gives one per signature;
  - the Paillier/ring-Pedersen exponentiations with secret exponents use GMP's mpz_powm_sec
    (signer/crypto/bigint.powmod_secret).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from signer.crypto.group import Group

P = TypeVar("P")


class Polynomial:
    """A secret polynomial mod the group order; coefficients are kept out of repr."""

    __slots__ = ("_coefficients", "_order")

    def __init__(self, coefficients: Sequence[int], order: int) -> None:
        if not coefficients:
            raise ValueError("a polynomial needs at least one coefficient")
        self._coefficients = tuple(c % order for c in coefficients)
        self._order = order

    @classmethod
    def random(cls, group: Group, constant: int, degree: int) -> Polynomial:
        """f(x) = constant + a_1 x + ... + a_degree x^degree with uniformly random non-zero a_k."""
        if degree < 0:
            raise ValueError("degree must be >= 0")
        return cls([constant] + [group.random_scalar() for _ in range(degree)], group.order)

    @property
    def degree(self) -> int:
        return len(self._coefficients) - 1

    @property
    def constant(self) -> int:
        return self._coefficients[0]

    def __call__(self, x: int) -> int:
        acc = 0
        for c in reversed(self._coefficients):
            acc = (acc * x + c) % self._order
        return acc

    def commit(self, group: Group[P]) -> list[P]:
        """The Feldman commitments [a_0 * G, ..., a_degree * G]."""
        return [group.base_mul(c) for c in self._coefficients]

    def __repr__(self) -> str:
        return f"Polynomial(degree={self.degree}, coefficients=<redacted>)"


def share_for(poly: Polynomial, index: int) -> int:
    """The share f(index) for a 1-based party index."""
    _check_index(index)
    return poly(index)


def evaluate_commitments(group: Group[P], commitments: Sequence[P], index: int) -> P:
    """F(index) = sum_k C_k * index^k, by Horner's rule in the exponent (degree small-scalar multiplications)."""
    _check_index(index)
    if not commitments:
        raise ValueError("no commitments")
    acc = commitments[-1]
    for c in reversed(commitments[:-1]):
        acc = group.add(group.mul(index, acc), c)
    return acc


def verify_share(group: Group[P], commitments: Sequence[P], index: int, share: int) -> bool:
    """True iff share * G equals the commitments evaluated at index."""
    return group.base_mul(share) == evaluate_commitments(group, commitments, index)


def sum_commitments(group: Group[P], vectors: Sequence[Sequence[P]]) -> list[P]:
    """Element-wise sum of several dealers' commitment vectors (all of the same length)."""
    if not vectors or any(len(v) != len(vectors[0]) for v in vectors):
        raise ValueError("commitment vectors must be non-empty and of equal length")
    return [group.sum(column) for column in zip(*vectors, strict=True)]


def lagrange_at_zero(index: int, indices: Sequence[int], order: int) -> int:
    """The Lagrange coefficient of `index` for interpolating at x = 0 over the distinct `indices`."""
    if index not in indices:
        raise ValueError("index must be one of the interpolation indices")
    if len(set(indices)) != len(indices):
        raise ValueError("interpolation indices must be distinct")
    num = 1
    den = 1
    for j in indices:
        _check_index(j)
        if j == index:
            continue
        num = num * j % order
        den = den * (j - index) % order
    return num * pow(den, -1, order) % order


def _check_index(index: int) -> None:
    if not isinstance(index, int) or isinstance(index, bool) or index < 1:
        raise ValueError("party indices are integers >= 1")
