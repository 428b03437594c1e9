"""FROST benchmarks: in-process DKG and signing with every party's work, and frost-rs as the reference.

Our entries run the real engine sessions (`FrostDkgSession`, `FrostSignSession`) with all parties in
one process through `signer.protocols.local.run_local`, so they include message encoding, decoding
and validation. In signing every party verifies the other shares, aggregates and verifies the final
signature (the reference aggregates once).
"""

from __future__ import annotations

from benchmarks.harness import entry
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, Ciphersuite
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.protocols.frost.taproot import TaprootOutput
from signer.protocols.local import run_local

MESSAGE = b"benchmark message: transfer 1 SOL"


def _dkg(t: int, n: int, suite: Ciphersuite = FROST_ED25519_SHA512) -> dict[int, bytes]:
    parties = tuple(range(1, n + 1))
    sessions = {i: FrostDkgSession("bench-dkg", i, t, parties, suite) for i in parties}
    if run_local(sessions):
        raise RuntimeError("DKG failed")
    return {i: s.result.key_share for i, s in sessions.items()}


def sign_op(
    t: int,
    n: int,
    suite: Ciphersuite = FROST_ED25519_SHA512,
    message: bytes = MESSAGE,
    taproot: TaprootOutput | None = None,
    signers: int | None = None,
):
    """Signing by signers 1..t (or 1..`signers`) of a t-of-n key of `suite` (with `taproot`: for that
    output key)."""
    shares = _dkg(t, n, suite)
    signers_ = tuple(range(1, (signers or t) + 1))

    def op() -> bytes:
        sessions = {i: FrostSignSession("bench-sign", i, shares[i], message, signers_, taproot) for i in signers_}
        if run_local(sessions):
            raise RuntimeError("signing failed")
        return sessions[1].result.signature

    return op


@entry("frost.dkg.2of2", note="FROST(Ed25519,SHA-512) DKG, 3 rounds incl. e2e shares, both parties, in-process")
def dkg_2of2():
    return lambda: _dkg(2, 2)


@entry("frost.dkg.2of3", note="FROST(Ed25519,SHA-512) DKG, 3 rounds incl. e2e shares, all 3 parties, in-process")
def dkg_2of3():
    return lambda: _dkg(2, 3)


@entry("frost.sign.2of2", note="sessions from stored key shares; both signers: commit, sign, verify shares, aggregate")
def sign_2of2():
    return sign_op(2, 2)


@entry("frost.sign.2of3", note="signers {1,2} of a 2-of-3 key; same work as frost.sign.2of2")
def sign_2of3():
    return sign_op(2, 3)


@entry("frost.sign.2of3.echo", note="all 3 signers of a 2-of-3 key: three parties, so with the echo round")
def sign_2of3_echo():
    return sign_op(2, 3, signers=3)


@entry("frost.sign.2of2.ref", note="PyPI frost-rs (ZcashFoundation frost-ed25519): preprocess x2, sign x2, aggregate")
def sign_2of2_ref():
    import frost_rs

    return frost_rs_sign_op(frost_rs.utility_ed25519, MESSAGE)


def frost_rs_sign_op(u, message: bytes):
    """2-of-2 signing with one of frost-rs's suite modules `u`, keys from its own DKG."""
    ids = [u.get_id() for _ in range(2)]
    r1_secret, r1_public = {}, {}
    for i in ids:
        r1_secret[i], r1_public[i] = u.round1(i, 2, 2)
    r2_secret, r2_public = {}, {}
    for i in ids:
        r2_secret[i], r2_public[i] = u.round2(r1_secret[i], {k: v for k, v in r1_public.items() if k != i})
    key_packages, pubkey_packages = {}, {}
    for i in ids:
        others = {k: v for k, v in r1_public.items() if k != i}
        mine = {k: v[i] for k, v in r2_public.items() if i in v}
        key_packages[i], pubkey_packages[i] = u.round3(r2_secret[i], others, mine)

    def op() -> str:
        pre = {i: u.preprocess(key_packages[i]) for i in ids}
        commitments = {i: p[1] for i, p in pre.items()}
        shares = {i: u.sign(message, commitments, pre[i][0], key_packages[i]) for i in ids}
        return u.aggregate(message, commitments, shares, pubkey_packages[ids[0]])

    return op
