"""Π^aff-g: an affine operation on a Paillier ciphertext with a group commitment (CGGMP21 §6.2, Fig. 15).

Statement: verifier's Paillier key N0 with ciphertexts C, D; prover's Paillier key N1 with ciphertext Y;
point X; the *verifier's* ring-Pedersen (N̂, s, t).
Witness: x ∈ ±2^ℓ, y ∈ ±2^ℓ', ρ ∈ Z*_N0, ρ_y ∈ Z*_N1 with
          D = C^x (1 + N0)^y ρ^N0 mod N0²,  Y = (1 + N1)^y ρ_y^N1 mod N1²,  X = x·G.

Prover:   α ← ±2^(ℓ+ε), β ← ±2^(ℓ'+ε), r ← Z*_N0, r_y ← Z*_N1,
          γ, δ ← ±2^(ℓ+ε)·N̂, m, μ ← ±2^ℓ·N̂;
          A = C^α (1 + N0)^β r^N0 mod N0², B_x = α·G, B_y = (1 + N1)^β r_y^N1 mod N1²,
          E = s^α t^γ, S = s^x t^m, F = s^β t^δ, T = s^y t^μ;   e ← ±q;
          z1 = α + e·x, z2 = β + e·y, z3 = γ + e·m, z4 = δ + e·μ, w = r ρ^e mod N0, w_y = r_y ρ_y^e mod N1.
Verifier: z1 ∈ ±2^(ℓ+ε), z2 ∈ ±2^(ℓ'+ε);
          C^z1 (1 + N0)^z2 w^N0 = A·D^e mod N0²;  z1·G = B_x + e·X;  (1 + N1)^z2 w_y^N1 = B_y·Y^e mod N1²;
          s^z1 t^z3 = E·S^e mod N̂;  s^z2 t^z4 = F·T^e mod N̂.

GG20's MtA/MtAwc: Bob proves this to Alice about his answer D = k⊙x ⊕ Enc(y) (signer/crypto/mta.py).

Public API:
    AffGProof(A, Bx, By, E, S, F, T, z1, z2, z3, z4, w, wy)  .to_bytes() / AffGProof.from_bytes(b)
    prove(ctx, pk0, key1, rp, C, D, Y, X, x, y, rho, rho_y) -> AffGProof
          pk0: verifier's PaillierPublicKey; key1: prover's PaillierSecretKey (or its public key)
    verify(ctx, pk0, pk1, rp, C, D, Y, X, proof) -> None    raises ProofError
          pk0 / rp may be the verifier's own PaillierSecretKey / RingPedersenSecret (CRT, faster)
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto.bigint import mpz, powmod, powmod_secret
from signer.crypto.codec import Reader, Writer
from signer.crypto.paillier import PaillierPublicKey, PaillierSecretKey
from signer.crypto.ringpedersen import RingPedersenParams, RingPedersenSecret
from signer.crypto.secp256k1 import SECP256K1, Point, base_mul

from .base import (
    ELL,
    ELL_PRIME,
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

NAME = "affg"
KIND = 0x63
_FIELDS_AFTER_BX = 11


@dataclass(frozen=True)
class AffGProof:
    A: mpz
    Bx: Point
    By: mpz
    E: mpz
    S: mpz
    F: mpz
    T: mpz
    z1: mpz
    z2: mpz
    z3: mpz
    z4: mpz
    w: mpz
    wy: mpz

    def to_bytes(self) -> bytes:
        w = Writer(KIND, PROOF_VERSION)
        put_int(w, self.A)
        w.point(SECP256K1, self.Bx)
        for v in (self.By, self.E, self.S, self.F, self.T, self.z1, self.z2, self.z3, self.z4, self.w, self.wy):
            put_int(w, v)
        return w.done()

    @classmethod
    def from_bytes(cls, data: bytes) -> AffGProof:
        r = Reader(data, KIND, PROOF_VERSION)
        A = get_int(r)
        Bx = r.point(SECP256K1)
        proof = cls(A, Bx, *(get_int(r) for _ in range(_FIELDS_AFTER_BX)))
        r.end()
        return proof


def _challenge(ctx, pk0, pk1, rp, C, D, Y, X: Point, A, Bx: Point, By, E, S, F, T) -> mpz:
    t = start_transcript(NAME, ctx)
    t.append_ints("statement", [pk0.n, pk1.n, rp.n, rp.s, rp.t, C, D, Y])
    t.append_point("X", X)
    t.append_ints("commitment", [A, By, E, S, F, T])
    t.append_point("Bx", Bx)
    return mpz(t.challenge_signed("e", Q))


def prove(
    ctx: ProofContext,
    pk0: PaillierPublicKey,
    key1: PaillierSecretKey | PaillierPublicKey,
    rp: RingPedersenParams,
    C: int,
    D: int,
    Y: int,
    X: Point,
    x: int,
    y: int,
    rho: int,
    rho_y: int,
) -> AffGProof:
    """Prove D = C^x (1+N0)^y rho^N0, Y = Enc_N1(y; rho_y), X = x·G with x ∈ ±2^ℓ, y ∈ ±2^ℓ'."""
    pk1 = key1.public if isinstance(key1, PaillierSecretKey) else key1
    n0, n02, n1 = pk0.n, pk0.n2, pk1.n
    alpha, gamma, E = random_commitment(rp, "alpha")
    beta, delta, F = random_commitment(rp, "beta")
    S, m = commit_masked(rp, x)
    T, mu = commit_masked(rp, y)
    enc_beta, r = paillier_enc(pk0, beta)
    A = powmod_secret(C, alpha, n02) * enc_beta % n02
    Bx = base_mul(alpha)
    By, ry = paillier_enc(key1, beta)
    e = _challenge(ctx, pk0, pk1, rp, C, D, Y, X, A, Bx, By, E, S, F, T)
    return AffGProof(
        A,
        Bx,
        By,
        E,
        S,
        F,
        T,
        alpha + e * x,
        beta + e * y,
        gamma + e * m,
        delta + e * mu,
        r * powmod(rho, e, n0) % n0,
        ry * powmod(rho_y, e, n1) % n1,
    )


def verify(
    ctx: ProofContext,
    pk0: PaillierPublicKey | PaillierSecretKey,
    pk1: PaillierPublicKey,
    rp: RingPedersenParams | RingPedersenSecret,
    C: int,
    D: int,
    Y: int,
    X: Point,
    proof: AffGProof,
) -> None:
    """Check the proof. The verifier may pass its own PaillierSecretKey as pk0 and its own
    RingPedersenSecret as rp: the same checks, computed by CRT."""
    require(isinstance(proof, AffGProof), NAME, "not an aff-g proof")
    p = proof
    n0, n02, n1, n12, nh = pk0.n, pk0.n2, pk1.n, pk1.n2, rp.n
    require(not X.is_identity and not p.Bx.is_identity, NAME, "identity point")
    for v, mod, what in ((C, n02, "C"), (D, n02, "D"), (Y, n12, "Y"), (p.A, n02, "A"), (p.By, n12, "By")):
        require_unit(v, mod, NAME, what)
    for v, what in ((p.E, "E"), (p.S, "S"), (p.F, "F"), (p.T, "T")):
        require_unit(v, nh, NAME, what)
    require_unit(p.w, n0, NAME, "w")
    require_unit(p.wy, n1, NAME, "wy")
    require(-(1 << (ELL + EPSILON)) <= p.z1 <= 1 << (ELL + EPSILON), NAME, "z1 out of range ±2^(ℓ+ε)")
    require(-(1 << (ELL_PRIME + EPSILON)) <= p.z2 <= 1 << (ELL_PRIME + EPSILON), NAME, "z2 out of range ±2^(ℓ'+ε)")
    e = _challenge(ctx, pk0, pk1, rp, C, D, Y, X, p.A, p.Bx, p.By, p.E, p.S, p.F, p.T)
    lhs = pk0.pow_n2(C, p.z1) * ((1 + (p.z2 % n0) * n0) * pk0.pow_n2(p.w, n0)) % n02
    require(lhs == p.A * pk0.pow_n2(D, e) % n02, NAME, "C^z1 (1+N0)^z2 w^N0 != A D^e")
    require(base_mul(p.z1) == p.Bx + X * e, NAME, "z1·G != Bx + e·X")
    require(paillier_check(pk1, p.z2, p.wy, p.By * powmod(Y, e, n12)), NAME, "(1+N1)^z2 wy^N1 != By Y^e")
    require(rp.commit(p.z1, p.z3) == p.E * rp.pow(p.S, e) % nh, NAME, "s^z1 t^z3 != E S^e")
    require(rp.commit(p.z2, p.z4) == p.F * rp.pow(p.T, e) % nh, NAME, "s^z2 t^z4 != F T^e")
