"""Provable blame through the real engine (docs/contract.md §11.8): a session that names a culprit leaves the
signed messages that prove it in its audit row, and a third party checks the blame with public keys only.

The verifier here uses nothing of the node's state: the evidence blob from the audit row, `signer.blame`
(encoding and signature checks), pynacl for the Ed25519 party signatures, and the protocols' public checks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections.abc import Mapping
from pathlib import Path

import nacl.signing
import pytest
import trio

from signer.blame import CITED, RECEIVED, SENT, Evidence, EvidenceError, verify_evidence
from signer.crypto.preparams import load_fixture_preparams
from signer.crypto.zk import mod
from signer.engine import (
    ED25519,
    FROST,
    GG20,
    SECP256K1,
    DkgRequest,
    EngineConfig,
    SessionKind,
    SessionState,
    SignRequest,
    Unauthenticated,
)
from signer.engine.offload import _failure, _loads
from signer.engine.registry import ProtocolBinding
from signer.protocols.base import DecodeError, InboxKey, Outgoing, ProofError, ProtocolError, RoundMachine
from signer.protocols.frost import core as frost_core
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512
from signer.protocols.frost.dkg import DkgParams, verify_round1
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.frost.messages import DkgRound1, SignRound1, SignRound2
from signer.protocols.gg20.keygen import KeygenParams
from signer.protocols.gg20.messages import KeygenCommit
from signer.session_context import message_signing_input, sign_message
from signer.wire import ProtocolMessage
from tests.engine.harness import serving
from tests.engine.relay import relay
from tests.support.blame import audit_row, bad_proof, fail_round1
from tests.support.identities import KEYS, node, resigned, start_as
from tests.support.memstore import MemoryStore

FIXTURES = Path(__file__).resolve().parents[1] / "paillier" / "fixtures" / "preparams.json"
SUITE = FROST_ED25519_SHA512


def independent_signature_check(evidence: bytes, m: ProtocolMessage) -> None:
    """`m`'s party signature checked with pynacl under the key the evidence's own context names for its
    sender, over the §11.3 layout with the context hash computed here (SHA-256 of the context bytes)."""
    context = Evidence.decode(evidence).context
    sender = context.identity(m.from_party)
    context_hash = hashlib.sha256(context.encode()).digest()
    signed = message_signing_input(context_hash, m.session_id, m.from_party, m.to_party, m.round, m.sequence, m.payload)
    nacl.signing.VerifyKey(sender.public_key).verify(signed, m.party_signature)  # raises BadSignatureError


async def test_frost_dkg_bad_proof_of_knowledge_is_proven_with_public_keys_only(clock):
    parties = {p: node(EngineConfig(round_timeout_s=10.0), MemoryStore()) for p in (1, 2)}

    async with serving(*parties.values()):
        genuine, sent = await fail_round1(parties, DkgRequest("dkg-pok", "w", FROST, ED25519, 2, 2, 0), bad_proof)
        context = parties[1]._sessions["dkg-pok"].setup.context
    row = audit_row(parties[1], "dkg-pok")
    assert row["result"] == "failed culprits=[2]"
    evidence = row["evidence"]
    assert isinstance(evidence, bytes)

    blame = verify_evidence(evidence)
    assert blame.context == context and (blame.reporter, blame.culprits) == (1, (2,)) and not blame.equivocations
    assert "proof of knowledge" in blame.reason
    assert blame.context.identity(2).public_key == KEYS[parties[2]].public_key
    (message,) = blame.by_culprit[2]
    assert message == sent and message.party_signature == sent.party_signature
    # With it, the public transcript it was checked against: party 1's own round-1 broadcast, signed by it.
    own = parties[1]._sessions["dkg-pok"].outbound[0]
    assert [(e.source, e.message) for e in Evidence.decode(evidence).messages] == [(RECEIVED, sent), (SENT, own)]
    assert Evidence.decode(evidence).messages[1].message.party_signature == own.party_signature
    independent_signature_check(evidence, message)

    # The fault itself, from the signed payload and the context's public fields alone.
    params = DkgParams(blame.context.session_id, blame.context.threshold, tuple(p.party for p in blame.context.parties))
    with pytest.raises(ProtocolError, match="party 2's proof of knowledge does not verify"):
        verify_round1(SUITE, params, 2, DkgRound1.decode(SUITE, message.payload, blame.context.threshold))
    verify_round1(SUITE, params, 2, DkgRound1.decode(SUITE, genuine.payload, 2))  # the check accepts an honest one

    # Evidence altered anywhere does not verify: a signature, a payload, the context's key for party 2.
    signature_at = evidence.rindex(message.party_signature)
    payload_at = evidence.rindex(message.payload)
    key_at = evidence.index(KEYS[parties[2]].public_key)
    for at in (signature_at + 5, payload_at + 40, key_at + 3):
        tampered = evidence[:at] + bytes([evidence[at] ^ 0x01]) + evidence[at + 1 :]
        with pytest.raises(EvidenceError, match="message 0 .*party_signature of party 2"):
            verify_evidence(tampered)
        shown = Evidence.decode(tampered).describe()["messages"][0]
        assert shown["signature_valid"] is False and "party_signature of party 2" in shown["signature_error"]
    with pytest.raises(EvidenceError, match="truncated"):
        verify_evidence(evidence[:-1])


async def test_an_undecodable_payload_is_proven_and_a_relay_cannot_frame_anyone(clock):
    """A relay's forgery in party 2's name (not signed by party 2) is refused and never becomes evidence;
    party 2's own signed payload that does not decode is, and anyone can see it does not decode."""
    parties = {p: node(EngineConfig(round_timeout_s=10.0), MemoryStore()) for p in (1, 2)}

    def truncated(payload: bytes) -> bytes:
        return payload[:-1]

    async with serving(*parties.values()):
        for p, m in parties.items():
            await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg-cut", "w", FROST, ED25519, 2, 2, p))
        genuine = (await parties[2].status("dkg-cut")).outbound[0]
        forged = dataclasses.replace(genuine, payload=truncated(genuine.payload))  # the relay cannot re-sign
        with pytest.raises(Unauthenticated):
            await parties[1].deliver(forged)
        assert (await parties[1].status("dkg-cut")).state is SessionState.RUNNING
        for m in parties.values():
            await m.cancel("dkg-cut")
        request = DkgRequest("dkg-cut2", "w2", FROST, ED25519, 2, 2, 0)
        _, sent = await fail_round1(parties, request, truncated, ahead=8)
    evidence = audit_row(parties[1], "dkg-cut2")["evidence"]
    assert isinstance(evidence, bytes) and len(evidence) < 2000  # the 8 × 64 KiB sent ahead are not kept
    blame = verify_evidence(evidence)
    assert blame.by_culprit == {2: (sent,)}
    with pytest.raises(DecodeError):
        DkgRound1.decode(SUITE, blame.by_culprit[2][0].payload, blame.context.threshold)
    assert audit_row(parties[1], "dkg-cut")["result"] == "cancelled"


async def test_frost_wrong_signature_share_is_proven_against_the_signed_transcript(clock):
    """Party 2 sends a wrong signature share. The evidence holds both signers' signed broadcasts (the nonce
    commitments every share is checked against); with the key's public package (group key and verifying
    shares, which every party of the key holds) anyone re-runs RFC 9591's share check and sees party 2's
    share fail and party 1's pass."""
    parties = {p: node(EngineConfig(round_timeout_s=10.0), MemoryStore()) for p in (1, 2)}
    message = b"pay 5 to carol"
    async with serving(*parties.values()):
        for p, m in parties.items():
            await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg", "w", FROST, ED25519, 2, 2, p))
        await relay(parties, "dkg")
        request = SignRequest("sig", "w", message, (1, 2))
        views = {p: await start_as(parties, m, SessionKind.SIGN, request) for p, m in parties.items()}
        await parties[2].deliver(views[1].outbound[0])
        await parties[1].deliver(views[2].outbound[0])
        while len(outbound := (await parties[2].status("sig")).outbound) < 2:
            await trio.sleep(0.01)
        genuine = outbound[1]
        bad_share = (SignRound2.decode(SUITE, genuine.payload).share + 1) % SUITE.group.order
        sent = resigned(parties, dataclasses.replace(genuine, payload=SignRound2(bad_share).encode(SUITE)))
        await parties[1].deliver(sent)
        while not (view := await parties[1].status("sig", 100)).state.terminal:
            pass
        assert view.state is SessionState.FAILED and view.culprits == (2,)
        for m in parties.values():
            await m.cancel("sig")
    store = parties[1]._store
    assert isinstance(store, MemoryStore)
    public = FrostKeyShare.decode(store.shares["w"].share).public  # the key's public package only

    evidence = audit_row(parties[1], "sig")["evidence"]
    assert isinstance(evidence, bytes)
    blame = verify_evidence(evidence)
    assert blame.context.kind == "sign" and blame.context.message == message
    assert [m.round for m in blame.by_culprit[2]] == [1, 2] and blame.by_culprit[2][1] == sent
    signed = {(e.message.from_party, e.message.round): e.message.payload for e in Evidence.decode(evidence).messages}
    assert set(signed) == {(1, 1), (1, 2), (2, 1), (2, 2)}
    commitments = {j: SignRound1.decode(SUITE, signed[(j, 1)]).commitments for j in (1, 2)}
    ctx = frost_core.signing_context(SUITE, public.group_public_key, commitments, blame.context.message)
    shares = {j: SignRound2.decode(SUITE, signed[(j, 2)]).share for j in (1, 2)}
    verifying = public.verifying_shares
    assert not frost_core.verify_signature_share(SUITE, 2, verifying[2], shares[2], ctx)
    assert frost_core.verify_signature_share(SUITE, 1, verifying[1], shares[1], ctx)
    genuine_share = SignRound2.decode(SUITE, genuine.payload).share
    assert frost_core.verify_signature_share(SUITE, 2, verifying[2], genuine_share, ctx)


async def test_gg20_keygen_bad_mod_proof_is_proven_with_public_keys_only(tmp_path):
    """GG20 keygen steps run in worker processes; party 2's round-1 Π^mod is perturbed (its z bumped)."""
    fixtures = load_fixture_preparams(FIXTURES)
    parties = {p: node(EngineConfig(round_timeout_s=60.0), MemoryStore()) for p in (1, 2)}
    for p, m in parties.items():
        await m._store.add_preparams(fixtures[p - 1].to_bytes())  # type: ignore[attr-defined]

    def bad_mod_proof(payload: bytes) -> bytes:
        commit = KeygenCommit.decode(payload)
        proof = dataclasses.replace(commit.mod_proof, z=(commit.mod_proof.z[0] + 1, *commit.mod_proof.z[1:]))
        return dataclasses.replace(commit, mod_proof=proof).encode()

    async with serving(*parties.values()):
        request = DkgRequest("dkg-mod", "eth", GG20, SECP256K1, 2, 2, 0)
        genuine, sent = await fail_round1(parties, request, bad_mod_proof)
    evidence = audit_row(parties[1], "dkg-mod")["evidence"]
    assert isinstance(evidence, bytes)
    blame = verify_evidence(evidence)
    assert blame.culprits == (2,) and "Π^mod" in blame.reason
    (message,) = blame.by_culprit[2]
    assert message == sent
    independent_signature_check(evidence, message)

    ctx = blame.context
    params = KeygenParams(ctx.session_id, 0, ctx.threshold, tuple(p.party for p in ctx.parties))
    commit = KeygenCommit.decode(message.payload)
    with pytest.raises(ProofError):
        mod.verify(params.proof_context(2, commit.e2e_public), commit.paillier, commit.mod_proof)
    honest = KeygenCommit.decode(genuine.payload)
    mod.verify(params.proof_context(2, honest.e2e_public), honest.paillier, honest.mod_proof)


class CitesAnEquivocation(RoundMachine):
    """Round 1: one broadcast each; then blame party 2 citing `cited` (a test stands in for a protocol that
    learned of another broadcast of party 2's, as an echo round does)."""

    def __init__(self, session_id: str, party: int, parties: tuple[int, ...], cited: list[ProtocolMessage]) -> None:
        super().__init__(session_id, party, parties)
        self._cited = cited

    def _start(self) -> list[Outgoing]:
        self._expect(1, self._blame)
        return [self.broadcast(1, f"commitment of {self.party_index}".encode())]

    def _blame(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        if self.party_index == 2:
            raise ProtocolError("party 1 blames this party")
        raise ProtocolError("party 2 signed two different broadcasts for round 1", [2], evidence=tuple(self._cited))


async def test_cited_evidence_is_kept_and_an_equivocation_concluded(clock):
    cited: list[ProtocolMessage] = []
    binding = ProtocolBinding(
        new_dkg=lambda req, _: CitesAnEquivocation(req.session_id, req.party_index, (1, 2), cited),
        new_sign=None,  # type: ignore[arg-type]
    )
    config = EngineConfig(round_timeout_s=10.0)
    parties = {p: node(config, MemoryStore(), protocols={("toy", ED25519): binding}) for p in (1, 2)}
    async with serving(*parties.values()):
        for p, m in parties.items():
            await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg-eq", "k", "toy", ED25519, 2, 2, p))
        received = (await parties[2].status("dkg-eq")).outbound[0]
        other = dataclasses.replace(received, payload=b"another commitment of 2")
        context = parties[2]._sessions["dkg-eq"].setup.context
        cited.append(dataclasses.replace(other, party_signature=sign_message(KEYS[parties[2]], context, other)))
        cited.append(received)  # also received directly: kept once, as received
        finals = await relay(parties, "dkg-eq")
    assert finals[1].culprits == (2,)
    row = audit_row(parties[1], "dkg-eq")
    evidence = Evidence.decode(row["evidence"])
    assert [(e.source, e.message.from_party, e.message.payload) for e in evidence.messages] == [
        (RECEIVED, 2, received.payload),
        (SENT, 1, b"commitment of 1"),
        (CITED, 2, b"another commitment of 2"),
    ]
    blame = verify_evidence(row["evidence"])
    assert set(blame.equivocations) == {2}
    assert {m.payload for m in blame.equivocations[2]} == {received.payload, b"another commitment of 2"}
    # A cited message its claimed sender did not sign makes the whole evidence fail.
    swapped = dataclasses.replace(cited[0], party_signature=received.party_signature)
    forged = dataclasses.replace(
        evidence, messages=(*evidence.messages[:2], dataclasses.replace(evidence.messages[2], message=swapped))
    )
    with pytest.raises(EvidenceError, match="message 2 .*party_signature of party 2"):
        verify_evidence(forged.encode())


def test_evidence_crosses_the_worker_boundary():
    """GG20 steps run in worker processes: a ProtocolError comes back with its culprits and cited messages."""
    cited = (ProtocolMessage("s", 2, 0, 1, 1, b"payload", b"signature"),)
    with pytest.raises(ProtocolError) as raised:
        _loads(_failure(ProtocolError("equivocation", [2], evidence=cited)))
    assert raised.value.culprits == (2,) and raised.value.evidence == cited
    assert raised.value.evidence[0].party_signature == b"signature"
    assert pickle.loads(pickle.dumps(cited)) == cited


async def test_no_evidence_without_a_culprit(clock):
    """A completed DKG and one that times out (nobody provably at fault) keep no evidence."""
    parties = {p: node(EngineConfig(round_timeout_s=10.0), MemoryStore()) for p in (1, 2)}
    async with serving(*parties.values()):
        for p, m in parties.items():
            await start_as(parties, m, SessionKind.DKG, DkgRequest("dkg-ok", "w", FROST, ED25519, 2, 2, p))
        assert {v.state for v in (await relay(parties, "dkg-ok")).values()} == {SessionState.COMPLETED}
        await start_as(parties, parties[1], SessionKind.DKG, DkgRequest("dkg-late", "v", FROST, ED25519, 2, 2, 1))
        view = await parties[1].status("dkg-late", 100)
        assert view.state is SessionState.TIMED_OUT and view.culprits == ()
        await parties[1].cancel("dkg-late")
    rows = parties[1]._store.audit  # type: ignore[attr-defined]
    assert [(r["session_id"], r["result"], r["evidence"]) for r in rows] == [
        ("dkg-ok", "completed", None),
        ("dkg-late", "timed_out", None),
    ]
