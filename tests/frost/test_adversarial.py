"""Cheating parties and a hostile relay: every failure is rejected, with the right culprit when provable."""

import pytest

from signer.crypto import vss
from signer.crypto.ed25519 import ED25519 as G
from signer.crypto.ed25519 import L
from signer.protocols.base import DecodeError, Outgoing, ProtocolError
from signer.protocols.frost import dkg
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512 as SUITE
from signer.protocols.frost.messages import DkgRound1, DkgRound2, SignRound1, SignRound2
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from tests.support import driver
from tests.support.driver import only

ORDER4 = bytes(32)  # (sqrt(-1), 0): a point of order 4
IDENTITY = b"\x01" + bytes(31)
PARTIES3 = (1, 2, 3)


def dkg_sessions(t: int = 2, parties: tuple[int, ...] = PARTIES3, sid: str = "adv-dkg") -> dict:
    return {i: FrostDkgSession(sid, i, t, parties) for i in parties}


def key_shares(t: int = 2, parties: tuple[int, ...] = PARTIES3) -> dict[int, bytes]:
    sessions = dkg_sessions(t, parties)
    driver.run_ok(sessions)
    return {i: s.result.key_share for i, s in sessions.items()}


def run_expect(sessions: dict, tamper, culprits: tuple[int, ...], error=ProtocolError) -> ProtocolError:
    with pytest.raises(error) as info:
        driver.run_ok(sessions, tamper)
    assert info.value.culprits == culprits
    return info.value


# --- DKG ----------------------------------------------------------------------------------------------


def _r1(payload: bytes) -> DkgRound1:
    return DkgRound1.decode(SUITE, payload, 2)


def test_dkg_wrong_proof_of_knowledge() -> None:
    def bad_mu(p: bytes) -> bytes:
        m = _r1(p)
        return DkgRound1(m.commitments, m.proof_r, (m.proof_mu + 1) % L, m.e2e_public).encode(SUITE)

    run_expect(dkg_sessions(), only(2, 1, bad_mu), (2,))


def test_dkg_proof_bound_to_identifier_and_session() -> None:
    # Party 3 replays party 2's valid round-1 package as its own: the proof is bound to the identifier.
    sessions = dkg_sessions()
    seen: dict[int, bytes] = {}

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes:
        if msg.round == 1:
            seen.setdefault(frm, msg.payload)
            if frm == 3 and 2 in seen:
                return seen[2]
        return msg.payload

    run_expect(sessions, tamper, (3,))
    # A package made for another session does not verify in this one.
    params = dkg.DkgParams("other-session", 2, PARTIES3)
    foreign = dkg.part1(SUITE, params, 2).package
    with pytest.raises(ProtocolError) as info:
        dkg.verify_round1(SUITE, dkg.DkgParams("adv-dkg", 2, PARTIES3), 2, foreign)
    assert info.value.culprits == (2,)


@pytest.mark.parametrize("bad_point", [IDENTITY, ORDER4], ids=["identity", "small-order"])
def test_dkg_bad_commitment_point(bad_point: bytes) -> None:
    def rewrite(p: bytes) -> bytes:
        return p[:4] + bad_point + p[36:]  # kind, version, u16 count, then the first commitment

    run_expect(dkg_sessions(), only(3, 1, rewrite), (3,), DecodeError)


def test_dkg_non_canonical_proof_scalar() -> None:
    def rewrite(p: bytes) -> bytes:
        m = _r1(p)
        enc = m.encode(SUITE)
        mu_at = 4 + 32 * len(m.commitments) + 32
        return enc[:mu_at] + (m.proof_mu + L).to_bytes(32, "little") + enc[mu_at + 32 :]

    run_expect(dkg_sessions(), only(1, 1, rewrite), (1,), DecodeError)


def test_dkg_share_inconsistent_with_commitments() -> None:
    sessions = dkg_sessions()

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes:
        if frm == 2 and to == 1 and msg.round == 2:
            # Party 2 seals a wrong share for party 1 with its real key: decryption works, VSS fails.
            secret = sessions[2]._secret2
            good = secret.round1.polynomial(1)
            ctx = dkg.share_context(SUITE, "adv-dkg", 2, 1)
            sealed = secret.round1.e2e_keys.seal(secret.packages[1].e2e_public, G.encode_scalar(good + 1), ctx)
            return DkgRound2(sealed).encode(SUITE)
        return msg.payload

    run_expect(sessions, tamper, (2,))


def test_dkg_share_tampered_or_redirected_in_transit() -> None:
    def flip(p: bytes) -> bytes:
        return p[:-1] + bytes([p[-1] ^ 1])

    run_expect(dkg_sessions(), only(3, 2, flip, recipient=1), (3,))
    # A relay delivering 2's sealed share for party 1 to party 3 instead: it does not open.
    sessions = dkg_sessions()
    captured: dict[int, bytes] = {}

    def redirect(frm: int, to: int, msg: Outgoing) -> bytes:
        if frm == 2 and msg.round == 2:
            captured[to] = msg.payload
            if to == 3:
                return captured[1]
        return msg.payload

    run_expect(sessions, redirect, (2,))


def test_dkg_relay_never_sees_share_plaintext() -> None:
    sessions = dkg_sessions()
    wire: list[bytes] = []
    plaintexts: list[bytes] = []

    def spy(frm: int, to: int, msg: Outgoing) -> bytes:
        wire.append(msg.payload)
        if msg.round == 2:
            plaintexts.append(G.encode_scalar(sessions[frm]._secret2.round1.polynomial(to)))
        return msg.payload

    driver.run_ok(sessions, spy)
    assert len(plaintexts) == 6
    assert not any(p in w for p in plaintexts for w in wire)


def test_dkg_equivocating_party_is_caught_by_the_echo() -> None:
    # Party 3 shows party 2 a different valid round-1 package (same X25519 key) and shares matching it.
    # The echo after round 1 stops everyone before a share is sent (without identities nobody is named;
    # tests/frost/test_echo.py names party 3 with identities).
    sessions = dkg_sessions()
    seen: dict[int, bytes] = {}
    shadow: dict[str, object] = {}

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes:
        if msg.round == 1:
            seen[frm] = msg.payload
        if frm == 3 and to == 2 and msg.round == 1:
            real = sessions[3]._secret1
            poly = vss.Polynomial.random(G, G.random_scalar(), 1)
            pkg = dkg.round1_package(SUITE, real.params, 3, poly, real.e2e_keys)
            shadow["secret"] = dkg.Round1Secret(real.params, 3, poly, real.e2e_keys, pkg)
            return pkg.encode(SUITE)
        if frm == 3 and to == 2 and msg.round == 2:
            received = {j: _r1(seen[j]) for j in (1, 2)}
            _, out = dkg.part2(SUITE, shadow["secret"], received)
            return out[2].encode(SUITE)
        return msg.payload

    errors = driver.run(sessions, tamper)
    assert set(errors) == {1, 2, 3}  # nobody keeps a key, and no honest party is blamed
    for err in errors.values():
        assert "disagree on the round-1 broadcasts of parties [3]" in str(err)
        assert err.culprits == ()


def test_dkg_session_is_dead_after_failure() -> None:
    sessions = dkg_sessions()
    with pytest.raises(ProtocolError):
        driver.run_ok(sessions, only(2, 1, lambda p: p[:-1]))
    failed = [s for s in sessions.values() if s.failed]
    assert failed and all(s.expected() is None for s in failed)
    with pytest.raises(ProtocolError):
        failed[0].result  # noqa: B018


# --- signing ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shares() -> dict[int, bytes]:
    return key_shares()


def sign_sessions(shares: dict[int, bytes], signers=(1, 2, 3), message: bytes = b"msg") -> dict:
    return {i: FrostSignSession("adv-sign", i, shares[i], message, signers) for i in signers}


def test_corrupted_signature_share(shares: dict[int, bytes]) -> None:
    def bump(p: bytes) -> bytes:
        return SignRound2((SignRound2.decode(SUITE, p).share + 1) % L).encode(SUITE)

    run_expect(sign_sessions(shares), only(2, 2, bump), (2,))


def test_share_for_another_message_rejected(shares: dict[int, bytes]) -> None:
    # Party 3 signs a different message: its share does not verify for the agreed one.
    sessions = sign_sessions(shares)
    sessions[3]._message = b"evil"
    errors = driver.run(sessions)
    assert errors[1].culprits == errors[2].culprits == (3,)


@pytest.mark.parametrize("bad_point", [IDENTITY, ORDER4], ids=["identity", "small-order"])
@pytest.mark.parametrize("slot", [0, 1], ids=["hiding", "binding"])
def test_bad_nonce_commitment(shares: dict[int, bytes], bad_point: bytes, slot: int) -> None:
    def rewrite(p: bytes) -> bytes:
        at = 2 + 32 * slot
        return p[:at] + bad_point + p[at + 32 :]

    run_expect(sign_sessions(shares), only(1, 1, rewrite), (1,), DecodeError)


def test_non_canonical_signature_share(shares: dict[int, bytes]) -> None:
    def rewrite(p: bytes) -> bytes:
        return p[:2] + (SignRound2.decode(SUITE, p).share + L).to_bytes(32, "little")

    run_expect(sign_sessions(shares), only(3, 2, rewrite), (3,), DecodeError)


def test_replayed_commitments_from_another_party(shares: dict[int, bytes]) -> None:
    # Party 2 copies party 1's commitments: shares then fail verification for party 2.
    sessions = sign_sessions(shares, (1, 2))
    seen: dict[int, bytes] = {}

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes:
        if msg.round == 1:
            seen.setdefault(frm, msg.payload)
            if frm == 2:
                return seen.get(1, msg.payload)
        return msg.payload

    errors = driver.run(sessions, tamper)
    assert errors[1].culprits == (2,)


def test_nonce_cannot_be_used_twice(shares: dict[int, bytes]) -> None:
    s = sign_sessions(shares, (1, 2))
    out = {i: x.start() for i, x in s.items()}
    with pytest.raises(ProtocolError):
        s[1].start()
    from signer.protocols.base import InboxKey

    s[1].advance({InboxKey(2, True): out[2][0].payload})
    with pytest.raises(ProtocolError):
        s[1].advance({InboxKey(2, True): out[2][0].payload})
    assert s[1]._nonces is None


def test_decoders_reject_other_kinds(shares: dict[int, bytes]) -> None:
    s = sign_sessions(shares, (1, 2))
    r1 = s[1].start()[0].payload
    with pytest.raises(DecodeError):
        SignRound2.decode(SUITE, r1)
    assert SignRound1.decode(SUITE, r1).commitments.hiding


def test_nonces_cannot_be_serialized_or_shown() -> None:
    import pickle

    from signer.protocols.frost import core

    nonces = core.commit(SUITE, 12345)
    with pytest.raises(TypeError):
        pickle.dumps(nonces)
    hiding, binding = nonces._nonces
    assert str(hiding) not in repr(nonces) and "redacted" in repr(nonces)


def test_dkg_low_order_x25519_key() -> None:
    # Party 2 publishes an all-zero X25519 key under a valid proof: nobody can seal to it.
    from types import SimpleNamespace

    sessions = dkg_sessions()

    def rewrite(p: bytes) -> bytes:
        params = dkg.DkgParams("adv-dkg", 2, PARTIES3)
        poly = vss.Polynomial.random(G, G.random_scalar(), 1)
        return dkg.round1_package(SUITE, params, 2, poly, SimpleNamespace(public=bytes(32))).encode(SUITE)

    run_expect(sessions, only(2, 1, rewrite), (2,))
