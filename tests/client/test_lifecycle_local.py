"""The client library's refresh and reshare with every party local (no node): `Coordinator.refresh` and
`Coordinator.reshare` relay real FROST lifecycle sessions between `LocalParty`s that sign and check every
message with their identity keys, call `prepare` with each new share before that party's confirmation
leaves, and the new shares sign under the unchanged key (verified by libsodium). The node side of the same
calls is tested end to end in tests/client/test_demo_lifecycle.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import nacl.bindings as sodium
import pytest

from signer.client import Coordinator, IdentityKey, KeyParties, Outcome
from signer.client.coordinator import lifecycle_context
from signer.protocols.base import DkgResult, ProtocolError
from signer.protocols.frost import FrostDkgSession, FrostRefreshSession, FrostReshareSession, FrostSignSession
from signer.protocols.frost.keys import key_share_info

T = TypeVar("T")
KEY = "wallet-local"
MESSAGE = b"move 1 SOL to the cold wallet"
IDENTITIES = {i: IdentityKey.generate() for i in (1, 2, 3)}


def run(call: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(call, 30)  # a relay loop that stopped relaying must not hang the suite

    return asyncio.run(bounded())


def make_key() -> tuple[Coordinator, dict[int, bytes]]:
    """A 2-of-2 FROST key of local parties 1 and 2."""
    coordinator = Coordinator({}, identities={i: IDENTITIES[i] for i in (1, 2)})
    sessions = {i: FrostDkgSession("dkg-local", i, 2, (1, 2)) for i in (1, 2)}
    outcome = run(coordinator.dkg("dkg-local", KEY, "frost", 2, 2, sessions))
    return coordinator, {i: outcome.dkg_result(i).key_share for i in (1, 2)}


def sign(coordinator: Coordinator, shares: dict[int, bytes], signers: tuple[int, ...], sid: str) -> bytes:
    local = {i: FrostSignSession(sid, i, shares[i], MESSAGE, signers) for i in signers}
    outcome = run(coordinator.sign(sid, KEY, MESSAGE, signers, local))
    return outcome.sign_result(signers[0]).signature


def finished(session: FrostRefreshSession) -> bool:
    try:
        return session.result is not None
    except ProtocolError:
        return False


def assert_verifies(public_key: bytes, signature: bytes) -> None:
    assert sodium.crypto_sign_open(signature + MESSAGE, public_key) == MESSAGE


def test_refresh_prepares_every_new_share_then_signs_under_the_same_key():
    coordinator, shares = make_key()
    public_key = key_share_info(shares[1]).public_key
    prepared: dict[int, tuple[KeyParties, bytes]] = {}
    sessions = {i: FrostRefreshSession("refresh-local", i, shares[i]) for i in (1, 2)}

    def prepare(index: int, key: KeyParties, pending: DkgResult) -> None:
        # Called before this party's confirmation leaves: no party can have finished yet.
        assert not any(map(finished, sessions.values()))
        prepared[index] = (key, pending.key_share)

    outcome: Outcome = run(coordinator.refresh("refresh-local", KEY, sessions, prepare=prepare))
    assert outcome.ok, outcome.error
    new = {i: outcome.dkg_result(i).key_share for i in (1, 2)}
    assert {i: share for i, (_, share) in prepared.items()} == new
    assert all(key == coordinator.keys[KEY] for key, _ in prepared.values())  # same parties after a refresh
    assert new[1] != shares[1] and new[2] != shares[2]
    assert key_share_info(new[1]).public_key == public_key
    assert_verifies(public_key, sign(coordinator, new, (1, 2), "sign-refreshed"))


def test_a_party_whose_prepare_fails_never_confirms_so_no_party_completes():
    coordinator, shares = make_key()
    sessions = {i: FrostRefreshSession("refresh-broken", i, shares[i]) for i in (1, 2)}

    def prepare(index: int, key: KeyParties, pending: DkgResult) -> None:
        if index == 2:
            raise OSError("disk full")  # party 2 could not store its new share

    with pytest.raises(OSError, match="disk full"):
        run(coordinator.refresh("refresh-broken", KEY, sessions, prepare=prepare))
    # Party 1 (which prepared) waits for party 2's confirmation, which was never released: neither has a
    # result, so neither would switch versions.
    assert sessions[1].pending is not None and sessions[1].expected() is not None
    assert not any(map(finished, sessions.values()))


def test_reshare_to_a_backup_party_then_the_backup_signs_without_the_device():
    coordinator, shares = make_key()
    public_key = key_share_info(shares[1]).public_key
    coordinator.identities[3] = IDENTITIES[3]
    new = (1, 2, 3)
    # The holders' stores say version 4; joining party 3 learns it from their round 1 (its prepare gets it).
    sessions = {
        i: FrostReshareSession("reshare-local", i, shares.get(i), (1, 2), 2, new, public_key, key_version=4)
        for i in new
    }
    prepared: dict[int, tuple[KeyParties, int]] = {}
    outcome = run(
        coordinator.reshare(
            "reshare-local",
            KEY,
            (1, 2),
            2,
            new,
            sessions,
            prepare=lambda i, key, pending: prepared.update({i: (key, pending.from_version)}),
        )
    )
    assert outcome.ok, outcome.error
    after = coordinator.keys[KEY]
    assert after.threshold == 2 and [p.party for p in after.identities] == [1, 2, 3]
    assert after.identities[2].public_key == IDENTITIES[3].public_key
    assert prepared == dict.fromkeys(new, (after, 4))
    reshared = {i: outcome.dkg_result(i).key_share for i in new}
    for signers in ((1, 2), (1, 3), (2, 3)):
        assert_verifies(public_key, sign(coordinator, reshared, signers, f"sign-{signers}"))


def test_a_party_with_another_identity_key_stops_the_refresh_before_it_starts():
    coordinator, shares = make_key()
    coordinator.identities[2] = IdentityKey.generate()  # not the key party 2 was named with
    sessions = {i: FrostRefreshSession("refresh-swapped", i, shares[i]) for i in (1, 2)}
    with pytest.raises(ValueError, match=r"parties \[2\] do not hold the identity key 'wallet-local' names"):
        run(coordinator.refresh("refresh-swapped", KEY, sessions))
    assert all(s.expected() is None for s in sessions.values())  # never started: nothing was sent


def test_the_contexts_of_create_refresh_and_reshare_differ():
    """Messages of one operation cannot pass for another's: each signs over a different context."""
    coordinator, _ = make_key()
    key = coordinator.keys[KEY]
    refresh = lifecycle_context("s", KEY, key, 2, key.identities, "refresh")
    reshare = lifecycle_context("s", KEY, key, 2, key.identities, "reshare", (1, 2))
    other_quorum = lifecycle_context("s", KEY, key, 2, key.identities, "reshare", (1, 3))
    assert len({refresh.hash, reshare.hash, other_quorum.hash}) == 3
