"""Π^fac: the Paillier modulus N0 has no small factor, N0 = p·q with p, q > 2^ℓ roughly
(CGGMP21 §C.5, Fig. 28) — the BitForge (CVE-2023-33241) fix together with Π^mod.

Statement: N0 and the *verifier's* ring-Pedersen (N̂, s, t). Witness: p, q with N0 = p·q, |p|, |q| ≤ √N0·2^ℓ.
Prover:   α, β ← ±2^(ℓ+ε)·√N0;  μ, ν ← ±2^ℓ·N̂;  σ ← ±2^ℓ·N0·N̂;  r ← ±2^(ℓ+ε)·N0·N̂;  x, y ← ±2^(ℓ+ε)·N̂;
          P = s^p t^μ, Q = s^q t^ν, A = s^α t^x, B = s^β t^y, T = Q^α t^r (mod N̂); sends σ too;
          e ← ±q;  σ̂ = σ − ν·p;
          z1 = α + e·p, z2 = β + e·q, w1 = x + e·μ, w2 = y + e·ν, v = r + e·σ̂.
Verifier: R = s^N0 t^σ;  s^z1 t^w1 = A·P^e;  s^z2 t^w2 = B·Q^e;  Q^z1 t^v = T·R^e (mod N̂);
          z1, z2 ∈ ±√N0·2^(ℓ+ε).
(√N0 is the integer square root.) The ranges force both factors above √N0 / 2^(ℓ+ε) = 2^(1024-768) = 2^256.

Public API:
    FacProof(P, Q, A, B, T, sigma, z1, z2, w1, w2, v)  .to_bytes() / FacProof.from_bytes(b)
    prove(ctx, sk: PaillierSecretKey, rp) -> FacProof
    prove_with(ctx, n0, p, q, rp) -> FacProof     (explicit witness; used by the attack tests)
    verify(ctx, pk: PaillierPublicKey, rp, proof) -> None   raises ProofError (rp may be the verifier's secret)
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto.bigint import isqrt, mpz, powmod_secret, random_signed
from signer.crypto.codec import Reader, Writer
from signer.crypto.paillier import PaillierPublicKey, PaillierSecretKey
from signer.crypto.ringpedersen import RingPedersenParams, RingPedersenSecret

from .base import (
    ELL,
    EPSILON,
    PROOF_VERSION,
    ProofContext,
    Q,
    get_int,
    put_int,
    require,
    require_unit,
    start_transcript,
)

NAME = "fac"
KIND = 0x66
_NFIELDS = 11


@dataclass(frozen=True)
class FacProof:
    P: mpz
    Q: mpz
    A: mpz
    B: mpz
    T: mpz
    sigma: mpz
    z1: mpz
    z2: mpz
    w1: mpz
    w2: mpz
    v: mpz

    def _fields(self) -> tuple[mpz, ...]:
        return (self.P, self.Q, self.A, self.B, self.T, self.sigma, self.z1, self.z2, self.w1, self.w2, self.v)

    def to_bytes(self) -> bytes:
        w = Writer(KIND, PROOF_VERSION)
        for v in self._fields():
            put_int(w, v)
        return w.done()

    @classmethod
    def from_bytes(cls, data: bytes) -> FacProof:
        r = Reader(data, KIND, PROOF_VERSION)
        proof = cls(*(get_int(r) for _ in range(_NFIELDS)))
        r.end()
        return proof


def _challenge(ctx: ProofContext, n0: int, rp: RingPedersenParams | RingPedersenSecret, P, Qc, A, B, T, sigma) -> mpz:
    t = start_transcript(NAME, ctx)
    t.append_ints("statement", [n0, rp.n, rp.s, rp.t])
    t.append_ints("commitment", [P, Qc, A, B, T, sigma])
    return mpz(t.challenge_signed("e", Q))


def prove_with(ctx: ProofContext, n0: int, p: int, q: int, rp: RingPedersenParams) -> FacProof:
    """Π^fac for N0 with the claimed factors p, q (an honest prover has p·q = N0, both ~√N0)."""
    n0, p, q, nh = mpz(n0), mpz(p), mpz(q), mpz(rp.n)
    root = isqrt(n0)
    alpha = random_signed((1 << (ELL + EPSILON)) * root)
    beta = random_signed((1 << (ELL + EPSILON)) * root)
    mu = random_signed((1 << ELL) * nh)
    nu = random_signed((1 << ELL) * nh)
    sigma = random_signed((1 << ELL) * n0 * nh)
    r = random_signed((1 << (ELL + EPSILON)) * n0 * nh)
    x = random_signed((1 << (ELL + EPSILON)) * nh)
    y = random_signed((1 << (ELL + EPSILON)) * nh)
    P = rp.commit_secret(p, mu)
    Qc = rp.commit_secret(q, nu)
    A = rp.commit_secret(alpha, x)
    B = rp.commit_secret(beta, y)
    T = powmod_secret(Qc, alpha, nh) * powmod_secret(rp.t, r, nh) % nh
    e = _challenge(ctx, n0, rp, P, Qc, A, B, T, sigma)
    sigma_hat = sigma - nu * p
    return FacProof(P, Qc, A, B, T, sigma, alpha + e * p, beta + e * q, x + e * mu, y + e * nu, r + e * sigma_hat)


def prove(ctx: ProofContext, sk: PaillierSecretKey, rp: RingPedersenParams) -> FacProof:
    return prove_with(ctx, sk.n, sk.p, sk.q, rp)


def verify(
    ctx: ProofContext, pk: PaillierPublicKey, rp: RingPedersenParams | RingPedersenSecret, proof: FacProof
) -> None:
    """Check the proof; `rp` may be the verifier's RingPedersenSecret (same result, faster)."""
    require(isinstance(proof, FacProof), NAME, "not a fac proof")
    p = proof
    n0, nh = pk.n, rp.n
    for v, what in ((p.P, "P"), (p.Q, "Q"), (p.A, "A"), (p.B, "B"), (p.T, "T")):
        require_unit(v, nh, NAME, what)
    bound = (1 << (ELL + EPSILON)) * isqrt(n0)
    require(-bound <= p.z1 <= bound, NAME, "z1 out of range ±√N0·2^(ℓ+ε)")
    require(-bound <= p.z2 <= bound, NAME, "z2 out of range ±√N0·2^(ℓ+ε)")
    e = _challenge(ctx, n0, rp, p.P, p.Q, p.A, p.B, p.T, p.sigma)
    R = rp.commit(n0, p.sigma)
    require(rp.commit(p.z1, p.w1) == p.A * rp.pow(p.P, e) % nh, NAME, "s^z1 t^w1 != A P^e")
    require(rp.commit(p.z2, p.w2) == p.B * rp.pow(p.Q, e) % nh, NAME, "s^z2 t^w2 != B Q^e")
    lhs = rp.pow(p.Q, p.z1) * rp.pow(rp.t, p.v) % nh
    require(lhs == p.T * rp.pow(R, e) % nh, NAME, "Q^z1 t^v != T R^e")
