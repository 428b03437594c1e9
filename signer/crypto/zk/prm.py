"""Π^prm: ring-Pedersen parameters are well formed, s ∈ <t> mod N̂ (CGGMP21 §6.4, Fig. 17), with
m = REPETITIONS = 128 repetitions (one challenge bit each: soundness error 2^-128; see base.py).

Statement (N̂, s, t); witness λ with s = t^λ mod N̂ (and φ(N̂)).
Prover:   a_i ← Z_φ(N̂), A_i = t^a_i mod N̂ (i = 1..m);  e_i ∈ {0, 1} (Fiat–Shamir);
          z_i = a_i + e_i·λ mod φ(N̂).
Verifier: t^z_i = A_i · s^e_i mod N̂ for every i.

Verification speed: the 128 powers of the one base t are read from a fixed-base table
(bigint.fixed_base_powers, about 2.4 times faster than 128 powmods; the z_i are public).

Why the repetitions are not batched: the small-exponent test of Bellare, Garay and Rabin ("Fast batch
verification for modular exponentiation and digital signatures", EUROCRYPT 1998) would check
t^(Σρ_i z_i) = Π A_i^ρ_i · s^(Σρ_i e_i) for random short ρ_i. Its soundness argument needs a group without
elements of small order; Z*_N̂ always has −1 (order 2), and for the N̂ a cheater picks, elements of any
small order d dividing φ(N̂). If each equation is off by u_i, the batch passes when Π u_i^ρ_i = 1, which
for one u_i of order d happens with probability about 1/d whatever the length of ρ — 1/2 for u_i = −1
(Boyd and Pavlovski, "Attacking and repairing batch verification schemes", ASIACRYPT 2000). That is
exactly the cheater with s = −t^λ: s ∉ <t>, so commitments s^x t^y under its parameters leak x mod 2 to
it (Legendre symbol mod a factor), and it would pass a batched proof half the time. The usual repair,
working in a group known to have no small-order elements (e.g. the squares mod a product of safe
primes), assumes what this proof is there to establish. test_zk_attacks keeps that cheater refused.

Public API:
    PrmProof(A: tuple, z: tuple)  .to_bytes() / PrmProof.from_bytes(b)
    prove(ctx, secret: RingPedersenSecret) -> PrmProof
    prove_with(ctx, rp, lam, phi) -> PrmProof       (explicit witness; used by tests of false statements)
    verify(ctx, rp: RingPedersenParams, proof) -> None   raises ProofError
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto.bigint import fixed_base_powers, mpz, random_below
from signer.crypto.codec import Reader, Writer
from signer.crypto.errors import DecodeError
from signer.crypto.ringpedersen import RingPedersenParams, RingPedersenSecret

from .base import PROOF_VERSION, REPETITIONS, ProofContext, get_int, put_int, require, require_unit, start_transcript

NAME = "prm"
KIND = 0x65


@dataclass(frozen=True)
class PrmProof:
    A: tuple[mpz, ...]
    z: tuple[mpz, ...]

    def to_bytes(self) -> bytes:
        w = Writer(KIND, PROOF_VERSION).u16(len(self.A))
        for a, z in zip(self.A, self.z, strict=True):
            put_int(w, a)
            put_int(w, z)
        return w.done()

    @classmethod
    def from_bytes(cls, data: bytes) -> PrmProof:
        r = Reader(data, KIND, PROOF_VERSION)
        count = r.u16()
        if count != REPETITIONS:
            raise DecodeError(f"Π^prm needs exactly {REPETITIONS} repetitions")
        A, z = [], []
        for _ in range(count):
            A.append(get_int(r))
            z.append(get_int(r))
        r.end()
        return cls(tuple(A), tuple(z))


def _challenges(ctx: ProofContext, rp: RingPedersenParams | RingPedersenSecret, A: tuple[mpz, ...]) -> list[int]:
    t = start_transcript(NAME, ctx)
    t.append_ints("statement", [rp.n, rp.s, rp.t])
    t.append_ints("A", list(A))
    return t.challenge_bits("e", REPETITIONS)


def prove_with(ctx: ProofContext, rp: RingPedersenParams | RingPedersenSecret, lam: int, phi: int) -> PrmProof:
    """Π^prm for (N̂, s, t) with witness λ (s = t^λ) and φ(N̂); the owner's secret makes t^a a CRT power."""
    a = [random_below(phi) for _ in range(REPETITIONS)]
    A = tuple(rp.pow_secret(rp.t, ai) for ai in a)
    es = _challenges(ctx, rp, A)
    z = tuple((ai + e * lam) % phi for ai, e in zip(a, es, strict=True))
    return PrmProof(A, z)


def prove(ctx: ProofContext, secret: RingPedersenSecret) -> PrmProof:
    return prove_with(ctx, secret, secret.lam, secret.phi)


def verify(ctx: ProofContext, rp: RingPedersenParams, proof: PrmProof) -> None:
    require(isinstance(proof, PrmProof), NAME, "not a prm proof")
    n = rp.n
    require(len(proof.A) == len(proof.z) == REPETITIONS, NAME, "wrong count")
    for A, z in zip(proof.A, proof.z, strict=True):
        require_unit(A, n, NAME, "A")
        require(0 <= z < n, NAME, "z out of range")
    es = _challenges(ctx, rp, proof.A)
    t_z = fixed_base_powers(rp.t, proof.z, n)
    for A, tz, e in zip(proof.A, t_z, es, strict=True):
        require(tz == (A * rp.s % n if e else A), NAME, "t^z != A s^e")
