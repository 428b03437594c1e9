"""Echo broadcast in GG20 sessions of three parties (docs/contract.md §7.9), with identities: a party
that signs a different round-1 broadcast for one party in keygen or in presigning is named by both
honest parties, with evidence a third party checks with the identity public keys alone (before the echo,
the honest parties blamed each other). Uses the committed pre-parameters and the shared 2-of-3 key."""

from __future__ import annotations

from collections.abc import Callable

from signer.protocols.echo import wire_round
from signer.protocols.gg20 import Gg20KeygenSession, Gg20PresignSession
from signer.wire import ProtocolMessage
from tests.frost.test_echo import assert_named
from tests.support.signed import SignedRun, run_signed

P3 = (1, 2, 3)


def round1_from(sender: int, victim: int, rewrite: Callable[[int, bytes], bytes]):
    """`sender` signs `rewrite(to_party, payload)` for its round-1 messages to `victim` (to_party 0: the
    broadcast), the genuine ones for the others."""

    def deliver(run: SignedRun, to: int, m: ProtocolMessage) -> list[ProtocolMessage]:
        if m.from_party == sender and to == victim and m.round == wire_round(1):
            return [run.resign(m, payload=rewrite(m.to_party, m.payload))]
        return [m]

    return deliver


def test_keygen_equivocation_is_named_by_both_honest_parties(preparams) -> None:
    # Party 3 shows party 2 another commitment KGC_3 (its Paillier key and proofs stay valid).
    sessions = {i: Gg20KeygenSession("echo-keygen", i, 2, P3, preparams[i - 1]) for i in P3}
    run = run_signed(sessions, round1_from(3, 2, lambda _, p: p[:2] + bytes([p[2] ^ 1]) + p[3:]))
    assert_named(run, 3, (1, 2))


def test_presign_equivocation_is_named_by_both_honest_parties(keys) -> None:
    shares = {i: s.result.key_share for i, s in keys[(2, 3)].items()}
    sessions = {i: Gg20PresignSession("echo-presign", i, shares[i], P3) for i in P3}
    # Party 1 shows party 3 the round 1 of another presigning (K_1 broadcast and MtA request agree).
    shadow = {o.to_party: o.payload for o in Gg20PresignSession("echo-presign", 1, shares[1], P3).start()}
    run = run_signed(sessions, round1_from(1, 3, lambda to, _: shadow[to]), kind="presign")
    assert_named(run, 1, (2, 3))
