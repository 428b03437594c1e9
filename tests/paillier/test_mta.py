"""MtA / MtAwc: α + β = k·x mod q through real Paillier, proofs checked on both sides, attacks rejected."""

from __future__ import annotations

import dataclasses

import pytest

from signer.crypto import mta
from signer.crypto.bigint import random_unit
from signer.crypto.errors import DecodeError
from signer.crypto.secp256k1 import GENERATOR, ORDER, base_mul, random_scalar
from signer.crypto.zk import affg, enc
from signer.crypto.zk.base import ELL_PRIME, EPSILON, ProofContext, ProofError

SID = b"mta-session"


def run(alice, bob, k, x, label=b"mta-w", expected_X=None):
    """One MtA; each verifier uses its own ring-Pedersen secret (the CRT path)."""
    A, B = alice, bob
    K, rho = mta.encrypt_share(A.paillier, k)
    req = mta.request(SID, 1, 2, label, A.paillier, B.ring_pedersen.public, k, K, rho)
    req = mta.MtaRequest.from_bytes(req.to_bytes())
    resp, beta = mta.respond(
        SID, 1, 2, label, A.paillier.public, A.ring_pedersen.public, B.paillier, B.ring_pedersen, req, x
    )
    resp = mta.MtaResponse.from_bytes(resp.to_bytes())
    alpha = mta.finish(SID, 1, 2, label, A.paillier, A.ring_pedersen, B.paillier.public, K, resp, expected_X)
    return K, req, resp, alpha, beta


def test_mta_and_mtawc_correct(alice, bob):
    for _ in range(2):
        k, x = random_scalar(), random_scalar()
        _, _, resp, alpha, beta = run(alice, bob, k, x, expected_X=base_mul(x))
        assert (alpha + beta) % ORDER == k * x % ORDER
        assert resp.X == base_mul(x)
    k, x = ORDER - 1, ORDER - 1  # edge scalars
    _, _, _, alpha, beta = run(alice, bob, k, x)
    assert (alpha + beta) % ORDER == k * x % ORDER


def test_mtawc_wrong_public_point_rejected(alice, bob):
    k, x = random_scalar(), random_scalar()
    with pytest.raises(ProofError, match="expected public point"):
        run(alice, bob, k, x, expected_X=base_mul(x) + GENERATOR)


def test_one_encryption_serves_several_bobs(preparams):
    alice, bobs = preparams[0], preparams[1:3]
    k = random_scalar()
    K, rho = mta.encrypt_share(alice.paillier, k)
    for j, bob in enumerate(bobs, start=2):
        x = random_scalar()
        req = mta.request(SID, 1, j, b"g", alice.paillier, bob.ring_pedersen.public, k, K, rho)
        resp, beta = mta.respond(
            SID,
            1,
            j,
            b"g",
            alice.paillier.public,
            alice.ring_pedersen.public,
            bob.paillier,
            bob.ring_pedersen.public,
            req,
            x,
        )
        alpha = mta.finish(SID, 1, j, b"g", alice.paillier, alice.ring_pedersen.public, bob.paillier.public, K, resp)
        assert (alpha + beta) % ORDER == k * x % ORDER
    # a request made for Bob 2 is refused by Bob 3 (its Π^enc is bound to the verifier)
    req2 = mta.request(SID, 1, 2, b"g", alice.paillier, bobs[0].ring_pedersen.public, k, K, rho)
    with pytest.raises(ProofError):
        mta.respond(
            SID,
            1,
            3,
            b"g",
            alice.paillier.public,
            alice.ring_pedersen.public,
            bobs[1].paillier,
            bobs[1].ring_pedersen.public,
            req2,
            random_scalar(),
        )


def test_bob_rejects_out_of_range_k(alice, bob):
    """Alpha-Rays / BitForge: Alice's plaintext far outside ±2^ℓ is caught by Π^enc before Bob answers."""
    sk = alice.paillier
    k_bad = sk.n // 2
    K, rho = sk.encrypt(k_bad)
    proof = enc.prove(ProofContext(SID, 1, 2, b"w"), sk, bob.ring_pedersen.public, K, k_bad, rho)
    with pytest.raises(ProofError, match="out of range"):
        mta.respond(
            SID,
            1,
            2,
            b"w",
            sk.public,
            alice.ring_pedersen.public,
            bob.paillier,
            bob.ring_pedersen.public,
            mta.MtaRequest(K, proof),
            random_scalar(),
        )


def test_alice_rejects_out_of_range_beta_and_tampering(alice, bob):
    a_sk, a_pk, a_rp, b_sk = alice.paillier, alice.paillier.public, alice.ring_pedersen.public, bob.paillier
    k, x = random_scalar(), random_scalar()
    K, rho = mta.encrypt_share(a_sk, k)
    # Bob cheats with an additive term far outside ±2^ℓ' (the proof is still "honestly" computed)
    y = 1 << (ELL_PRIME + EPSILON + 100)
    rho_d = random_unit(a_pk.n)
    D = a_pk.mul_const(K, x) * a_pk.encrypt_with(y % a_pk.n, rho_d) % a_pk.n2
    Y, rho_y = b_sk.encrypt(y % b_sk.n)
    X = base_mul(x)
    proof = affg.prove(ProofContext(SID, 2, 1, b"w"), a_pk, b_sk, a_rp, K, D, Y, X, x, y, rho_d, rho_y)
    with pytest.raises(ProofError, match="out of range"):
        mta.finish(SID, 1, 2, b"w", a_sk, a_rp, b_sk.public, K, mta.MtaResponse(D, Y, X, proof))
    # an honest response with D swapped for another ciphertext is rejected
    _, _, resp, _, _ = run(alice, bob, k, x, label=b"w")
    bad = dataclasses.replace(resp, D=resp.D * (1 + a_pk.n) % a_pk.n2)
    with pytest.raises(ProofError):
        mta.finish(SID, 1, 2, b"w", a_sk, a_rp, b_sk.public, K, bad)
    # and a response replayed under another label (the other MtA of the session) is rejected
    with pytest.raises(ProofError):
        mta.finish(SID, 1, 2, b"other", a_sk, a_rp, b_sk.public, K, resp)


def test_scalar_inputs_validated(alice, bob):
    with pytest.raises(ValueError):
        mta.encrypt_share(alice.paillier, 0)
    with pytest.raises(ValueError):
        mta.encrypt_share(alice.paillier, ORDER)


def test_message_decoding_rejects_garbage(alice, bob):
    k, x = random_scalar(), random_scalar()
    _, req, resp, _, _ = run(alice, bob, k, x)
    for cls, data in ((mta.MtaRequest, req.to_bytes()), (mta.MtaResponse, resp.to_bytes())):
        for bad in (data[:-1], data + b"\x00", b"\x00" + data[1:]):
            with pytest.raises(DecodeError):
                cls.from_bytes(bad)
