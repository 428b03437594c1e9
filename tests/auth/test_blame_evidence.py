"""docs/contract.md §11.8 cannot drift from `signer.blame`: the evidence layout table is read out of the
document and checked against the code, its P-256 signature with `cryptography` directly; and the verifier
refuses what a forger or a careless writer could hand it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from signer.blame import CITED, RECEIVED, SENT, Evidence, EvidenceError, EvidenceMessage, make_evidence, verify_evidence
from signer.cli import evidence_lines, evidence_record
from signer.crypto.identity import ED25519, IdentityError, IdentityKey
from signer.session_context import (
    CONTEXT_DOMAIN,
    SessionContext,
    decode_context,
    message_signing_input,
    prefixed,
    sign_message,
    u32,
)
from signer.wire import ProtocolMessage

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")
(_block,) = re.findall(r"<!-- identity-vectors -->\s*```json\n(.*?)\n```", TEXT, re.S)
V = json.loads(_block)
CONTEXTS = {c["name"]: bytes.fromhex(c["encoding"]) for c in V["contexts"]}
(_table,) = re.findall(r"<!-- evidence-layout: ev-1 -->\n((?:\|.*\|\n)+)", TEXT)
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|[^|]*\|\s*`([0-9a-f]*)`\s*\|$")
NODE = IdentityKey(ED25519, bytes.fromhex(V["node_secret"]))  # party 2 of both §11.6 contexts


def table_bytes() -> bytes:
    offset, parts = 0, []
    for line in _table.splitlines()[2:]:
        row = ROW.match(line)
        assert row, f"malformed row in the ev-1 table: {line}"
        assert int(row[1]) == offset and len(row[3]) == 2 * int(row[2]), line
        offset += int(row[2])
        parts.append(row[3])
    return bytes.fromhex("".join(parts))


def test_the_documented_vector_verifies():
    blob = table_bytes()
    evidence = Evidence.decode(blob)
    assert evidence.encode() == blob
    assert evidence.context.encode() == CONTEXTS["ctx-dkg"]
    assert (evidence.reporter, evidence.culprits) == (2, (1,))
    assert evidence.reason == "party 1's proof of knowledge does not verify"
    blame = verify_evidence(blob)
    (message,) = blame.by_culprit[1]
    assert (message.session_id, message.from_party, message.to_party, message.round, message.sequence) == (
        "dkg-7f3a", 1, 0, 1, 1
    )  # fmt: skip
    assert message.payload == bytes.fromhex("1101a1b2") and not blame.equivocations
    # The device's signature, checked with `cryptography` against the device key of §11.6 directly.
    signed = message_signing_input(
        hashlib.sha256(CONTEXTS["ctx-dkg"]).digest(), "dkg-7f3a", 1, 0, 1, 1, message.payload
    )
    device = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(V["device_public_key"]))
    device.verify(message.party_signature, signed, ec.ECDSA(hashes.SHA256()))


def test_contexts_decode_to_what_encodes_them():
    for encoded in CONTEXTS.values():
        assert decode_context(encoded).encode() == encoded
    sign = decode_context(CONTEXTS["ctx-sign"])
    assert (sign.signers, sign.derivation_path, sign.presignature_id) == ((1, 2), (0, 7), "pre-1")
    taproot = dataclasses.replace(sign, extra={"taproot": b"\x01"})
    assert decode_context(taproot.encode()) == taproot
    # Anything `encode` could not have produced is refused: a reordering, a short or long tail, no domain.
    body = CONTEXTS["ctx-sign"][len(CONTEXT_DOMAIN) :]
    signers = u32(2) + u32(1) + u32(2) + u32(32)  # two signers, 1 and 2, then the 32-byte digest's length
    assert CONTEXTS["ctx-sign"].count(signers) == 1
    swapped = CONTEXTS["ctx-sign"].replace(signers, u32(2) + u32(2) + u32(1) + u32(32))
    twice = CONTEXTS["ctx-sign"].replace(signers, u32(2) + u32(2) + u32(2) + u32(32))
    party_twice = CONTEXTS["ctx-sign"].replace(u32(1) + u32(2) + u32(33), u32(2) + u32(2) + u32(33), 1)
    for bad, why in (
        (swapped, "not a canonical"),
        (twice, "twice"),
        (party_twice, "twice"),
        (CONTEXTS["ctx-sign"] + b"\x00", "truncated"),
        (CONTEXTS["ctx-sign"][:-1], "truncated"),
        (body, "wrong domain"),
    ):
        with pytest.raises(IdentityError, match=why):
            decode_context(bad)


def _signed(context: SessionContext, m: ProtocolMessage) -> ProtocolMessage:
    return dataclasses.replace(m, party_signature=sign_message(NODE, context, m))


def test_an_equivocation_is_concluded_from_the_evidence_alone():
    context = decode_context(CONTEXTS["ctx-dkg"])
    first = _signed(context, ProtocolMessage("dkg-7f3a", 2, 0, 1, 1, b"commitments A"))
    second = _signed(context, ProtocolMessage("dkg-7f3a", 2, 0, 1, 1, b"commitments B"))
    p2p = _signed(context, ProtocolMessage("dkg-7f3a", 2, 1, 1, 2, b"a share"))
    blob = make_evidence(context, 1, [2], "party 2 equivocated", [first, p2p], cited=[second, first])
    evidence = Evidence.decode(blob)
    assert [(e.source, e.message.payload) for e in evidence.messages] == [
        (RECEIVED, b"commitments A"), (RECEIVED, b"a share"), (CITED, b"commitments B")
    ]  # fmt: skip
    blame = verify_evidence(blob)
    assert blame.equivocations == {2: (first, second)}
    # Different slots (another addressee, another round) are no equivocation.
    later = _signed(context, ProtocolMessage("dkg-7f3a", 2, 0, 2, 3, b"commitments B"))
    assert not verify_evidence(make_evidence(context, 1, [2], "", [first, p2p, later])).equivocations


def test_malformed_or_unproven_evidence_is_refused():
    context = decode_context(CONTEXTS["ctx-dkg"])
    message = _signed(context, ProtocolMessage("dkg-7f3a", 2, 0, 1, 1, b"payload"))
    good = Evidence(context, 1, (2,), "why", (EvidenceMessage(RECEIVED, message),))
    blob = good.encode()
    assert verify_evidence(blob).by_culprit == {2: (message,)}
    at_source = len(blob) - len(message.party_signature) - 4 - len(message.payload) - 4 - 20 - 8 - 4 - 1
    assert blob[at_source - 4 : at_source + 5] == u32(1) + bytes([RECEIVED]) + u32(8)  # 1 message, received, L(sid)
    other_session = dataclasses.replace(message, session_id="dkg-other")
    cases = {
        "wrong domain": b"X" + blob[1:],
        "version 2 is not 1": blob[:20] + u32(2) + blob[24:],
        "trailing bytes": blob + b"\x00",
        "truncated": blob[:-3],
        "source 4": blob[:at_source] + b"\x04" + blob[at_source + 1 :],
        "culprit 7 is not another party": dataclasses.replace(good, culprits=(7,)).encode(),
        "culprit 1 is not another party": dataclasses.replace(good, culprits=(1,)).encode(),
        "reporter 9 is not a party": dataclasses.replace(good, reporter=9).encode(),
        "a sent message from party 2 in party 1's evidence": dataclasses.replace(
            good, messages=(EvidenceMessage(SENT, message),)
        ).encode(),
        "a received message from party 2 in party 2's evidence": dataclasses.replace(
            good, reporter=2, culprits=(1,)
        ).encode(),
        "not the context's": dataclasses.replace(
            good, messages=(EvidenceMessage(RECEIVED, _signed(context, other_session)),)
        ).encode(),
        "party_signature of party 2": dataclasses.replace(
            good, messages=(EvidenceMessage(RECEIVED, dataclasses.replace(message, payload=b"payloaD")),)
        ).encode(),
        "no identity": dataclasses.replace(
            good, messages=(EvidenceMessage(RECEIVED, dataclasses.replace(message, from_party=3)),)
        ).encode(),
        "not a session context": blob[:24] + prefixed(b"junk") + blob[28 + len(context.encode()) :],
    }
    for what, bad in cases.items():
        with pytest.raises(EvidenceError, match=what):
            verify_evidence(bad)


def test_audit_show_reports_evidence_it_cannot_read_in_one_line():
    """A row whose evidence does not decode (a newer version, a damaged row) is shown as such, with its bytes."""
    future = b"mpc.v1.BlameEvidence" + u32(2) + b"..."
    record = evidence_record(future)
    assert record == {"error": "blame evidence version 2 is not 1", "encoded": future.hex()}
    assert evidence_lines(record) == ["  evidence: does not decode: blame evidence version 2 is not 1"]
