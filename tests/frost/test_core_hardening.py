"""RFC 9591 core rules enforced by `core` itself, not only by the session layer (issue 15 item 7)."""

from __future__ import annotations

import inspect

import pytest
from nacl.signing import VerifyKey

from signer.crypto import vss
from signer.protocols.frost import core
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512 as SUITE

G = SUITE.group
MSG = b"core hardening"


def _key(threshold: int = 2, parties: tuple[int, ...] = (1, 2, 3)):
    poly = vss.Polynomial.random(G, G.random_scalar(), threshold - 1)
    pk = G.base_mul(poly.constant)
    packages = {
        i: core.KeyPackage(i, vss.share_for(poly, i), G.base_mul(vss.share_for(poly, i)), pk, threshold)
        for i in parties
    }
    return pk, packages


def test_sign_refuses_fewer_commitments_than_the_threshold() -> None:
    pk, packages = _key(threshold=2)
    nonces = core.commit(SUITE, packages[1].signing_share)
    ctx = core.signing_context(SUITE, pk, {1: nonces.commitments}, MSG)
    with pytest.raises(ValueError, match="1 signing participants, fewer than the threshold 2"):
        core.sign(SUITE, packages[1], nonces, ctx)
    assert not nonces.used  # refused before the nonces were consumed


def test_sign_with_the_threshold_gives_a_valid_signature() -> None:
    pk, packages = _key(threshold=2)
    nonces = {i: core.commit(SUITE, packages[i].signing_share) for i in (1, 3)}
    ctx = core.signing_context(SUITE, pk, {i: n.commitments for i, n in nonces.items()}, MSG)
    shares = {i: core.sign(SUITE, packages[i], n, ctx) for i, n in nonces.items()}
    signature = core.aggregate(SUITE, shares, ctx)
    VerifyKey(pk).verify(MSG, signature)  # libsodium, independent of the node's own verifier


def test_commit_takes_no_caller_randomness() -> None:
    share = G.random_scalar()
    assert list(inspect.signature(core.commit).parameters) == ["suite", "signing_share"]
    with pytest.raises(TypeError):
        core.commit(SUITE, share, bytes(32), bytes(32))  # type: ignore[call-arg]
    assert core.commit(SUITE, share).commitments != core.commit(SUITE, share).commitments
    # the test-vector path is deterministic in its randomness, which is why node code must never use it
    fixed = (bytes(range(32)), bytes(range(32, 64)))
    assert (
        core.commit_with_randomness(SUITE, share, *fixed).commitments
        == core.commit_with_randomness(SUITE, share, *fixed).commitments
    )
