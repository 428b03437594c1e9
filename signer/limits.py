"""Every limit on what a caller may send, in one place, and the checks that apply them.

Imports nothing from signer, so every layer (transport at the gRPC edge, the engine, the protocols, the
store, the MAC) checks against the same numbers with the same functions. A failed check raises
`LimitError` whose message starts with the field's name ("session_id: at most 128 UTF-8 bytes"), so
transport can answer INVALID_ARGUMENT naming the field.

Ids are limited in UTF-8 bytes, not characters: the protocol encodings, transcripts and the message MAC
carry them as UTF-8, so a character count would let 100 x "é" (200 bytes) through one layer and not the
next. Party indices are 1-based and fit in one byte, because the protocol encodings carry them as one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Parties in one key, and so the largest party index (the protocol encodings carry an index in one byte).
MAX_PARTIES = 255
#: Party indices are 1-based; to_party 0 on the wire is a broadcast.
MIN_PARTY_INDEX = 1
#: The smallest threshold (t-of-n with t >= 2: one party alone never signs).
MIN_THRESHOLD = 2
#: Session ids (and presignature ids, which are presigning session ids), in UTF-8 bytes.
MAX_SESSION_ID_BYTES = 128
#: Key ids, in UTF-8 bytes.
MAX_KEY_ID_BYTES = 128
#: Default for `session.max_message_bytes`: the largest protocol payload and StartSign message accepted.
DEFAULT_MAX_MESSAGE_BYTES = 1 << 20
#: The smallest value `session.max_message_bytes` may be set to (a GG20 round message needs several KiB).
MIN_MAX_MESSAGE_BYTES = 1024
#: ECDSA signs a digest of exactly this many bytes.
DIGEST_BYTES = 32
#: Wire field widths of a relayed message (docs/contract.md §3.3): round is a u32, sequence a u64.
MAX_ROUND = 2**32 - 1
MAX_SEQUENCE = 2**64 - 1
#: A PartyIdentity.certificate (a JWT) is at most this many characters.
MAX_CERTIFICATE_CHARS = 8192
#: Derivation path elements are non-hardened BIP-32 indices, below 2^31.
HARDENED = 2**31
#: Messages in one batched SubmitProtocolMessage (`ProtocolMessageRequest.messages`). Each is checked and
#: answered on its own, so the bound is on the work one call holds the event loop for, not on safety; the
#: request's bytes are bounded by grpc.max_message_bytes as always.
MAX_BATCH_MESSAGES = 64


class LimitError(ValueError):
    """A value outside its limit; the message starts with the field name."""


def check_as(error: Callable[[str], Exception], check: Callable[..., T], *args: object) -> T:
    """Apply one check; its LimitError becomes `error(message)`, the caller's own error type (a gRPC
    INVALID_ARGUMENT at the edge, the engine's InvalidArgument, the store's StoreConfigError)."""
    try:
        return check(*args)
    except LimitError as exc:
        raise error(str(exc)) from None


def is_int(value: object) -> bool:
    """An int that is not a bool (True is not a party index)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_text_id(field: str, value: object, max_bytes: int, *, printable: bool = True) -> str:
    """A non-empty string of at most `max_bytes` UTF-8 bytes, printable unless `printable` is False (the
    protocol layer only needs the size: what it encodes is bytes)."""
    if not isinstance(value, str) or not value:
        raise LimitError(f"{field}: a non-empty string is required")
    if printable and not value.isprintable():
        raise LimitError(f"{field}: only printable characters are allowed")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise LimitError(f"{field}: not valid Unicode") from None
    if size > max_bytes:
        raise LimitError(f"{field}: at most {max_bytes} UTF-8 bytes (got {size})")
    return value


def check_session_id(value: object, field: str = "session_id", *, printable: bool = True) -> str:
    return check_text_id(field, value, MAX_SESSION_ID_BYTES, printable=printable)


def check_key_id(value: object, field: str = "key_id") -> str:
    return check_text_id(field, value, MAX_KEY_ID_BYTES)


def check_int(field: str, value: object, low: int, high: int) -> int:
    if not is_int(value) or not low <= value <= high:  # type: ignore[operator]
        raise LimitError(f"{field}: an integer in [{low}, {high}] is required")
    return value  # type: ignore[return-value]


def check_batch_size(count: int, field: str = "messages") -> int:
    if count > MAX_BATCH_MESSAGES:
        raise LimitError(f"{field}: at most {MAX_BATCH_MESSAGES} messages in one call (got {count})")
    return count


def check_party_count(value: object, field: str = "total_parties") -> int:
    return check_int(field, value, MIN_THRESHOLD, MAX_PARTIES)


def check_party_index(value: object, field: str = "party_index", parties: int = MAX_PARTIES) -> int:
    return check_int(field, value, MIN_PARTY_INDEX, min(parties, MAX_PARTIES))


def check_threshold(value: object, parties: int, field: str = "threshold") -> int:
    return check_int(field, value, MIN_THRESHOLD, parties)


def check_taproot(taproot: object, merkle_root: object, presign: object, presignature_id: object) -> None:
    """A StartSign's Taproot fields, as far as the request alone tells: a boolean `taproot`, a merkle root
    of 32 bytes (or empty) only with it, and no Taproot presigning. Whether the key's scheme signs Taproot,
    and that the message is a 32-byte sighash, are the engine's checks."""
    if taproot is not True and taproot is not False:
        raise LimitError("taproot: must be a boolean")
    if not isinstance(merkle_root, bytes):
        raise LimitError("taproot_merkle_root: must be bytes")
    if merkle_root and not taproot:
        raise LimitError("taproot_merkle_root: needs taproot")
    if merkle_root and len(merkle_root) != DIGEST_BYTES:
        raise LimitError(f"taproot_merkle_root: must be {DIGEST_BYTES} bytes, got {len(merkle_root)}")
    if taproot and (presign or presignature_id):
        raise LimitError("taproot: does not go with presign or presignature_id")
