"""GG20 presigning through two engines with real stores: the presignature is stored under the session id
before COMPLETED, a signing that names it claims it first and runs the online rounds, idempotent starts never
claim twice, and the sessions, rounds and pool level are observed in the Prometheus metrics."""

from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path

import pytest
import trio
from prometheus_client import REGISTRY

from signer.crypto.preparams import load_fixture_preparams
from signer.engine import (
    GG20,
    SECP256K1,
    AlreadyExists,
    DkgRequest,
    EngineConfig,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    SessionKind,
    SessionManager,
    SessionState,
    SignRequest,
)
from signer.store import open_store, sqlite_url
from tests.engine.harness import serving
from tests.engine.relay import relay
from tests.engine.test_gg20 import check_ecdsa
from tests.support.identities import approved, node, start_as

FIXTURES = Path(__file__).resolve().parents[1] / "paillier" / "fixtures" / "preparams.json"
SIGNERS = (1, 2)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_presign_then_sign_through_two_engines(tmp_path):
    fixtures = load_fixture_preparams(FIXTURES)
    async with AsyncExitStack() as stack:
        stores = {}
        for p in SIGNERS:
            url = sqlite_url(tmp_path / f"p{p}.db")
            stores[p] = await stack.enter_async_context(open_store(url, os.urandom(32), f"node-{p}"))
            await stores[p].add_preparams(fixtures[6 + p - 1].to_bytes())
        parties = {p: node(EngineConfig(round_timeout_s=60.0), stores[p]) for p in SIGNERS}
        async with serving(*parties.values()):
            for p, m in parties.items():
                await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg", "eth", GG20, SECP256K1, 2, 2, p))
            public_key = (await relay(parties, "dkg"))[1].public_key

            before = {
                "started": sample("mpc_sessions_started_total", protocol="gg20", kind="presign"),
                "completed": sample("mpc_sessions_completed_total", protocol="gg20", kind="presign"),
                "rounds": sample("mpc_round_duration_seconds_count", protocol="gg20", kind="presign"),
            }
            presign = SignRequest("pre-1", "eth", b"", SIGNERS, presign=True)
            for m in parties.values():
                view = await start_as(parties, m, SessionKind.SIGN, presign)  # StartSign{presign}: a PRESIGN session
                assert view.kind is SessionKind.PRESIGN
            finals = await relay(parties, "pre-1")
            assert {v.state for v in finals.values()} == {SessionState.COMPLETED}, finals
            assert finals[1].public_key == public_key and finals[1].signature == b""
            for p in SIGNERS:
                assert await stores[p].count_presignatures("eth") == 1
                audit = await stores[p].read_audit(session_id="pre-1")
                assert [(a.operation, a.result, a.message_digest) for a in audit] == [("presign", "completed", None)]
            assert sample("mpc_sessions_started_total", protocol="gg20", kind="presign") == before["started"] + 2
            assert sample("mpc_sessions_completed_total", protocol="gg20", kind="presign") == before["completed"] + 2
            # Presigning: the start step, then rounds 1-4 advance, on each of the two parties.
            assert sample("mpc_round_duration_seconds_count", protocol="gg20", kind="presign") == before["rounds"] + 10
            assert sample("mpc_pool_level", pool="presignatures") == 1  # the last store written holds one

            # Starting the finished session again is refused (ids are single-use, contract §4.7): it does
            # not run (or store) a second presignature.
            with pytest.raises(AlreadyExists, match="already used"):
                await start_as(parties, parties[1], SessionKind.PRESIGN, presign)
            assert await stores[1].count_presignatures("eth") == 1

            digest = hashlib.sha256(b"tx").digest()
            sign = SignRequest("sign-1", "eth", digest, SIGNERS, presignature_id="pre-1")
            # Without party 2's approval, or with an approval of another digest (a relay that changed it after
            # party 2 approved): PERMISSION_DENIED before the claim, and the presignature is still there.
            swapped = replace(sign, message=hashlib.sha256(b"another tx").digest())
            for unapproved in (sign, replace(swapped, approvals=(await approved(parties, parties[1], sign)).approvals)):
                with pytest.raises(PermissionDenied):
                    await parties[1].start(SessionKind.SIGN, unapproved)
                assert await stores[1].count_presignatures("eth") == 1
                with pytest.raises(NotFound):
                    await parties[1].status("sign-1")
            # Two identical starts at once on one node: one claim, one session, both answered with it.
            views = {}
            async with trio.open_nursery() as nursery:
                for n in range(2):

                    async def start(n: int = n) -> None:
                        views[n] = await start_as(parties, parties[1], SessionKind.SIGN, sign)

                    nursery.start_soon(start)
            assert views[0].session_id == views[1].session_id == "sign-1"
            await start_as(parties, parties[2], SessionKind.SIGN, sign)
            finals = await relay(parties, "sign-1")
            view = finals[1]
            assert view.state is SessionState.COMPLETED, view.error
            assert finals[2].signature == view.signature
            check_ecdsa(view.signature, view.recovery_id, digest, public_key)
            assert [m.round for m in view.outbound] == [1, 2]  # the online rounds alone: ρ_2, then s_2
            for p in SIGNERS:
                assert await stores[p].count_presignatures() == 0
                # The claim's row was committed with the claim, the signing's before its signature showed.
                audit = await stores[p].read_audit(session_id="sign-1")
                assert [(a.operation, a.result, a.message_digest) for a in audit] == [
                    ("claim", "claimed presignature=pre-1", digest),
                    ("sign", "completed", digest),
                ]
            assert sample("mpc_pool_level", pool="presignatures") == 0

            with pytest.raises(NotFound):
                await start_as(
                    parties,
                    parties[1],
                    SessionKind.SIGN,
                    SignRequest("sign-2", "eth", digest, SIGNERS, presignature_id="pre-1"),
                )
            with pytest.raises(InvalidArgument):
                await start_as(
                    parties, parties[1], SessionKind.SIGN, SignRequest("pre-2", "eth", digest, SIGNERS, presign=True)
                )
            with pytest.raises(InvalidArgument):
                await start_as(parties, parties[1], SessionKind.PRESIGN, SignRequest("pre-3", "eth", b"", SIGNERS))

            # Ids are limited in UTF-8 bytes, as the presignature encoding carries them: a presignature made
            # under a 128-byte id (64 x "é") is usable; a 130-byte one (65 x "é") is refused up front.
            long_id = "é" * 64
            assert len(long_id.encode()) == 128
            for m in parties.values():
                await start_as(parties, m, SessionKind.SIGN, SignRequest(long_id, "eth", b"", SIGNERS, presign=True))
            assert {v.state for v in (await relay(parties, long_id)).values()} == {SessionState.COMPLETED}
            sign = SignRequest("sign-long", "eth", digest, SIGNERS, presignature_id=long_id)
            for m in parties.values():
                await start_as(parties, m, SessionKind.SIGN, sign)
            view = (await relay(parties, "sign-long"))[1]
            assert view.state is SessionState.COMPLETED, view.error
            check_ecdsa(view.signature, view.recovery_id, digest, public_key)
            with pytest.raises(InvalidArgument, match="session_id: at most 128 UTF-8 bytes"):
                await start_as(
                    parties, parties[1], SessionKind.SIGN, SignRequest("é" * 65, "eth", b"", SIGNERS, presign=True)
                )


# --- issue 15 item 2: a used presignature that a database restore brings back is refused ---------------
#
# Two nodes with real SQLite stores and state directories: presign twice, copy node 2's database file
# aside (the backup), sign with the first presignature, put the backup back and restart node 2. Both
# presignatures from before are refused with FAILED_PRECONDITION and no session is created (so no second
# online share leaves the node); a presignature made after the restore signs normally.

KEKS = {p: os.urandom(32) for p in SIGNERS}


def _db(tmp_path: Path, p: int) -> Path:
    return tmp_path / f"p{p}.db"


async def _nodes(stack: AsyncExitStack, tmp_path: Path) -> tuple[dict, dict[int, SessionManager]]:
    stores, parties = {}, {}
    for p in SIGNERS:
        stores[p] = await stack.enter_async_context(open_store(sqlite_url(_db(tmp_path, p)), KEKS[p], f"node-{p}"))
        state = tmp_path / f"state-{p}"
        state.mkdir(exist_ok=True)
        config = EngineConfig(round_timeout_s=120.0, state_dir=state)
        parties[p] = node(config, stores[p], identity=await stores[p].node_identity())
    return stores, parties


async def _presign(parties: dict[int, SessionManager], sid: str) -> None:
    for m in parties.values():
        await start_as(parties, m, SessionKind.SIGN, SignRequest(sid, "eth", b"", SIGNERS, presign=True))
    assert {v.state for v in (await relay(parties, sid)).values()} == {SessionState.COMPLETED}


async def _sign(parties: dict[int, SessionManager], sid: str, presignature_id: str, digest: bytes):
    for m in parties.values():
        request = SignRequest(sid, "eth", digest, SIGNERS, presignature_id=presignature_id)
        await start_as(parties, m, SessionKind.SIGN, request)
    view = (await relay(parties, sid))[2]
    assert view.state is SessionState.COMPLETED, view.error
    return view


async def test_restored_database_refuses_every_earlier_presignature(tmp_path) -> None:
    fixtures = load_fixture_preparams(FIXTURES)
    digest = hashlib.sha256(b"pay once").digest()
    async with AsyncExitStack() as stack:
        stores, parties = await _nodes(stack, tmp_path)
        for p in SIGNERS:
            await stores[p].add_preparams(fixtures[6 + p - 1].to_bytes())
        async with serving(*parties.values()):
            for p, m in parties.items():
                await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg", "eth", GG20, SECP256K1, 2, 2, p))
            public_key = (await relay(parties, "dkg"))[1].public_key
            await _presign(parties, "pre-1")
            await _presign(parties, "pre-2")
    backup = tmp_path / "backup.db"
    shutil.copyfile(_db(tmp_path, 2), backup)  # node 2 stopped: the file is the whole database

    async with AsyncExitStack() as stack:
        stores, parties = await _nodes(stack, tmp_path)
        async with serving(*parties.values()):
            view = await _sign(parties, "sign-1", "pre-1", digest)
            check_ecdsa(view.signature, view.recovery_id, digest, public_key)
    shutil.copyfile(backup, _db(tmp_path, 2))  # the operator restores yesterday's backup

    async with AsyncExitStack() as stack:
        stores, parties = await _nodes(stack, tmp_path)
        assert await stores[2].count_presignatures("eth") == 2, "the restore brought pre-1 back"
        async with serving(*parties.values()):
            for n, presignature_id in enumerate(("pre-1", "pre-2")):
                sid = f"sign-again-{n}"
                with pytest.raises(FailedPrecondition, match="store epoch"):
                    await start_as(
                        parties,
                        parties[2],
                        SessionKind.SIGN,
                        SignRequest(sid, "eth", digest, SIGNERS, presignature_id=presignature_id),
                    )
                with pytest.raises(NotFound):  # no session: no online share left the node
                    await parties[2].status(sid)
            assert await stores[2].count_presignatures("eth") == 0, "refused presignatures are deleted"
            # New presignatures (made in the new epoch) work.
            await _presign(parties, "pre-3")
            view = await _sign(parties, "sign-3", "pre-3", digest)
            check_ecdsa(view.signature, view.recovery_id, digest, public_key)
