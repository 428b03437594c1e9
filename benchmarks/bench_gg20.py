"""GG20 benchmarks: in-process keygen, presigning and online signing, every party's work summed.

All parties run the real sessions (`signer.protocols.gg20`) in one process through
`signer.protocols.local.run_local`, so the figures include message encoding, decoding and every proof's verification.
Pre-parameters (Paillier keys, ring-Pedersen parameters) are "ready": they come from the committed
fixtures, as the engine's pool would supply them. Presigning and signing use signers {1, 2}.

`keygen.2of2.pooled` is keygen with each pre-parameter set carrying its Π^prm commitments, as sets from the
engine's pool do (made with the set in the background, untimed here). `presign.2of2.pooled` is the same
presigning with the process's pools of precomputed single-use values (signer/crypto/precompute.py:
Paillier nonces r^N, ring-Pedersen mask commitments) topped up before each run, outside the timing, as a
background task would keep them; it checks that a run used exactly the values its steps declare
(presign.precompute_needs). The other entries run with the pools empty (every value computed on demand).
`presign.step.<name>` is one party's work in one step (see `_presign_steps`).

`sign` is the online phase alone: sessions built from the stored key shares and a stored presignature
encoding, one broadcast round of s_i, share checks, combination, low-s and verification. The store
enforces single use of a presignature; here one encoding is re-read for every run (the work per run
is the same as with a fresh presignature), with a fresh digest each time.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from benchmarks.harness import Op, Result, entry, summarize
from signer.crypto.paillier import NONCE_POOL
from signer.crypto.precompute import POOLS, Need
from signer.crypto.preparams import PreParams, load_fixture_preparams
from signer.crypto.ringpedersen import MASK_POOL
from signer.crypto.zk import prm
from signer.protocols.gg20 import Gg20KeygenSession, Gg20PresignSession, Gg20SignSession, presign
from signer.protocols.gg20.keyshare import Gg20KeyShare
from signer.protocols.local import run_local

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "paillier" / "fixtures" / "preparams.json"
SIGNERS = (1, 2)


def _keygen(t: int, n: int) -> dict[int, bytes]:
    preparams = load_fixture_preparams(FIXTURES)
    parties = tuple(range(1, n + 1))
    sessions = {i: Gg20KeygenSession("bench-keygen", i, t, parties, preparams[i - 1]) for i in parties}
    if run_local(sessions):
        raise RuntimeError("keygen failed")
    return {i: s.result.key_share for i, s in sessions.items()}


@functools.cache
def _shares(t: int, n: int) -> dict[int, bytes]:
    """One key per (t, n) for the entries that start from a key (keygen at full cost is its own entry)."""
    return _keygen(t, n)


def _presign(shares: dict[int, bytes]) -> dict[int, bytes]:
    sessions = {i: Gg20PresignSession("bench-presign", i, shares[i], SIGNERS) for i in SIGNERS}
    if run_local(sessions):
        raise RuntimeError("presigning failed")
    return {i: s.result.consume() for i, s in sessions.items()}


def _presign_op(t: int, n: int):
    shares = _shares(t, n)
    return lambda: _presign(shares)


def _sign_op(t: int, n: int):
    shares = _shares(t, n)
    presignatures = _presign(shares)
    counter = itertools.count()

    def op() -> bytes:
        digest = hashlib.sha256(next(counter).to_bytes(8, "big")).digest()
        sessions = {
            i: Gg20SignSession("bench-sign", i, shares[i], digest, SIGNERS, (), presignatures[i]) for i in SIGNERS
        }
        if run_local(sessions):
            raise RuntimeError("signing failed")
        return sessions[1].result.signature

    return op


@entry("gg20.keygen.2of2", note="3 rounds: Π^mod, Π^prm, Π^fac, e2e VSS, Schnorr; both parties; preparams ready")
def keygen_2of2():
    return lambda: _keygen(2, 2)


KEYGEN_POOLED_NOTE = (
    "gg20.keygen.2of2 with the sets' Π^prm commitments made beforehand (untimed), as the pool's sets carry"
)
KEYGEN_POOLED_RUNS = 3


@entry("gg20.keygen.2of2.pooled", note=KEYGEN_POOLED_NOTE)
def keygen_2of2_pooled() -> Result:
    fixtures = load_fixture_preparams(FIXTURES)[:2]
    samples = []
    for run in range(1 + KEYGEN_POOLED_RUNS):  # run 0 warms up
        sets = [
            PreParams.with_commitments(p.paillier, p.ring_pedersen, prm.commit(p.ring_pedersen, p.ring_pedersen.phi))
            for p in fixtures
        ]
        t0 = time.perf_counter()
        sessions = {i: Gg20KeygenSession("bench-keygen", i, 2, (1, 2), sets[i - 1]) for i in (1, 2)}
        if run_local(sessions) or any(s.take_prm_commitments() is not None for s in sets):
            raise RuntimeError("keygen failed or did not use the precomputed commitments")
        if run:
            samples.append((time.perf_counter() - t0) * 1000.0)
    return summarize(samples, KEYGEN_POOLED_NOTE)


@entry("gg20.keygen.2of3", note="same as gg20.keygen.2of2 with 3 parties")
def keygen_2of3():
    return lambda: _keygen(2, 3)


@entry("gg20.presign.2of2", note="4 rounds: MtA+MtAwc with Π^enc/Π^aff-g, T/S proofs, Π^log*; both signers")
def presign_2of2():
    return _presign_op(2, 2)


POOLED_NOTE = (
    "gg20.presign.2of2 with the nonce and mask pools topped up before each run (untimed), as a pool task would"
)
POOLED_RUNS = 5


def _pooled_needs(keys: list[Gg20KeyShare]) -> list[Need]:
    """What one presigning of these parties takes from the process's pools (presign.precompute_needs), summed
    by pool and key: both parties share this process's pools here."""
    totals: dict[tuple[str, object], Need] = {}
    for k in keys:
        for need in presign.precompute_needs(k, SIGNERS, presign.PRESIGN_STEPS):
            old = totals.get((need.pool, need.key))
            totals[(need.pool, need.key)] = replace(need, count=need.count + (old.count if old else 0))
    return list(totals.values())


def _pools_state(needs: list[Need]) -> tuple[int, int]:
    """(misses, values ready) of the pools for these needs."""
    return NONCE_POOL.misses + MASK_POOL.misses, sum(POOLS[n.pool].available(n.key) for n in needs)


@entry("gg20.presign.2of2.pooled", note=POOLED_NOTE)
def presign_2of2_pooled() -> Result:
    shares = _shares(2, 2)
    needs = _pooled_needs([Gg20KeyShare.decode(shares[i]) for i in SIGNERS])
    samples = []
    for run in range(1 + POOLED_RUNS):  # run 0 warms up
        for need in needs:
            need.fill(need.count)
        misses = _pools_state(needs)[0]
        t0 = time.perf_counter()
        _presign(shares)
        elapsed_ms = (time.perf_counter() - t0) * 1000.0
        if _pools_state(needs) != (misses, 0):
            raise RuntimeError("a presigning did not use exactly the precomputed values it declares")
        if run:
            samples.append(elapsed_ms)
    return summarize(samples, POOLED_NOTE)


@entry("gg20.presign.2of3", note="signers {1,2} of a 2-of-3 key; same work as gg20.presign.2of2")
def presign_2of3():
    return _presign_op(2, 3)


@entry("gg20.sign.2of2", note="online round from a stored presignature: s_i, share checks, low-s, verify; both signers")
def sign_2of2():
    return _sign_op(2, 2)


@entry("gg20.sign.2of3", note="signers {1,2} of a 2-of-3 key; same work as gg20.sign.2of2")
def sign_2of3():
    return _sign_op(2, 3)


@functools.cache
def _presign_steps() -> dict[str, Op]:
    """Party 1's presigning steps (presign.round1 .. presign.finish), each a repeatable op on inputs
    recorded from one complete 2-of-2 presigning; the round functions are pure, so re-running one does the
    same work as the first run (fresh randomness, same proofs checked). Decoding is not included."""
    keys = {i: Gg20KeyShare.decode(b) for i, b in _shares(2, 2).items()}
    setups = {i: presign.PresignSetup.create("bench-presign-steps", keys[i], SIGNERS) for i in SIGNERS}
    r1 = {i: presign.round1(setups[i]) for i in SIGNERS}
    r2 = {
        i: presign.round2(
            r1[i][0], {j: r1[j][1] for j in SIGNERS if j != i}, {j: r1[j][2][i] for j in SIGNERS if j != i}
        )
        for i in SIGNERS
    }
    r3 = {
        i: presign.round3(
            r2[i][0], {j: r2[j][1] for j in SIGNERS if j != i}, {j: r2[j][2][i] for j in SIGNERS if j != i}
        )
        for i in SIGNERS
    }
    r4 = {i: presign.round4(r3[i][0], {j: r3[j][1] for j in SIGNERS if j != i}) for i in SIGNERS}
    me, peer = SIGNERS
    steps: dict[str, Callable[[], object]] = {
        "round1": lambda: presign.round1(setups[me]),
        "round2": lambda: presign.round2(r1[me][0], {peer: r1[peer][1]}, {peer: r1[peer][2][me]}),
        "round3": lambda: presign.round3(r2[me][0], {peer: r2[peer][1]}, {peer: r2[peer][2][me]}),
        "round4": lambda: presign.round4(r3[me][0], {peer: r3[peer][1]}),
        "finish": lambda: presign.finish(r4[me][0], {peer: r4[peer][1]}, {peer: r4[peer][2][me]}),
    }
    return steps


PRESIGN_STEP_NOTES = {
    "round1": "party 1 of 2-of-2: k, γ, K = Enc(k) (CRT), Π^enc under the peer's ring-Pedersen",
    "round2": "party 1 of 2-of-2: verify the peer's Π^enc; MtA + MtAwc answers (D, Y, Π^aff-g) to the peer",
    "round3": "party 1 of 2-of-2: verify 2 Π^aff-g (own key, CRT), decrypt α, α̂; δ, σ, T with its proof",
    "round4": "party 1 of 2-of-2: check T, R = δ⁻¹ΣΓ, R̄ and S with Π^log* under the peer's ring-Pedersen",
    "finish": "party 1 of 2-of-2: verify the peer's S/T proof and Π^log* (own ring-Pedersen, CRT); ΣR̄, ΣS",
}


def _register_step(name: str) -> None:
    @entry(f"gg20.presign.step.{name}", note=PRESIGN_STEP_NOTES[name], min_runs=10)
    def _step() -> Op:
        return _presign_steps()[name]


for _step_name in PRESIGN_STEP_NOTES:
    _register_step(_step_name)
