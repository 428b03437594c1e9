"""Π^enc: the plaintext k of a Paillier ciphertext K lies in ±2^ℓ (CGGMP21 §6.1, Fig. 14).

Statement: prover's Paillier key N0, ciphertext K, and the *verifier's* ring-Pedersen (N̂, s, t).
Witness: k ∈ ±2^ℓ and ρ ∈ Z*_N0 with K = (1 + N0)^k · ρ^N0 mod N0².

Prover:   α ← ±2^(ℓ+ε), μ ← ±2^ℓ·N̂, r ← Z*_N0, γ ← ±2^(ℓ+ε)·N̂;
          S = s^k t^μ, A = (1 + N0)^α r^N0 mod N0², C = s^α t^γ;   e ← ±q (Fiat–Shamir);
          z1 = α + e·k, z2 = r·ρ^e mod N0, z3 = γ + e·μ.
Verifier: z1 ∈ ±2^(ℓ+ε); (1 + N0)^z1 z2^N0 = A·K^e mod N0²; s^z1 t^z3 = C·S^e mod N̂.

In GG20's MtA, Alice proves this about Enc(k) to each Bob (the Alpha-Rays / BitForge range check).

Public API:
    EncProof(S, A, C, z1, z2, z3)  .to_bytes() / EncProof.from_bytes(b)  (raises DecodeError)
    prove(ctx, key, rp, K, k, rho) -> EncProof      key: prover's PaillierSecretKey (or public key)
    verify(ctx, pk, rp, K, proof) -> None           raises ProofError; rp may be the verifier's RingPedersenSecret
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto.bigint import mpz, powmod
from signer.crypto.codec import Reader, Writer
from signer.crypto.paillier import PaillierPublicKey, PaillierSecretKey
from signer.crypto.ringpedersen import RingPedersenParams, RingPedersenSecret
from signer.crypto.transcript import Transcript

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

NAME = "enc"
KIND = 0x61


@dataclass(frozen=True)
class EncProof:
    S: mpz
    A: mpz
    C: mpz
    z1: mpz
    z2: mpz
    z3: mpz

    def to_bytes(self) -> bytes:
        w = Writer(KIND, PROOF_VERSION)
        for v in (self.S, self.A, self.C, self.z1, self.z2, self.z3):
            put_int(w, v)
        return w.done()

    @classmethod
    def from_bytes(cls, data: bytes) -> EncProof:
        r = Reader(data, KIND, PROOF_VERSION)
        proof = cls(*(get_int(r) for _ in range(6)))
        r.end()
        return proof


def _challenge(
    ctx: ProofContext, pk: PaillierPublicKey, rp: RingPedersenParams | RingPedersenSecret, K: int, S, A, C
) -> mpz:
    t: Transcript = start_transcript(NAME, ctx)
    t.append_ints("statement", [pk.n, rp.n, rp.s, rp.t, K])
    t.append_ints("commitment", [S, A, C])
    return mpz(t.challenge_signed("e", Q))


def prove(
    ctx: ProofContext,
    key: PaillierSecretKey | PaillierPublicKey,
    rp: RingPedersenParams,
    K: int,
    k: int,
    rho: int,
) -> EncProof:
    """Prove K = Enc_N0(k; rho) with k in ±2^ℓ, to the verifier owning `rp`."""
    pk = key.public if isinstance(key, PaillierSecretKey) else key
    n0 = pk.n
    S, mu = commit_masked(rp, k)
    alpha, gamma, C = random_commitment(rp, "alpha")
    A, r = paillier_enc(key, alpha)
    e = _challenge(ctx, pk, rp, K, S, A, C)
    z1 = alpha + e * k
    z2 = r * powmod(rho, e, n0) % n0
    z3 = gamma + e * mu
    return EncProof(S, A, C, z1, z2, z3)


def verify(
    ctx: ProofContext,
    pk: PaillierPublicKey,
    rp: RingPedersenParams | RingPedersenSecret,
    K: int,
    proof: EncProof,
) -> None:
    """Check the proof; `rp` may be the verifier's RingPedersenSecret (same result, faster)."""
    require(isinstance(proof, EncProof), NAME, "not an enc proof")
    n0, n2, nh = pk.n, pk.n2, rp.n
    require_unit(K, n2, NAME, "K")
    require_unit(proof.A, n2, NAME, "A")
    require_unit(proof.S, nh, NAME, "S")
    require_unit(proof.C, nh, NAME, "C")
    require_unit(proof.z2, n0, NAME, "z2")
    require(-(1 << (ELL + EPSILON)) <= proof.z1 <= 1 << (ELL + EPSILON), NAME, "z1 out of range ±2^(ℓ+ε)")
    e = _challenge(ctx, pk, rp, K, proof.S, proof.A, proof.C)
    require(
        paillier_check(pk, proof.z1, proof.z2, proof.A * powmod(K, e, n2)),
        NAME,
        "(1+N0)^z1 z2^N0 != A K^e",
    )
    require(
        rp.commit(proof.z1, proof.z3) == proof.C * rp.pow(proof.S, e) % nh,
        NAME,
        "s^z1 t^z3 != C S^e",
    )
