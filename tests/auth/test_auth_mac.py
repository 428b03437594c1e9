"""Message MACs against known-answer vectors written out byte for byte (docs/contract.md §3.3), so mpc-service
implementers can copy them, plus a tamper test for every field.

The expected MACs were computed outside this code base:
    echo -n <INPUT_HEX> | xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY_HEX>
"""

import hashlib
import hmac

import pytest

from signer.auth.mac import (
    MAC_LEN,
    MacError,
    MessageAuthenticator,
    mac_input,
    message_mac,
    verify_message_mac,
)

KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")

# (session_id, from_party, to_party, round, sequence, payload, MAC input hex, MAC hex)
VECTORS = [
    (
        "sess-1",
        1,
        2,
        3,
        4,
        b"hello",
        "6d70632e76312e50726f746f636f6c4d657373616765"  # b"mpc.v1.ProtocolMessage"
        "00000006"
        "736573732d31"  # L("sess-1")
        "00000001"  # u32 from_party = 1
        "00000002"  # u32 to_party = 2
        "00000003"  # u32 round = 3
        "0000000000000004"  # u64 sequence = 4
        "00000005"
        "68656c6c6f",  # L(b"hello")
        "d447c140f382ec3d5fe35f854e2b10b63fd4d3f4018d2a9715b3a12dd8d2ecda",
    ),
    (
        "wallet/\u00fc-7",  # non-ASCII: the length prefix counts UTF-8 bytes (11), not characters (10)
        2,
        0,  # broadcast
        1,
        (1 << 40) + 5,
        b"",
        "6d70632e76312e50726f746f636f6c4d657373616765"
        "0000000b"
        "77616c6c65742fc3bc2d37"  # L("wallet/ü-7" as UTF-8)
        "00000002"
        "00000000"
        "00000001"
        "0000010000000005"  # u64 sequence = 2^40 + 5
        "00000000",  # L(b"")
        "823d1dd1fb4947630f7ea16dde8896bcbe9e3cb73cd25aa91b7d0894371c92a6",
    ),
]


@pytest.mark.parametrize("vector", VECTORS, ids=["ascii", "utf8-broadcast-empty"])
def test_known_answer(vector):
    sid, frm, to, rnd, seq, payload, input_hex, mac_hex = vector
    assert mac_input(sid, frm, to, rnd, seq, payload) == bytes.fromhex(input_hex)
    mac = message_mac(KEY, sid, frm, to, rnd, seq, payload)
    assert mac.hex() == mac_hex
    assert mac == hmac.new(KEY, bytes.fromhex(input_hex), hashlib.sha256).digest()
    verify_message_mac(KEY, sid, frm, to, rnd, seq, payload, bytes.fromhex(mac_hex))


BASE = dict(session_id="sess-1", from_party=1, to_party=2, round=3, sequence=4, payload=b"hello")
GOOD_MAC = bytes.fromhex(VECTORS[0][7])


@pytest.mark.parametrize(
    "field,value",
    [
        ("session_id", "sess-2"),
        ("session_id", "sess-1 "),
        ("from_party", 2),
        ("to_party", 0),
        ("to_party", 1),
        ("round", 4),
        ("sequence", 5),
        ("sequence", 4 + (1 << 32)),  # a u32 sequence encoding would not see this change
        ("payload", b"hellp"),
        ("payload", b"hello\x00"),
        ("payload", b""),
    ],
)
def test_any_field_change_is_rejected(field, value):
    fields = {**BASE, field: value}
    with pytest.raises(MacError, match="does not match"):
        verify_message_mac(KEY, mac=GOOD_MAC, **fields)


def test_field_boundaries_are_unambiguous():
    # Moving bytes between session_id and payload changes the MAC thanks to the length prefixes.
    a = message_mac(KEY, "ab", 1, 2, 3, 4, b"c")
    b = message_mac(KEY, "a", 1, 2, 3, 4, b"bc")
    assert a != b


def test_wrong_key_and_flipped_mac_bits_are_rejected():
    other = bytes(range(1, 33))
    with pytest.raises(MacError, match="does not match"):
        verify_message_mac(other, mac=GOOD_MAC, **BASE)
    for i in (0, 15, 31):
        bad = bytearray(GOOD_MAC)
        bad[i] ^= 0x01
        with pytest.raises(MacError, match="does not match"):
            verify_message_mac(KEY, mac=bytes(bad), **BASE)


@pytest.mark.parametrize(
    "mac,msg",
    [
        (b"", "missing"),
        (None, "missing"),
        (GOOD_MAC[:31], "wrong length"),
        (GOOD_MAC + b"\x00", "wrong length"),
        (b"\x00" * 64, "wrong length"),
    ],
)
def test_missing_or_wrong_length_mac(mac, msg):
    with pytest.raises(MacError, match=msg):
        verify_message_mac(KEY, mac=mac, **BASE)


@pytest.mark.parametrize(
    "field,value",
    [
        ("from_party", -1),
        ("from_party", 1 << 32),
        ("to_party", 1 << 32),
        ("round", 1 << 32),
        ("sequence", -1),
        ("sequence", 1 << 64),
        ("round", True),
        ("round", 1.0),
        ("session_id", "x" * 129),
        ("session_id", "\ud800"),  # lone surrogate: not encodable as UTF-8
        ("session_id", b"sess-1"),
        ("payload", "hello"),
    ],
)
def test_out_of_range_or_wrong_type_fields(field, value):
    with pytest.raises(MacError):
        message_mac(KEY, **{**BASE, field: value})
    with pytest.raises(MacError):
        verify_message_mac(KEY, mac=GOOD_MAC, **{**BASE, field: value})


def test_bounds_are_inclusive():
    top = dict(
        session_id="x" * 128,
        from_party=0xFFFFFFFF,
        to_party=0,
        round=0xFFFFFFFF,
        sequence=0xFFFFFFFFFFFFFFFF,
        payload=b"\xff",
    )
    mac = message_mac(KEY, **top)
    assert len(mac) == MAC_LEN
    verify_message_mac(KEY, mac=mac, **top)
    tail = "ffffffff00000000ffffffffffffffffffffffff00000001ff"
    assert mac_input(**top).endswith(bytes.fromhex(tail))


@pytest.mark.parametrize("key", [b"", b"\x01" * 31, b"\x01" * 33, "k" * 32, None])
def test_bad_keys(key):
    with pytest.raises(MacError, match="HMAC key"):
        message_mac(key, **BASE)


def test_authenticator_hides_key_and_matches_functions():
    auth = MessageAuthenticator(KEY)
    assert KEY.hex() not in repr(auth) and "redacted" in repr(auth)
    assert auth.mac(**BASE) == GOOD_MAC
    auth.verify(mac=GOOD_MAC, **BASE)
    with pytest.raises(MacError):
        auth.verify(mac=GOOD_MAC, **{**BASE, "round": 9})


def test_errors_never_show_the_expected_mac():
    with pytest.raises(MacError) as e:
        verify_message_mac(KEY, mac=b"\x00" * 32, **BASE)
    assert GOOD_MAC.hex() not in str(e.value)
