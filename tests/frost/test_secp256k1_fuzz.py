"""Random and mutated bytes into the FROST(secp256k1) decoders and a Taproot signing: only typed errors."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signer.protocols.base import InboxKey, ProtocolError
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256 as SUITE
from signer.protocols.frost.keys import KeyShare
from signer.protocols.frost.messages import DkgRound1, SignRound1, SignRound2
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession
from signer.protocols.frost.taproot import TaprootOutput
from tests.frost import driver
from tests.frost.test_fuzz import _only_decode_error

DECODERS = {
    "dkg1": lambda d: DkgRound1.decode(SUITE, d, 2),
    "sign1": lambda d: SignRound1.decode(SUITE, d),
    "sign2": lambda d: SignRound2.decode(SUITE, d),
    "keyshare": KeyShare.decode,
}


@pytest.fixture(scope="module")
def samples() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    kinds = {0x11: "dkg1", 0x21: "sign1", 0x22: "sign2"}

    def spy(frm, to, msg):
        if msg.payload[0] in kinds:
            out.setdefault(kinds[msg.payload[0]], msg.payload)
        return msg.payload

    dkg = {i: FrostDkgSession("fuzz", i, 2, (1, 2), SUITE) for i in (1, 2)}
    driver.run(dkg, spy)
    out["keyshare"], out["keyshare2"] = dkg[1].result.key_share, dkg[2].result.key_share
    sign = {i: FrostSignSession("fuzz-s", i, dkg[i].result.key_share, b"m", (1, 2)) for i in (1, 2)}
    driver.run(sign, spy)
    return out


@pytest.mark.parametrize("name", sorted(DECODERS))
@given(data=st.data())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
def test_mutated_valid_encodings(name: str, samples: dict[str, bytes], data) -> None:
    valid = bytearray(samples[name])
    DECODERS[name](bytes(valid))
    i = data.draw(st.integers(0, len(valid) - 1))
    if data.draw(st.booleans()):
        valid[i] ^= data.draw(st.integers(1, 255))
    else:
        valid[i : i + 33] = data.draw(st.binary(min_size=33, max_size=33))
    _only_decode_error(DECODERS[name], bytes(valid))


@given(payload=st.binary(max_size=200), round2=st.booleans())
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
def test_taproot_session_garbage_names_the_sender(samples: dict[str, bytes], payload: bytes, round2: bool) -> None:
    s1 = FrostSignSession("fz", 1, samples["keyshare"], b"m", (1, 2), taproot=TaprootOutput())
    s2 = FrostSignSession("fz", 2, samples["keyshare2"], b"m", (1, 2), taproot=TaprootOutput())
    s1.start()
    first = s2.start()[0].payload
    if round2:
        s1.advance({InboxKey(2, True): first})
    with pytest.raises(ProtocolError) as info:
        s1.advance({InboxKey(2, True): payload})
    assert info.value.culprits == (2,)
    assert s1.expected() is None
