"""Key lifecycle benchmarks: refresh and reshare with every party's work in one process.

The entries run the real sessions through the in-memory relay (`signer.protocols.local.run_local`), so
they include every round, e2e sealing, every Feldman check, every proof and the confirmation; the key
shares come from one key generation made before timing. GG20 takes its fresh pre-parameters (Paillier
and ring-Pedersen keys) from the committed fixtures, as the engine's pool would supply them: the figures
are the protocol's cost, not safe-prime generation.
"""

from __future__ import annotations

from benchmarks.bench_gg20 import FIXTURES
from benchmarks.bench_gg20 import _keygen as _gg20_keygen
from benchmarks.harness import entry
from signer.crypto.preparams import load_fixture_preparams
from signer.protocols.frost import FrostDkgSession, FrostRefreshSession, FrostReshareSession
from signer.protocols.gg20 import Gg20RefreshSession, Gg20ReshareSession
from signer.protocols.local import run_local

# Pre-parameter sets 0..2 are the GG20 keys' own (bench_gg20's keygen); a refresh or reshare takes 3..5.
FRESH = 3


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


@entry(
    "refresh.gg20.2of2",
    note="GG20 refresh: zero-sharing + new Paillier/ring-Pedersen with Π^mod, Π^prm, Π^fac, Schnorr; both parties",
)
def gg20_refresh_2of2():
    shares = _gg20_keygen(2, 2)
    preparams = load_fixture_preparams(FIXTURES)

    def op() -> bytes:
        sessions = {i: Gg20RefreshSession("bench-refresh", i, s, preparams[FRESH + i - 1]) for i, s in shares.items()}
        assert not run_local(sessions)
        return sessions[1].result.key_share

    return op


@entry("reshare.gg20.2to3", note="GG20 reshare 2-of-2 -> 2-of-3 (party 3 new, all new aux keys), all three parties")
def gg20_reshare_2to3():
    shares = _gg20_keygen(2, 2)
    preparams = load_fixture_preparams(FIXTURES)

    def op() -> bytes:
        sessions = {
            i: Gg20ReshareSession("bench-reshare", i, shares.get(i), (1, 2), 2, (1, 2, 3), preparams[FRESH + i - 1])
            for i in (1, 2, 3)
        }
        assert not run_local(sessions)
        return sessions[3].result.key_share

    return op
