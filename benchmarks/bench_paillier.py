"""Paillier, safe-prime and pre-parameter benchmarks (N = 2048 bits), with python-paillier as reference.

`paillier.encrypt` is public-key encryption with a fresh nonce (what Bob does with Alice's key: one
r^N mod N² exponentiation); `paillier.encrypt.crt` is the key owner's CRT encryption (what Alice does
for Enc(k)). `paillier.decrypt` is CRT decryption. The `.ref` entries are python-paillier (`phe`, which
uses gmpy2) raw_encrypt / raw_decrypt on the same key and plaintext sizes, without its float encoding.
Key material comes from the committed fixtures (tests/paillier/fixtures/preparams.json).
"""

from __future__ import annotations

import secrets
import statistics
import time
from pathlib import Path

import phe

from benchmarks.harness import Result, entry, percentile
from signer.crypto import zk
from signer.crypto.preparams import generate_preparams, load_fixture_preparams
from signer.crypto.primes import generate_safe_prime
from signer.crypto.zk import mod, prm

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "paillier" / "fixtures" / "preparams.json"
SAFE_PRIME_RUNS = 40


def _key():
    return load_fixture_preparams(FIXTURES)[0].paillier


@entry("primes.safe1024", note="one 1024-bit safe prime: joint sieve of q and 2q+1, Fermat, 32-round MR on q")
def safe1024():
    for _ in range(2):
        generate_safe_prime(1024)
    samples = []
    for _ in range(SAFE_PRIME_RUNS):
        t0 = time.perf_counter()
        generate_safe_prime(1024)
        samples.append((time.perf_counter() - t0) * 1000.0)
    med = statistics.median(samples)
    q1, q3 = statistics.quantiles(samples, n=4)[0], statistics.quantiles(samples, n=4)[2]
    note = (
        f"{SAFE_PRIME_RUNS} runs; spread min {min(samples):.0f} / q1 {q1:.0f} / q3 {q3:.0f} / "
        f"max {max(samples):.0f} ms; random search, so the spread is wide"
    )
    return Result(med, percentile(samples, 99), len(samples), 1000.0 / med, note)


@entry(
    "preparams.2048",
    note="4 safe primes (Paillier N and ring-Pedersen Ñ, 2048 bits each), the Π^prm commitments made with them, "
    "+ Π^mod and Π^prm proofs",
    min_runs=3,
    warmup=0,
)
def preparams_2048():
    ctx = zk.ProofContext(b"bench-preparams", 1)

    def op():
        pre = generate_preparams()
        mod.prove(ctx, pre.paillier)
        prm.prove(ctx, pre.ring_pedersen, pre.take_prm_commitments())

    return op


@entry("paillier.encrypt", note="N=2048, public key, fresh nonce r in Z*_N, r^N mod N^2 with gmpy2")
def encrypt():
    pk = _key().public
    m = secrets.randbelow(int(pk.n))
    return lambda: pk.encrypt(m)


@entry("paillier.encrypt.crt", note="N=2048, key owner's encryption, r^N by CRT over p^2 and q^2")
def encrypt_crt():
    sk = _key()
    m = secrets.randbelow(int(sk.n))
    return lambda: sk.encrypt(m)


@entry("paillier.decrypt", note="N=2048, CRT decryption with precomputed h_p, h_q")
def decrypt():
    sk = _key()
    c, _ = sk.public.encrypt(secrets.randbelow(int(sk.n)))
    return lambda: sk.decrypt(c)


def _ref_keys():
    sk = _key()
    pub = phe.PaillierPublicKey(int(sk.n))
    return pub, phe.PaillierPrivateKey(pub, int(sk.p), int(sk.q))


@entry("paillier.encrypt.ref", note="python-paillier (phe) raw_encrypt with gmpy2, same N=2048 key")
def encrypt_ref():
    pub, _ = _ref_keys()
    m = secrets.randbelow(pub.n)
    return lambda: pub.raw_encrypt(m)


@entry("paillier.decrypt.ref", note="python-paillier (phe) raw_decrypt (CRT) with gmpy2, same N=2048 key")
def decrypt_ref():
    pub, priv = _ref_keys()
    c = pub.raw_encrypt(secrets.randbelow(pub.n))
    return lambda: priv.raw_decrypt(c)
