"""Cheating parties in FROST(secp256k1) and its Taproot mode: bad shares and points named as culprits."""

import pytest

from signer.crypto.secp256k1 import FIELD_PRIME, ORDER
from signer.protocols.base import DecodeError
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256 as SUITE
from signer.protocols.frost.core import InvalidSignature
from signer.protocols.frost.messages import DkgRound1, SignRound2
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.protocols.frost.taproot import TaprootOutput
from tests.frost.test_adversarial import run_expect
from tests.support import driver
from tests.support.driver import only

PARTIES3 = (1, 2, 3)
MODES = [None, TaprootOutput(), TaprootOutput(b"\x07" * 32)]
MODE_IDS = ["rfc9591", "taproot", "taproot-script"]
BAD_POINTS = {
    "x-not-on-curve": bytes.fromhex("02eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34"),
    "x-equals-p": b"\x02" + FIELD_PRIME.to_bytes(32, "big"),
    "uncompressed-prefix": b"\x04" + bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"),
    "zero": bytes(33),
}


def dkg_sessions() -> dict:
    return {i: FrostDkgSession("adv-secp-dkg", i, 2, PARTIES3, SUITE) for i in PARTIES3}


@pytest.fixture(scope="module")
def shares() -> dict[int, bytes]:
    sessions = dkg_sessions()
    driver.run_ok(sessions)
    return {i: s.result.key_share for i, s in sessions.items()}


def sign_sessions(shares: dict[int, bytes], mode: TaprootOutput | None, signers=PARTIES3, message=b"m" * 32) -> dict:
    return {i: FrostSignSession("adv-secp-sign", i, shares[i], message, signers, taproot=mode) for i in signers}


def test_dkg_wrong_proof_of_knowledge() -> None:
    def bad_mu(p: bytes) -> bytes:
        m = DkgRound1.decode(SUITE, p, 2)
        return DkgRound1(m.commitments, m.proof_r, (m.proof_mu + 1) % ORDER, m.e2e_public).encode(SUITE)

    run_expect(dkg_sessions(), only(2, 1, bad_mu), (2,))


@pytest.mark.parametrize("bad", list(BAD_POINTS.values()), ids=list(BAD_POINTS))
def test_dkg_bad_commitment_point(bad: bytes) -> None:
    def rewrite(p: bytes) -> bytes:
        return p[:4] + bad + p[37:]  # kind, version, u16 count, then the first 33-byte commitment

    run_expect(dkg_sessions(), only(3, 1, rewrite), (3,), DecodeError)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_corrupted_signature_share(shares: dict[int, bytes], mode: TaprootOutput | None) -> None:
    def bump(p: bytes) -> bytes:
        return SignRound2((SignRound2.decode(SUITE, p).share + 1) % ORDER).encode(SUITE)

    err = run_expect(sign_sessions(shares, mode), only(2, 2, bump), (2,))
    assert isinstance(err, InvalidSignature)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_share_for_another_message_or_output(shares: dict[int, bytes], mode: TaprootOutput | None) -> None:
    sessions = sign_sessions(shares, mode)
    sessions[3]._message = b"e" * 32
    errors = driver.run(sessions)
    assert errors[1].culprits == errors[2].culprits == (3,)
    # Party 3 signs plain RFC 9591 (or for another script tree) while the others sign this output.
    other = TaprootOutput(b"\x08" * 32) if mode is not None else TaprootOutput()
    sessions = sign_sessions(shares, mode, (1, 2))
    sessions[2] = sign_sessions(shares, other, (1, 2))[2]
    errors = driver.run(sessions)
    assert errors[1].culprits == (2,)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("bad", list(BAD_POINTS.values()), ids=list(BAD_POINTS))
@pytest.mark.parametrize("slot", [0, 1], ids=["hiding", "binding"])
def test_bad_nonce_commitment(shares: dict[int, bytes], mode: TaprootOutput | None, bad: bytes, slot: int) -> None:
    def rewrite(p: bytes) -> bytes:
        at = 2 + 33 * slot
        return p[:at] + bad + p[at + 33 :]

    run_expect(sign_sessions(shares, mode), only(1, 1, rewrite), (1,), DecodeError)


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_non_canonical_signature_share(shares: dict[int, bytes], mode: TaprootOutput | None) -> None:
    def rewrite(p: bytes) -> bytes:
        # 2^256 - n is only ~2^128, so share + n rarely fits: send a value in [n, 2^256) instead.
        share = SignRound2.decode(SUITE, p).share
        return p[:2] + (ORDER + share % (2**256 - ORDER)).to_bytes(32, "big")

    run_expect(sign_sessions(shares, mode), only(3, 2, rewrite), (3,), DecodeError)
