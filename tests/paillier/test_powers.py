"""bigint.fixed_base_powers (Π^prm's verifier) and shortest_exponent (the owners' CRT shortcuts) compute
exactly what GMP's powmod computes, on the window edges and for signed exponents."""

from __future__ import annotations

import secrets

import gmpy2
import pytest

from signer.crypto.bigint import FIXED_BASE_WINDOW, fixed_base_powers, mpz, random_signed, random_unit


def test_fixed_base_powers_agree_with_powmod_on_window_edges(alice):
    n, t = alice.ring_pedersen.n, alice.ring_pedersen.public.t
    w = FIXED_BASE_WINDOW
    exps = [mpz(0), mpz(1), mpz((1 << w) - 1), mpz(1 << w), mpz((1 << (2 * w)) + 1), n - 1, n + 12345]
    exps += [mpz(secrets.randbits(b)) for b in (3, 64, 2047, 2048, 2049)]
    assert fixed_base_powers(t, exps, n) == [gmpy2.powmod(t, e, n) for e in exps]
    assert fixed_base_powers(t, [], n) == []
    with pytest.raises(ValueError):
        fixed_base_powers(t, [mpz(-1)], n)


def test_crt_shortcuts_agree_with_powmod_for_signed_exponents(alice):
    sk, rp = alice.paillier, alice.ring_pedersen
    c = random_unit(sk.n2)
    b = random_unit(rp.n)
    for bound in (1 << 256, 1 << 768, sk.n2):  # short ones stay short (negative: an inverse), long ones reduced
        for e in (random_signed(bound), -bound, bound):
            assert sk.pow_n2(c, e) == gmpy2.powmod(c, e, sk.n2)
            assert rp.pow(b, e) == gmpy2.powmod(b, e, rp.n)
    assert sk.pow_n2(c, sk.n) == gmpy2.powmod(c, sk.n, sk.n2)  # the nonce_power path
