"""The online re-randomizer e takes fresh randomness from every signer (issue 15, item 3).

Before, e = H(presignature id, R, Y', δ, digest) was a public function P1 could evaluate for any digest
and tweak before asking for a signature. Now every signer broadcasts a fresh ρ_j first and its share
only afterwards, so P1 learns e only from the node's own online message.
"""

from __future__ import annotations

from signer.protocols.gg20 import Gg20PresignSession, Gg20SignSession
from signer.protocols.gg20.messages import KIND_ONLINE_NONCE, KIND_SIGNATURE_SHARE
from tests.support.driver import run

from .conftest import assert_valid_signature, digest_of

SIGNERS = (1, 2)


def _presignature_bytes(keys) -> tuple[dict[int, bytes], dict[int, bytes]]:
    shares = {i: s.result.key_share for i, s in keys[(2, 2)].items()}
    presign = {i: Gg20PresignSession("rerandomize-presign", i, shares[i], SIGNERS) for i in SIGNERS}
    assert run(presign) == {}
    return shares, {i: s.result.consume() for i, s in presign.items()}


def test_same_presignature_state_gives_unpredictable_nonce(keys) -> None:
    """Two onlines from the same presignature state and digest: the node's fresh ρ changes R' = e·R.

    (The node never does this: the store hands a presignature out once. Here the same bytes are fed to
    two sessions only to show that nothing P1 holds before the node's message fixes e.)"""
    shares, pre = _presignature_bytes(keys)
    digest = digest_of("same digest twice")
    public_key = keys[(2, 2)][1].result.public_key
    signatures = []
    for attempt in range(2):
        sessions = {
            i: Gg20SignSession(f"rerandomize-{attempt}", i, shares[i], digest, SIGNERS, (), pre[i]) for i in SIGNERS
        }
        first = sessions[1].start()
        assert [o.payload[0] for o in first] == [KIND_ONLINE_NONCE], "P1's first message carries no share"
        sessions = {
            i: Gg20SignSession(f"rerandomize-{attempt}", i, shares[i], digest, SIGNERS, (), pre[i]) for i in SIGNERS
        }
        assert run(sessions) == {}
        result = sessions[1].result
        assert sessions[2].result == result
        assert_valid_signature(result, digest, public_key)
        signatures.append(result.signature)
    assert signatures[0][:32] != signatures[1][:32], "r (hence e) was the same: e is predictable"


def test_share_comes_only_after_every_contribution(keys) -> None:
    """P1 gets the node's s_2 only in the round after both ρ were exchanged, and finishes after it."""
    shares, pre = _presignature_bytes(keys)
    digest = digest_of("order of the online rounds")
    sessions = {i: Gg20SignSession("rerandomize-order", i, shares[i], digest, SIGNERS, (), pre[i]) for i in SIGNERS}
    kinds: list[tuple[int, int, int]] = []

    def record(sender, recipient, out):
        kinds.append((sender, out.round, out.payload[0]))
        return out.payload

    assert run(sessions, record) == {}
    assert (2, 1, KIND_ONLINE_NONCE) in kinds and (2, 2, KIND_SIGNATURE_SHARE) in kinds
    assert {k for s, r, k in kinds if r == 1} == {KIND_ONLINE_NONCE}
