"""GG20 reshare 2-of-2 -> 2-of-3: the key and chain code stay, party 3 joins with its own auxiliary keys,
every pair of the three presigns and signs (checked by coincurve and `ecdsa`); a lying dealer is named."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signer.crypto.secp256k1 import ORDER, base_mul
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.vss import Polynomial
from signer.protocols.base import DecodeError, Outgoing, ProtocolError
from signer.protocols.gg20 import Gg20ReshareSession, key_share_info
from signer.protocols.gg20 import messages as m
from signer.protocols.gg20.keyshare import Gg20KeyShare
from tests.support.driver import run
from tests.support.mutate import mutate

from .conftest import assert_valid_signature, digest_of, presign_and_sign, secret_of

NEW = (1, 2, 3)
FRESH = 3  # pre-parameter sets 3..5 for parties 1..3 (0 and 1 are the 2-of-2 key's)
VERSION = 3  # the version the holders' stores give the 2-of-2 key in the `reshared` run


def _sessions(
    old: dict[int, bytes], preparams, sid: str, public_key: dict[int, bytes] | None = None, key_version: int = 1
) -> dict:
    """Every party of the reshare; `public_key` gives some new parties the key they expect; the holders
    state `key_version`."""
    expect = public_key or {}
    return {
        i: Gg20ReshareSession(
            sid, i, old.get(i), (1, 2), 2, NEW, preparams[FRESH + i - 1], expect.get(i), key_version=key_version
        )
        for i in NEW
    }


@pytest.fixture(scope="module")
def captured() -> dict[tuple[int, int], bytes]:
    """The first payload of each kind each party sent in the `reshared` run, by (sender, kind)."""
    return {}


@pytest.fixture(scope="module")
def learned() -> dict[int, int]:
    """The key version each party's session said the `reshared` run started from (`from_version`)."""
    return {}


@pytest.fixture(scope="module")
def reshared(keys, preparams, captured, learned) -> tuple[dict[int, bytes], dict[int, bytes]]:
    old = {i: s.result.key_share for i, s in keys[(2, 2)].items()}
    sessions = _sessions(old, preparams, "reshare-2-to-3", key_version=VERSION)

    def spy(frm: int, to: int, msg: Outgoing) -> bytes:
        captured.setdefault((frm, msg.payload[0]), msg.payload)
        return msg.payload

    assert run(sessions, spy) == {}
    assert all(s.pending == s.result for s in sessions.values())
    learned.update({i: s.result.from_version for i, s in sessions.items()} | {0: sessions[3].from_version})
    return old, {i: s.result.key_share for i, s in sessions.items()}


def test_reshare_keeps_the_key_and_every_pair_reconstructs_it(reshared, preparams) -> None:
    old, new = reshared
    before = key_share_info(old[1])
    shares = {i: Gg20KeyShare.decode(s) for i, s in new.items()}
    for i in NEW:
        info = key_share_info(new[i])
        assert (info.threshold, info.parties, info.party_index) == (2, NEW, i)
        assert (info.public_key, info.chain_code) == (before.public_key, before.chain_code)
        assert shares[i].public_shares[i] == base_mul(shares[i].secret_share)
        for j in NEW:
            assert shares[i].paillier[j] == preparams[FRESH + j - 1].paillier.public
    secret = secret_of({i: Gg20KeyShare.decode(s) for i, s in old.items()})
    for pair in itertools.combinations(NEW, 2):
        assert secret_of({i: shares[i] for i in pair}) == secret
    assert base_mul(secret).encode() == before.public_key


def test_the_joining_party_learns_the_key_version_from_the_quorum(reshared, learned, captured) -> None:
    # Party 3 holds no share and no stored version: the quorum's packages are its only source, so it
    # records VERSION + 1 like the holders (issue 17 follow-up).
    assert learned == {0: VERSION, 1: VERSION, 2: VERSION, 3: VERSION}
    for dealer in (1, 2):
        commit = m.ReshareCommit.decode(captured[(dealer, m.KIND_RESHARE_COMMIT)])
        assert commit.old is not None and commit.old.key_version == VERSION
    assert m.ReshareCommit.decode(captured[(3, m.KIND_RESHARE_COMMIT)]).old is None
    version_1 = captured[(1, m.KIND_RESHARE_COMMIT)][:1] + b"\x01" + captured[(1, m.KIND_RESHARE_COMMIT)][2:]
    with pytest.raises(DecodeError, match="unsupported version"):  # an old package without its version
        m.ReshareCommit.decode(version_1)


@pytest.mark.parametrize("signers", list(itertools.combinations(NEW, 2)))
def test_every_pair_of_the_new_set_presigns_and_signs(reshared, signers) -> None:
    old, new = reshared
    digest = digest_of(f"pay after reshare {signers}")
    failures, result = presign_and_sign(new, signers, digest, f"reshared-{signers}")
    assert failures == {}
    assert_valid_signature(result, digest, key_share_info(old[1]).public_key)


class _ShiftingDealer(Gg20ReshareSession):
    """A lying dealer: it shares λ_1·x_1 + 1, committing to C_1.. as if its constant were the right one."""

    def _polynomial(self) -> Polynomial:
        return Polynomial.random(GROUP, (self._constant() + 1) % ORDER, self.threshold - 1)


def test_dealer_sharing_the_wrong_constant_is_named(keys, preparams) -> None:
    old = {i: s.result.key_share for i, s in keys[(2, 2)].items()}
    sessions = _sessions(old, preparams, "reshare-shifted")
    sessions[1] = _ShiftingDealer("reshare-shifted", 1, old[1], (1, 2), 2, NEW, preparams[FRESH])
    failures = run(sessions)
    for honest in (2, 3):
        assert isinstance(failures[honest], ProtocolError) and failures[honest].culprits == (1,)
        assert "inconsistent with its commitments" in str(failures[honest])
        assert sessions[honest].pending is None


def test_new_party_checks_the_expected_public_key(keys, preparams) -> None:
    old = {i: s.result.key_share for i, s in keys[(2, 2)].items()}
    other = key_share_info(keys[(2, 3)][1].result.key_share).public_key
    sessions = _sessions(old, preparams, "reshare-wrong-key", public_key={3: other})
    failures = run(sessions)
    assert "not the expected public key" in str(failures[3]) and failures[3].culprits == ()


def test_constructor_refuses_bad_arguments(keys, preparams) -> None:
    share = keys[(2, 2)][1].result.key_share
    with pytest.raises(ValueError, match="leaving dealer"):
        Gg20ReshareSession("s", 1, share, (1, 2), 2, (1, 3), preparams[FRESH])
    with pytest.raises(ValueError, match="bring its key share"):
        Gg20ReshareSession("s", 1, None, (1, 2), 2, NEW, preparams[FRESH])
    with pytest.raises(ValueError, match="at least the key's threshold"):
        Gg20ReshareSession("s", 1, share, (1,), 2, NEW, preparams[FRESH])
    with pytest.raises(ValueError, match="fresh"):
        Gg20ReshareSession("s", 1, share, (1, 2), 2, NEW, preparams[0])
    with pytest.raises(ValueError, match="public_key"):
        Gg20ReshareSession("s", 3, None, (1, 2), 2, NEW, preparams[FRESH], public_key=b"\x02" + b"\x00" * 32)
    with pytest.raises(ValueError, match="key_version"):
        Gg20ReshareSession("s", 1, share, (1, 2), 2, NEW, preparams[FRESH], key_version=0)


def test_replacing_a_party_in_two_reshares(reshared, preparams) -> None:
    # 2-of-2 {1, 2} -> party 2 replaced by party 3: first add party 3 (the `reshared` 2-of-3), then reshare
    # from the quorum {1, 3} to the 2-of-2 {1, 3}; party 2 takes no part and its share is worth nothing.
    old, added = reshared
    shrink = {
        i: Gg20ReshareSession("reshare-shrink", i, added[i], (1, 3), 2, (1, 3), preparams[6 + k])
        for k, i in enumerate((1, 3))
    }
    assert run(shrink) == {}
    final = {i: s.result.key_share for i, s in shrink.items()}
    assert {key_share_info(s).parties for s in final.values()} == {(1, 3)}
    digest = digest_of("pay after replacing party 2")
    failures, result = presign_and_sign(final, (1, 3), digest, "replaced")
    assert failures == {}
    assert_valid_signature(result, digest, key_share_info(old[1]).public_key)
    secret = secret_of({i: Gg20KeyShare.decode(s) for i, s in old.items()})
    leaver = Gg20KeyShare.decode(added[2])
    for stayer in (1, 3):
        assert secret_of({stayer: Gg20KeyShare.decode(final[stayer]), 2: leaver}) != secret


def _decoders(captured) -> dict[tuple[int, int], Callable[[bytes], object]]:
    """Every refresh and reshare payload kind, from a dealer (1) and a new party (3); a refresh round-1
    message is built around party 1's keygen part (no refresh run needed)."""
    keygen_part = m.ReshareCommit.decode(captured[(1, m.KIND_RESHARE_COMMIT)]).keygen
    captured[(1, m.KIND_REFRESH_COMMIT)] = m.RefreshCommit(b"\x07" * m.FINGERPRINT_LEN, keygen_part).encode()
    return {
        (1, m.KIND_REFRESH_COMMIT): m.RefreshCommit.decode,
        (1, m.KIND_RESHARE_COMMIT): m.ReshareCommit.decode,
        (3, m.KIND_RESHARE_COMMIT): m.ReshareCommit.decode,
        (1, m.KIND_REFRESH_OPENING): lambda d: m.RefreshOpening.decode(d, 2),
        (3, m.KIND_KEYGEN_SHARE): m.KeygenShare.decode,
        (1, m.KIND_REFRESH_CONFIRM): m.RefreshConfirm.decode,
    }


def test_captured_messages_round_trip(reshared, captured) -> None:
    decoders = _decoders(captured)
    assert m.ReshareCommit.decode(captured[(1, m.KIND_RESHARE_COMMIT)]).old is not None
    assert m.ReshareCommit.decode(captured[(3, m.KIND_RESHARE_COMMIT)]).old is None
    for key, decode in decoders.items():
        msg = decode(captured[key])
        assert msg.encode() == captured[key], key


@given(data=st.data())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150, deadline=None)
def test_mutated_messages_raise_only_decode_error(reshared, captured, data) -> None:
    decoders = _decoders(captured)
    key = data.draw(st.sampled_from(sorted(decoders)))
    how, payload = mutate(data, captured[key])
    try:
        decoders[key](payload)
    except DecodeError:
        return
    # a flipped byte or a splice may land on a still-valid value (a salt, a point); nothing else may pass
    assert how in ("flip", "splice"), f"{how} of {key} was accepted"
