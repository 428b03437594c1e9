"""Key lifecycle benchmarks: FROST refresh and reshare with every party's work in one process.

The entries run the real sessions (`FrostRefreshSession`, `FrostReshareSession`) through the in-memory
relay (`signer.protocols.local.run_local`), so they include the three rounds, e2e sealing, every Feldman check and the
confirmation; the key shares come from one DKG made before timing.
"""

from __future__ import annotations

from benchmarks.harness import entry
from signer.protocols.frost import FrostDkgSession, FrostRefreshSession, FrostReshareSession
from signer.protocols.local import run_local


def _dkg(t: int, parties: tuple[int, ...]) -> dict[int, bytes]:
    sessions = {i: FrostDkgSession("bench-dkg", i, t, parties) for i in parties}
    assert not run_local(sessions)
    return {i: s.result.key_share for i, s in sessions.items()}


@entry(
    "refresh.frost.2of2", note="FROST(Ed25519) share refresh, 3 rounds incl. e2e shares and confirmation, both parties"
)
def refresh_2of2():
    shares = _dkg(2, (1, 2))

    def op() -> bytes:
        sessions = {i: FrostRefreshSession("bench-refresh", i, s) for i, s in shares.items()}
        assert not run_local(sessions)
        return sessions[1].result.key_share

    return op


@entry("reshare.frost.2to3", note="FROST(Ed25519) reshare 2-of-2 -> 2-of-3 (party 3 new), all three parties")
def reshare_2to3():
    shares = _dkg(2, (1, 2))

    def op() -> bytes:
        sessions = {i: FrostReshareSession("bench-reshare", i, shares.get(i), (1, 2), 2, (1, 2, 3)) for i in (1, 2, 3)}
        assert not run_local(sessions)
        return sessions[3].result.key_share

    return op
