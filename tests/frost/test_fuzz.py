"""Random and mutated bytes into every FROST decoder and session round, for every ciphersuite (and
FROST(secp256k1)'s Taproot signing): only typed errors come out."""

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signer.protocols.base import DecodeError, InboxKey, ProtocolError
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, FROST_SECP256K1_SHA256, Ciphersuite
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.frost.messages import DkgConfirm, DkgRound1, DkgRound2, SignRound1, SignRound2
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.protocols.frost.taproot import TaprootOutput
from tests.support import driver
from tests.support.mutate import mutate

SUITES = {"ed25519": FROST_ED25519_SHA512, "secp256k1": FROST_SECP256K1_SHA256}
NAMES = ("dkg1", "dkg2", "confirm", "sign1", "sign2", "keyshare")
# (suite, taproot output or None) of every signing mode
SIGNING = {
    "ed25519": ("ed25519", None),
    "secp256k1": ("secp256k1", None),
    "secp256k1-taproot": ("secp256k1", TaprootOutput()),
}


def decoder(suite: Ciphersuite, name: str):
    return {
        "dkg1": lambda d: DkgRound1.decode(suite, d, 2),
        "dkg2": lambda d: DkgRound2.decode(suite, d),
        "confirm": lambda d: DkgConfirm.decode(suite, d),
        "sign1": lambda d: SignRound1.decode(suite, d),
        "sign2": lambda d: SignRound2.decode(suite, d),
        "keyshare": FrostKeyShare.decode,
    }[name]


@pytest.fixture(scope="module", params=sorted(SUITES))
def suite_samples(request) -> tuple[Ciphersuite, dict[str, bytes]]:
    """One valid encoding of every message kind, captured from a real DKG and signing of the suite."""
    suite = SUITES[request.param]
    return suite, _samples(suite)


@pytest.fixture(scope="module", params=sorted(SIGNING))
def signing(request) -> tuple[dict[str, bytes], TaprootOutput | None]:
    name, taproot = SIGNING[request.param]
    return _samples(SUITES[name]), taproot


@functools.cache
def _samples(suite: Ciphersuite) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    kinds = {0x11: "dkg1", 0x12: "dkg2", 0x13: "confirm", 0x21: "sign1", 0x22: "sign2"}

    def spy(frm, to, msg):
        out.setdefault(kinds[msg.payload[0]], msg.payload)
        return msg.payload

    dkg = {i: FrostDkgSession("fuzz", i, 2, (1, 2), suite) for i in (1, 2)}
    driver.run_ok(dkg, spy)
    out["keyshare"] = dkg[1].result.key_share
    out["keyshare2"] = dkg[2].result.key_share
    sign = {i: FrostSignSession("fuzz-s", i, out[f"keyshare{'' if i == 1 else '2'}"], b"m", (1, 2)) for i in (1, 2)}
    driver.run_ok(sign, spy)
    return out


def _only_decode_error(decode, data: bytes) -> None:
    try:
        decode(data)
    except DecodeError:
        pass


@pytest.mark.parametrize("suite", list(SUITES.values()), ids=list(SUITES))
@pytest.mark.parametrize("name", NAMES)
@given(data=st.binary(max_size=300))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
def test_random_bytes(suite: Ciphersuite, name: str, data: bytes) -> None:
    _only_decode_error(decoder(suite, name), data)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
def test_mutated_valid_encodings(name: str, suite_samples: tuple[Ciphersuite, dict[str, bytes]], data) -> None:
    suite, samples = suite_samples
    decode = decoder(suite, name)
    decode(samples[name])  # the sample itself decodes
    _, mutated = mutate(data, samples[name], ("flip", "truncate", "extend", "splice"))
    _only_decode_error(decode, mutated)


@given(payload=st.binary(max_size=200), round2=st.booleans())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
def test_sign_session_garbage_names_the_sender(
    signing: tuple[dict[str, bytes], TaprootOutput | None], payload: bytes, round2: bool
) -> None:
    samples, taproot = signing
    s1 = FrostSignSession("fz", 1, samples["keyshare"], b"m", (1, 2), taproot=taproot)
    s2 = FrostSignSession("fz", 2, samples["keyshare2"], b"m", (1, 2), taproot=taproot)
    s1.start()
    first = s2.start()[0].payload
    if round2:
        s1.advance({InboxKey(2, True): first})
    try:
        s1.advance({InboxKey(2, True): payload})
    except ProtocolError as exc:
        assert exc.culprits == (2,)
    else:
        pytest.fail("garbage accepted")
    assert s1.expected() is None


@pytest.mark.parametrize("suite", list(SUITES.values()), ids=list(SUITES))
@given(payload=st.binary(max_size=200))
@settings(max_examples=40)
def test_dkg_session_garbage_names_the_sender(suite: Ciphersuite, payload: bytes) -> None:
    s1 = FrostDkgSession("fz", 1, 2, (1, 2), suite)
    s1.start()
    with pytest.raises(ProtocolError) as info:
        s1.advance({InboxKey(2, True): payload})
    assert info.value.culprits == (2,)
