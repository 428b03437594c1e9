"""The session context and the byte layouts that party identity keys sign (docs/contract.md §11).

Every party of a session, the node and the device alike, computes the same `SessionContext` from what it
was asked to do (kind, ids, protocol, parties and their identity keys, signers, message, path, presignature
id) and signs each protocol message it sends over the context's hash together with the message fields
(`message_signing_input`). A receiver recomputes both from its own view of the session, so a relay that
started two parties with different parameters, swapped a party's key, or altered, forged or re-routed a
message is caught at the first message: the signature does not verify. An approval (`approval_input`) is a
signer's identity signature over a signing's context: the device saying "sign exactly this".

Both sides use these functions: the node's engine and the client library (P1), so the layouts have one
source. `decode_context` reads a context back: a verifier of blame evidence (`signer.blame`, §11.8) takes
the parties' identity keys from it. A bottom module: it imports only `signer.crypto.identity`, and every
layer may use it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from signer.crypto.identity import IdentityError, IdentityKey, check_public_key, verify

CONTEXT_DOMAIN = b"mpc.v1.SessionContext"
MESSAGE_DOMAIN = b"mpc.v1.PartySignature"
APPROVAL_DOMAIN = b"mpc.v1.SignApproval"
KINDS = ("dkg", "sign", "presign")

# auth.approvals: every other signer must approve each signing and presigning (the default), or nobody
# (server-to-server deployments where no device takes part; docs/operations.md says what that gives up).
APPROVE_ALL_OTHER_SIGNERS = "all-other-signers"
APPROVE_NONE = "none"
APPROVAL_POLICIES = (APPROVE_ALL_OTHER_SIGNERS, APPROVE_NONE)


def u32(value: int) -> bytes:
    """u32(x): four bytes, big-endian."""
    return struct.pack(">I", value)


def prefixed(value: bytes) -> bytes:
    """L(x) = u32(len(x)) ‖ x, as the MAC layout (docs/contract.md §3.3)."""
    return u32(len(value)) + value


def _text(value: str) -> bytes:
    return prefixed(value.encode("utf-8"))


@dataclass(frozen=True)
class PartyIdentity:
    """A party's identity key as StartDKG names it. `certificate` (an optional JWT from a device authority)
    is checked at StartDKG but is not part of the session context."""

    party: int
    scheme: int
    public_key: bytes
    certificate: str = field(default="", compare=False, repr=False)

    def check(self) -> None:
        """IdentityError unless the key is a valid key of its scheme."""
        check_public_key(self.scheme, self.public_key)


@dataclass(frozen=True)
class PartyApproval:
    """One signer's approval of a signing or presigning: its identity signature over `approval_input`."""

    party: int
    signature: bytes = field(repr=False)


def encode_identities(identities: Iterable[PartyIdentity]) -> bytes:
    """The parties' identities in index order: u32(count) ‖ (u32(party) ‖ u32(scheme) ‖ L(public_key))*.
    The same bytes are the parties part of the session context and what the store keeps with a key share."""
    ordered = sorted(identities, key=lambda p: p.party)
    return u32(len(ordered)) + b"".join(u32(p.party) + u32(p.scheme) + prefixed(p.public_key) for p in ordered)


class Reader:
    """Reads the layouts above (`u32`, `u64`, `L(x)`) from `data`, raising `error` for anything short or left
    over: the one parser of this module's encodings and of the blame evidence that carries them."""

    def __init__(self, data: bytes, what: str, error: type[Exception] = IdentityError) -> None:
        self._data, self._at, self._what, self._error = data, 0, what, error

    def _take(self, n: int) -> bytes:
        if self._at + n > len(self._data):
            raise self._error(f"truncated {self._what}")
        self._at += n
        return self._data[self._at - n : self._at]

    def u8(self) -> int:
        return self._take(1)[0]

    def u32(self) -> int:
        return int.from_bytes(self._take(4), "big")

    def u64(self) -> int:
        return int.from_bytes(self._take(8), "big")

    def blob(self) -> bytes:
        """L(x): a u32 length, then that many bytes."""
        return self._take(self.u32())

    def text(self) -> str:
        try:
            return self.blob().decode("utf-8")
        except UnicodeDecodeError:
            raise self._error(f"{self._what}: text is not UTF-8") from None

    @property
    def left(self) -> int:
        return len(self._data) - self._at

    def end(self) -> None:
        if self.left:
            raise self._error(f"trailing bytes after the {self._what}")


def _read_identities(r: Reader) -> tuple[PartyIdentity, ...]:
    return tuple(PartyIdentity(r.u32(), r.u32(), r.blob()) for _ in range(r.u32()))


def decode_identities(data: bytes) -> tuple[PartyIdentity, ...]:
    """The inverse of `encode_identities`; IdentityError for anything it could not have produced."""
    r = Reader(data, "party identities")
    parties = _read_identities(r)
    r.end()
    return parties


@dataclass(frozen=True)
class SessionContext:
    """Every field that defines a session, as all its parties must agree on it.

    `parties`: every party of the key with its identity (a DKG's parties, or the stored ones for a signing),
    `signers`: a signing's or presigning's signers (empty for a DKG), `message`: what is signed (a digest
    for ECDSA, the message for EdDSA; empty otherwise). Fields a later version adds go in `extra`, encoded
    as a tail of (L(name) ‖ L(value)) pairs in name order, only when set, so every context of this version
    keeps its bytes.
    """

    kind: str
    session_id: str
    key_id: str
    protocol: str
    curve: str
    threshold: int
    parties: tuple[PartyIdentity, ...]
    signers: tuple[int, ...] = ()
    message: bytes = b""
    derivation_path: tuple[int, ...] = ()
    presignature_id: str = ""
    extra: Mapping[str, bytes] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        return b"".join(
            [
                CONTEXT_DOMAIN,
                _text(self.kind),
                _text(self.session_id),
                _text(self.key_id),
                _text(self.protocol),
                _text(self.curve),
                u32(self.threshold),
                encode_identities(self.parties),
                u32(len(self.signers)),
                *(u32(s) for s in sorted(self.signers)),
                prefixed(self.message),
                u32(len(self.derivation_path)),
                *(u32(i) for i in self.derivation_path),
                _text(self.presignature_id),
                *(_text(name) + prefixed(self.extra[name]) for name in sorted(self.extra)),
            ]
        )

    @cached_property
    def hash(self) -> bytes:
        """SHA-256 of `encode()`: what message signatures and approvals bind."""
        return hashlib.sha256(self.encode()).digest()

    def identity(self, party: int) -> PartyIdentity:
        for p in self.parties:
            if p.party == party:
                return p
        raise IdentityError(f"party {party} has no identity in this session")


def decode_context(data: bytes) -> SessionContext:
    """The inverse of `SessionContext.encode`: what a verifier of blame evidence reads the parties' identity
    keys from. IdentityError for bytes `encode` could not have produced (also a re-encoding that differs,
    so the decoded context's hash is always the hash of `data`)."""
    if not data.startswith(CONTEXT_DOMAIN):
        raise IdentityError("not a session context (wrong domain)")
    r = Reader(data[len(CONTEXT_DOMAIN) :], "session context")
    kind, session_id, key_id, protocol, curve = r.text(), r.text(), r.text(), r.text(), r.text()
    threshold, parties = r.u32(), _read_identities(r)
    signers = tuple(r.u32() for _ in range(r.u32()))
    message = r.blob()
    path = tuple(r.u32() for _ in range(r.u32()))
    presignature_id = r.text()
    extra = {}
    while r.left:
        name = r.text()
        extra[name] = r.blob()
    if kind not in KINDS:
        raise IdentityError(f"session context kind must be one of {KINDS}")
    if len({p.party for p in parties}) != len(parties) or len(set(signers)) != len(signers):
        raise IdentityError("session context names a party or a signer twice")
    context = SessionContext(
        kind, session_id, key_id, protocol, curve, threshold, parties, signers, message, path, presignature_id, extra
    )
    if context.encode() != data:
        raise IdentityError("not a canonical session context (parties, signers or tail fields out of order)")
    return context


# The context's `extra` field naming a Taproot signing (docs/contract.md §11.2): 0x01 ‖ the merkle root
# (empty for a key-path-only output). The output key differs from the plain key's, so an approval of a
# plain signing must not stand for a Taproot one.
EXTRA_TAPROOT = "taproot"


def sign_extra(taproot: bool, taproot_merkle_root: bytes = b"") -> dict[str, bytes]:
    """The `extra` fields of a signing's context: a Taproot signing's output-key parameters, else none."""
    return {EXTRA_TAPROOT: b"\x01" + taproot_merkle_root} if taproot else {}


# What a StartDKG does (docs/contract.md §12): the names of `KeyOperation`, as the engine and clients use them.
CREATE = "create"
REFRESH = "refresh"
RESHARE = "reshare"
KEY_OPERATIONS = (CREATE, REFRESH, RESHARE)
# The context's `extra` fields of a refresh or reshare (docs/contract.md §12.3): the operation's name, and
# for a reshare the dealing quorum as u32(count) ‖ u32(party)* in increasing order. A CREATE sets neither,
# so a key generation's context keeps its bytes, and no DKG message can be replayed into a refresh.
EXTRA_OPERATION = "operation"
EXTRA_OLD_PARTIES = "old_parties"


def lifecycle_extra(operation: str, old_parties: Iterable[int] = ()) -> dict[str, bytes]:
    """The `extra` fields of a DKG session's context for `operation` (none for CREATE)."""
    if operation not in KEY_OPERATIONS:
        raise ValueError(f"operation must be one of {KEY_OPERATIONS}")
    if operation == CREATE:
        return {}
    extra = {EXTRA_OPERATION: operation.encode()}
    if operation == RESHARE:
        quorum = sorted(old_parties)
        extra[EXTRA_OLD_PARTIES] = u32(len(quorum)) + b"".join(u32(p) for p in quorum)
    return extra


def message_signing_input(
    context_hash: bytes, session_id: str, from_party: int, to_party: int, round: int, sequence: int, payload: bytes
) -> bytes:
    """What a party signs for one protocol message: the domain, the context hash, then the message fields
    laid out as the MAC lays them out."""
    return MESSAGE_DOMAIN + context_hash + message_fields(session_id, from_party, to_party, round, sequence, payload)


def message_fields(session_id: str, from_party: int, to_party: int, round: int, sequence: int, payload: bytes) -> bytes:
    """L(session_id) ‖ u32(from) ‖ u32(to) ‖ u32(round) ‖ u64(sequence) ‖ L(payload): a message's fields as
    the MAC, the party signature and the blame evidence lay them out."""
    return _text(session_id) + struct.pack(">IIIQ", from_party, to_party, round, sequence) + prefixed(payload)


def approval_input(context_hash: bytes) -> bytes:
    """What a signer signs to approve a signing or presigning: the domain and the sign context's hash."""
    return APPROVAL_DOMAIN + context_hash


class Fields(Protocol):
    """What signing a message needs of it (`signer.wire.ProtocolMessage` and the protobuf class have these)."""

    @property
    def session_id(self) -> str: ...
    @property
    def from_party(self) -> int: ...
    @property
    def to_party(self) -> int: ...
    @property
    def round(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def payload(self) -> bytes: ...


def _message_input(context: SessionContext, m: Fields) -> bytes:
    return message_signing_input(context.hash, m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload)


def sign_message(key: IdentityKey, context: SessionContext, m: Fields) -> bytes:
    """The sender's `party_signature` for message `m` of the session."""
    return key.sign(_message_input(context, m))


def verify_message(context: SessionContext, m: Fields, signature: bytes) -> None:
    """IdentityError unless `signature` is `m.from_party`'s identity signature over `m` in this session."""
    sender = context.identity(m.from_party)
    try:
        verify(sender.scheme, sender.public_key, _message_input(context, m), signature)
    except IdentityError as exc:
        raise IdentityError(f"party_signature of party {m.from_party}: {exc}") from None


def sign_approval(key: IdentityKey, context: SessionContext) -> bytes:
    return key.sign(approval_input(context.hash))


def verify_approval(context: SessionContext, party: int, signature: bytes) -> None:
    """IdentityError unless `signature` is `party`'s approval of exactly this signing."""
    approver = context.identity(party)
    try:
        verify(approver.scheme, approver.public_key, approval_input(context.hash), signature)
    except IdentityError as exc:
        raise IdentityError(f"approval of party {party}: {exc}") from None
