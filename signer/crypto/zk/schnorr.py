"""Schnorr proof of knowledge of a discrete log: X = x·G on secp256k1 (CGGMP21 Π^sch, §C.1 / Fig. 22).

Prover: α ← F_q, A = α·G; e = H(ctx, X, A) in F_q; z = α + e·x mod q.
Verifier: z·G == A + e·X, X and A valid non-identity points.

Public API:
    SchnorrProof(A: Point, z: int)  .to_bytes() / SchnorrProof.from_bytes(b)   (raises DecodeError)
    prove(ctx, x, X=None) -> SchnorrProof
    verify(ctx, X, proof) -> None   (raises ProofError)
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto.codec import Reader, Writer
from signer.crypto.secp256k1 import ORDER, SECP256K1, Point, base_mul, random_scalar

from .base import PROOF_VERSION, ProofContext, require, start_transcript

NAME = "schnorr"
KIND = 0x60


@dataclass(frozen=True)
class SchnorrProof:
    A: Point
    z: int

    def to_bytes(self) -> bytes:
        return Writer(KIND, PROOF_VERSION).point(SECP256K1, self.A).scalar(SECP256K1, self.z).done()

    @classmethod
    def from_bytes(cls, data: bytes) -> SchnorrProof:
        r = Reader(data, KIND, PROOF_VERSION)
        proof = cls(r.point(SECP256K1), r.scalar(SECP256K1))
        r.end()
        return proof


def _challenge(ctx: ProofContext, X: Point, A: Point) -> int:
    t = start_transcript(NAME, ctx)
    t.append_point("X", X)
    t.append_point("A", A)
    return t.challenge_scalar("e")


def prove(ctx: ProofContext, x: int, X: Point | None = None) -> SchnorrProof:
    """Prove knowledge of x with X = x·G (X is computed when not given)."""
    if not 0 < x < ORDER:
        raise ValueError("x must be a non-zero scalar")
    X = base_mul(x) if X is None else X
    alpha = random_scalar()
    A = base_mul(alpha)
    e = _challenge(ctx, X, A)
    return SchnorrProof(A, (alpha + e * x) % ORDER)


def verify(ctx: ProofContext, X: Point, proof: SchnorrProof) -> None:
    require(isinstance(proof, SchnorrProof), NAME, "not a Schnorr proof")
    require(not X.is_identity and not proof.A.is_identity, NAME, "identity point")
    require(0 <= proof.z < ORDER, NAME, "z out of range")
    e = _challenge(ctx, X, proof.A)
    require(base_mul(proof.z) == proof.A + X * e, NAME, "z·G != A + e·X")
