"""Π^mod: N is a Paillier–Blum modulus, N = p·q with p ≡ q ≡ 3 mod 4 and gcd(N, φ(N)) = 1
(CGGMP21 §6.3, Fig. 16), with m = REPETITIONS = 128 repetitions (soundness error 2^-128: each
repetition catches a non-Blum modulus with probability at least 1/2; see base.py).

Prover:   w ← Z_N with Jacobi(w, N) = -1;   y_1..y_m ← Z_N (Fiat–Shamir, rejection sampled);
          for each i: a_i, b_i ∈ {0, 1} such that y'_i = (-1)^a_i w^b_i y_i is a square mod p and mod q,
          x_i = y'_i^(1/4) mod N, z_i = y_i^(N^-1 mod φ(N)) mod N.
Verifier: N odd and not prime (and >= 2048 bits, by the Paillier key check); Jacobi(w, N) = -1;
          z_i^N = y_i mod N;  x_i^4 = (-1)^a_i w^b_i y_i mod N.

Why the z_i^N = y_i checks are not batched as (Π z_i^ρ_i)^N = Π y_i^ρ_i with random short ρ_i (the
small-exponent test of Bellare–Garay–Rabin, EUROCRYPT 1998): the batch shows Π y_i^ρ_i is an N-th
power, i.e. Σ ρ_i·[y_i] = 0 in Z*_N / (Z*_N)^N, a group whose exponent divides N. When gcd(N, φ(N))
has a small prime r, a y_i that is no N-th power passes with probability about 1/r, whatever the
length of ρ. The other checks do not rule such an N out: N = 3^a·q
with 3^a > 2^256 is Blum-shaped for the x^4 checks and factors as Π^fac requires, and its 3-power
subgroup of Z*_N² is where a BitForge-style key extraction reads the peer's share. So a cheater would
get a one-in-three shot per key generation; the 128 separate checks keep it at 3^-128.

Fourth roots: for a Blum prime p and a square y, y^((p+1)/4) is the square root that is itself a
square, so y^(((p+1)/4)^2) mod p is a fourth root; the two are joined by CRT.

Public API:
    ModProof(w, x: tuple, a: tuple, b: tuple, z: tuple)  .to_bytes() / ModProof.from_bytes(b)
    prove(ctx, sk: PaillierSecretKey) -> ModProof
    verify(ctx, pk: PaillierPublicKey, proof) -> None   raises ProofError
"""

from __future__ import annotations

from dataclasses import dataclass

from signer.crypto.bigint import crt, gcd, invert, is_prime, jacobi, mpz, powmod, powmod_secret, random_below
from signer.crypto.codec import Reader, Writer
from signer.crypto.errors import DecodeError
from signer.crypto.paillier import PaillierPublicKey, PaillierSecretKey

from .base import PROOF_VERSION, REPETITIONS, ProofContext, ProofError, get_int, put_int, require, start_transcript

NAME = "mod"
KIND = 0x64


@dataclass(frozen=True)
class ModProof:
    w: mpz
    x: tuple[mpz, ...]
    a: tuple[int, ...]
    b: tuple[int, ...]
    z: tuple[mpz, ...]

    def to_bytes(self) -> bytes:
        w = Writer(KIND, PROOF_VERSION)
        put_int(w, self.w)
        w.u16(len(self.x))
        for x, a, b, z in zip(self.x, self.a, self.b, self.z, strict=True):
            put_int(w, x)
            w.u8(a | (b << 1))
            put_int(w, z)
        return w.done()

    @classmethod
    def from_bytes(cls, data: bytes) -> ModProof:
        r = Reader(data, KIND, PROOF_VERSION)
        wv = get_int(r)
        count = r.u16()
        if count != REPETITIONS:
            raise DecodeError(f"Π^mod needs exactly {REPETITIONS} repetitions")
        xs, as_, bs, zs = [], [], [], []
        for _ in range(count):
            xs.append(get_int(r))
            ab = r.u8()
            if ab > 3:
                raise DecodeError("bad a/b bits")
            as_.append(ab & 1)
            bs.append(ab >> 1)
            zs.append(get_int(r))
        r.end()
        return cls(wv, tuple(xs), tuple(as_), tuple(bs), tuple(zs))


def _challenges(ctx: ProofContext, n: int, w: int) -> list[mpz]:
    t = start_transcript(NAME, ctx)
    t.append_int("N", n)
    t.append_int("w", w)
    return [mpz(y) for y in t.challenge_ints("y", n, REPETITIONS)]


def _fourth_root_mod(y: mpz, p: mpz) -> mpz:
    e = (p + 1) // 4
    return powmod_secret(y, e * e % (p - 1), p)


def prove(ctx: ProofContext, sk: PaillierSecretKey) -> ModProof:
    """Prove that sk's modulus is Paillier–Blum. Raises ValueError if the witness is not Blum."""
    p, q, n = sk.p, sk.q, sk.n
    if p % 4 != 3 or q % 4 != 3:
        raise ValueError("Π^mod witness: p and q must be 3 mod 4")
    while True:
        w = random_below(n)
        if jacobi(w, n) == -1:
            break
    n_inv = invert(n, sk.phi)
    dp, dq = n_inv % (p - 1), n_inv % (q - 1)
    xs, as_, bs, zs = [], [], [], []
    for y in _challenges(ctx, n, w):
        if gcd(y, n) != 1:
            raise ProofError(NAME, "challenge shares a factor with N")
        for a, b in ((0, 0), (1, 0), (0, 1), (1, 1)):
            yy = y * (w if b else 1) * (-1 if a else 1) % n
            if jacobi(yy, p) == 1 and jacobi(yy, q) == 1:
                break
        xs.append(crt(_fourth_root_mod(yy % p, p), p, _fourth_root_mod(yy % q, q), q))
        as_.append(a)
        bs.append(b)
        zs.append(crt(powmod_secret(y % p, dp, p), p, powmod_secret(y % q, dq, q), q))
    return ModProof(w, tuple(xs), tuple(as_), tuple(bs), tuple(zs))


def verify(ctx: ProofContext, pk: PaillierPublicKey, proof: ModProof) -> None:
    require(isinstance(proof, ModProof), NAME, "not a mod proof")
    n = pk.n
    require(n % 2 == 1, NAME, "N is even")
    require(not is_prime(n), NAME, "N is prime")
    require(len(proof.x) == len(proof.a) == len(proof.b) == len(proof.z) == REPETITIONS, NAME, "wrong count")
    require(0 < proof.w < n and jacobi(proof.w, n) == -1, NAME, "w must have Jacobi symbol -1")
    ys = _challenges(ctx, n, proof.w)
    for y, x, a, b, z in zip(ys, proof.x, proof.a, proof.b, proof.z, strict=True):
        require(0 <= x < n and 0 <= z < n, NAME, "x or z out of range")
        require(a in (0, 1) and b in (0, 1), NAME, "a, b must be bits")
        require(powmod(z, n, n) == y, NAME, "z^N != y")
        target = y * (proof.w if b else 1) * (-1 if a else 1) % n
        require(powmod(x, 4, n) == target, NAME, "x^4 != (-1)^a w^b y")
