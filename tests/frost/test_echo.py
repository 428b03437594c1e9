"""Echo broadcast in FROST sessions of three parties (docs/contract.md §7.9), with identities: a party
that signs two different broadcasts for one slot, or lies in its echo, is named by every honest party
with evidence that a third party checks with the identity public keys alone; no honest party is named."""

from __future__ import annotations

import hashlib

import pytest

from signer.crypto.identity import IdentityError
from signer.engine import offload
from signer.protocols.base import ProtocolError
from signer.protocols.echo import (
    check_equivocation,
    decode_echo,
    echo_round,
    encode_echo,
    encode_reveal,
    reveal_round,
    wire_round,
)
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.wire import ProtocolMessage
from tests.support import driver
from tests.support.signed import SignedRun, run_signed

P3 = (1, 2, 3)


def assert_named(run: SignedRun, culprit: int, honest: tuple[int, ...]) -> None:
    """Every honest party names exactly `culprit`, with evidence that proves it and frames nobody else."""
    for i in honest:
        err = run.failures[i]
        assert err.culprits == (culprit,), (i, err)
        check_equivocation(run.context, culprit, err.evidence)
        for other in honest:
            with pytest.raises(IdentityError):
                check_equivocation(run.context, other, err.evidence)
    assert all(set(e.culprits) <= {culprit} for e in run.failures.values())


def equivocate(sender: int, victim: int, inner: int, payload: bytes):
    """`sender` signs `payload` as its round-`inner` broadcast to `victim`, the genuine one to the others."""

    def deliver(run: SignedRun, to: int, m: ProtocolMessage) -> list[ProtocolMessage]:
        if m.from_party == sender and to == victim and m.to_party == 0 and m.round == wire_round(inner):
            return [run.resign(m, payload=payload)]
        return [m]

    return deliver


def first_broadcast(session) -> bytes:
    return next(o.payload for o in session.start() if o.to_party == 0)


def test_dkg_equivocation_is_named_by_both_honest_parties() -> None:
    sessions = {i: FrostDkgSession("echo-dkg", i, 2, P3) for i in P3}
    other = first_broadcast(FrostDkgSession("echo-dkg", 3, 2, P3))  # valid, and not the one sent to party 1
    run = run_signed(sessions, equivocate(3, 2, 1, other))
    assert_named(run, 3, (1, 2))


def key_shares() -> dict[int, bytes]:
    sessions = {i: FrostDkgSession("echo-keys", i, 2, P3) for i in P3}
    run = run_signed(sessions)
    assert not run.failures and all(p.done for p in run.parties.values())
    # round 1 and its echo, the point-to-point shares, the confirmation and its echo
    assert sorted({m.round for m in run.sent}) == [1, 2, 4, 7, 8]
    return {i: s.result.key_share for i, s in sessions.items()}


def test_signing_with_three_signers_echoes_only_the_commitments() -> None:
    shares = key_shares()
    sessions = {i: FrostSignSession("echo-sign", i, shares[i], b"msg", P3) for i in P3}
    run = run_signed(sessions, kind="sign")
    assert not run.failures
    assert sorted({m.round for m in run.sent}) == [1, 2, 4]  # the signature shares need no echo (§7.9)
    assert len({s.result.signature for s in sessions.values()}) == 1


def test_signing_equivocated_commitment_is_named() -> None:
    shares = key_shares()
    sessions = {i: FrostSignSession("echo-sign", i, shares[i], b"msg", P3) for i in P3}
    other = first_broadcast(FrostSignSession("echo-sign", 3, shares[3], b"msg", P3))
    run = run_signed(sessions, equivocate(3, 1, 1, other), kind="sign")
    assert_named(run, 3, (1, 2))


def test_a_party_lying_in_its_echo_is_named_not_the_broadcaster() -> None:
    # Party 3 echoes a false hash for party 1's broadcast and, asked, reveals the copy it really holds.
    def deliver(run: SignedRun, to: int, m: ProtocolMessage) -> list[ProtocolMessage]:
        if m.from_party != 3 or m.round != echo_round(1):
            return [m]
        view = decode_echo(m.payload) | {1: hashlib.sha256(b"not what party 1 sent").digest()}
        held = [s for s in run.sent if s.round == wire_round(1) and s.to_party == 0 and s.from_party != 3]
        reveal = ProtocolMessage(m.session_id, 3, to, reveal_round(1), 1000 + to, encode_reveal(held))
        return [run.resign(m, payload=encode_echo(view)), run.resign(reveal)]

    sessions = {i: FrostDkgSession("echo-liar", i, 2, P3) for i in P3}
    run = run_signed(sessions, deliver)
    assert_named(run, 3, (1, 2))


def test_without_identities_a_mismatch_ends_the_session_naming_nobody() -> None:
    sessions = {i: FrostDkgSession("echo-bare", i, 2, P3) for i in P3}
    other = first_broadcast(FrostDkgSession("echo-bare", 3, 2, P3))

    def tamper(frm, to, msg):
        return other if frm == 3 and to == 2 and msg.round == 1 else msg.payload

    failures = driver.run(sessions, tamper)
    assert set(failures) == {1, 2, 3} and all(e.culprits == () for e in failures.values())


def test_the_wrapper_and_its_evidence_survive_process_offload() -> None:
    # GG20 steps run in worker processes: the engine pickles the wrapped session before every step
    # (offload._dumps / _loads, what ProcessRunner does), and a worker's failure comes back as data.
    def reload(run: SignedRun, to: int, m: ProtocolMessage) -> list[ProtocolMessage]:
        for party in run.parties.values():
            party.protocol = offload._loads(offload._dumps(party.protocol))
        return [m]

    sessions = {i: FrostDkgSession("echo-pickled", i, 2, P3) for i in P3}
    run = run_signed(sessions, reload)
    assert not run.failures and len({p.result.public_key for p in run.parties.values()}) == 1

    evidence = tuple(m for m in run.sent if m.from_party == 3 and m.to_party == 0)
    with pytest.raises(ProtocolError) as info:
        offload._loads(offload._failure(ProtocolError("equivocation", [3], evidence)))
    assert info.value.culprits == (3,) and info.value.evidence == evidence
    assert [m.party_signature for m in info.value.evidence] == [m.party_signature for m in evidence]


def test_an_undecodable_echo_names_its_sender() -> None:
    def deliver(run: SignedRun, to: int, m: ProtocolMessage) -> list[ProtocolMessage]:
        if m.from_party == 2 and m.round == echo_round(1):
            return [run.resign(m, payload=m.payload[:-1])]
        return [m]

    shares = key_shares()
    sessions = {i: FrostSignSession("echo-short", i, shares[i], b"msg", P3) for i in P3}
    run = run_signed(sessions, deliver, kind="sign")
    assert_named(run, 2, (1, 3))
    assert len(run.failures[1].evidence) == 1


def test_a_reveal_is_sent_even_when_the_peer_reveal_was_already_in() -> None:
    # Party 1 gets party 2's reveal before party 3's echo: taking that echo runs the echo round (its
    # reveal to party 2) and the reveal round (naming party 3) in one call; party 2 still gets the reveal.
    held: list[ProtocolMessage] = []
    lie = equivocate(3, 2, 1, first_broadcast(FrostDkgSession("echo-order", 3, 2, P3)))

    def deliver(run: SignedRun, to: int, m: ProtocolMessage) -> list[ProtocolMessage]:
        if to == 1 and m.from_party == 3 and m.round == echo_round(1):
            held.append(m)
            return []
        if to == 1 and m.from_party == 2 and m.round == reveal_round(1):
            return [m, *held]
        return lie(run, to, m)

    sessions = {i: FrostDkgSession("echo-order", i, 2, P3) for i in P3}
    run = run_signed(sessions, deliver)
    assert held and run.parties[1].failure is not None
    assert_named(run, 3, (1, 2))
