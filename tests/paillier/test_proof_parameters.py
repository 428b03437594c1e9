"""Issue 15 items 4 and 5, crypto side: 128 repetitions for Π^mod / Π^prm, exactly 2048-bit moduli, moduli
that share a factor across parties found, and distinct labels for the two MtA answers of one request."""

from __future__ import annotations

import secrets

import gmpy2
import pytest

from signer.crypto import mta
from signer.crypto.paillier import (
    MODULUS_BITS,
    PaillierError,
    PaillierPublicKey,
    shared_factor_pairs,
    validate_modulus,
)
from signer.crypto.ringpedersen import RingPedersenError, RingPedersenParams
from signer.crypto.secp256k1 import ORDER, base_mul, random_scalar
from signer.crypto.zk import mod, prm
from signer.crypto.zk.base import REPETITIONS, ProofContext, ProofError
from signer.protocols.base import DecodeError

CTX = ProofContext(b"parameters", 1, 2)


# --- item 4: m = 128 -----------------------------------------------------------------------------------


def _proof_with_80_repetitions(monkeypatch, module, make):
    """An honest proof made by a prover that uses the paper's m = 80 (as tss-lib does)."""
    with monkeypatch.context() as m:
        m.setattr(module, "REPETITIONS", 80)
        return make()


@pytest.mark.parametrize("which", ["mod", "prm"])
def test_proof_with_80_repetitions_is_refused(monkeypatch, alice, which):
    assert REPETITIONS == 128
    if which == "mod":
        module, statement = mod, alice.paillier.public
        proof = _proof_with_80_repetitions(monkeypatch, mod, lambda: mod.prove(CTX, alice.paillier))
    else:
        module, statement = prm, alice.ring_pedersen.public
        proof = _proof_with_80_repetitions(monkeypatch, prm, lambda: prm.prove(CTX, alice.ring_pedersen))
    with pytest.raises(ProofError, match="wrong count"):
        module.verify(CTX, statement, proof)
    with pytest.raises(DecodeError, match="exactly 128 repetitions"):
        type(proof).from_bytes(proof.to_bytes())
    # the same prover at m = 128 is accepted
    good = mod.prove(CTX, alice.paillier) if which == "mod" else prm.prove(CTX, alice.ring_pedersen)
    module.verify(CTX, statement, type(good).from_bytes(good.to_bytes()))


# --- item 5: exactly 2048-bit N and Ñ ------------------------------------------------------------------


def _modulus(bits: int) -> int:
    """A product of two random primes of bits/2 bits each with the top bits set: exactly `bits` long."""
    half = bits // 2
    p, q = (int(gmpy2.next_prime(secrets.randbits(half) | (3 << (half - 2)))) for _ in range(2))
    assert (p * q).bit_length() == bits
    return p * q


@pytest.mark.parametrize("bits", [3072, 4096])
def test_longer_moduli_refused_for_paillier_and_ring_pedersen(bits):
    n = _modulus(bits)
    with pytest.raises(PaillierError, match=f"longer than {MODULUS_BITS} bits"):
        validate_modulus(n)
    with pytest.raises(PaillierError, match="longer than 2048 bits"):
        PaillierPublicKey.from_bytes(n.to_bytes(bits // 8, "big"))
    s, t = pow(5, 2, n), pow(7, 2, n)
    with pytest.raises(RingPedersenError, match="ring-Pedersen modulus: modulus longer than 2048 bits"):
        RingPedersenParams(n, s, t)
    encoded = RingPedersenParams.__new__(RingPedersenParams)
    object.__setattr__(encoded, "n", n)
    object.__setattr__(encoded, "s", s)
    object.__setattr__(encoded, "t", t)
    with pytest.raises(RingPedersenError, match="longer than 2048 bits"):
        RingPedersenParams.from_bytes(encoded.to_bytes())


def test_size_is_checked_before_anything_else():
    """An even (or prime) 4096-bit number is refused for its size: the cheap check bounds all later work."""
    with pytest.raises(PaillierError, match="longer than 2048 bits"):
        validate_modulus(1 << 4095)
    with pytest.raises(PaillierError, match="longer than 2048 bits"):
        validate_modulus(int(gmpy2.next_prime(1 << 4095)))


def test_the_2048_bit_moduli_of_the_fixtures_pass(preparams):
    for pp in preparams:
        validate_modulus(pp.paillier.n)
        pp.ring_pedersen.public.validate()


# --- item 5: moduli compared across parties ------------------------------------------------------------


def _session_moduli(preparams) -> dict[tuple[str, int], int]:
    moduli = {}
    for k, pp in enumerate(preparams[:3], start=1):
        moduli[("N", k)] = int(pp.paillier.n)
        moduli[("Ñ", k)] = int(pp.ring_pedersen.n)
    return moduli


def test_honest_moduli_are_pairwise_coprime(preparams):
    assert shared_factor_pairs(_session_moduli(preparams)) == []


def test_ring_pedersen_modulus_sharing_a_factor_with_another_partys_n_is_found(preparams):
    moduli = _session_moduli(preparams)
    # party 3's Ñ reuses a prime of party 1's Paillier N (it would know N_1's factorisation)
    moduli[("Ñ", 3)] = int(preparams[0].paillier.p) * int(preparams[3].paillier.q)
    assert shared_factor_pairs(moduli) == [(("N", 1), ("Ñ", 3))]
    # a party copying another's modulus outright
    moduli = _session_moduli(preparams)
    moduli[("Ñ", 2)] = moduli[("N", 1)]
    assert shared_factor_pairs(moduli) == [(("N", 1), ("Ñ", 2))]


# --- item 5: the two MtA answers of one request carry distinct labels -----------------------------------


def test_mta_answers_bound_to_their_own_labels(alice, bob):
    k, gamma, w = random_scalar(), random_scalar(), random_scalar()
    K, rho = mta.encrypt_share(alice.paillier, k)
    sid, labels = b"two-mta", (b"gg20/presign/mta-gamma", b"gg20/presign/mta-w")
    req = mta.request(sid, 1, 2, b"gg20/presign/mta", alice.paillier, bob.ring_pedersen.public, k, K, rho)
    args = (sid, 1, 2, b"gg20/presign/mta", alice.paillier.public, alice.ring_pedersen.public)
    (resp_g, beta), (resp_w, beta_hat) = mta.respond_many(
        *args, bob.paillier, bob.ring_pedersen, req, (gamma, w), answer_labels=labels
    )
    finish = (sid, 1, 2)
    rest = (alice.paillier, alice.ring_pedersen, bob.paillier.public, K)
    alpha = mta.finish(*finish, labels[0], *rest, resp_g)
    alpha_hat = mta.finish(*finish, labels[1], *rest, resp_w, expected_X=base_mul(w))
    assert (alpha + beta) % ORDER == k * gamma % ORDER
    assert (alpha_hat + beta_hat) % ORDER == k * w % ORDER
    # an answer made for one instance does not verify as the other's, even with the right public point
    with pytest.raises(ProofError, match="affg"):
        mta.finish(*finish, labels[1], *rest, resp_g)
    with pytest.raises(ProofError, match="affg"):
        mta.finish(*finish, labels[0], *rest, resp_w, expected_X=base_mul(w))
    for bad in ((labels[0],), (labels[0], labels[0])):
        with pytest.raises(ValueError, match="one distinct label per value"):
            mta.respond_many(*args, bob.paillier, bob.ring_pedersen, req, (gamma, w), answer_labels=bad)
