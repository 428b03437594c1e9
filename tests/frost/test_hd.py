"""BIP-32 non-hardened derivation for FROST(secp256k1) keys: children as bip_utils derives them, signatures
(plain RFC 9591 and Taproot) that verify under the child key."""

import coincurve
import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1, P2TRAddrDecoder, P2TRAddrEncoder

from signer.crypto.hd import DerivationError
from signer.crypto.secp256k1 import Point
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256 as SUITE
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.protocols.frost.taproot import TaprootOutput
from signer.protocols.frost.tweak import chain_code
from tests.support import driver

MESSAGE = b"\x5a" * 32
PATHS = [(0,), (0, 7), (1, 2**31 - 1, 5)]


@pytest.fixture(scope="module")
def shares() -> dict[int, bytes]:
    sessions = {i: FrostDkgSession("hd-dkg", i, 2, (1, 2, 3), SUITE) for i in (1, 2, 3)}
    driver.run_ok(sessions)
    return {i: s.result.key_share for i, s in sessions.items()}


def bip_utils_child(shares: dict[int, bytes], path: tuple[int, ...]) -> bytes:
    key = FrostKeyShare.decode(shares[1])
    master = Bip32Secp256k1.FromPublicKey(
        SUITE.group.encode_point(key.public.group_public_key), Bip32KeyData(chain_code=chain_code(key))
    )
    return master.DerivePath("m/" + "/".join(map(str, path))).PublicKey().RawCompressed().ToBytes()


def sign(shares: dict[int, bytes], signers: tuple[int, ...], path: tuple[int, ...], taproot=None) -> dict:
    sessions = {
        i: FrostSignSession("hd-sign", i, shares[i], MESSAGE, signers, taproot=taproot, derivation_path=path)
        for i in signers
    }
    driver.run_ok(sessions)
    return sessions


def test_chain_code_is_the_same_at_every_party(shares: dict[int, bytes]) -> None:
    codes = {chain_code(FrostKeyShare.decode(s)) for s in shares.values()}
    assert len(codes) == 1 and len(codes.pop()) == 32


@pytest.mark.parametrize("path", PATHS, ids=str)
def test_child_signature_matches_bip32(shares: dict[int, bytes], path: tuple[int, ...]) -> None:
    child = bip_utils_child(shares, path)
    result = sign(shares, (1, 3), path)[1].result
    assert result.public_key == child
    assert SUITE.verify(Point.decode(child), MESSAGE, result.signature)
    assert not SUITE.verify(Point.decode(FrostKeyShare.decode(shares[1]).info.public_key), MESSAGE, result.signature)


@pytest.mark.parametrize("path", PATHS, ids=str)
def test_child_taproot_signature(shares: dict[int, bytes], path: tuple[int, ...]) -> None:
    # BIP-86 style: derive the child, then its key-path-only output key; bip_utils computes both.
    child = bip_utils_child(shares, path)
    output_key = P2TRAddrDecoder.DecodeAddr(P2TRAddrEncoder.EncodeKey(child, hrp="bc"), hrp="bc")
    result = sign(shares, (2, 3), path, TaprootOutput())[2].result
    assert result.public_key == child and result.output_key == output_key
    assert coincurve.PublicKeyXOnly(output_key).verify(result.signature, MESSAGE)


def test_bad_paths_and_suites_refused(shares: dict[int, bytes]) -> None:
    with pytest.raises(DerivationError, match="hardened"):
        FrostSignSession("s", 1, shares[1], MESSAGE, (1, 2), derivation_path=(2**31,))
    with pytest.raises(ValueError, match="tuple of integers"):
        FrostSignSession("s", 1, shares[1], MESSAGE, (1, 2), derivation_path=("0",))  # type: ignore[arg-type]
    ed = {i: FrostDkgSession("ed", i, 2, (1, 2)) for i in (1, 2)}
    driver.run_ok(ed)
    with pytest.raises(ValueError, match="secp256k1"):
        FrostSignSession("s", 1, ed[1].result.key_share, MESSAGE, (1, 2), derivation_path=(0,))
    # the empty path is the key itself, for every suite
    FrostSignSession("s", 1, ed[1].result.key_share, MESSAGE, (1, 2), derivation_path=())
