"""docs/contract.md §11.6 cannot drift from the code: the session-context layout table and the identity
test vectors are read out of the document and checked against `signer.session_context`, and the
signatures are checked with pynacl and `cryptography` directly (not through the node's own verifier)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nacl.signing
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from signer.crypto.identity import ECDSA_P256_SHA256, ED25519, IdentityError, IdentityKey, verify
from signer.session_context import (
    PartyIdentity,
    SessionContext,
    approval_input,
    message_signing_input,
    verify_approval,
    verify_message,
)
from signer.wire import ProtocolMessage

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "contract.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"<!-- identity-vectors -->\s*```json\n(.*?)\n```", re.S)
TABLE = re.compile(r"<!-- context-layout: (?P<name>[\w-]+) -->\n(?P<table>(?:\|.*\|\n)+)")
ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|[^|]*\|\s*`([0-9a-f]*)`\s*\|$")

(_block,) = BLOCK.findall(TEXT)
V = json.loads(_block)
CONTEXTS = {c["name"]: c for c in V["contexts"]}


def context(c: dict) -> SessionContext:
    return SessionContext(
        c["kind"],
        c["session_id"],
        c["key_id"],
        c["protocol"],
        c["curve"],
        c["threshold"],
        tuple(PartyIdentity(p, s, bytes.fromhex(k)) for p, s, k in c["parties"]),
        tuple(c["signers"]),
        bytes.fromhex(c["message"]),
        tuple(c["derivation_path"]),
        c["presignature_id"],
    )


def test_the_keys_are_the_documented_ones():
    node = IdentityKey(ED25519, bytes.fromhex(V["node_secret"]))
    device = IdentityKey(ECDSA_P256_SHA256, bytes.fromhex(V["device_secret"]))
    assert node.secret == bytes(range(32)) and node.public_key.hex() == V["node_public_key"]
    assert device.secret == hashlib.sha256(b"mpc.v1 test device").digest()
    assert device.public_key.hex() == V["device_public_key"]


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_context_encoding_and_hash(name):
    c = CONTEXTS[name]
    encoded = bytes.fromhex(c["encoding"])
    assert context(c).encode() == encoded
    assert hashlib.sha256(encoded).hexdigest() == c["hash"] == context(c).hash.hex()


def test_layout_table_spells_out_the_sign_context():
    tables = TABLE.findall(TEXT)
    assert tables, "docs/contract.md §11.6 must hold a context-layout table"
    for name, table in tables:
        offset, parts = 0, []
        for line in table.splitlines()[2:]:
            row = ROW.match(line)
            assert row, f"malformed row in the {name} table: {line}"
            assert int(row[1]) == offset and len(row[3]) == 2 * int(row[2]), line
            offset += int(row[2])
            parts.append(row[3])
        assert "".join(parts) == CONTEXTS[name]["encoding"]


def test_message_signature_vector():
    m, ctx = V["message"], context(CONTEXTS[V["message"]["context"]])
    fields = (m["session_id"], m["from_party"], m["to_party"], m["round"], m["sequence"], bytes.fromhex(m["payload"]))
    signing_input = bytes.fromhex(m["signing_input"])
    assert message_signing_input(ctx.hash, *fields) == signing_input
    assert signing_input[:21] == b"mpc.v1.PartySignature" and signing_input[21:53] == ctx.hash
    signature = bytes.fromhex(m["party_signature"])
    nacl.signing.VerifyKey(bytes.fromhex(V["node_public_key"])).verify(signing_input, signature)
    assert IdentityKey(ED25519, bytes.fromhex(V["node_secret"])).sign(signing_input) == signature  # deterministic
    verify_message(ctx, ProtocolMessage(*fields), signature)
    for changed in (
        ProtocolMessage(fields[0], 1, 2, *fields[3:]),  # re-routed: now "from" the device
        ProtocolMessage(*fields[:3], 2, *fields[4:]),
        ProtocolMessage(*fields[:4], 4, fields[5]),
        ProtocolMessage(*fields[:5], fields[5] + b"\x00"),
    ):
        with pytest.raises(IdentityError):
            verify_message(ctx, changed, signature)
    other = context({**CONTEXTS["ctx-sign"], "message": "00" * 32})
    with pytest.raises(IdentityError):
        verify_message(other, ProtocolMessage(*fields), signature)


def test_approval_vector():
    a, ctx = V["approval"], context(CONTEXTS[V["approval"]["context"]])
    signing_input = bytes.fromhex(a["approval_input"])
    assert approval_input(ctx.hash) == signing_input == b"mpc.v1.SignApproval" + ctx.hash
    signature = bytes.fromhex(a["signature"])
    device = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(V["device_public_key"]))
    device.verify(signature, signing_input, ec.ECDSA(hashes.SHA256()))  # raises if wrong
    verify_approval(ctx, a["party"], signature)
    with pytest.raises(IdentityError):
        verify_approval(context(CONTEXTS["ctx-dkg"]), a["party"], signature)
    with pytest.raises(IdentityError):
        verify(ECDSA_P256_SHA256, bytes.fromhex(V["device_public_key"]), signing_input, signature + b"\x00")
