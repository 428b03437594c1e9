"""Taproot (BIP-340 under a BIP-341 output key) with FROST(secp256k1) keys from our DKG.

Every signature is checked by libsecp256k1's BIP-340 verifier (coincurve), and the output key it is
checked against is derived by libsecp256k1's own x-only tweak (`PublicKeyXOnly.tweak_add`) from a tweak
hashed here, so neither check reuses our tweak or challenge code.
"""

import csv
import hashlib
import os
from pathlib import Path

import coincurve
import pytest

from signer.crypto import bip340
from signer.crypto.secp256k1 import ORDER, Point, base_mul
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256 as SUITE
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.protocols.frost.taproot import FROST_SECP256K1_TR_SHA256, TaprootOutput, output_key
from tests.support import driver

BIP340_VECTORS = list(csv.DictReader((Path(__file__).parent / "vectors" / "bip340-test-vectors.csv").open()))


def _tagged(tag: bytes, data: bytes) -> bytes:
    t = hashlib.sha256(tag).digest()
    return hashlib.sha256(t + t + data).digest()


def independent_output_key(internal: bytes, merkle_root: bytes | None) -> bytes:
    """BIP-341 taproot_tweak_pubkey by libsecp256k1: x-only internal key plus the TapTweak scalar."""
    x = internal[1:]
    tweak = _tagged(b"TapTweak", x + (merkle_root or b""))
    key = coincurve.PublicKeyXOnly(x)
    key.tweak_add(tweak)  # in place
    return key.format()


def dkg(t: int, n: int, sid: str = "tr-dkg") -> dict[int, bytes]:
    parties = tuple(range(1, n + 1))
    sessions = {i: FrostDkgSession(sid, i, t, parties, SUITE) for i in parties}
    driver.run_ok(sessions)
    return {i: s.result.key_share for i, s in sessions.items()}


def sign(shares: dict[int, bytes], signers: tuple[int, ...], message: bytes, output: TaprootOutput | None) -> dict:
    sessions = {i: FrostSignSession("tr-sign", i, shares[i], message, signers, taproot=output) for i in signers}
    driver.run_ok(sessions)
    return sessions


# --- BIP-340 verification: the official vectors ----------------------------------------------------------


@pytest.mark.parametrize("row", BIP340_VECTORS, ids=lambda r: f"v{r['index']}")
def test_bip340_vectors(row: dict) -> None:
    pk, msg, sig = bytes.fromhex(row["public key"]), bytes.fromhex(row["message"]), bytes.fromhex(row["signature"])
    expected = row["verification result"] == "TRUE"
    assert bip340.verify(pk, msg, sig) is expected
    if expected:
        # Our challenge, by our own arithmetic: s*G - e*P is the even-y point with x = r.
        e = FROST_SECP256K1_TR_SHA256.challenge(Point.decode(b"\x02" + sig[:32]), Point.decode(b"\x02" + pk), msg)
        r = base_mul(int.from_bytes(sig[32:], "big")) - Point.decode(b"\x02" + pk) * e
        assert r.encode() == b"\x02" + sig[:32]


def test_bip340_verify_rejects_malformed_inputs() -> None:
    row = BIP340_VECTORS[1]
    pk, msg, sig = bytes.fromhex(row["public key"]), bytes.fromhex(row["message"]), bytes.fromhex(row["signature"])
    assert bip340.verify(pk, msg, sig)
    assert not bip340.verify(pk[:31], msg, sig)
    assert not bip340.verify(b"\x02" + pk, msg, sig)
    assert not bip340.verify(pk, msg, sig[:63])
    assert not bip340.verify(pk, msg, sig + b"\x00")


# --- 100 random FROST Taproot signings -------------------------------------------------------------------


@pytest.mark.parametrize(("t", "n"), [(2, 2), (2, 3)], ids=["2of2", "2of3"])
def test_random_taproot_signings_verify_under_bip340(t: int, n: int) -> None:
    seen = {"internal_odd": set(), "output_odd": set(), "nonce_sign": set()}
    for k in range(10):
        shares = dkg(t, n, f"tr-dkg-{k}")
        internal = _public_key(shares)
        seen["internal_odd"].add(internal[0] == 3)
        for j in range(5):
            root = os.urandom(32) if j % 2 else None
            output = TaprootOutput(root)
            message = os.urandom(32)
            signers = _pick(n, t, k + j)
            sessions = sign(shares, signers, message, output)
            key = independent_output_key(internal, root)
            assert output_key(internal, output) == key
            seen["output_odd"].add(bip340.output_key(Point.decode(internal), root).encode()[0] == 3)
            for s in sessions.values():
                assert s.result.public_key == internal and s.result.output_key == key
                assert len(s.result.signature) == 64
                assert coincurve.PublicKeyXOnly(key).verify(s.result.signature, message)
            seen["nonce_sign"].add(sessions[signers[0]]._ctx.nonce_sign)
            # the signature is for the tweaked key only: not the internal key, not another message
            sig = sessions[signers[0]].result.signature
            assert not coincurve.PublicKeyXOnly(internal[1:]).verify(sig, message)
            assert not coincurve.PublicKeyXOnly(key).verify(sig, message[::-1])
    # Both parities of every point whose parity matters were exercised (each misses with odds ~2^-10).
    assert seen == {"internal_odd": {False, True}, "output_odd": {False, True}, "nonce_sign": {1, -1}}


def _public_key(shares: dict[int, bytes]) -> bytes:
    return FrostKeyShare.decode(shares[1]).info.public_key


def _pick(n: int, t: int, k: int) -> tuple[int, ...]:
    """A signer set of size t, rotating through the parties."""
    return tuple(sorted(((k + i) % n) + 1 for i in range(t)))


def test_plain_and_taproot_signatures_from_one_key() -> None:
    shares = dkg(2, 2)
    # the stored key share records its suite (after the codec's kind and version bytes)
    assert shares[1][2] == SUITE.suite_id == 2 and FrostKeyShare.decode(shares[1]).suite is SUITE
    assert len(_public_key(shares)) == 33
    message = b"m" * 32
    plain = sign(shares, (1, 2), message, None)[1].result
    assert len(plain.signature) == 65 and plain.public_key == _public_key(shares)
    assert SUITE.verify(Point.decode(plain.public_key), message, plain.signature)
    tap = sign(shares, (1, 2), message, TaprootOutput())[1].result
    assert tap.public_key == _public_key(shares) and len(tap.output_key) == 32
    assert coincurve.PublicKeyXOnly(tap.output_key).verify(tap.signature, message)


def test_taproot_option_is_checked() -> None:
    shares = dkg(2, 2)
    with pytest.raises(ValueError, match="merkle root"):
        TaprootOutput(b"\x00" * 31)
    ed_sessions = {i: FrostDkgSession("ed", i, 2, (1, 2)) for i in (1, 2)}
    driver.run_ok(ed_sessions)
    with pytest.raises(ValueError, match="secp256k1"):
        FrostSignSession("s", 1, ed_sessions[1].result.key_share, b"m", (1, 2), taproot=TaprootOutput())
    # a tweak at or above the order is invalid per BIP-341 (checked arithmetic, not found by search)
    assert bip340.taproot_tweak(Point.decode(_public_key(shares))) < ORDER
