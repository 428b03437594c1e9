"""FROST refresh and reshare sessions with every party in memory: the group key never changes, the new
shares sign (checked by libsodium), old and new shares never mix, and a cheating dealer is named."""

import dataclasses
import functools
import itertools

import nacl.bindings as sodium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signer.crypto import e2e, vss
from signer.protocols.base import DecodeError, InboxKey, Outgoing, ProtocolError
from signer.protocols.frost import FrostRefreshSession, FrostReshareSession, lifecycle
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, SUITES, Ciphersuite
from signer.protocols.frost.keys import FrostKeyShare, key_share_info
from signer.protocols.frost.lifecycle import RETIRED, LifecycleRound1
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from tests.support import driver

SUITE_PARAMS = [pytest.param(s, id=type(s).__name__) for s in SUITES.values()]


def dkg(suite: Ciphersuite, t: int, parties: tuple[int, ...]) -> dict[int, bytes]:
    sessions = {i: FrostDkgSession("life-dkg", i, t, parties, suite) for i in parties}
    driver.run_ok(sessions)
    return {i: s.result.key_share for i, s in sessions.items()}


def refresh(shares: dict[int, bytes], sid: str = "life-refresh") -> dict[int, bytes]:
    sessions = {i: FrostRefreshSession(sid, i, s) for i, s in shares.items()}
    driver.run_ok(sessions)
    return {i: s.result.key_share for i, s in sessions.items()}


def reshare_sessions(
    shares: dict[int, bytes], quorum: tuple[int, ...], t: int, new: tuple[int, ...], suite: Ciphersuite
) -> dict[int, FrostReshareSession]:
    return {
        i: FrostReshareSession("life-reshare", i, shares.get(i), quorum, t, new, suite=suite)
        for i in sorted(set(quorum) | set(new))
    }


def reshare(
    shares: dict[int, bytes], quorum: tuple[int, ...], t: int, new: tuple[int, ...], suite: Ciphersuite
) -> dict[int, bytes]:
    sessions = reshare_sessions(shares, quorum, t, new, suite)
    driver.run_ok(sessions)
    public_keys = {s.result.public_key for s in sessions.values()}
    assert public_keys == {key_share_info(next(iter(shares.values()))).public_key}
    return {i: s.result.key_share for i, s in sessions.items()}


def signing_share(share: bytes) -> int:
    return FrostKeyShare.decode(share).key_package.signing_share


def interpolate(suite: Ciphersuite, points: dict[int, int]) -> int:
    order = suite.group.order
    return sum(vss.lagrange_at_zero(i, sorted(points), order) * y for i, y in points.items()) % order


def sign(shares: dict[int, bytes], signers: tuple[int, ...], message: bytes) -> bytes:
    sessions = {i: FrostSignSession("life-sign", i, shares[i], message, signers) for i in signers}
    driver.run_ok(sessions)
    signatures = {s.result.signature for s in sessions.values()}
    assert len(signatures) == 1
    return signatures.pop()


def assert_verifies(suite: Ciphersuite, public_key: bytes, message: bytes, signature: bytes) -> None:
    if suite is FROST_ED25519_SHA512:  # independent RFC 8032 verification by libsodium
        assert sodium.crypto_sign_open(signature + message, public_key) == message
    assert suite.verify(suite.group.decode_point(public_key), message, signature)


def assert_every_quorum_signs(suite: Ciphersuite, shares: dict[int, bytes]) -> None:
    info = key_share_info(next(iter(shares.values())))
    for signers in itertools.combinations(sorted(shares), info.threshold):
        message = f"after the change, {signers} pay".encode()
        assert_verifies(suite, info.public_key, message, sign(shares, signers, message))


def assert_no_result(sessions: dict) -> None:
    for s in sessions.values():
        with pytest.raises(ProtocolError):
            _ = s.result


# --- refresh -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITE_PARAMS)
@pytest.mark.parametrize(("t", "n"), [(2, 2), (2, 3), (3, 4)])
def test_refresh_keeps_the_key_and_the_new_shares_sign(suite: Ciphersuite, t: int, n: int) -> None:
    parties = tuple(range(1, n + 1))
    old = dkg(suite, t, parties)
    new = refresh(old)
    for i in parties:
        before, after = key_share_info(old[i]), key_share_info(new[i])
        assert after == before  # same parties, threshold, index and group key
        assert signing_share(new[i]) != signing_share(old[i])
        assert (
            FrostKeyShare.decode(new[i]).public.verifying_shares != FrostKeyShare.decode(old[i]).public.verifying_shares
        )
    secret = interpolate(suite, {i: signing_share(old[i]) for i in parties[:t]})
    assert interpolate(suite, {i: signing_share(new[i]) for i in parties[-t:]}) == secret
    assert_every_quorum_signs(suite, new)
    assert_every_quorum_signs(suite, refresh(new, "life-refresh-2"))  # refreshing again works too


@pytest.mark.parametrize("suite", SUITE_PARAMS)
def test_refresh_old_and_new_shares_do_not_mix(suite: Ciphersuite) -> None:
    old = dkg(suite, 2, (1, 2))
    new = refresh(old)
    secret = interpolate(suite, {1: signing_share(old[1]), 2: signing_share(old[2])})
    assert interpolate(suite, {1: signing_share(old[1]), 2: signing_share(new[2])}) != secret
    assert interpolate(suite, {1: signing_share(new[1]), 2: signing_share(old[2])}) != secret
    # A signing with party 1 on its old share and party 2 on its new one: each names the other.
    mixed = {1: old[1], 2: new[2]}
    sessions = {i: FrostSignSession("life-mixed", i, mixed[i], b"mixed", (1, 2)) for i in (1, 2)}
    errors = driver.run(sessions)
    assert errors[1].culprits == (2,) and errors[2].culprits == (1,)
    assert_no_result(sessions)


def _lying_refresh_dealer(session: FrostRefreshSession, constant: int) -> None:
    """Make `session` deal a sharing of `constant` (not zero) while sending C_1.. as if it were zero."""
    g = session.suite.group

    def deal():
        poly = vss.Polynomial.random(g, constant, session.threshold - 1)
        return poly, tuple(poly.commit(g)[1:])

    session._deal = deal  # type: ignore[method-assign]


@pytest.mark.parametrize("suite", SUITE_PARAMS)
def test_refresh_dealer_sharing_a_non_zero_constant_is_named(suite: Ciphersuite) -> None:
    old = dkg(suite, 2, (1, 2, 3))
    sessions = {i: FrostRefreshSession("life-refresh", i, s) for i, s in old.items()}
    _lying_refresh_dealer(sessions[2], 12345)
    errors = driver.run(sessions)
    assert errors[1].culprits == errors[3].culprits == (2,)
    assert "does not match its commitments" in str(errors[1])
    assert_no_result(sessions)


def _reseal(sessions: dict, sender: int, recipient: int, payload: bytes, rewrite) -> bytes:
    """Open `sender`'s sealed share for `recipient`, rewrite the scalar and seal it again with the sender's
    real key: the payload authenticates, only the share is wrong."""
    s, r = sessions[sender], sessions[recipient]
    g = s.suite.group
    sealed = lifecycle.LifecycleShare.decode(s.suite, payload).sealed_share
    share = g.decode_scalar(r._e2e.open(s._e2e.public, sealed, r._context(sender, recipient)))
    resealed = s._e2e.seal(r._e2e.public, g.encode_scalar(rewrite(share)), s._context(sender, recipient))
    return lifecycle.LifecycleShare(resealed).encode(s.suite)


@pytest.mark.parametrize("operation", ["refresh", "reshare"])
def test_share_not_matching_commitments_is_named(operation: str) -> None:
    suite = FROST_ED25519_SHA512
    old = dkg(suite, 2, (1, 2))
    if operation == "refresh":
        sessions: dict = {i: FrostRefreshSession("life-refresh", i, s) for i, s in old.items()}
    else:
        sessions = reshare_sessions(old, (1, 2), 2, (1, 2, 3), suite)

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes:
        if frm == 2 and to == 1 and msg.round == lifecycle.SHARE_ROUND:
            return _reseal(sessions, 2, 1, msg.payload, lambda x: x + 1)
        return msg.payload

    errors = driver.run(sessions, tamper)
    assert errors[1].culprits == (2,)
    assert_no_result(sessions)


def test_share_tampered_in_transit_is_refused() -> None:
    old = dkg(FROST_ED25519_SHA512, 2, (1, 2))
    sessions = {i: FrostRefreshSession("life-refresh", i, s) for i, s in old.items()}

    def flip(frm: int, to: int, msg: Outgoing) -> bytes:
        if frm == 1 and msg.round == lifecycle.SHARE_ROUND:
            return msg.payload[:-1] + bytes([msg.payload[-1] ^ 1])
        return msg.payload

    errors = driver.run(sessions, flip)
    assert errors[2].culprits == (1,)
    assert_no_result(sessions)


@pytest.mark.parametrize("round_no", [1, 2, 3])
def test_malformed_payload_names_its_sender(round_no: int) -> None:
    old = dkg(FROST_ED25519_SHA512, 2, (1, 2))
    sessions = {i: FrostRefreshSession("life-refresh", i, s) for i, s in old.items()}

    def truncate(frm: int, to: int, msg: Outgoing) -> bytes:
        return msg.payload[:-1] if frm == 2 and msg.round == round_no else msg.payload

    errors = driver.run(sessions, truncate)
    assert isinstance(errors[1], DecodeError) and errors[1].culprits == (2,)
    # Until round 3 nobody has a result. A bad confirmation only stops its receiver: party 2 got party
    # 1's good one. That asymmetry is why the engine stores the result as pending before it confirms
    # (docs/lifecycle.md, commit rule).
    assert_no_result(sessions if round_no < 3 else {1: sessions[1]})


def test_equivocated_broadcast_is_caught_by_the_confirmation() -> None:
    # The relay shows party 3 a different (self-consistent) round-1 dealing from party 1 than party 2
    # sees; shares sealed to 3 no longer match, or the digests differ: nobody keeps a result.
    old = dkg(FROST_ED25519_SHA512, 2, (1, 2, 3))
    sessions = {i: FrostRefreshSession("life-refresh", i, s) for i, s in old.items()}
    suite = FROST_ED25519_SHA512
    g = suite.group

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes:
        if frm == 1 and to == 3 and msg.round == 1:
            m = LifecycleRound1.decode(suite, msg.payload, 1, with_old_public=True)
            other = vss.Polynomial.random(g, 0, 1).commit(g)[1:]
            return LifecycleRound1(m.e2e_public, tuple(other), m.old_public).encode(suite)
        return msg.payload

    errors = driver.run(sessions, tamper)
    assert errors  # party 3 finds party 1's share off the commitments it saw
    assert_no_result(sessions)


# --- reshare -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITE_PARAMS)
def test_reshare_2of2_to_2of3_every_pair_signs(suite: Ciphersuite) -> None:
    old = dkg(suite, 2, (1, 2))
    new = reshare(old, (1, 2), 2, (1, 2, 3), suite)
    pk = key_share_info(old[1]).public_key
    for i in (1, 2, 3):
        info = key_share_info(new[i])
        assert (info.threshold, info.parties, info.party_index, info.public_key) == (2, (1, 2, 3), i, pk)
    secret = interpolate(suite, {i: signing_share(old[i]) for i in (1, 2)})
    for pair in itertools.combinations((1, 2, 3), 2):
        assert interpolate(suite, {i: signing_share(new[i]) for i in pair}) == secret
    assert_every_quorum_signs(suite, new)


@pytest.mark.parametrize("suite", SUITE_PARAMS)
@pytest.mark.parametrize(("new_parties", "leaving"), [((1, 3), 2), ((2, 3), 1)])
def test_reshare_replacing_a_party(suite: Ciphersuite, new_parties: tuple[int, ...], leaving: int) -> None:
    old = dkg(suite, 2, (1, 2))
    new = reshare(old, (1, 2), 2, new_parties, suite)
    assert new[leaving] == RETIRED
    assert_every_quorum_signs(suite, {i: new[i] for i in new_parties})
    # The replaced party's old share is useless with the new shares: wrong secret, and the node refuses.
    stayer = next(i for i in new_parties if i != leaving and i in (1, 2))
    secret = interpolate(suite, {i: signing_share(old[i]) for i in (1, 2)})
    mixed = {stayer: signing_share(new[stayer]), leaving: signing_share(old[leaving])}
    assert interpolate(suite, mixed) != secret
    with pytest.raises(ValueError, match="hold a share"):
        FrostSignSession("life-sign", stayer, new[stayer], b"m", (1, 2))


@pytest.mark.parametrize("suite", SUITE_PARAMS)
def test_reshare_from_a_quorum_of_2of3_with_threshold_change(suite: Ciphersuite) -> None:
    # Parties 1 and 3 deal; party 2 holds an old share but only receives; the new key is 3-of-4.
    old = dkg(suite, 2, (1, 2, 3))
    new = reshare(old, (1, 3), 3, (1, 2, 3, 4), suite)
    assert {key_share_info(s).threshold for s in new.values()} == {3}
    assert_every_quorum_signs(suite, new)


def test_reshare_dealer_with_wrong_constant_term_is_named() -> None:
    suite = FROST_ED25519_SHA512
    old = dkg(suite, 2, (1, 2))
    sessions = reshare_sessions(old, (1, 2), 2, (1, 2, 3), suite)
    s1 = sessions[1]
    honest = s1._deal

    def deal():
        poly, _ = honest()
        shifted = vss.Polynomial.random(suite.group, poly.constant + 1, s1.threshold - 1)
        return shifted, tuple(shifted.commit(suite.group))

    s1._deal = deal  # type: ignore[method-assign]
    errors = driver.run(sessions)
    assert errors[2].culprits == errors[3].culprits == (1,)
    assert "wrong constant term" in str(errors[3])
    assert_no_result(sessions)


def test_reshare_dealer_sending_another_old_package() -> None:
    # Party 2 sends a package with its own verifying share swapped (a lie, or another version of the key).
    suite = FROST_ED25519_SHA512
    g = suite.group
    old = dkg(suite, 2, (1, 2))
    sessions = reshare_sessions(old, (1, 2), 2, (1, 2, 3), suite)

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes:
        if frm == 2 and msg.round == 1:
            m = LifecycleRound1.decode(suite, msg.payload, 2, with_old_public=True)
            assert m.old_public is not None
            shares = dict(m.old_public.verifying_shares) | {2: g.base_mul(7)}
            package = dataclasses.replace(m.old_public, verifying_shares=shares)
            return LifecycleRound1(m.e2e_public, m.commitments, package).encode(suite)
        return msg.payload

    errors = driver.run(sessions, tamper)
    # Party 1 knows the real package; a different one is not provably malice (it may be a stale version).
    assert "different version of the key" in str(errors[1]) and errors[1].culprits == ()
    assert "different old public key packages" in str(errors[3])  # party 3 cannot tell who is right
    assert_no_result(sessions)


def test_a_joining_party_learns_the_key_version_from_the_dealers() -> None:
    # Issue 17 follow-up: party 3 has no share and no store row, so only the dealers can tell it that the
    # key is at version 4; it then records 5 like the holders.
    suite = FROST_ED25519_SHA512
    old = dkg(suite, 2, (1, 2))
    sessions = {
        i: FrostReshareSession("life-reshare", i, old.get(i), (1, 2), 2, (1, 2, 3), suite=suite, key_version=4)
        for i in (1, 2, 3)
    }
    assert sessions[3].from_version == 0  # nothing learned before round 1
    driver.run_ok(sessions)
    assert {i: s.from_version for i, s in sessions.items()} == {1: 4, 2: 4, 3: 4}
    assert {i: s.result.from_version for i, s in sessions.items()} == {1: 4, 2: 4, 3: 4}
    assert_every_quorum_signs(suite, {i: s.result.key_share for i, s in sessions.items()})
    # The confirmed digest covers the stated version: the same transcript with 5 in place of 4 differs.
    joiner = sessions[3]
    digest = joiner.confirm_digest
    for dealer in (1, 2):
        sent = joiner._round1[dealer]
        assert sent.old_public is not None
        joiner._round1[dealer] = dataclasses.replace(
            sent, old_public=dataclasses.replace(sent.old_public, key_version=5)
        )
    assert joiner._transcript_digest() != digest


def test_dealers_stating_different_key_versions_stop_before_any_share() -> None:
    # Same shares, but the dealers' stores disagree on the version counter (4 and 5): the joining party
    # cannot know which to record, so nobody deals; no culprit (a stale counter is not provable malice).
    suite = FROST_ED25519_SHA512
    old = dkg(suite, 2, (1, 2))
    versions = {1: 4, 2: 5, 3: 1}
    sessions = {
        i: FrostReshareSession("life-reshare", i, old.get(i), (1, 2), 2, (1, 2, 3), suite=suite, key_version=v)
        for i, v in versions.items()
    }
    sent_shares: list[int] = []

    def watch(frm: int, to: int, msg: Outgoing) -> bytes:
        if msg.round == lifecycle.SHARE_ROUND:
            sent_shares.append(frm)
        return msg.payload

    errors = driver.run(sessions, watch)
    assert not sent_shares
    assert sorted(errors) == [1, 2, 3] and all(e.culprits == () for e in errors.values())
    assert "parties [2] started from a different version of the key" in str(errors[1])
    assert "different old public key packages" in str(errors[3])
    assert all(s.pending is None for s in sessions.values())
    assert_no_result(sessions)


def test_round1_old_package_states_a_key_version() -> None:
    # Version 2 of kind 0x14 carries the key version (u32) first in the old package; version 1 (without
    # it) and a version 0 are refused at decoding, so a joining party never records a guessed version.
    suite = FROST_ED25519_SHA512
    old = dkg(suite, 2, (1, 2))
    session = FrostReshareSession("life-reshare", 1, old[1], (1, 2), 2, (1, 2, 3), suite=suite, key_version=7)
    payload = session.start()[0].payload
    m = LifecycleRound1.decode(suite, payload, 2, with_old_public=True)
    assert m.old_public is not None and m.old_public.key_version == 7
    with pytest.raises(DecodeError, match="unsupported version"):
        LifecycleRound1.decode(suite, payload[:1] + b"\x01" + payload[2:], 2, with_old_public=True)
    zero = dataclasses.replace(m.old_public, key_version=0)
    with pytest.raises(DecodeError, match="at least 1"):
        LifecycleRound1.decode(suite, dataclasses.replace(m, old_public=zero).encode(suite), 2, with_old_public=True)
    with pytest.raises(ValueError, match="key_version"):
        FrostReshareSession("life-reshare", 1, old[1], (1, 2), 2, (1, 2, 3), suite=suite, key_version=0)


@pytest.mark.parametrize("operation", ["refresh", "reshare"])
def test_parties_on_different_key_versions_stop_at_round_one(operation: str) -> None:
    # Party 2 kept its previous version (say it lost the commit): nobody deals shares, nobody switches.
    suite = FROST_ED25519_SHA512
    v1 = dkg(suite, 2, (1, 2))
    v2 = refresh(v1)
    mixed = {1: v2[1], 2: v1[2]}
    if operation == "refresh":
        sessions: dict = {i: FrostRefreshSession("life-refresh", i, s) for i, s in mixed.items()}
    else:
        sessions = reshare_sessions(mixed, (1, 2), 2, (1, 2, 3), suite)
    sent_shares: list[int] = []

    def watch(frm: int, to: int, msg: Outgoing) -> bytes:
        if msg.round == lifecycle.SHARE_ROUND:
            sent_shares.append(frm)
        return msg.payload

    errors = driver.run(sessions, watch)
    assert not sent_shares
    assert all(e.culprits == () for e in errors.values())
    assert "different version of the key" in str(errors[1])
    assert_no_result(sessions)


def test_reshare_new_party_checks_the_expected_public_key() -> None:
    suite = FROST_ED25519_SHA512
    old = dkg(suite, 2, (1, 2))
    other_key = key_share_info(dkg(suite, 2, (1, 2))[1]).public_key
    sessions = reshare_sessions(old, (1, 2), 2, (1, 2, 3), suite)
    sessions[3] = FrostReshareSession("life-reshare", 3, None, (1, 2), 2, (1, 2, 3), public_key=other_key)
    errors = driver.run(sessions)
    assert "not the expected public key" in str(errors[3])
    assert_no_result(sessions)


# --- constructor checks --------------------------------------------------------------------------------


def test_constructor_validation() -> None:
    old = dkg(FROST_ED25519_SHA512, 2, (1, 2, 3))
    with pytest.raises(ValueError, match="party_index"):
        FrostRefreshSession("s", 2, old[1])
    with pytest.raises(ValueError, match="key share"):
        FrostRefreshSession("s", 1, old[1][:-1])
    with pytest.raises(ValueError, match="session_id"):
        FrostRefreshSession("", 1, old[1])
    with pytest.raises(ValueError, match="at least the key's threshold"):
        FrostReshareSession("s", 1, old[1], (1,), 2, (1, 2))
    with pytest.raises(ValueError, match="hold no share"):
        FrostReshareSession("s", 1, old[1], (1, 4), 2, (1, 2))
    with pytest.raises(ValueError, match="bring its key share"):
        FrostReshareSession("s", 1, None, (1, 2), 2, (1, 2))
    with pytest.raises(ValueError, match="one of old_parties or new_parties"):
        FrostReshareSession("s", 5, None, (1, 2), 2, (1, 2, 3))
    with pytest.raises(ValueError, match="new threshold"):
        FrostReshareSession("s", 1, old[1], (1, 2), 4, (1, 2, 3))
    with pytest.raises(ValueError, match="distinct"):
        FrostReshareSession("s", 1, old[1], (1, 2), 2, (1, 1, 3))
    with pytest.raises(ValueError, match="public_key"):
        FrostReshareSession("s", 4, None, (1, 2), 2, (1, 4), public_key=b"\x00" * 32)


# --- the commit rule's hooks ---------------------------------------------------------------------------


def test_pending_version_is_fixed_before_the_confirmation_and_can_roll_forward() -> None:
    # Party 2's confirmation never reaches party 1 (a crash, a lost relay): party 2 committed, party 1
    # did not. Party 1's pending version, kept as the commit rule says, signs with party 2's new one.
    suite = FROST_ED25519_SHA512
    old = dkg(suite, 2, (1, 2))
    sessions = {i: FrostRefreshSession("life-refresh", i, s) for i, s in old.items()}
    assert all(s.pending is None and s.confirm_digest == b"" for s in sessions.values())

    def drop(frm: int, to: int, msg: Outgoing) -> bytes | None:
        return None if frm == 2 and msg.round == lifecycle.CONFIRM_ROUND else msg.payload

    with pytest.raises(RuntimeError, match="never came"):
        driver.run(sessions, drop)
    assert sessions[1].expected() is not None  # still waiting for party 2's confirmation
    with pytest.raises(ProtocolError):
        _ = sessions[1].result
    assert sessions[2].result == sessions[2].pending
    assert sessions[1].confirm_digest == sessions[2].confirm_digest
    pending = sessions[1].pending
    assert pending is not None and pending.public_key == sessions[2].result.public_key
    rolled_forward = {1: pending.key_share, 2: sessions[2].result.key_share}
    pk = pending.public_key
    assert_verifies(suite, pk, b"roll forward", sign(rolled_forward, (1, 2), b"roll forward"))


# --- hostile bytes -------------------------------------------------------------------------------------


@functools.cache
def fuzz_keys() -> dict[int, bytes]:
    return dkg(FROST_ED25519_SHA512, 2, (1, 2))


def _reshare_round1_of(dealer: int) -> tuple[FrostReshareSession, bytes]:
    """A fresh new-party session (party 3) and dealer's real round-1 payload."""
    s = FrostReshareSession("fz", dealer, fuzz_keys()[dealer], (1, 2), 2, (1, 2, 3))
    return s, s.start()[0].payload


@given(data=st.data())
@settings(max_examples=120, deadline=None)
def test_mutated_round1_is_refused_with_a_protocol_error(data) -> None:
    _, payload = _reshare_round1_of(2)
    _, other = _reshare_round1_of(1)
    victim = FrostReshareSession("fz", 3, None, (1, 2), 2, (1, 2, 3))
    victim.start()
    mutated = bytearray(payload)
    i = data.draw(st.integers(0, len(mutated) - 1))
    how = data.draw(st.sampled_from(["flip", "truncate", "extend"]))
    if how == "flip":
        mutated[i] ^= data.draw(st.integers(1, 255))
    elif how == "truncate":
        mutated = mutated[:i]
    else:
        mutated += data.draw(st.binary(min_size=1, max_size=40))
    try:
        victim.advance({InboxKey(1, True): other, InboxKey(2, True): bytes(mutated)})
    except ProtocolError as exc:
        assert exc.culprits in ((), (2,))  # the sender, or nobody when two packages simply disagree
        assert victim.expected() is None
    else:
        # Round 1 cannot judge the sender's X25519 key nor its non-constant commitments (any valid point
        # is a possible coefficient): its share then fails to open or to match in round 2, and the
        # confirmation digests differ.
        e2e_key = range(2, 2 + e2e.PUBLIC_KEY_SIZE)
        higher_commitments = range(e2e_key.stop + 2 + 32, e2e_key.stop + 2 + 32 * 2)
        assert how == "flip" and (i in e2e_key or i in higher_commitments)


@given(payload=st.binary(max_size=200), round_no=st.sampled_from([1, 2, 3]))
@settings(max_examples=60, deadline=None)
def test_refresh_garbage_names_the_sender(payload: bytes, round_no: int) -> None:
    s1 = FrostRefreshSession("fz", 1, fuzz_keys()[1])
    s2 = FrostRefreshSession("fz", 2, fuzz_keys()[2])
    r1 = {1: s1.start()[0].payload, 2: s2.start()[0].payload}
    if round_no > 1:
        s1.advance({InboxKey(2, True): r1[2]})
        share_for_1 = s2.advance({InboxKey(1, True): r1[1]})[0].payload
    if round_no > 2:
        s1.advance({InboxKey(2, False): share_for_1})
    with pytest.raises(ProtocolError) as info:
        s1.advance({InboxKey(2, round_no != 2): payload})
    assert info.value.culprits == (2,)
    assert s1.expected() is None and s1.pending is (None if round_no < 3 else s1.pending)
