"""Blame evidence: what the audit log keeps of a session that ended naming a culprit (docs/contract.md §11.8).

A party that names a culprit must be able to show why to someone who trusts neither it nor the relay. Every
protocol message carries its sender's identity signature over the session context (`signer.session_context`),
so the messages a culprit sent, kept with the context they were signed under, are proof that it sent them:
an auditor needs the parties' identity public keys only, and those are inside the context. What the evidence
proves then depends on the failure:

- two validly signed, different messages of one party for one slot (round, sender, addressee) prove an
  equivocation by themselves: `verify_evidence` concludes it;
- a bad proof, share or signature share is proven by re-running the protocol's public check on the signed
  payload (its decoding and verification use public data only), which is the protocol's business, not this
  module's: `verify_evidence` hands back each culprit's verified messages for that.

A bottom module beside `signer.session_context` (it reads that module's layouts and verifies with
`signer.crypto.identity`), so the engine that writes the evidence, `signer audit show` and any third-party
verifier use one encoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from signer.crypto.identity import SCHEME_NAMES, IdentityError, fingerprint
from signer.session_context import Reader, SessionContext, decode_context, message_fields, prefixed, u32, verify_message
from signer.wire import BROADCAST, ProtocolMessage

EVIDENCE_DOMAIN = b"mpc.v1.BlameEvidence"
EVIDENCE_VERSION = 1
# Where a message of the evidence comes from: accepted by this node from its sender (MAC and party signature
# checked), cited by the protocol as evidence (`ProtocolError.evidence`: one that reached this node only
# inside another party's message, such as the other half of an equivocation), or sent by this node itself.
RECEIVED = 1
CITED = 2
SENT = 3
SOURCES = {RECEIVED: "received", CITED: "cited", SENT: "sent"}


class EvidenceError(ValueError):
    """Blame evidence that is malformed or does not verify: the message names the first problem."""


@dataclass(frozen=True)
class EvidenceMessage:
    """One signed protocol message of the evidence (`message.party_signature` is its sender's signature)."""

    source: int
    message: ProtocolMessage


@dataclass(frozen=True)
class Evidence:
    """A failed session's blame, decoded but not yet verified: the session's context (which names every
    party's identity key), the party that wrote it (`reporter`), the parties it named, its reason, and the
    signed messages."""

    context: SessionContext
    reporter: int
    culprits: tuple[int, ...]
    reason: str
    messages: tuple[EvidenceMessage, ...]

    def encode(self) -> bytes:
        parts = [
            EVIDENCE_DOMAIN,
            u32(EVIDENCE_VERSION),
            prefixed(self.context.encode()),
            u32(self.reporter),
            u32(len(self.culprits)),
            *(u32(c) for c in self.culprits),
            prefixed(self.reason.encode("utf-8")),
            u32(len(self.messages)),
        ]
        for e in self.messages:
            m = e.message
            fields = message_fields(m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload)
            parts += [bytes([e.source]), fields, prefixed(m.party_signature)]
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes) -> Evidence:
        """The inverse of `encode`; EvidenceError for anything it could not have produced."""
        if not isinstance(data, bytes) or not data.startswith(EVIDENCE_DOMAIN):
            raise EvidenceError("not blame evidence (wrong domain)")
        r = Reader(data[len(EVIDENCE_DOMAIN) :], "blame evidence", EvidenceError)
        if (version := r.u32()) != EVIDENCE_VERSION:
            raise EvidenceError(f"blame evidence version {version} is not {EVIDENCE_VERSION}")
        try:
            context = decode_context(r.blob())
        except IdentityError as exc:
            raise EvidenceError(f"blame evidence: {exc}") from None
        reporter = r.u32()
        culprits = tuple(r.u32() for _ in range(r.u32()))
        reason = r.text()
        messages = []
        for _ in range(r.u32()):
            source = r.u8()
            if source not in SOURCES:
                raise EvidenceError(f"blame evidence: message source {source} is not one of {tuple(SOURCES)}")
            session_id = r.text()
            fields = (r.u32(), r.u32(), r.u32(), r.u64())
            messages.append(EvidenceMessage(source, ProtocolMessage(session_id, *fields, r.blob(), r.blob())))
        r.end()
        return cls(context, reporter, culprits, reason, tuple(messages))

    def describe(self) -> dict[str, Any]:
        """The evidence for people and JSON (`signer audit show`): the context's fields, then every message
        with its fields in hex and whether its signature verifies under the context, and the equivocations
        the validly signed ones show. It verifies, but never raises for a bad signature: it reports it."""
        c = self.context
        checked = [(e, self.signature_error(e)) for e in self.messages]
        return {
            "version": EVIDENCE_VERSION,
            "reporter": self.reporter,
            "culprits": list(self.culprits),
            "reason": self.reason,
            "signatures_valid": all(why is None for _, why in checked),
            "equivocations": sorted(_equivocations([e.message for e, why in checked if why is None])),
            "context": {
                "hash": c.hash.hex(),
                "kind": c.kind,
                "session_id": c.session_id,
                "key_id": c.key_id,
                "protocol": c.protocol,
                "curve": c.curve,
                "threshold": c.threshold,
                "parties": [
                    {
                        "party": p.party,
                        "scheme": SCHEME_NAMES.get(p.scheme, str(p.scheme)),
                        "public_key": p.public_key.hex(),
                        "fingerprint": fingerprint(p.public_key),
                    }
                    for p in c.parties
                ],
                "signers": list(c.signers),
                "message": c.message.hex(),
                "derivation_path": list(c.derivation_path),
                "presignature_id": c.presignature_id,
                "extra": {name: value.hex() for name, value in sorted(c.extra.items())},
            },
            "messages": [
                {
                    "source": SOURCES[e.source],
                    "from_party": e.message.from_party,
                    "to_party": e.message.to_party,
                    "round": e.message.round,
                    "sequence": e.message.sequence,
                    "payload": e.message.payload.hex(),
                    "party_signature": e.message.party_signature.hex(),
                    "signature_valid": why is None,
                    "signature_error": why or "",
                }
                for e, why in checked
            ],
        }

    def signature_error(self, e: EvidenceMessage) -> str | None:
        """Why message `e` does not prove that its claimed sender sent it in this session (its signature, or
        a sender that does not fit its source), or None."""
        m = e.message
        if m.session_id != self.context.session_id:
            return f"session id {m.session_id!r} is not the context's"
        if e.source != CITED and (m.from_party == self.reporter) != (e.source == SENT):
            return f"a {SOURCES[e.source]} message from party {m.from_party} in party {self.reporter}'s evidence"
        try:
            verify_message(self.context, m, m.party_signature)
        except IdentityError as exc:
            return str(exc)
        return None


def make_evidence(
    context: SessionContext,
    reporter: int,
    culprits: Iterable[int],
    reason: str,
    received: Iterable[ProtocolMessage],
    cited: Iterable[ProtocolMessage] = (),
    sent: Iterable[ProtocolMessage] = (),
) -> bytes:
    """The evidence of a blame by party `reporter`: of the messages it `received` (signatures checked), every
    one from a culprit and every broadcast; then the broadcasts it `sent` itself; then every `cited` one not
    among those. Each group by sender, then sequence.

    Why the broadcasts of honest parties and its own: a culprit's fault is often only visible against the
    whole public transcript (a FROST signature share is checked with every signer's nonce commitments), and
    broadcasts are public anyway. Point-to-point messages of honest parties are left out."""
    named = tuple(sorted(set(culprits)))
    groups = (
        (RECEIVED, [m for m in received if m.from_party in named or m.to_party == BROADCAST]),
        (SENT, [m for m in sent if m.to_party == BROADCAST]),
        (CITED, list(cited)),
    )
    messages: list[EvidenceMessage] = []
    seen: set[tuple[object, ...]] = set()
    for source, group in groups:
        for m in sorted(group, key=lambda m: (m.from_party, m.sequence)) if source != CITED else group:
            if _identity(m) not in seen:
                seen.add(_identity(m))
                messages.append(EvidenceMessage(source, m))
    return Evidence(context, reporter, named, reason, tuple(messages)).encode()


@dataclass(frozen=True)
class VerifiedBlame:
    """What verified evidence shows. `by_culprit`: every message of each culprit, each one proven to be
    its (re-run the protocol's public checks on their payloads to see the fault); `equivocations`: the
    parties proven by the evidence alone to have signed two different messages for one slot, with the two."""

    context: SessionContext
    reporter: int
    culprits: tuple[int, ...]
    reason: str
    by_culprit: Mapping[int, tuple[ProtocolMessage, ...]]
    equivocations: Mapping[int, tuple[ProtocolMessage, ProtocolMessage]]


def verify_evidence(data: bytes) -> VerifiedBlame:
    """Decode and verify blame evidence with public keys only: EvidenceError unless every message is signed
    by its claimed sender under the evidence's session context (only the reporter's own are `sent`), and the
    reporter and every culprit are parties of it (the reporter not among the culprits)."""
    evidence = Evidence.decode(data)
    context = evidence.context
    parties = {p.party for p in context.parties}
    if evidence.reporter not in parties:
        raise EvidenceError(f"reporter {evidence.reporter} is not a party of the session")
    for c in evidence.culprits:
        if c not in parties or c == evidence.reporter:
            raise EvidenceError(f"culprit {c} is not another party of the session")
    for i, e in enumerate(evidence.messages):
        m = e.message
        why = evidence.signature_error(e)
        if why is not None:
            raise EvidenceError(f"message {i} (from party {m.from_party}, round {m.round}): {why}")
    equivocations = _equivocations([e.message for e in evidence.messages])
    by_culprit = {
        c: tuple(e.message for e in evidence.messages if e.message.from_party == c) for c in evidence.culprits
    }
    return VerifiedBlame(context, evidence.reporter, evidence.culprits, evidence.reason, by_culprit, equivocations)


def _equivocations(messages: Iterable[ProtocolMessage]) -> dict[int, tuple[ProtocolMessage, ProtocolMessage]]:
    """The parties with two different messages for one slot (round, sender, addressee) among `messages`
    (signatures already verified), with the first two such messages of each."""
    slots: dict[tuple[int, int, int], ProtocolMessage] = {}
    found: dict[int, tuple[ProtocolMessage, ProtocolMessage]] = {}
    for m in messages:
        first = slots.setdefault((m.round, m.from_party, m.to_party), m)
        if first.payload != m.payload:
            found.setdefault(m.from_party, (first, m))
    return found


def _identity(m: ProtocolMessage) -> tuple[object, ...]:
    """A message as evidence: its fields and its signature (a resend with another signature is another proof)."""
    return (m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload, m.party_signature)
