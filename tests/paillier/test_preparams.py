"""Pre-parameters: fixtures, versioned encoding, validation, ring-Pedersen."""

from __future__ import annotations

import struct

import pytest

from signer.crypto.bigint import int_to_bytes, powmod
from signer.crypto.preparams import MODULUS_BITS, PreParams, PreParamsError, generate_preparams
from signer.crypto.primes import Cancelled
from signer.crypto.ringpedersen import RingPedersenError, RingPedersenParams, generate_ring_pedersen
from signer.crypto.zk import prm
from signer.crypto.zk.base import ProofContext
from signer.protocols.gg20 import Gg20KeygenSession


def test_fixtures_are_distinct_and_sized(preparams):
    assert len(preparams) >= 6
    moduli = set()
    for pp in preparams:
        assert pp.paillier.n.bit_length() == MODULUS_BITS
        assert pp.ring_pedersen.n.bit_length() == MODULUS_BITS
        moduli |= {int(pp.paillier.n), int(pp.ring_pedersen.n)}
        rp = pp.ring_pedersen.public
        assert powmod(rp.t, pp.ring_pedersen.lam, rp.n) == rp.s
    assert len(moduli) == 2 * len(preparams)


def test_round_trip(alice):
    data = alice.to_bytes()
    again = PreParams.from_bytes(data)
    assert again.to_bytes() == data
    assert again.paillier.n == alice.paillier.n and again.ring_pedersen.public == alice.ring_pedersen.public


def _fields(data: bytes) -> list[bytes]:
    pos, out = 6, []
    while pos < len(data):
        (ln,) = struct.unpack(">H", data[pos : pos + 2])
        out.append(data[pos + 2 : pos + 2 + ln])
        pos += 2 + ln
    return out


def _build(fields: list[bytes], version: int = 1) -> bytes:
    return b"MPCPP" + bytes([version]) + b"".join(struct.pack(">H", len(f)) + f for f in fields)


def test_decoder_rejects(alice, bob):
    data = alice.to_bytes()
    f = _fields(data)
    assert _build(f) == data
    bad = [
        data[:-1],
        data + b"\x00",
        _build(f, version=2),
        b"XXXXX" + data[5:],
        _build(f[:5]),
        _build([f[0], f[0], *f[2:]]),  # p == q
        _build([f[0], _fields(bob.to_bytes())[0][:-1] + b"\x01", *f[2:]]),  # not a safe prime
        _build([*f[:4], (int.from_bytes(f[2], "big") * int.from_bytes(f[3], "big")).to_bytes(256, "big"), f[5]]),
        _build([b"\x00" + f[0], *f[1:]]),  # non-minimal
    ]
    for b in bad:
        with pytest.raises(PreParamsError):
            PreParams.from_bytes(b)


def test_secrets_redacted(alice):
    for text in (repr(alice), str(alice), repr(alice.ring_pedersen), repr(alice.paillier)):
        assert str(alice.paillier.p)[:30] not in text and str(alice.ring_pedersen.lam)[:30] not in text


def test_generate_is_cancellable():
    with pytest.raises(Cancelled):
        generate_preparams(should_stop=lambda: True)


def test_ring_pedersen_params(alice, bob):
    rp = alice.ring_pedersen.public
    assert RingPedersenParams.from_bytes(rp.to_bytes()) == rp
    assert rp.commit(3, 4) == powmod(rp.s, 3, rp.n) * powmod(rp.t, 4, rp.n) % rp.n
    with pytest.raises(RingPedersenError):
        RingPedersenParams(rp.n + 1, rp.s, rp.t)  # even
    with pytest.raises(RingPedersenError):
        RingPedersenParams(rp.n, rp.t, rp.t)
    with pytest.raises(RingPedersenError):
        RingPedersenParams(rp.n, 1, rp.t)
    with pytest.raises(RingPedersenError):
        RingPedersenParams(rp.n, rp.s, alice.ring_pedersen.p)  # not a unit
    with pytest.raises(RingPedersenError):
        RingPedersenParams.from_bytes(rp.to_bytes() + b"\x00")
    secret = generate_ring_pedersen(bob.ring_pedersen.p, bob.ring_pedersen.q)
    assert powmod(secret.public.t, secret.lam, secret.n) == secret.public.s
    with pytest.raises(RingPedersenError):
        generate_ring_pedersen(bob.ring_pedersen.p, bob.ring_pedersen.p)


def test_prm_commitments_made_with_the_set_prove_once_then_are_gone(alice):
    """A set made in the background carries its Π^prm commitments (version 2); the proof from them verifies;
    they are handed out once, and the set encoded afterwards (a version-1 set, as old blobs) has none."""
    rp = alice.ring_pedersen
    made = PreParams.with_commitments(alice.paillier, rp, prm.commit(rp, rp.phi))
    blob = made.to_bytes()
    assert blob[5] == 2 and PreParams.from_bytes(alice.to_bytes()).take_prm_commitments() is None  # v1 still reads
    pre = PreParams.from_bytes(blob)
    commitments = pre.take_prm_commitments()
    assert commitments is not None and commitments.A == made.take_prm_commitments().A
    ctx = ProofContext(b"prm-precomputed", 1)
    proof = prm.prove(ctx, rp, commitments)
    assert proof.A == commitments.A
    prm.verify(ctx, rp.public, proof)
    assert pre.take_prm_commitments() is None  # a second proof from this set cannot reuse them ...
    again = prm.prove(ctx, rp, pre.take_prm_commitments())
    prm.verify(ctx, rp.public, again)
    assert not set(again.A) & set(proof.A)  # ... it makes fresh ones
    assert pre.to_bytes() == alice.to_bytes()  # and re-encoding cannot bring them back


def test_a_keygen_consumes_the_sets_prm_commitments(alice):
    rp = alice.ring_pedersen
    pre = PreParams.with_commitments(alice.paillier, rp, prm.commit(rp, rp.phi))
    A = pre._prm[0].A
    out = Gg20KeygenSession("keygen-prm-precomputed", 1, 2, (1, 2), pre).start()
    assert pre.take_prm_commitments() is None
    assert all(int_to_bytes(a) in out[0].payload for a in A)  # the round-1 broadcast's Π^prm uses them


def test_decoder_rejects_bad_prm_commitments(alice):
    rp = alice.ring_pedersen
    c = prm.commit(rp, rp.phi)
    keys = _fields(alice.to_bytes())
    pairs = [int_to_bytes(v) for pair in zip(c.a, c.A, strict=True) for v in pair]

    def v2(count: int, fields: list[bytes]) -> bytes:
        return _build(keys, version=2) + struct.pack(">H", count) + _build(fields)[6:]

    assert v2(128, pairs) == PreParams.with_commitments(alice.paillier, rp, c).to_bytes()
    for bad in (
        v2(127, pairs[:-2]),  # m is 128
        v2(128, pairs[:-2]),  # one pair short
        v2(128, [*pairs[:-1], int_to_bytes(rp.n)]),  # an A_i must be below Ñ
        v2(128, [int_to_bytes(rp.phi), *pairs[1:]]),  # an a_i must be below φ(Ñ)
    ):
        with pytest.raises(PreParamsError):
            PreParams.from_bytes(bad)
