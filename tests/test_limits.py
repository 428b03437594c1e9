"""signer.limits: ids count UTF-8 bytes, party numbers stop at one byte, and every refusal names its field."""

from __future__ import annotations

import pytest

from signer import limits
from signer.auth.mac import MacError, mac_input
from signer.protocols.params import validate_session_id


@pytest.mark.parametrize("value", ["a" * 128, "é" * 64, "€" * 42 + "ab"])
def test_ids_of_exactly_128_utf8_bytes_pass_everywhere(value: str) -> None:
    assert len(value.encode()) == 128
    assert limits.check_session_id(value) == value and limits.check_key_id(value) == value
    validate_session_id(value)
    mac_input(value, 1, 0, 1, 1, b"")


@pytest.mark.parametrize("value", ["a" * 129, "é" * 65, "€" * 43])
def test_ids_over_128_utf8_bytes_fail_everywhere_naming_the_field(value: str) -> None:
    with pytest.raises(limits.LimitError, match=r"^session_id: at most 128 UTF-8 bytes"):
        limits.check_session_id(value)
    with pytest.raises(limits.LimitError, match=r"^key_id: at most 128 UTF-8 bytes"):
        limits.check_key_id(value)
    with pytest.raises(ValueError, match="session_id"):
        validate_session_id(value)
    with pytest.raises(MacError, match="128 UTF-8 bytes"):
        mac_input(value, 1, 0, 1, 1, b"")


@pytest.mark.parametrize("value", ["", "tab\there", "\ud800", None, b"bytes"])
def test_bad_ids_name_the_field(value: object) -> None:
    with pytest.raises(limits.LimitError, match=r"^presignature_id: "):
        limits.check_session_id(value, "presignature_id")


def test_party_numbers_fit_one_byte() -> None:
    assert limits.check_party_count(255) == 255
    for bad in (1, 256, 300, True, "3"):
        with pytest.raises(limits.LimitError, match=r"^total_parties: an integer in \[2, 255\]"):
            limits.check_party_count(bad)
    assert limits.check_party_index(3, "party_index", 3) == 3
    with pytest.raises(limits.LimitError, match=r"^party_index: an integer in \[1, 3\]"):
        limits.check_party_index(4, "party_index", 3)
    with pytest.raises(limits.LimitError, match=r"^threshold: an integer in \[2, 5\]"):
        limits.check_threshold(6, 5)


def test_check_as_turns_the_refusal_into_the_callers_error() -> None:
    class Refused(Exception):
        pass

    with pytest.raises(Refused, match="^key_id: "):
        limits.check_as(Refused, limits.check_key_id, "")
    assert limits.check_as(Refused, limits.check_key_id, "k") == "k"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((1, b"", False, ""), "taproot"),  # not a boolean
        ((True, "00" * 32, False, ""), "taproot_merkle_root"),  # not bytes
        ((False, bytes(32), False, ""), "taproot_merkle_root"),  # a merkle root without taproot
        ((True, bytes(31), False, ""), "taproot_merkle_root"),
        ((True, bytes(33), False, ""), "taproot_merkle_root"),
        ((True, b"", True, ""), "taproot"),  # a Taproot presigning
        ((True, b"", False, "presig-1"), "taproot"),
    ],
)
def test_taproot_fields_refused_naming_the_field(args: tuple, field: str) -> None:
    with pytest.raises(limits.LimitError, match=rf"^{field}: "):
        limits.check_taproot(*args)


def test_taproot_fields_accepted() -> None:
    for args in ((False, b"", False, ""), (False, b"", True, ""), (True, b"", False, ""), (True, bytes(32), False, "")):
        limits.check_taproot(*args)
