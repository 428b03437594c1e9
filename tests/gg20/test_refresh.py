"""GG20 key refresh: the key and chain code stay, shares and every Paillier/ring-Pedersen key change, the new
shares presign and sign (checked by coincurve and `ecdsa`), old and new shares never mix, liars are named."""

from __future__ import annotations

import dataclasses

import pytest

from signer.crypto.preparams import PreParams
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.secp256k1 import base_mul
from signer.crypto.vss import Polynomial
from signer.protocols.base import DecodeError, Outgoing, ProtocolError
from signer.protocols.gg20 import Gg20RefreshSession, key_share_info
from signer.protocols.gg20.keyshare import Gg20KeyShare
from signer.protocols.gg20.messages import RefreshCommit
from tests.support.driver import run

from .conftest import assert_valid_signature, digest_of, presign_and_sign, secret_of

# Pre-parameter sets 0..2 are the keys' current ones (conftest's keygen); a refresh takes fresh ones.
FRESH = 3


def _shares(keys, tn) -> dict[int, bytes]:
    return {i: s.result.key_share for i, s in keys[tn].items()}


def _sessions(shares: dict[int, bytes], preparams: list[PreParams], sid: str, first: int = FRESH) -> dict:
    return {i: Gg20RefreshSession(sid, i, s, preparams[first + k]) for k, (i, s) in enumerate(sorted(shares.items()))}


@pytest.fixture(scope="module")
def refreshed(keys, preparams) -> tuple[dict[int, bytes], dict[int, Gg20RefreshSession]]:
    old = _shares(keys, (2, 2))
    sessions = _sessions(old, preparams, "refresh-2-of-2")
    assert run(sessions) == {}
    return old, sessions


def _decode(shares: dict[int, bytes]) -> dict[int, Gg20KeyShare]:
    return {i: Gg20KeyShare.decode(s) for i, s in shares.items()}


def test_refresh_keeps_the_key_and_replaces_shares_and_auxiliary_keys(refreshed, preparams) -> None:
    old_blobs, sessions = refreshed
    new_blobs = {i: s.result.key_share for i, s in sessions.items()}
    old, new = _decode(old_blobs), _decode(new_blobs)
    public_key = key_share_info(old_blobs[1]).public_key
    assert {s.result.public_key for s in sessions.values()} == {public_key}
    for i in (1, 2):
        assert key_share_info(new_blobs[i]) == key_share_info(old_blobs[i])  # parties, t, index, Y, chain code
        assert new[i].secret_share != old[i].secret_share
        assert new[i].public_shares[i] == base_mul(new[i].secret_share) != old[i].public_shares[i]
        assert sessions[i].pending == sessions[i].result
        for j in (1, 2):
            # every party's Paillier N and ring-Pedersen Ñ is the fresh pre-parameter set's, not the old one
            fresh = preparams[FRESH + j - 1]
            assert new[i].paillier[j] == fresh.paillier.public != old[i].paillier[j]
            assert new[i].ring_pedersen[j] == fresh.ring_pedersen.public != old[i].ring_pedersen[j]
    assert new[1].paillier_secret.public == preparams[FRESH].paillier.public
    assert new[1].public_shares == new[2].public_shares
    assert sessions[1].confirm_digest == sessions[2].confirm_digest != b""
    assert secret_of(new) == secret_of(old)
    assert base_mul(secret_of(new)).encode() == public_key


def test_refreshed_shares_presign_and_sign_for_the_same_key(refreshed) -> None:
    old_blobs, sessions = refreshed
    new_blobs = {i: s.result.key_share for i, s in sessions.items()}
    digest = digest_of("pay after refresh")
    failures, result = presign_and_sign(new_blobs, (1, 2), digest, "refreshed")
    assert failures == {}
    assert_valid_signature(result, digest, key_share_info(old_blobs[1]).public_key)


def test_old_and_new_shares_do_not_mix(refreshed) -> None:
    old_blobs, sessions = refreshed
    old = _decode(old_blobs)
    new = _decode({i: s.result.key_share for i, s in sessions.items()})
    secret = secret_of(old)
    assert secret_of({1: old[1], 2: new[2]}) != secret
    assert secret_of({1: new[1], 2: old[2]}) != secret
    # Party 1 still on its old share (old N_2, old ring-Pedersen), party 2 on its new one: presigning
    # stops (each refuses the other's MtA proofs, stated under keys the other no longer uses).
    mixed = {1: old_blobs[1], 2: sessions[2].result.key_share}
    failures, result = presign_and_sign(mixed, (1, 2), digest_of("mixed"), "mixed")
    assert result is None
    assert failures[1].culprits == (2,) and failures[2].culprits == (1,)


@pytest.mark.parametrize("proof", ["mod_proof", "prm_proof"])
def test_bad_auxiliary_key_proof_is_named(keys, preparams, proof: str) -> None:
    # Party 2 announces its new keys with party 1's Π^mod (or Π^prm): a proof about another modulus.
    sessions = _sessions(_shares(keys, (2, 2)), preparams, f"refresh-bad-{proof}")
    seen: dict[int, RefreshCommit] = {}

    def tamper(frm: int, to: int, msg: Outgoing) -> bytes:
        if msg.round != 1:
            return msg.payload
        seen[frm] = RefreshCommit.decode(msg.payload)
        if frm != 2:
            return msg.payload
        forged = dataclasses.replace(seen[2].keygen, **{proof: getattr(seen[1].keygen, proof)})
        return dataclasses.replace(seen[2], keygen=forged).encode()

    failures = run(sessions, tamper)
    assert isinstance(failures[1], ProtocolError) and failures[1].culprits == (2,)
    assert ("Π^mod" if proof == "mod_proof" else "Π^prm") in str(failures[1])
    assert all(s.pending is None for s in sessions.values())


def test_party_announcing_a_modulus_the_key_already_uses_is_named(keys, preparams) -> None:
    # Party 2 "refreshes" to party 1's current Paillier key and ring-Pedersen parameters (valid proofs):
    # whoever leaked that key would keep reading party 2's MtA ciphertexts.
    sessions = _sessions(_shares(keys, (2, 2)), preparams, "refresh-stale-modulus")
    sessions[2]._preparams = preparams[0]  # past the constructor, which refuses the key's own moduli
    failures = run(sessions)
    assert isinstance(failures[1], ProtocolError) and failures[1].culprits == (2,)
    assert "the key already uses" in str(failures[1])


class _NonZeroDealer(Gg20RefreshSession):
    """A lying party: it deals a sharing of 7 instead of zero (and commits to C_1.. as if it were zero)."""

    def _polynomial(self) -> Polynomial:
        return Polynomial.random(GROUP, 7, self.threshold - 1)


def test_bad_zero_sharing_is_named(keys, preparams) -> None:
    shares = _shares(keys, (2, 3))
    sessions = _sessions(shares, preparams, "refresh-non-zero")
    sessions[2] = _NonZeroDealer("refresh-non-zero", 2, shares[2], preparams[FRESH + 1])
    failures = run(sessions)
    for honest in (1, 3):
        assert isinstance(failures[honest], ProtocolError) and failures[honest].culprits == (2,)
        assert "inconsistent with its commitments" in str(failures[honest])
        assert sessions[honest].pending is None


def test_parties_on_different_key_versions_stop_at_round_one(keys, refreshed, preparams) -> None:
    # Party 2 kept the previous version (it lost the commit): nobody deals a share, nobody is blamed.
    old_blobs, sessions = refreshed
    mixed = {1: sessions[1].result.key_share, 2: old_blobs[2]}
    stale = _sessions(mixed, preparams, "refresh-stale", first=FRESH + 2)
    rounds: set[int] = set()

    def watch(frm: int, to: int, msg: Outgoing) -> bytes:
        rounds.add(msg.round)
        return msg.payload

    failures = run(stale, watch)
    assert rounds == {1}
    assert set(failures) == {1, 2}
    assert all(isinstance(e, ProtocolError) and e.culprits == () for e in failures.values())
    assert "different version of the key" in str(failures[1])


@pytest.mark.parametrize("round_no", [1, 2, 3])
def test_malformed_payload_names_its_sender(keys, preparams, round_no: int) -> None:
    sessions = _sessions(_shares(keys, (2, 2)), preparams, f"refresh-truncated-{round_no}")

    def truncate(frm: int, to: int, msg: Outgoing) -> bytes:
        return msg.payload[:-1] if frm == 2 and msg.round == round_no else msg.payload

    failures = run(sessions, truncate)
    assert isinstance(failures[1], DecodeError) and failures[1].culprits == (2,)
    assert (sessions[1].pending is None) == (round_no < 3)  # round 3 fails after the new share is pending


def test_constructor_refuses_bad_arguments(keys, preparams) -> None:
    share = keys[(2, 2)][1].result.key_share
    with pytest.raises(ValueError, match="fresh"):
        Gg20RefreshSession("s", 1, share, preparams[0])  # the key's own current Paillier key
    with pytest.raises(ValueError, match="party_index"):
        Gg20RefreshSession("s", 2, share, preparams[FRESH])
    with pytest.raises(ValueError, match="key share"):
        Gg20RefreshSession("s", 1, share[:-1], preparams[FRESH])
    with pytest.raises(ValueError, match="session_id"):
        Gg20RefreshSession("", 1, share, preparams[FRESH])
