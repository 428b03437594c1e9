"""Feldman VSS over Ed25519: shares interpolate to the secret, commitments catch bad shares."""

import itertools

import pytest

from signer.crypto import vss
from signer.crypto.ed25519 import ED25519 as G
from signer.crypto.ed25519 import L


def test_shares_interpolate_to_secret_for_every_subset() -> None:
    secret = G.random_scalar()
    poly = vss.Polynomial.random(G, secret, degree=2)
    shares = {j: vss.share_for(poly, j) for j in range(1, 6)}
    for subset in itertools.combinations(range(1, 6), 3):
        got = sum(vss.lagrange_at_zero(j, subset, L) * shares[j] for j in subset) % L
        assert got == secret
    # Two shares of a degree-2 polynomial do not determine the secret.
    two = (1, 2)
    assert sum(vss.lagrange_at_zero(j, two, L) * shares[j] for j in two) % L != secret


def test_verify_share_and_exponent_interpolation() -> None:
    poly = vss.Polynomial.random(G, G.random_scalar(), degree=1)
    commitments = poly.commit(G)
    assert commitments[0] == G.base_mul(poly.constant)
    for j in (1, 2, 3):
        s = vss.share_for(poly, j)
        assert vss.verify_share(G, commitments, j, s)
        assert vss.evaluate_commitments(G, commitments, j) == G.base_mul(s)
        assert not vss.verify_share(G, commitments, j, s + 1)
        assert not vss.verify_share(G, commitments, j + 1, s)


def test_sum_commitments_commits_to_summed_polynomial() -> None:
    polys = [vss.Polynomial.random(G, G.random_scalar(), degree=2) for _ in range(3)]
    summed = vss.sum_commitments(G, [p.commit(G) for p in polys])
    for j in (1, 4):
        total = sum(vss.share_for(p, j) for p in polys) % L
        assert vss.verify_share(G, summed, j, total)
    with pytest.raises(ValueError):
        vss.sum_commitments(G, [polys[0].commit(G), polys[1].commit(G)[:2]])


def test_input_validation_and_redaction() -> None:
    poly = vss.Polynomial([5, 7], L)
    assert "5" not in repr(poly) and "redacted" in repr(poly)
    with pytest.raises(ValueError):
        vss.share_for(poly, 0)
    with pytest.raises(ValueError):
        vss.lagrange_at_zero(1, (1, 1, 2), L)
    with pytest.raises(ValueError):
        vss.lagrange_at_zero(3, (1, 2), L)
    with pytest.raises(ValueError):
        vss.Polynomial([], L)
