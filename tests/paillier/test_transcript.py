"""The Fiat–Shamir transcript: unambiguous framing (hypothesis), binding, rejection-sampled challenges."""

from __future__ import annotations

import struct
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signer.crypto.secp256k1 import ORDER, base_mul
from signer.crypto.transcript import KIND_BYTES, KIND_INT, Transcript, frame, int_bytes

items = st.lists(
    st.tuples(st.sampled_from([KIND_BYTES, KIND_INT]), st.binary(max_size=12), st.binary(max_size=12)),
    max_size=6,
)


def parse(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """Decode a concatenation of frames; succeeds uniquely iff the framing is injective."""
    out, pos = [], 0
    while pos < len(data):
        kind = data[pos : pos + 1]
        (ll,) = struct.unpack(">I", data[pos + 1 : pos + 5])
        label = data[pos + 5 : pos + 5 + ll]
        pos += 5 + ll
        (vl,) = struct.unpack(">Q", data[pos : pos + 8])
        value = data[pos + 8 : pos + 8 + vl]
        pos += 8 + vl
        out.append((kind, label, value))
    return out


@given(items)
def test_framing_is_uniquely_decodable(seq):
    assert parse(b"".join(frame(k, lab, v) for k, lab, v in seq)) == seq


@given(items, items)
def test_different_sequences_never_collide(a, b):
    ea = b"".join(frame(k, lab, v) for k, lab, v in a)
    eb = b"".join(frame(k, lab, v) for k, lab, v in b)
    assert (ea == eb) == (a == b)


@given(st.integers(), st.integers())
def test_int_encoding_injective(x, y):
    assert (int_bytes(x) == int_bytes(y)) == (x == y)


def _challenge(appends) -> int:
    t = Transcript("test")
    for label, value in appends:
        t.append_bytes(label, value)
    return t.challenge_int("c", 1 << 256)


def test_shifted_boundaries_give_different_challenges():
    assert _challenge([("a", b"bc")]) != _challenge([("ab", b"c")])
    assert _challenge([("a", b"b"), ("c", b"")]) != _challenge([("a", b"bc")])
    assert _challenge([("a", b"x")]) == _challenge([("a", b"x")])


def test_domain_and_types_separate():
    t1, t2 = Transcript("d1"), Transcript("d2")
    assert t1.challenge_scalar("e") != t2.challenge_scalar("e")
    t3, t4 = Transcript("d"), Transcript("d")
    t3.append_int("v", 1)
    t4.append_bytes("v", int_bytes(1))
    assert t3.challenge_scalar("e") != t4.challenge_scalar("e")
    t5, t6 = Transcript("d"), Transcript("d")
    t5.append_ints("v", [1, 2])
    t6.append_ints("v", [12])
    assert t5.challenge_scalar("e") != t6.challenge_scalar("e")
    t7 = Transcript("d")
    t7.append_point("P", base_mul(3))
    assert 0 <= t7.challenge_scalar("e") < ORDER


def test_successive_challenges_differ_and_copy_is_independent():
    t = Transcript("d")
    c = t.copy()
    a = t.challenge_bytes("x", 32)
    assert t.challenge_bytes("x", 32) != a
    assert c.challenge_bytes("x", 32) == a


@pytest.mark.parametrize("bound", [1, 2, 3, 5, 2**64 + 1, ORDER, 2 * ORDER + 1])
def test_challenge_ints_in_range(bound):
    t = Transcript("range")
    vals = t.challenge_ints("v", bound, 200)
    assert len(vals) == 200 and all(0 <= v < bound for v in vals)


def test_rejection_sampling_is_unbiased():
    # bound 3 with 2-bit draws: modular reduction would give 0 twice as often as 2
    counts = Counter(Transcript("bias").challenge_ints("v", 3, 30000))
    for v in range(3):
        assert 9400 < counts[v] < 10600


def test_signed_challenge_and_bits():
    t = Transcript("s")
    vals = [t.challenge_signed("e", 5) for _ in range(300)]
    assert min(vals) == -5 and max(vals) == 5
    bits = t.challenge_bits("b", 80)
    assert len(bits) == 80 and set(bits) <= {0, 1} and 20 < sum(bits) < 60
    with pytest.raises(ValueError):
        t.challenge_int("c", 0)
