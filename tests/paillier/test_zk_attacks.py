"""The attacks the proofs exist for, run as a cheating prover would: each must be rejected.

- BitForge (CVE-2023-33241): a Paillier modulus with many small factors -> Π^fac rejects it.
- A modulus that is not Paillier–Blum (three primes) -> Π^mod rejects it.
- Ring-Pedersen parameters with s outside <t> -> Π^prm rejects them.
- Alpha-Rays / out-of-range MtA inputs -> Π^enc and Π^aff-g reject them.
"""

from __future__ import annotations

import math
import secrets

import pytest

from signer.crypto.bigint import crt, gcd, invert, jacobi, mpz, powmod, random_below, random_unit
from signer.crypto.paillier import PaillierPublicKey
from signer.crypto.ringpedersen import RingPedersenParams
from signer.crypto.secp256k1 import ORDER, base_mul, random_scalar
from signer.crypto.zk import affg, enc, fac, mod, prm
from signer.crypto.zk.base import ELL, ELL_PRIME, EPSILON, REPETITIONS, ProofContext, ProofError

CTX = ProofContext(b"attack-session", 1, 2)


# --- BitForge: small factors ---------------------------------------------------------------------------


def test_small_factor_modulus_rejected_by_fac(attack_moduli, alice, bob):
    small = [int(p) for p in attack_moduli["small_factor"]["small_primes"]]
    big = int(attack_moduli["small_factor"]["large_prime"])
    s = math.prod(small)
    n = s * big
    pk = PaillierPublicKey(n)  # passes the outside-the-proof checks: odd, composite, >= 2048 bits
    rp = bob.ring_pedersen.public
    # every split a cheater could claim: p = a product of small primes, q = the rest
    splits = [(s, big), (s // small[0], small[0] * big), (small[0], n // small[0]), (1, n)]
    for p, q in splits:
        assert p * q == n
        proof = fac.prove_with(CTX, n, p, q, rp)
        with pytest.raises(ProofError, match="out of range"):
            fac.verify(CTX, pk, rp, proof)
    # the honest modulus of the fixtures passes
    fac.verify(CTX, alice.paillier.public, rp, fac.prove(CTX, alice.paillier, rp))


# --- non-Blum modulus ----------------------------------------------------------------------------------


def _cheating_mod_proof(ctx: ProofContext, primes: list[int]) -> mod.ModProof:
    """A prover that knows the factors of a 3-prime N and tries its best to answer Π^mod's challenges."""
    n = math.prod(primes)
    phi = math.prod(p - 1 for p in primes)
    while True:
        w = random_below(n)
        if jacobi(w, n) == -1:
            break
    n_inv = invert(n, phi)
    xs, as_, bs, zs = [], [], [], []
    for y in mod._challenges(ctx, n, w):
        best = (0, 0, mpz(1))
        for a, b in ((0, 0), (1, 0), (0, 1), (1, 1)):
            yy = y * (w if b else 1) * (-1 if a else 1) % n
            if all(jacobi(yy, p) == 1 for p in primes):
                root = mpz(0)
                modulus = mpz(1)
                for p in primes:
                    e = (p + 1) // 4
                    rp = powmod(yy % p, e * e % (p - 1), p)
                    root = crt(root, modulus, rp, p) if modulus > 1 else rp
                    modulus *= p
                best = (a, b, root)
                break
        as_.append(best[0])
        bs.append(best[1])
        xs.append(best[2])
        zs.append(powmod(y, n_inv, n))  # z_i is easy for anyone who knows phi(N)
    return mod.ModProof(w, tuple(xs), tuple(as_), tuple(bs), tuple(zs))


def test_three_prime_modulus_rejected_by_mod(attack_moduli):
    primes = [int(p) for p in attack_moduli["three_primes"]]
    assert all(p % 4 == 3 for p in primes)
    n = math.prod(primes)
    pk = PaillierPublicKey(n)
    proof = _cheating_mod_proof(CTX, primes)
    # the cheater gets z right, but for about 1/2 of the challenges no 4th root exists
    with pytest.raises(ProofError, match="x\\^4"):
        mod.verify(CTX, pk, proof)


def test_non_blum_witness_refused_and_forged_w_rejected(alice):
    sk = alice.paillier
    honest = mod.prove(CTX, sk)
    # w with Jacobi symbol +1 (e.g. a square) is rejected outright
    forged = mod.ModProof(honest.w * honest.w % sk.n, honest.x, honest.a, honest.b, honest.z)
    with pytest.raises(ProofError, match="Jacobi"):
        mod.verify(CTX, sk.public, forged)

    class NotBlum:
        p, q, n, phi = mpz(13), sk.q, sk.n, sk.phi  # p = 1 mod 4

    with pytest.raises(ValueError):
        mod.prove(CTX, NotBlum())  # type: ignore[arg-type]


# --- ring-Pedersen with s outside <t> ------------------------------------------------------------------


def test_s_outside_t_rejected_by_prm(alice):
    secret = alice.ring_pedersen
    n, t = secret.n, secret.public.t
    while True:  # Jacobi(s, N) = -1: not a square, so not in <t> (t is a square)
        s = random_unit(n)
        if jacobi(s, n) == -1:
            break
    rp = RingPedersenParams(int(n), int(s), int(t))
    # a cheater without a discrete log: a random "lambda"
    proof = prm.prove_with(CTX, rp, random_below(secret.phi), secret.phi)
    with pytest.raises(ProofError, match="t\\^z"):
        prm.verify(CTX, rp, proof)
    # a cheater guessing each challenge bit: A_i = t^z_i (bet e_i = 0) or t^z_i / s (bet e_i = 1)
    zs = [random_below(n) for _ in range(REPETITIONS)]
    bets = [secrets.randbelow(2) for _ in range(REPETITIONS)]
    s_inv = invert(s, n)
    A = tuple(powmod(t, z, n) * (s_inv if bet else 1) % n for z, bet in zip(zs, bets, strict=True))
    with pytest.raises(ProofError):
        prm.verify(CTX, rp, prm.PrmProof(A, tuple(mpz(z) for z in zs)))


def test_prm_catches_one_bad_repetition_that_small_exponent_batching_would_pass(alice, monkeypatch):
    """s' = −t^λ lies outside <t> only by the order-2 factor −1. A cheater who guessed every challenge bit
    but one (simulated: the transcript's bits are set to its bets with one flipped) is off by exactly −1
    in that repetition. The per-repetition check refuses it; the small-exponent batch check
    t^(Σρz) = ΠA^ρ · s'^(Σρe) accepts it whenever that repetition's ρ is even — why prm.verify does not batch."""
    secret = alice.ring_pedersen
    n, t = secret.n, secret.public.t
    s_bad = n - secret.public.s
    rp = RingPedersenParams(int(n), int(s_bad), int(t))
    a = [random_below(secret.phi) for _ in range(REPETITIONS)]
    bets = [secrets.randbelow(2) for _ in range(REPETITIONS)]
    A = tuple(((n - 1) if bet else 1) * powmod(t, ai, n) % n for ai, bet in zip(a, bets, strict=True))
    es = list(bets)
    es[17] ^= 1
    z = tuple(mpz((ai + e * secret.lam) % secret.phi) for ai, e in zip(a, es, strict=True))
    monkeypatch.setattr(prm, "_challenges", lambda *_: es)
    with pytest.raises(ProofError, match="t\\^z"):
        prm.verify(CTX, rp, prm.PrmProof(A, z))
    rho = [secrets.randbits(64) for _ in range(REPETITIONS)]
    rho[17] &= ~1
    lhs = powmod(t, sum(r * zi for r, zi in zip(rho, z, strict=True)), n)
    rhs = powmod(s_bad, sum(r * e for r, e in zip(rho, es, strict=True)), n)
    for Ai, r in zip(A, rho, strict=True):
        rhs = rhs * powmod(Ai, r, n) % n
    assert lhs == rhs


# --- out-of-range MtA inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("k_kind", ["half_n", "just_above", "negative_huge"])
def test_out_of_range_plaintext_rejected_by_enc(alice, bob, k_kind):
    sk, rp = alice.paillier, bob.ring_pedersen.public
    n = sk.n
    k = {
        "half_n": n // 2,
        "just_above": (1 << (ELL + EPSILON)) + (1 << (ELL + EPSILON - 1)),
        "negative_huge": -(n // 3),
    }[k_kind]
    K, rho = sk.encrypt(k % n)
    proof = enc.prove(CTX, sk, rp, K, k, rho)
    with pytest.raises(ProofError, match="out of range"):
        enc.verify(CTX, sk.public, rp, K, proof)
    # and the same K with an honest in-range k verifies
    k_ok = random_scalar()
    K_ok, rho_ok = sk.encrypt(k_ok)
    enc.verify(CTX, sk.public, rp, K_ok, enc.prove(CTX, sk, rp, K_ok, k_ok, rho_ok))


@pytest.mark.parametrize("which", ["x", "y"])
def test_out_of_range_affine_inputs_rejected_by_affg(alice, bob, which):
    a_sk, a_pk, a_rp = alice.paillier, alice.paillier.public, alice.ring_pedersen.public
    b_sk = bob.paillier
    k = random_scalar()
    K, _ = a_sk.encrypt(k)
    x = random_scalar()
    y = -(random_scalar() << (ELL_PRIME - 256))
    if which == "x":
        x = x + ORDER * (1 << (ELL + EPSILON))  # same point x·G, plaintext far out of ±2^ℓ
    else:
        y = 1 << (ELL_PRIME + EPSILON + 64)  # Bob's additive share out of ±2^ℓ'
    rho = random_unit(a_pk.n)
    D = a_pk.mul_const(K, x) * a_pk.encrypt_with(y % a_pk.n, rho) % a_pk.n2
    Y, rho_y = b_sk.encrypt(y % b_sk.n)
    X = base_mul(x)
    proof = affg.prove(CTX, a_pk, b_sk, a_rp, K, D, Y, X, x, y, rho, rho_y)
    with pytest.raises(ProofError, match="out of range"):
        affg.verify(CTX, a_pk, b_sk.public, a_rp, K, D, Y, X, proof)


def test_unit_checks_on_statement(alice, bob):
    sk, rp = alice.paillier, bob.ring_pedersen.public
    k = random_scalar()
    K, rho = sk.encrypt(k)
    proof = enc.prove(CTX, sk, rp, K, k, rho)
    for bad_K in (0, sk.p, sk.public.n2):
        assert bad_K == 0 or gcd(bad_K, sk.n) != 1 or bad_K >= sk.public.n2
        with pytest.raises(ProofError, match="not a unit"):
            enc.verify(CTX, sk.public, rp, bad_K, proof)
