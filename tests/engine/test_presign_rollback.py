"""A used presignature that a database restore brings back is refused (issue 15, item 2).

Two GG20 nodes with real SQLite stores and state directories: presign twice, copy node 2's database
file aside (the backup), sign with the first presignature, put the backup back and restart node 2.
Both presignatures from before are refused with FAILED_PRECONDITION and no session is created (so no
second online share leaves the node); a presignature made after the restore signs normally.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from signer.crypto.preparams import load_fixture_preparams
from signer.engine import (
    GG20,
    SECP256K1,
    DkgRequest,
    EngineConfig,
    FailedPrecondition,
    NotFound,
    SessionKind,
    SessionManager,
    SessionState,
    SignRequest,
)
from signer.store import open_store, sqlite_url
from tests.engine.harness import serving
from tests.engine.relay import relay
from tests.engine.test_gg20 import check_ecdsa

FIXTURES = Path(__file__).resolve().parents[1] / "paillier" / "fixtures" / "preparams.json"
SIGNERS = (1, 2)
KEKS = {p: os.urandom(32) for p in SIGNERS}


def _db(tmp_path: Path, p: int) -> Path:
    return tmp_path / f"p{p}.db"


async def _nodes(stack: AsyncExitStack, tmp_path: Path) -> tuple[dict, dict[int, SessionManager]]:
    stores, parties = {}, {}
    for p in SIGNERS:
        stores[p] = await stack.enter_async_context(open_store(sqlite_url(_db(tmp_path, p)), KEKS[p], f"node-{p}"))
        state = tmp_path / f"state-{p}"
        state.mkdir(exist_ok=True)
        parties[p] = SessionManager(EngineConfig(round_timeout_s=120.0, state_dir=state), stores[p])
    return stores, parties


async def _presign(parties: dict[int, SessionManager], sid: str) -> None:
    for m in parties.values():
        await m.start(SessionKind.SIGN, SignRequest(sid, "eth", b"", SIGNERS, presign=True))
    assert {v.state for v in (await relay(parties, sid)).values()} == {SessionState.COMPLETED}


async def _sign(parties: dict[int, SessionManager], sid: str, presignature_id: str, digest: bytes):
    for m in parties.values():
        await m.start(SessionKind.SIGN, SignRequest(sid, "eth", digest, SIGNERS, presignature_id=presignature_id))
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
                await m.start(SessionKind.DKG, DkgRequest("dkg", "eth", GG20, SECP256K1, 2, 2, p))
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
                    await parties[2].start(
                        SessionKind.SIGN, SignRequest(sid, "eth", digest, SIGNERS, presignature_id=presignature_id)
                    )
                with pytest.raises(NotFound):  # no session: no online share left the node
                    await parties[2].status(sid)
            assert await stores[2].count_presignatures("eth") == 0, "refused presignatures are deleted"
            # New presignatures (made in the new epoch) work.
            await _presign(parties, "pre-3")
            view = await _sign(parties, "sign-3", "pre-3", digest)
            check_ecdsa(view.signature, view.recovery_id, digest, public_key)
