"""Random and mutated bytes into every FROST decoder and session round: only typed errors come out."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signer.protocols.base import DecodeError, InboxKey, ProtocolError
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512 as SUITE
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.frost.messages import DkgConfirm, DkgRound1, DkgRound2, SignRound1, SignRound2
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from tests.support import driver
from tests.support.mutate import mutate

DECODERS = {
    "dkg1": lambda d: DkgRound1.decode(SUITE, d, 2),
    "dkg2": lambda d: DkgRound2.decode(SUITE, d),
    "confirm": lambda d: DkgConfirm.decode(SUITE, d),
    "sign1": lambda d: SignRound1.decode(SUITE, d),
    "sign2": lambda d: SignRound2.decode(SUITE, d),
    "keyshare": FrostKeyShare.decode,
}


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    """One valid encoding of every message kind, captured from a real DKG and signing."""
    out: dict[str, bytes] = {}
    kinds = {0x11: "dkg1", 0x12: "dkg2", 0x13: "confirm", 0x21: "sign1", 0x22: "sign2"}

    def spy(frm, to, msg):
        out.setdefault(kinds[msg.payload[0]], msg.payload)
        return msg.payload

    dkg = {i: FrostDkgSession("fuzz", i, 2, (1, 2)) for i in (1, 2)}
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


@pytest.mark.parametrize("name", sorted(DECODERS))
@given(data=st.binary(max_size=300))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
def test_random_bytes(name: str, data: bytes) -> None:
    _only_decode_error(DECODERS[name], data)


@pytest.mark.parametrize("name", sorted(DECODERS))
@given(data=st.data())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
def test_mutated_valid_encodings(name: str, samples: dict[str, bytes], data) -> None:
    DECODERS[name](samples[name])  # the sample itself decodes
    _, mutated = mutate(data, samples[name], ("flip", "truncate", "extend", "splice"))
    _only_decode_error(DECODERS[name], mutated)


@given(payload=st.binary(max_size=200), round2=st.booleans())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
def test_sign_session_garbage_names_the_sender(samples: dict[str, bytes], payload: bytes, round2: bool) -> None:
    s1 = FrostSignSession("fz", 1, samples["keyshare"], b"m", (1, 2))
    s2 = FrostSignSession("fz", 2, samples["keyshare2"], b"m", (1, 2))
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


@given(payload=st.binary(max_size=200))
@settings(max_examples=40)
def test_dkg_session_garbage_names_the_sender(payload: bytes) -> None:
    s1 = FrostDkgSession("fz", 1, 2, (1, 2))
    s1.start()
    with pytest.raises(ProtocolError) as info:
        s1.advance({InboxKey(2, True): payload})
    assert info.value.culprits == (2,)
