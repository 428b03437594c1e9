"""Paillier: round trips, homomorphisms, edge values, range checks; cross-checked with python-paillier."""

from __future__ import annotations

import secrets

import gmpy2
import phe
import pytest

from signer.crypto.paillier import (
    MODULUS_BITS,
    PaillierError,
    PaillierPublicKey,
    PaillierSecretKey,
    to_signed,
    validate_modulus,
)


@pytest.fixture(scope="module")
def sk(alice):
    return alice.paillier


def test_round_trip_random_and_edges(sk):
    pk = sk.public
    for m in [0, 1, 2, pk.n - 1, pk.n - 2, pk.n // 2, *(secrets.randbelow(int(pk.n)) for _ in range(5))]:
        c, r = pk.encrypt(m)
        assert sk.decrypt(c) == m
        assert pk.encrypt_with(m, r) == c
        assert sk.encrypt_with(m, r) == c  # CRT encryption gives the same ciphertext
        c2, _ = sk.encrypt(m)
        assert sk.decrypt(c2) == m and c2 != c


def test_homomorphisms(sk):
    pk = sk.public
    n = pk.n
    for m1, m2, k in [(5, 7, 3), (n - 1, 1, n - 1), (0, n - 1, -1), (secrets.randbelow(int(n)), 12345, -(2**300))]:
        c1, _ = pk.encrypt(m1)
        c2, _ = pk.encrypt(m2)
        assert sk.decrypt(pk.add(c1, c2)) == (m1 + m2) % n
        assert sk.decrypt(pk.mul_const(c1, k)) == (k * m1) % n
    c, _ = pk.encrypt(5)
    assert sk.decrypt_signed(pk.mul_const(c, -3)) == -15
    assert to_signed(n - 1, n) == -1 and to_signed(n // 2, n) == n // 2


def test_out_of_range_inputs_raise(sk):
    pk = sk.public
    n = pk.n
    for bad_m in (-1, n, n + 5):
        with pytest.raises(PaillierError):
            pk.encrypt(bad_m)
        with pytest.raises(PaillierError):
            sk.encrypt(bad_m)
    for bad_r in (0, n, sk.p, n + 1):
        with pytest.raises(PaillierError):
            pk.encrypt_with(1, bad_r)
    for bad_c in (0, pk.n2, pk.n2 + 1, sk.p * 7, n):
        with pytest.raises(PaillierError):
            sk.decrypt(bad_c)
        with pytest.raises(PaillierError):
            pk.add(bad_c, 1 + n)
        with pytest.raises(PaillierError):
            pk.mul_const(bad_c, 2)


def test_modulus_checks(sk, preparams):
    p, q = sk.p, sk.q
    validate_modulus(p * q)
    with pytest.raises(PaillierError, match="even"):
        PaillierPublicKey(p * q + 1)
    big_prime = int(gmpy2.next_prime(p * q))
    with pytest.raises(PaillierError, match="prime"):
        PaillierPublicKey(big_prime)
    with pytest.raises(PaillierError, match="shorter"):
        PaillierPublicKey(p * 3)
    with pytest.raises(PaillierError, match="shorter"):
        PaillierPublicKey((1 << (MODULUS_BITS - 1)) - 1)
    with pytest.raises(PaillierError):
        PaillierSecretKey(p, p)


def test_serialization(sk):
    pk = sk.public
    assert PaillierPublicKey.from_bytes(pk.to_bytes()) == pk
    with pytest.raises(PaillierError):
        PaillierPublicKey.from_bytes(b"\x00" + pk.to_bytes())
    with pytest.raises(PaillierError):
        PaillierPublicKey.from_bytes(b"")


def test_secrets_redacted(sk):
    for text in (repr(sk), str(sk)):
        assert str(sk.p) not in text and str(sk.q) not in text and hex(sk.p)[2:20] not in text


def test_interoperates_with_python_paillier(sk):
    """phe (g = n + 1) decrypts our ciphertexts and we decrypt its ciphertexts."""
    ref_pub = phe.PaillierPublicKey(int(sk.n))
    ref_priv = phe.PaillierPrivateKey(ref_pub, int(sk.p), int(sk.q))
    m = secrets.randbelow(2**200)
    c, _ = sk.public.encrypt(m)
    assert ref_priv.raw_decrypt(int(c)) == m
    c_ref = ref_pub.raw_encrypt(m)
    assert sk.decrypt(c_ref) == m


def test_nonce_recovers_the_encryption_randomness(sk):
    pk = sk.public
    for m in (0, 1, pk.n - 1, secrets.randbelow(pk.n)):
        c, r = pk.encrypt(m)
        assert sk.nonce(c) == r
        assert pk.encrypt_with(m, sk.nonce(c)) == c
    with pytest.raises(PaillierError):
        sk.nonce(pk.n2)
