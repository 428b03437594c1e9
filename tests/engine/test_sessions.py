"""Session mechanics on the honest commit-reveal test protocol, in exact virtual time."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from signer.blame import verify_evidence
from signer.engine import (
    AlreadyExists,
    EngineConfig,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ProtocolMessage,
    ResourceExhausted,
    SessionKind,
    SessionState,
    Unavailable,
)
from tests.engine.harness import serving, start_dkg, toy_dkg, toy_engines, toy_sign
from tests.engine.relay import relay, session_tasks, shuffled_relay
from tests.support.identities import resigned, start_as


async def test_two_parties_complete_and_agree(clock):
    parties = toy_engines(2)
    async with serving(*parties.values()):
        started = await start_dkg(parties, "s1")
        assert [m.sequence for m in started[1].outbound] == [1]
        finals = await relay(parties, "s1")
    assert {v.state for v in finals.values()} == {SessionState.COMPLETED}
    assert finals[1].public_key == finals[2].public_key and len(finals[1].public_key) == 32
    assert trio.current_time() == 0.0
    for p, m in parties.items():
        store = m._store
        assert store.shares["key-1"].info.party_index == p
        assert store.audit == [
            dict(session_id="s1", key_id="key-1", operation="dkg", message_digest=None, result="completed",
                 client_identity="unidentified", evidence=None)
        ]  # fmt: skip
    # Outbound: round 1 broadcast, round 2 broadcast + one point-to-point, numbered 1..3.
    assert [(m.round, m.to_party, m.sequence) for m in finals[1].outbound] == [(1, 0, 1), (2, 0, 2), (2, 2, 3)]


async def test_key_share_is_stored_before_completed(clock):
    parties = toy_engines(2)
    gate = trio.Event()
    store = parties[1]._store
    put = store.put_share

    async def slow_put(*args, **kw):
        await gate.wait()
        return await put(*args, **kw)

    store.put_share = slow_put
    async with serving(*parties.values()) as nursery:
        await start_dkg(parties, "s1")
        nursery.start_soon(relay, {2: parties[2], 1: parties[1]}, "s1")
        await trio.sleep(5)
        view = await parties[1].status("s1")
        assert view.state is SessionState.RUNNING and "key-1" not in store.shares
        gate.set()
        view = await parties[1].status("s1", 100)
        assert view.state is SessionState.COMPLETED and "key-1" in store.shares


async def test_round_without_messages_times_out_at_the_deadline(clock):
    parties = toy_engines(2)
    async with serving(parties[1]):
        t0 = trio.current_time()
        await start_as(parties, parties[1], SessionKind.DKG, toy_dkg("s1", 1))
        assert session_tasks() == 1
        view = await parties[1].status("s1", 1000)
        assert trio.current_time() - t0 == 10.0
        assert view.state is SessionState.TIMED_OUT
        assert view.error == "round 1 timed out waiting for parties [2]"
        await trio.testing.wait_all_tasks_blocked()  # the task writes its audit row, then ends
        assert trio.current_time() - t0 == 10.0
        assert session_tasks() == 0 and parties[1].running == 0
        assert parties[1]._store.audit[0]["result"] == "timed_out"


async def test_second_round_times_out_one_deadline_after_it_began(clock):
    parties = toy_engines(2)
    async with serving(*parties.values()):
        views = await start_dkg(parties, "s1")
        await trio.sleep(4)
        await parties[1].deliver(views[2].outbound[0])
        await trio.testing.wait_all_tasks_blocked()
        view = await parties[1].status("s1")
        assert view.round == 2 and view.state is SessionState.RUNNING and trio.current_time() == 4.0
        view = await parties[1].status("s1", 1000)
        assert trio.current_time() == 14.0
        assert view.state is SessionState.TIMED_OUT and view.error.startswith("round 2 timed out")


async def test_cancel_ends_the_session_at_once(clock):
    parties = toy_engines(2)
    async with serving(*parties.values()):
        views = await start_dkg(parties, "s1")
        await trio.sleep(3)
        view = await parties[1].cancel("s1")
        assert view.state is SessionState.CANCELLED and trio.current_time() == 3.0
        assert session_tasks() == 1  # party 2's session only
        with pytest.raises(FailedPrecondition):
            await parties[1].deliver(views[2].outbound[0])
        assert (await parties[1].cancel("s1")).state is SessionState.CANCELLED


async def test_drain_cancels_what_the_grace_period_does_not_finish(clock):
    parties = toy_engines(2)
    manager = parties[1]
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        await start_as(parties, manager, SessionKind.DKG, toy_dkg("s1", 1))
        await trio.sleep(2)
        await manager.drain(5.0)
        assert trio.current_time() == 7.0
        with pytest.raises(Unavailable):
            await start_as(parties, manager, SessionKind.DKG, toy_dkg("s2", 1))
    # run() returned on its own: the nursery closed without being cancelled.
    view = await manager.status("s1")
    assert view.state is SessionState.CANCELLED and view.error == "node shutting down"
    assert session_tasks() == 0 and trio.current_time() == 7.0


async def test_drain_lets_running_sessions_finish(clock):
    parties = toy_engines(2)
    async with serving(parties[2]):
        async with trio.open_nursery() as nursery:
            await nursery.start(parties[1].run)
            views = await start_dkg(parties, "s1")
            nursery.start_soon(parties[1].drain, 30.0)
            await trio.sleep(1)
            with pytest.raises(Unavailable):
                await start_as(parties, parties[1], SessionKind.DKG, toy_dkg("s2", 1))
            await trio.sleep(1)
            finals = await relay(parties, "s1")
            assert views[1].state is SessionState.RUNNING
        assert trio.current_time() == 2.0
        assert finals[1].state is SessionState.COMPLETED


@pytest.mark.parametrize("seed", range(4))
async def test_shuffled_and_duplicated_delivery_completes(clock, seed):
    parties = toy_engines(3)
    async with serving(*parties.values()):
        await start_dkg(parties, "s1")
        finals = await shuffled_relay(parties, "s1", seed)
    assert {v.state for v in finals.values()} == {SessionState.COMPLETED}
    assert len({v.public_key for v in finals.values()}) == 1


async def test_message_rules(clock):
    parties = toy_engines(2, EngineConfig(round_timeout_s=10.0, max_buffered=3, max_message_bytes=100))
    m1 = parties[1]
    async with serving(*parties.values()):
        views = await start_dkg(parties, "s1")
        msg = views[2].outbound[0]

        def variant(**kw):
            return resigned(parties, ProtocolMessage(**{**msg.__dict__, **kw}))

        with pytest.raises(InvalidArgument, match="expects no such message"):
            await m1.deliver(variant(to_party=1, sequence=50))
        assert not (await m1.deliver(msg)).duplicate
        assert (await m1.deliver(msg)).duplicate
        with pytest.raises(InvalidArgument, match="already used"):
            await m1.deliver(variant(payload=b"other"))
        for bad in (variant(from_party=3), variant(from_party=1), variant(to_party=5, sequence=10)):
            with pytest.raises(InvalidArgument):
                await m1.deliver(bad)
        with pytest.raises(InvalidArgument, match="exceeds"):
            await m1.deliver(variant(sequence=11, round=3, payload=bytes(101)))
        with pytest.raises(NotFound):
            await m1.deliver(variant(session_id="nope"))
        # party 1 is now in round 2: round 1 has passed.
        assert (await m1.status("s1")).round == 2
        with pytest.raises(FailedPrecondition, match="round 1 has passed"):
            await m1.deliver(variant(sequence=12))
        # early messages for later rounds are held, up to max_buffered.
        await m1.deliver(variant(sequence=20, round=5))
        with pytest.raises(InvalidArgument, match="already sent a broadcast for round 5"):
            await m1.deliver(variant(sequence=21, round=5))
        await m1.deliver(variant(sequence=22, round=6))
        await m1.deliver(variant(sequence=23, round=7))
        with pytest.raises(ResourceExhausted):
            await m1.deliver(variant(sequence=30, round=8))
        view = await m1.status("s1", 1000)
        assert view.state is SessionState.TIMED_OUT
        with pytest.raises(FailedPrecondition, match="TIMED_OUT"):
            await m1.deliver(variant(sequence=31, round=9))
        assert (await m1.deliver(msg)).duplicate  # a relay's retry is still acknowledged


async def test_a_flood_to_one_session_does_not_starve_another(clock):
    parties = toy_engines(2, EngineConfig(round_timeout_s=10.0, max_buffered=8))
    rejected = 0

    async def flood(template: ProtocolMessage) -> None:
        nonlocal rejected
        for seq in range(100, 5100):
            try:
                await parties[1].deliver(
                    resigned(parties, ProtocolMessage(**{**template.__dict__, "sequence": seq, "round": seq}))
                )
            except ResourceExhausted:
                rejected += 1

    async with serving(*parties.values()) as nursery:
        a = await start_dkg(parties, "a")
        await start_dkg(parties, "b", key_id="key-2")
        nursery.start_soon(flood, a[2].outbound[0])
        finals_b = await relay(parties, "b")
        assert finals_b[1].state is SessionState.COMPLETED and trio.current_time() == 0.0
        finals_a = await relay(parties, "a")
    assert finals_a[1].state is SessionState.COMPLETED
    assert rejected >= 5000 - 8 - 100  # never more than max_buffered held


async def test_long_poll_returns_on_new_outbound_or_after_wait(clock):
    parties = toy_engines(2)
    async with serving(*parties.values()) as nursery:
        views = await start_dkg(parties, "s1")
        view = await parties[1].status("s1", 5)
        assert trio.current_time() == 5.0 and len(view.outbound) == 1

        async def later() -> None:
            await trio.sleep(2)
            await parties[1].deliver(views[2].outbound[0])

        nursery.start_soon(later)
        view = await parties[1].status("s1", 30)
        assert trio.current_time() == 7.0 and len(view.outbound) == 3
        await parties[1].cancel("s1")
        view = await parties[1].status("s1", 30)
        assert trio.current_time() == 7.0 and view.state is SessionState.CANCELLED


async def test_start_is_idempotent_and_checks_keys_and_limits(clock):
    config = EngineConfig(round_timeout_s=10.0, max_sessions=3, retention_s=50.0)
    parties = toy_engines(2, config)
    m1 = parties[1]
    async with serving(*parties.values()):
        first = await start_as(parties, m1, SessionKind.DKG, toy_dkg("s1", 1))
        again = await start_as(parties, m1, SessionKind.DKG, toy_dkg("s1", 1))
        assert again.outbound == first.outbound and again.session_id == "s1"
        with pytest.raises(AlreadyExists):
            await start_as(parties, m1, SessionKind.DKG, toy_dkg("s1", 1, n=3))
        with pytest.raises(AlreadyExists, match="already running"):
            await start_as(parties, m1, SessionKind.DKG, toy_dkg("s2", 1))
        with pytest.raises(NotFound):
            await start_as(parties, m1, SessionKind.SIGN, toy_sign("s3", (1, 2), key_id="missing"))
        with pytest.raises(NotFound):
            await m1.status("s1", kind=SessionKind.SIGN)
        await start_as(parties, m1, SessionKind.DKG, toy_dkg("s4", 1, key_id="k4"))
        await start_as(parties, m1, SessionKind.DKG, toy_dkg("s5", 1, key_id="k5"))
        with pytest.raises(ResourceExhausted):
            await start_as(parties, m1, SessionKind.DKG, toy_dkg("s6", 1, key_id="k6"))
        await m1.cancel("s5")
        await start_as(parties, m1, SessionKind.DKG, toy_dkg("s6", 1, key_id="k6"))
        # s1 ends at t=10 (timeout) and is forgotten at t=60.
        await trio.sleep(59.5)
        assert (await m1.status("s1")).state is SessionState.TIMED_OUT
        await trio.sleep(0.5)
        with pytest.raises(NotFound):
            await m1.status("s1")
        # Forgotten is not free: the id stays used (contract §4.7), for the same request or another.
        for request in (toy_dkg("s1", 1), toy_dkg("s1", 1, key_id="k7")):
            with pytest.raises(AlreadyExists, match="already used"):
                await start_as(parties, m1, SessionKind.DKG, request)
        with pytest.raises(NotFound):
            await m1.status("s1")


async def test_existing_key_and_bad_requests_are_refused(clock):
    parties = toy_engines(2)
    async with serving(*parties.values()):
        await start_dkg(parties, "s1")
        await relay(parties, "s1")
        with pytest.raises(AlreadyExists, match="already exists"):
            await start_as(parties, parties[1], SessionKind.DKG, toy_dkg("s2", 1))
        for bad in (
            toy_dkg("s3", 3, key_id="k3"),
            toy_dkg("s3", 1, key_id="k3", threshold=3),
            toy_dkg("", 1, key_id="k3"),
            toy_dkg("s3", 1, key_id="x" * 129),
        ):
            with pytest.raises(InvalidArgument):
                await start_as(parties, parties[1], SessionKind.DKG, bad)
        for bad_sign in (
            toy_sign("s4", (2,)),
            toy_sign("s4", (1, 1)),
            toy_sign("s4", (1, 3)),
            toy_sign("s4", (1, 2), message=b""),
        ):
            with pytest.raises(InvalidArgument):
                await start_as(parties, parties[1], SessionKind.SIGN, bad_sign)
        with pytest.raises(InvalidArgument):
            await start_as(parties, parties[1], SessionKind.SIGN, toy_dkg("s5", 1))
        # A signing with the stored key runs through.
        for m in parties.values():
            await start_as(parties, m, SessionKind.SIGN, toy_sign("sig", (1, 2)))
        finals = await relay(parties, "sig")
    assert finals[1].state is SessionState.COMPLETED and len(finals[1].signature) == 64
    audit = parties[1]._store.audit[-1]
    assert audit["operation"] == "sign" and audit["result"] == "completed"
    assert audit["message_digest"] == __import__("hashlib").sha256(b"hi").digest()


async def test_a_forged_reveal_fails_the_session_naming_the_sender(clock):
    parties = toy_engines(2)
    async with serving(*parties.values()):
        views = await start_dkg(parties, "s1")
        await parties[1].deliver(views[2].outbound[0])
        await parties[2].deliver(views[1].outbound[0])
        await trio.testing.wait_all_tasks_blocked()
        r2 = (await parties[2].status("s1")).outbound[1:]
        reveal, ack = r2
        forged = resigned(parties, ProtocolMessage(**{**reveal.__dict__, "payload": bytes(32)}))
        await parties[1].deliver(forged)
        await parties[1].deliver(ack)
        view = await parties[1].status("s1", 100)
    assert view.state is SessionState.FAILED and view.culprits == (2,)
    assert "does not match its commitment" in view.error
    assert "key-1" not in parties[1]._store.shares
    audit = parties[1]._store.audit[-1]
    assert audit["result"] == "failed culprits=[2]"
    # The blame evidence holds every message party 1 accepted from party 2, each signed by it.
    blame = verify_evidence(audit["evidence"])
    assert blame.culprits == (2,) and "does not match its commitment" in blame.reason
    assert blame.by_culprit[2] == (views[2].outbound[0], forged, ack)


async def test_a_failed_dkg_frees_its_key_id_as_soon_as_it_reports_failed(clock):
    """A caller that sees FAILED may retry the key id at once, even while the audit row is still being
    written (a slow database): the key id is released with the terminal state, not after the cleanup."""
    parties = toy_engines(2)
    slow_audit = parties[1]._store.append_audit

    async def slow(**row):
        await trio.sleep(5)
        await slow_audit(**row)

    parties[1]._store.append_audit = slow
    async with serving(*parties.values()):
        views = await start_dkg(parties, "s1")
        await parties[1].deliver(views[2].outbound[0])
        await parties[2].deliver(views[1].outbound[0])
        await trio.testing.wait_all_tasks_blocked()
        reveal, ack = (await parties[2].status("s1")).outbound[1:]
        await parties[1].deliver(resigned(parties, ProtocolMessage(**{**reveal.__dict__, "payload": bytes(32)})))
        await parties[1].deliver(ack)
        failed_at = trio.current_time()
        view = await parties[1].status("s1", 100)
        assert view.state is SessionState.FAILED
        retry = await start_as(parties, parties[1], SessionKind.DKG, toy_dkg("s2", 1))
        assert retry.state is SessionState.RUNNING
        assert trio.current_time() == failed_at  # no waiting for the slow audit row
        await parties[1].cancel("s2")


async def test_messages_accepted_before_the_round_was_known_are_filed_by_the_round_spec(clock):
    """While a session waits for pre-parameters (no round spec yet), a round-1 point-to-point message
    (round 1 expects broadcasts only) is accepted as next-round traffic; once round 1 is known it must be
    dropped, not mistaken for the broadcast the round waits for."""
    parties = toy_engines(2, needs_preparams=True)
    async with serving(*parties.values()):
        for p, m in parties.items():
            view = await start_as(parties, m, SessionKind.DKG, toy_dkg("s1", p))
            assert view.outbound == ()
        stray = resigned(parties, ProtocolMessage("s1", 2, 1, 1, 99, b"not a broadcast"))
        assert not (await parties[1].deliver(stray)).duplicate
        for m in parties.values():
            await m._store.add_preparams(b"set")
        finals = await relay(parties, "s1")
    assert finals[1].state is SessionState.COMPLETED and trio.current_time() == 1.0
