"""Key refresh and reshare across a restart: what the engine stores with a pending version, and the session
that finishes it (docs/lifecycle.md §4, docs/contract.md §12.4).

A refresh or reshare stores its new version as `pending` (in one transaction with its audit row) before the
node releases its round-3 confirmation. If the node dies after that, the secret state of the session is
gone but nothing secret is needed any more: the new share is in the store, and what is left to do is to
send the confirmation again and wait for every other participant's. So the pending row carries `resume`,
public bytes from which a restarted engine rebuilds the session as it stood: its request (hence its
session context, which every message's identity signature binds), its participants, and its confirmation
message(s) with their original round and sequence numbers (a peer that already has them sees an exact
duplicate). `ConfirmationWait` is the sans-IO rest of the session: it re-emits those messages, waits for
the others' confirmations in that round and compares their digests with ours; equal everywhere means every
participant holds the new version, and the engine commits it.

What it cannot check is a GG20 confirmation's Schnorr proof of the sender's new share (the proof needs the
session's transcript, which is gone): it compares digests only. The digest binds the new public key package,
so the parties agree on the new public shares; a proof that a party knows its share is what the live session
adds, and a party that does not know it only harms its own ability to sign.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from signer.crypto.identity import IdentityError
from signer.engine.model import DkgRequest
from signer.engine.registry import ConfirmationReader
from signer.protocols.base import (
    DecodeError,
    DkgResult,
    InboxKey,
    Outgoing,
    ProtocolError,
    RoundSpec,
    SessionProtocol,
)
from signer.session_context import SessionContext, decode_identities, encode_identities
from signer.wire import ProtocolMessage

RESUME_FORMAT = 1


def encode_resume(
    context: SessionContext,
    request: DkgRequest,
    parties: tuple[int, ...],
    public_key: bytes,
    from_version: int,
    messages: list[ProtocolMessage],
) -> bytes:
    """The public bytes a pending version carries to finish its session after a restart (JSON: it is read
    by this engine only, and an operator can inspect it). `context`'s identities are every participant's,
    leaving parties' included, as the session signed and checked its messages with them."""
    doc = {
        "format": RESUME_FORMAT,
        "identities": encode_identities(context.parties).hex(),
        "request": {
            "session_id": request.session_id,
            "key_id": request.key_id,
            "protocol": request.protocol,
            "curve": request.curve,
            "threshold": request.threshold,
            "total_parties": request.total_parties,
            "party_index": request.party_index,
            "party_identities": encode_identities(request.party_identities).hex(),
            "operation": request.operation,
            "old_parties": list(request.old_parties),
        },
        "parties": list(parties),
        "public_key": public_key.hex(),
        "from_version": from_version,
        "messages": [
            {"to": m.to_party, "round": m.round, "sequence": m.sequence, "payload": m.payload.hex()} for m in messages
        ],
    }
    return json.dumps(doc, sort_keys=True).encode()


class Resume:
    """A decoded `resume`: the request, the participants, the group key, the version the session started
    from and the confirmation messages as first sent. ValueError if the bytes are not one."""

    def __init__(self, data: bytes) -> None:
        try:
            doc: dict[str, Any] = json.loads(data)
            if doc["format"] != RESUME_FORMAT:
                raise ValueError(f"unknown resume format {doc['format']!r}")
            r = doc["request"]
            self.request = DkgRequest(
                session_id=r["session_id"],
                key_id=r["key_id"],
                protocol=r["protocol"],
                curve=r["curve"],
                threshold=int(r["threshold"]),
                total_parties=int(r["total_parties"]),
                party_index=int(r["party_index"]),
                party_identities=decode_identities(bytes.fromhex(r["party_identities"])),
                operation=r["operation"],
                old_parties=tuple(int(p) for p in r["old_parties"]),
            )
            self.parties = tuple(int(p) for p in doc["parties"])
            self.identities = decode_identities(bytes.fromhex(doc["identities"]))
            self.public_key = bytes.fromhex(doc["public_key"])
            self.from_version = int(doc["from_version"])
            self.messages = [
                (int(m["to"]), int(m["round"]), int(m["sequence"]), bytes.fromhex(m["payload"]))
                for m in doc["messages"]
            ]
        except (KeyError, TypeError, ValueError, IdentityError) as exc:
            raise ValueError(f"unreadable resume data: {exc}") from None
        if not self.messages:
            raise ValueError("unreadable resume data: no confirmation message")

    @property
    def round(self) -> int:
        """The confirmation round: the round of the last message sent."""
        return max(r for _, r, _, _ in self.messages)

    @property
    def first_sequence(self) -> int:
        return min(s for _, _, s, _ in self.messages)


class ConfirmationWait(SessionProtocol):
    """The confirmation round of a refresh or reshare, rebuilt from its pending version after a restart:
    send our confirmation(s) again, then wait for every other participant's in that round. Every digest
    equal to ours: `result` (the engine commits the pending version). A different digest: ProtocolError
    with no culprit (the relay or those parties saw other broadcasts), as in the live session."""

    def __init__(
        self,
        session_id: str,
        party_index: int,
        parties: tuple[int, ...],
        digest: bytes,
        read: ConfirmationReader,
        public_key: bytes,
        messages: list[tuple[int, int, int, bytes]],
    ) -> None:
        self.session_id = session_id
        self.party_index = party_index
        self.parties = parties
        self._digest = digest
        self._read = read
        self._public_key = public_key
        self._messages = messages
        self._round = max(r for _, r, _, _ in messages)
        self._done = False

    def start(self) -> list[Outgoing]:
        return [Outgoing(to, rnd, payload) for to, rnd, _, payload in sorted(self._messages, key=lambda m: m[2])]

    def expected(self) -> RoundSpec | None:
        if self._done:
            return None
        others = frozenset(p for p in self.parties if p != self.party_index)
        return RoundSpec(self._round, broadcast_from=others)

    def advance(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        differing = []
        for key, payload in sorted(inbox.items(), key=lambda kv: kv[0].from_party):
            try:
                digest = self._read(payload)
            except DecodeError as exc:
                what = f"party {key.from_party}'s confirmation is malformed: {exc}"
                raise ProtocolError(what, [key.from_party]) from None
            if digest != self._digest:
                differing.append(key.from_party)
        if differing:
            raise ProtocolError(f"parties {differing} confirmed a different transcript")
        self._done = True
        return []

    @property
    def result(self) -> DkgResult:
        if not self._done:
            raise RuntimeError("the confirmation round has not finished")
        return DkgResult(public_key=self._public_key, key_share=b"")
