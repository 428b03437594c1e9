"""Message MACs exactly as docs/contract.md §3.3 lays the bytes out, so mpc-service can interoperate from the spec.

    mac = HMAC-SHA256(key, b"mpc.v1.ProtocolMessage" || L(session_id as UTF-8) || u32(from_party)
                           || u32(to_party) || u32(round) || u64(sequence) || L(payload))

uN is big-endian and L(x) = u32(len(x)) || x. The length prefixes make the encoding injective, so no two
different messages share MAC input. Verification compares in constant time and says which check failed,
never the expected MAC.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

from signer.limits import MAX_SESSION_ID_BYTES

DOMAIN = b"mpc.v1.ProtocolMessage"
MAC_LEN = 32
KEY_LEN = 32
_U32_MAX = 0xFFFF_FFFF
_U64_MAX = 0xFFFF_FFFF_FFFF_FFFF


class MacError(ValueError):
    """A message MAC is missing or wrong, or a field cannot be encoded; maps to UNAUTHENTICATED."""


def _uint(name: str, value: object, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise MacError(f"{name} must be an integer")
    if not 0 <= value <= limit:
        raise MacError(f"{name} out of range")
    return value


def _key(key: object) -> bytes:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_LEN:
        raise MacError(f"HMAC key must be {KEY_LEN} bytes")
    return bytes(key)


def mac_input(session_id: str, from_party: int, to_party: int, round: int, sequence: int, payload: bytes) -> bytes:
    """The exact bytes that are MACed (exposed so interop tests can compare them byte for byte)."""
    if not isinstance(session_id, str):
        raise MacError("session_id must be a string")
    try:
        sid = session_id.encode("utf-8")
    except UnicodeEncodeError:
        raise MacError("session_id is not valid Unicode") from None
    if len(sid) > MAX_SESSION_ID_BYTES:
        raise MacError(f"session_id longer than {MAX_SESSION_ID_BYTES} UTF-8 bytes")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise MacError("payload must be bytes")
    body = bytes(payload)
    if len(body) > _U32_MAX:
        raise MacError("payload too long")
    return b"".join(
        (
            DOMAIN,
            struct.pack(">I", len(sid)),
            sid,
            struct.pack(
                ">IIIQ",
                _uint("from_party", from_party, _U32_MAX),
                _uint("to_party", to_party, _U32_MAX),
                _uint("round", round, _U32_MAX),
                _uint("sequence", sequence, _U64_MAX),
            ),
            struct.pack(">I", len(body)),
            body,
        )
    )


def message_mac(
    key: bytes,
    session_id: str,
    from_party: int,
    to_party: int,
    round: int,
    sequence: int,
    payload: bytes,
) -> bytes:
    """HMAC-SHA256 over `mac_input(...)` under the service's shared 32-byte key."""
    data = mac_input(session_id, from_party, to_party, round, sequence, payload)
    return hmac.new(_key(key), data, hashlib.sha256).digest()


def verify_message_mac(
    key: bytes,
    session_id: str,
    from_party: int,
    to_party: int,
    round: int,
    sequence: int,
    payload: bytes,
    mac: bytes,
) -> None:
    """Raise MacError unless `mac` is the MAC of these fields; the comparison is constant time."""
    if not isinstance(mac, bytes | bytearray) or len(mac) == 0:
        raise MacError("message MAC missing")
    if len(mac) != MAC_LEN:
        raise MacError(f"message MAC has wrong length ({len(mac)} bytes, expected {MAC_LEN})")
    expected = message_mac(key, session_id, from_party, to_party, round, sequence, payload)
    if not hmac.compare_digest(expected, bytes(mac)):
        raise MacError("message MAC does not match")


class MessageAuthenticator:
    """Holds the shared HMAC key for a server or client, so the key travels as one object whose repr
    never shows it."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = _key(key)

    def __repr__(self) -> str:
        return "MessageAuthenticator(key=<redacted>)"

    def mac(self, session_id: str, from_party: int, to_party: int, round: int, sequence: int, payload: bytes) -> bytes:
        return message_mac(self._key, session_id, from_party, to_party, round, sequence, payload)

    def verify(
        self,
        session_id: str,
        from_party: int,
        to_party: int,
        round: int,
        sequence: int,
        payload: bytes,
        mac: bytes,
    ) -> None:
        verify_message_mac(self._key, session_id, from_party, to_party, round, sequence, payload, mac)
