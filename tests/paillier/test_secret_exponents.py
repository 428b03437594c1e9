"""Every exponentiation whose exponent is a secret goes through bigint.powmod_secret (GMP's mpz_powm_sec).

How: the fast `powmod` of each crypto module is wrapped to record its exponents while a key owner decrypts,
recovers a nonce, encrypts by CRT, and while each prover runs; every recorded exponent must be public —
a modulus N or Ñ, a small constant, or a Fiat–Shamir challenge (recorded from the proof's own `_challenge`).
The real powmod still computes every value, so the operations are checked for correctness too.
"""

from __future__ import annotations

import gmpy2
import pytest

from signer.crypto import bigint, mta, paillier, ringpedersen
from signer.crypto.bigint import mpz, powmod, powmod_secret, random_unit
from signer.crypto.ringpedersen import RingPedersenSecret
from signer.crypto.secp256k1 import base_mul, random_scalar
from signer.crypto.zk import affg, enc, fac, logstar, mod, prm
from signer.crypto.zk.base import ProofContext

CTX = ProofContext(b"secret-exponents", 1, 2)
# fac has no fast powmod left; prm's verifier uses bigint.fixed_base_powers (public z_i), its prover pow_secret
FAST_POWMOD_USERS = (paillier, ringpedersen, enc, affg, logstar, mod)
CHALLENGERS = (enc, affg, logstar, fac)


@pytest.fixture
def public_exponents(monkeypatch, alice, bob):
    """(record, allowed): the exponents given to the fast powmod, and the public ones it may be given."""
    record: list[int] = []
    allowed: set[int] = {2, 4}
    for party in (alice, bob):
        allowed |= {int(party.paillier.n), int(party.ring_pedersen.n)}

    def spy_powmod(base, exp, m):
        record.append(int(exp))
        return powmod(base, exp, m)

    for module in FAST_POWMOD_USERS:
        monkeypatch.setattr(module, "powmod", spy_powmod)
    for module in CHALLENGERS:
        real = module._challenge

        def spy_challenge(*args, _real=real):
            e = _real(*args)
            allowed.add(int(e))
            return e

        monkeypatch.setattr(module, "_challenge", spy_challenge)
    return record, allowed


def _assert_public(public_exponents) -> None:
    record, allowed = public_exponents
    secret = [e for e in record if e not in allowed]
    assert not secret, f"{len(secret)} secret exponent(s) went through the variable-time powmod"


def test_key_owner_operations_use_the_constant_time_path(public_exponents, alice):
    sk = alice.paillier
    rebuilt = paillier.PaillierSecretKey(sk.p, sk.q)  # h_p, h_q: (1+N)^(p-1) mod p²
    m = random_scalar()
    c, r = rebuilt.encrypt(m)  # r^N by CRT with the exponent reduced mod p(p-1)
    assert c == sk.public.encrypt_with(m, r)  # the public path (exponent N) agrees
    assert rebuilt.decrypt(c) == m
    assert rebuilt.nonce(c) == r
    assert rebuilt.pow_n2(c, 12345) == gmpy2.powmod(c, 12345, sk.n2)
    x = random_scalar()
    assert rebuilt.decrypt(sk.public.mul_const_secret(c, x)) == m * x % sk.n
    _assert_public(public_exponents)


def test_ring_pedersen_owner_uses_the_constant_time_path(public_exponents, alice):
    rp = alice.ring_pedersen
    fresh = RingPedersenSecret(rp.p, rp.q, rp.lam, rp.t)  # s = t^λ computed again
    assert fresh.public == rp.public
    n, s, t = rp.n, rp.s, rp.t
    expected = gmpy2.powmod(s, 5, n) * gmpy2.powmod(t, 7, n) % n  # computed outside the spied modules
    assert fresh.commit(5, 7) == rp.public.commit_secret(5, 7) == expected
    assert rp.public.pow_secret(t, -3) == gmpy2.powmod(t, -3, n)
    _assert_public(public_exponents)


def test_provers_use_the_constant_time_path(public_exponents, alice, bob):
    mod.verify(CTX, alice.paillier.public, mod.prove(CTX, alice.paillier))
    prm_proof = prm.prove(CTX, alice.ring_pedersen)
    public_exponents[1].update(int(z) for z in prm_proof.z)  # a verifier's t^z_i: z_i is public once sent
    prm.verify(CTX, alice.ring_pedersen.public, prm_proof)
    fac.verify(CTX, alice.paillier.public, bob.ring_pedersen, fac.prove(CTX, alice.paillier, bob.ring_pedersen.public))
    x = random_scalar()
    C, rho = alice.paillier.encrypt(x)
    proof = logstar.prove(CTX, alice.paillier, bob.ring_pedersen.public, C, base_mul(x), x, rho)
    logstar.verify(CTX, alice.paillier.public, bob.ring_pedersen, C, base_mul(x), proof)
    # MtA: Π^enc (Alice), Π^aff-g and D = x ⊙ K (Bob), decryption (Alice)
    k = random_scalar()
    K, rho = mta.encrypt_share(alice.paillier, k)
    req = mta.request(b"s", 1, 2, b"l", alice.paillier, bob.ring_pedersen.public, k, K, rho)
    resp, beta = mta.respond(
        b"s", 1, 2, b"l", alice.paillier.public, alice.ring_pedersen.public, bob.paillier, bob.ring_pedersen, req, x
    )
    alpha = mta.finish(b"s", 1, 2, b"l", alice.paillier, alice.ring_pedersen, bob.paillier.public, K, resp)
    assert (alpha + beta) % mta.ORDER == k * x % mta.ORDER
    _assert_public(public_exponents)


@pytest.mark.parametrize("exp", [0, 1, 2, 65537, -1, -12345, (1 << 2047) + 1])
def test_powmod_secret_agrees_with_powmod(alice, exp):
    n = alice.paillier.n
    base = random_unit(n)
    assert powmod_secret(base, exp, n) == powmod(base, exp, n)
    assert powmod_secret(base, exp, n) == bigint.powmod_secret(mpz(base), mpz(exp), n)


def test_powmod_secret_needs_an_odd_modulus():
    with pytest.raises(ValueError, match="odd"):
        powmod_secret(3, 5, 16)
