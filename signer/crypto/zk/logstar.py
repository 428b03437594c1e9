"""Π^log*: the plaintext of a Paillier ciphertext equals a discrete log (CGGMP21 §C.2, Fig. 25).

Statement: prover's Paillier key N0, ciphertext C, points X and base g (default G), the *verifier's*
ring-Pedersen (N̂, s, t). Witness: x ∈ ±2^ℓ, ρ ∈ Z*_N0 with C = (1 + N0)^x ρ^N0 mod N0², X = x·g.

Prover:   α ← ±2^(ℓ+ε), μ ← ±2^ℓ·N̂, r ← Z*_N0, γ ← ±2^(ℓ+ε)·N̂;
          S = s^x t^μ, A = (1 + N0)^α r^N0 mod N0², Y = α·g, D = s^α t^γ;   e ← ±q;
          z1 = α + e·x, z2 = r·ρ^e mod N0, z3 = γ + e·μ.
Verifier: z1 ∈ ±2^(ℓ+ε); (1 + N0)^z1 z2^N0 = A·C^e mod N0²; z1·g = Y + e·X; s^z1 t^z3 = D·S^e mod N̂.

Public API:
    LogStarProof(S, A, Y, D, z1, z2, z3)  .to_bytes() / LogStarProof.from_bytes(b)  (raises DecodeError)
    prove(ctx, key, rp, C, X, x, rho, g=GENERATOR) -> LogStarProof
    verify(ctx, pk, rp, C, X, proof, g=GENERATOR) -> None          raises ProofError (rp may be a secret)
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto.bigint import mpz, powmod
from signer.crypto.codec import Reader, Writer
from signer.crypto.paillier import PaillierPublicKey, PaillierSecretKey
from signer.crypto.ringpedersen import RingPedersenParams, RingPedersenSecret
from signer.crypto.secp256k1 import GENERATOR, SECP256K1, Point

from .base import (
    ELL,
    EPSILON,
    PROOF_VERSION,
    ProofContext,
    Q,
    commit_masked,
    get_int,
    paillier_check,
    paillier_enc,
    put_int,
    random_commitment,
    require,
    require_unit,
    start_transcript,
)

NAME = "logstar"
KIND = 0x62


@dataclass(frozen=True)
class LogStarProof:
    S: mpz
    A: mpz
    Y: Point
    D: mpz
    z1: mpz
    z2: mpz
    z3: mpz

    def to_bytes(self) -> bytes:
        w = Writer(KIND, PROOF_VERSION)
        put_int(w, self.S)
        put_int(w, self.A)
        w.point(SECP256K1, self.Y)
        for v in (self.D, self.z1, self.z2, self.z3):
            put_int(w, v)
        return w.done()

    @classmethod
    def from_bytes(cls, data: bytes) -> LogStarProof:
        r = Reader(data, KIND, PROOF_VERSION)
        S, A = get_int(r), get_int(r)
        Y = r.point(SECP256K1)
        proof = cls(S, A, Y, *(get_int(r) for _ in range(4)))
        r.end()
        return proof


def _challenge(
    ctx, pk: PaillierPublicKey, rp: RingPedersenParams | RingPedersenSecret, C, X: Point, g: Point, S, A, Y: Point, D
) -> mpz:
    t = start_transcript(NAME, ctx)
    t.append_ints("statement", [pk.n, rp.n, rp.s, rp.t, C])
    t.append_point("X", X)
    t.append_point("g", g)
    t.append_ints("commitment", [S, A, D])
    t.append_point("Y", Y)
    return mpz(t.challenge_signed("e", Q))


def prove(
    ctx: ProofContext,
    key: PaillierSecretKey | PaillierPublicKey,
    rp: RingPedersenParams,
    C: int,
    X: Point,
    x: int,
    rho: int,
    g: Point = GENERATOR,
) -> LogStarProof:
    """Prove C = Enc_N0(x; rho) and X = x·g with x in ±2^ℓ, to the verifier owning `rp`."""
    pk = key.public if isinstance(key, PaillierSecretKey) else key
    n0 = pk.n
    S, mu = commit_masked(rp, x)
    alpha, gamma, D = random_commitment(rp, "alpha")
    A, r = paillier_enc(key, alpha)
    Y = g * int(alpha)
    e = _challenge(ctx, pk, rp, C, X, g, S, A, Y, D)
    return LogStarProof(S, A, Y, D, alpha + e * x, r * powmod(rho, e, n0) % n0, gamma + e * mu)


def verify(
    ctx: ProofContext,
    pk: PaillierPublicKey,
    rp: RingPedersenParams | RingPedersenSecret,
    C: int,
    X: Point,
    proof: LogStarProof,
    g: Point = GENERATOR,
) -> None:
    """Check the proof; `rp` may be the verifier's RingPedersenSecret (same result, faster)."""
    require(isinstance(proof, LogStarProof), NAME, "not a log* proof")
    n0, n2, nh = pk.n, pk.n2, rp.n
    require(not X.is_identity and not g.is_identity and not proof.Y.is_identity, NAME, "identity point")
    require_unit(C, n2, NAME, "C")
    require_unit(proof.A, n2, NAME, "A")
    require_unit(proof.S, nh, NAME, "S")
    require_unit(proof.D, nh, NAME, "D")
    require_unit(proof.z2, n0, NAME, "z2")
    require(-(1 << (ELL + EPSILON)) <= proof.z1 <= 1 << (ELL + EPSILON), NAME, "z1 out of range ±2^(ℓ+ε)")
    e = _challenge(ctx, pk, rp, C, X, g, proof.S, proof.A, proof.Y, proof.D)
    require(paillier_check(pk, proof.z1, proof.z2, proof.A * powmod(C, e, n2)), NAME, "(1+N0)^z1 z2^N0 != A C^e")
    require(g * int(proof.z1) == proof.Y + X * int(e), NAME, "z1·g != Y + e·X")
    require(rp.commit(proof.z1, proof.z3) == proof.D * rp.pow(proof.S, e) % nh, NAME, "s^z1 t^z3 != D S^e")
