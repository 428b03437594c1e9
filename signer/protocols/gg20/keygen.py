"""GG20 key generation (Gennaro–Goldfeder 2020 §3 / GG18 §4.1) with CGGMP21's auxiliary-key proofs.

Each round is a function from the previous round's frozen secret state and the messages received to the
next state and the messages to send (as ZcashFoundation frost's `part1/2/3` and cggmp21's rounds do), so
what a round may use is exactly what its argument holds. `Gg20KeygenSession` only moves bytes: it decodes
each sender's payload (a failure names the sender) and calls the round.

  1. "Each player P_i selects u_i; computes [KGC_i, KGD_i] = Com(g^{u_i}) and broadcast KGC_i and E_i
     (its Paillier public key)". Here the commitment covers the whole Feldman commitment vector of
     u_i's polynomial and a chain-code contribution; P_i also broadcasts its ring-Pedersen parameters
     with Π^prm, Π^mod for its Paillier modulus, and a fresh X25519 key for the p2p channel.
  2. Verify every Π^mod / Π^prm; "broadcast KGD_i" (the opening) and "perform a (t, n) Feldman-VSS of
     u_i": the share f_i(j) goes to P_j end-to-end encrypted, with Π^fac for N_i under P_j's ring-Pedersen.
  3. Check openings, shares and Π^fac; x_i = Σ_j f_j(i); "prove in ZK that they know x_i using Schnorr".
  Finish: verify the Schnorr proofs against X_j computed from the summed commitments.
Pre-parameters (Paillier key, ring-Pedersen) come from outside: keygen never generates safe primes.
The steps a key refresh shares with keygen (`announce`, `verify_aux_and_deal`, `check_opening`,
`receive_share`, `prove_knowledge`, `verify_knowledge`, `package`) are functions of their own, which
`signer.protocols.gg20.refresh` runs for key refresh and reshare.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from signer.crypto import e2e
from signer.crypto.e2e import E2EError, E2EKeyPair
from signer.crypto.errors import DecodeError
from signer.crypto.preparams import PreParams
from signer.crypto.secp256k1 import ORDER, Point
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.vss import Polynomial, evaluate_commitments, share_for, sum_commitments, verify_share
from signer.crypto.zk import fac, mod, prm, schnorr
from signer.crypto.zk.base import ProofContext
from signer.protocols.base import DkgResult, InboxKey, Outgoing, ProtocolError, RoundMachine, SecretState, attribute
from signer.protocols.params import validate_keygen_args

from .commit import commit, opens
from .keyshare import CHAIN_CODE_LEN, AuxInfo, Gg20KeyShare
from .messages import KeygenCommit, KeygenOpening, KeygenProof, KeygenShare

SHARE_ROUND = 2


@dataclass(frozen=True)
class KeygenParams:
    """What every party of one key generation agrees on. `protocol` names the operation in every proof
    context, e2e context and hash commitment: b"keygen", or b"refresh" / b"reshare" when
    `signer.protocols.gg20.refresh` runs these steps to replace an existing key's shares and auxiliary keys."""

    session_id: str
    party_index: int
    threshold: int
    parties: tuple[int, ...]
    protocol: bytes = b"keygen"

    @property
    def others(self) -> tuple[int, ...]:
        return tuple(p for p in self.parties if p != self.party_index)

    @property
    def commit_purpose(self) -> bytes:
        return self.protocol + b"/vss"

    def proof_context(self, prover: int, prover_e2e: bytes, verifier: int = 0) -> ProofContext:
        """Every keygen proof is bound to the prover's X25519 key, so the key that shares are sealed to
        cannot be swapped without also replacing the prover's Paillier modulus and its proofs."""
        label = b"gg20/" + self.protocol + b"/" + prover_e2e
        return ProofContext(self.session_id.encode("utf-8"), prover, verifier, label)

    def share_context(self, sender: int, recipient: int) -> bytes:
        """The e2e context of the round-2 share `sender` seals to `recipient`."""
        return e2e.context(b"gg20/" + self.protocol + b"/share", self.session_id, sender, recipient, SHARE_ROUND)


def _vss_message(commitments: tuple[Point, ...], chain: bytes) -> bytes:
    """What round 1 commits to: the chain-code contribution and the Feldman commitments."""
    return chain + b"".join(p.encode() for p in commitments)


@dataclass(frozen=True, repr=False)
class Round1Secret(SecretState):
    """After round 1: u_i's polynomial, the Feldman commitments it sends, the chain-code share and the
    opening salt."""

    params: KeygenParams
    preparams: PreParams
    e2e: E2EKeyPair
    poly: Polynomial
    vss: tuple[Point, ...]
    chain: bytes
    salt: bytes

    def context(self, verifier: int = 0) -> ProofContext:
        return self.params.proof_context(self.params.party_index, self.e2e.public, verifier)


@dataclass(frozen=True, repr=False)
class Round2Secret(SecretState):
    """After round 2: the round-1 secret and every other party's round-1 broadcast, its proofs verified."""

    round1: Round1Secret
    peers: Mapping[int, KeygenCommit]

    def peer_context(self, j: int, verifier: int = 0) -> ProofContext:
        return self.round1.params.proof_context(j, self.peers[j].e2e_public, verifier)


@dataclass(frozen=True, repr=False)
class Round3Secret(SecretState):
    """After round 3: the secret share x_i and the public outcome every party must agree on."""

    round2: Round2Secret
    x: int
    public_key: Point
    public_shares: Mapping[int, Point]
    chain_code: bytes


def round1(params: KeygenParams, preparams: PreParams) -> tuple[Round1Secret, KeygenCommit]:
    """'[KGC_i, KGD_i] = Com(g^{u_i})' over the Feldman commitments and a chain-code share, with the
    auxiliary keys (`announce`)."""
    poly = Polynomial.random(GROUP, GROUP.random_scalar(), params.threshold - 1)
    return announce(params, preparams, poly, tuple(poly.commit(GROUP)), secrets.token_bytes(CHAIN_CODE_LEN))


def announce(
    params: KeygenParams, preparams: PreParams, poly: Polynomial, sent: tuple[Point, ...], chain: bytes
) -> tuple[Round1Secret, KeygenCommit]:
    """Round 1 of keygen, refresh and reshare: a hash commitment to the Feldman commitments `sent` of `poly` and to
    `chain`, broadcast with the Paillier key and Π^mod, the ring-Pedersen parameters and Π^prm, and an
    X25519 key."""
    commitment, salt = commit(params.session_id, params.party_index, params.commit_purpose, _vss_message(sent, chain))
    secret = Round1Secret(params, preparams, E2EKeyPair.generate(), poly, sent, chain, salt)
    pai, rp = preparams.paillier, preparams.ring_pedersen
    ctx = secret.context()
    proof = prm.prove(ctx, rp, preparams.take_prm_commitments())  # made with the set, if it has them
    msg = KeygenCommit(commitment, secret.e2e.public, pai.public, rp.public, mod.prove(ctx, pai), proof)
    return secret, msg


def round2(
    secret: Round1Secret, received: Mapping[int, KeygenCommit]
) -> tuple[Round2Secret, KeygenOpening, dict[int, KeygenShare]]:
    """Verify every Π^mod and Π^prm; 'broadcast KGD_i' and send each P_j its share f_i(j), sealed, with Π^fac."""
    state, shares = verify_aux_and_deal(secret, received)
    return state, KeygenOpening(secret.salt, secret.chain, secret.vss), shares


def verify_aux_and_deal(
    secret: Round1Secret, received: Mapping[int, KeygenCommit], refused: frozenset[int] = frozenset()
) -> tuple[Round2Secret, dict[int, KeygenShare]]:
    """Round 2 of keygen, refresh and reshare: verify every peer's Π^mod and Π^prm, then seal each P_j its share
    f_i(j) with Π^fac for N_i under P_j's ring-Pedersen parameters. A modulus in `refused` (a refresh or
    reshare refuses the key's current ones) or reused from another party names its sender."""
    params, pre = secret.params, secret.preparams
    state = Round2Secret(secret, dict(received))
    seen = {params.party_index: {pre.paillier.public.n, pre.ring_pedersen.public.n}}
    for j in params.others:
        peer = received[j]
        # A Paillier N or ring-Pedersen Ñ equal to any modulus of another party (its N or its Ñ) is refused:
        # it would be another's key, whose factorisation that party knows (a proof made under it by that
        # party would not bind). One party's own N and Ñ may coincide.
        mine = {peer.paillier.n, peer.ring_pedersen.n}
        if any(mine & theirs for theirs in seen.values()):
            raise ProtocolError(f"party {j} reuses another party's Paillier or ring-Pedersen modulus", [j])
        if mine & refused:
            raise ProtocolError(f"party {j} announces a Paillier or ring-Pedersen modulus the key already uses", [j])
        seen[j] = mine
        with attribute(j, "Π^mod proof"):
            mod.verify(state.peer_context(j), peer.paillier, peer.mod_proof)
        with attribute(j, "Π^prm proof"):
            prm.verify(state.peer_context(j), peer.ring_pedersen, peer.prm_proof)
    shares = {}
    for j in params.others:
        ctx = params.share_context(params.party_index, j)
        sealed = secret.e2e.seal(received[j].e2e_public, GROUP.encode_scalar(share_for(secret.poly, j)), ctx)
        shares[j] = KeygenShare(sealed, fac.prove(secret.context(j), pre.paillier, received[j].ring_pedersen))
    return state, shares


def check_opening(secret: Round2Secret, j: int, salt: bytes, sent: tuple[Point, ...], chain: bytes) -> None:
    """P_j's round-2 opening must open the hash commitment it broadcast in round 1."""
    params = secret.round1.params
    message = _vss_message(sent, chain)
    if not opens(secret.peers[j].commitment, params.session_id, j, params.commit_purpose, salt, message):
        raise ProtocolError(f"party {j}'s decommitment does not open its round-1 commitment", [j])


def receive_share(secret: Round2Secret, j: int, commitments: tuple[Point, ...], msg: KeygenShare) -> int:
    """Open P_j's sealed share f_j(i), check it against P_j's Feldman `commitments` and P_j's Π^fac."""
    r1 = secret.round1
    i = r1.params.party_index
    try:
        share = GROUP.decode_scalar(
            r1.e2e.open(secret.peers[j].e2e_public, msg.sealed_share, r1.params.share_context(j, i))
        )
    except (E2EError, DecodeError):
        raise ProtocolError(f"party {j}'s encrypted share cannot be opened", [j]) from None
    if not verify_share(GROUP, list(commitments), i, share):
        raise ProtocolError(f"party {j}'s VSS share is inconsistent with its commitments", [j])
    with attribute(j, "Π^fac proof"):
        fac.verify(secret.peer_context(j, i), secret.peers[j].paillier, r1.preparams.ring_pedersen, msg.fac_proof)
    return share


def round3(
    secret: Round2Secret, openings: Mapping[int, KeygenOpening], shares: Mapping[int, KeygenShare]
) -> tuple[Round3Secret, KeygenProof]:
    """Check every opening, share (Feldman) and Π^fac; x_i = Σ_j f_j(i), the public shares X_j from the
    summed commitments; 'prove in ZK that they know x_i using Schnorr's protocol'."""
    r1 = secret.round1
    params, i = r1.params, r1.params.party_index
    vss, chains = {i: r1.vss}, {i: r1.chain}
    x = share_for(r1.poly, i)
    for j in params.others:
        opening = openings[j]
        check_opening(secret, j, opening.salt, opening.commitments, opening.chain)
        vss[j], chains[j] = opening.commitments, opening.chain
        x = (x + receive_share(secret, j, vss[j], shares[j])) % ORDER
    combined = sum_commitments(GROUP, [list(vss[p]) for p in params.parties])
    public_key = combined[0]
    if public_key.is_identity:
        raise ProtocolError("the joint public key is the identity", [])
    public_shares = {p: evaluate_commitments(GROUP, combined, p) for p in params.parties}
    chain_code = hashlib.sha256(b"mpc-signer/gg20/chain-code/v1" + b"".join(chains[p] for p in params.parties))
    state = Round3Secret(secret, x, public_key, public_shares, chain_code.digest())
    return state, KeygenProof(prove_knowledge(state))


def prove_knowledge(secret: Round3Secret) -> schnorr.SchnorrProof:
    """The Schnorr proof of knowledge of x_i for X_i, bound to this party's proof context."""
    r1 = secret.round2.round1
    return schnorr.prove(r1.context(), secret.x, secret.public_shares[r1.params.party_index])


def finish(secret: Round3Secret, proofs: Mapping[int, KeygenProof]) -> DkgResult:
    """Verify every Schnorr proof against X_j and package this party's key share."""
    verify_knowledge(secret, {j: p.proof for j, p in proofs.items()})
    return package(secret)


def verify_knowledge(secret: Round3Secret, proofs: Mapping[int, schnorr.SchnorrProof]) -> None:
    """Every other party's Schnorr proof of knowledge of x_j for the public share X_j."""
    r2 = secret.round2
    for j in r2.round1.params.others:
        with attribute(j, "Schnorr proof of x_j"):
            schnorr.verify(r2.peer_context(j), secret.public_shares[j], proofs[j])


def package(secret: Round3Secret) -> DkgResult:
    """This party's key share from round 3's outcome and every party's auxiliary keys."""
    r2 = secret.round2
    params, pre = r2.round1.params, r2.round1.preparams
    paillier = {j: peer.paillier for j, peer in r2.peers.items()} | {params.party_index: pre.paillier.public}
    rp = {j: peer.ring_pedersen for j, peer in r2.peers.items()} | {params.party_index: pre.ring_pedersen.public}
    aux = AuxInfo(paillier, rp, pre.paillier, pre.ring_pedersen)
    share = Gg20KeyShare.build(
        params.threshold,
        params.parties,
        params.party_index,
        secret.public_key,
        secret.chain_code,
        dict(secret.public_shares),
        secret.x,
        aux,
    )
    return DkgResult(public_key=secret.public_key.encode(), key_share=share.encode())


class Gg20KeygenSession(RoundMachine):
    """One party's GG20 key generation; the result is a DkgResult with an encoded `Gg20KeyShare`."""

    def __init__(
        self, session_id: str, party_index: int, threshold: int, parties: tuple[int, ...], preparams: PreParams
    ) -> None:
        parties = validate_keygen_args(party_index, threshold, parties)
        if not isinstance(preparams, PreParams):
            raise ValueError("preparams must be a signer.crypto.preparams.PreParams")
        super().__init__(session_id, party_index, parties)
        self.threshold = threshold
        self._params = KeygenParams(session_id, party_index, threshold, parties)
        self._preparams = preparams
        self._r1: Round1Secret | None = None
        self._r2: Round2Secret | None = None
        self._r3: Round3Secret | None = None

    def _start(self) -> list[Outgoing]:
        self._r1, msg = round1(self._params, self._preparams)
        self._expect(1, self._round2)
        return [self.broadcast(1, msg.encode())]

    def _round2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r1 is not None
        received = self._receive(inbox, "keygen round-1 message", lambda _, p: KeygenCommit.decode(p))
        self._r2, opening, shares = round2(self._r1, received)
        self._r1 = None
        self._expect(2, self._round3, p2p=True)
        return [self.broadcast(2, opening.encode())] + [Outgoing(j, 2, m.encode()) for j, m in shares.items()]

    def _round3(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r2 is not None
        t = self.threshold
        openings = self._receive(inbox, "keygen round-2 broadcast", lambda _, p: KeygenOpening.decode(p, t))
        shares = self._receive(inbox, "keygen round-2 share", lambda _, p: KeygenShare.decode(p), p2p=True)
        self._r3, proof = round3(self._r2, openings, shares)
        self._r2 = None
        self._expect(3, self._finish_keygen)
        return [self.broadcast(3, proof.encode())]

    def _finish_keygen(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r3 is not None
        proofs = self._receive(inbox, "keygen round-3 message", lambda _, p: KeygenProof.decode(p))
        self._finish(finish(self._r3, proofs))
        self._r3 = None
        return []
