"""GG20 key generation (Gennaro–Goldfeder 2020 §3 / GG18 §4.1) with CGGMP21's auxiliary-key proofs.

Rounds (each party P_i, all parties in `parties`):
  1. "Each player P_i selects u_i; computes [KGC_i, KGD_i] = Com(g^{u_i}) and broadcast KGC_i and E_i
     (its Paillier public key)". Here the commitment covers the whole Feldman commitment vector of
     u_i's polynomial and a chain-code contribution; P_i also broadcasts its ring-Pedersen parameters
     with Π^prm, Π^mod for its Paillier modulus, and a fresh X25519 key for the p2p channel.
  2. Verify every Π^mod / Π^prm; "broadcast KGD_i" (the opening) and "perform a (t, n) Feldman-VSS of
     u_i": the share f_i(j) goes to P_j end-to-end encrypted, with Π^fac for N_i under P_j's ring-Pedersen.
  3. Check openings, shares and Π^fac; x_i = Σ_j f_j(i); "prove in ZK that they know x_i using Schnorr".
  Finish: verify the Schnorr proofs against X_j computed from the summed commitments.
Pre-parameters (Paillier key, ring-Pedersen) come from outside: keygen never generates safe primes.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

from signer.crypto import e2e
from signer.crypto.codec import Reader, Writer
from signer.crypto.e2e import E2EError, E2EKeyPair
from signer.crypto.paillier import PaillierPublicKey
from signer.crypto.preparams import PreParams
from signer.crypto.ringpedersen import RingPedersenParams
from signer.crypto.secp256k1 import ORDER, Point
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.vss import Polynomial, evaluate_commitments, share_for, sum_commitments, verify_share
from signer.crypto.zk import fac, mod, prm, schnorr
from signer.crypto.zk.base import ProofContext
from signer.protocols.base import DecodeError, DkgResult, InboxKey, Outgoing, ProtocolError

from .commit import COMMITMENT_LEN, SALT_LEN, commit, opens
from .common import RoundMachine, blame, validate_keygen_args
from .keyshare import CHAIN_CODE_LEN, AuxInfo, KeyShare

K_R1, K_R2B, K_R2P, K_R3 = 0x41, 0x42, 0x43, 0x44
VERSION = 1
_COMMIT_PURPOSE = b"keygen/vss"
_E2E_LABEL = b"gg20/keygen/share"
_MAX_MODULUS = 1100
_MAX_PROOF = 1 << 20


def _vss_message(commitments: list[Point], chain: bytes) -> bytes:
    return chain + b"".join(p.encode() for p in commitments)


class Gg20KeygenSession(RoundMachine):
    """One party's GG20 key generation; the result is a DkgResult with an encoded `KeyShare`."""

    def __init__(
        self, session_id: str, party_index: int, threshold: int, parties: tuple[int, ...], preparams: PreParams
    ) -> None:
        parties = validate_keygen_args(party_index, threshold, parties)
        if not isinstance(preparams, PreParams):
            raise ValueError("preparams must be a signer.crypto.preparams.PreParams")
        super().__init__(session_id, party_index, parties)
        self.threshold = threshold
        self._pre = preparams
        self._e2e = E2EKeyPair.generate()
        self._poly = Polynomial.random(GROUP, GROUP.random_scalar(), threshold - 1)
        self._vss = self._poly.commit(GROUP)
        self._chain = secrets.token_bytes(CHAIN_CODE_LEN)
        self._peer_e2e: dict[int, bytes] = {}
        self._peer_commit: dict[int, bytes] = {}
        self._paillier: dict[int, PaillierPublicKey] = {party_index: preparams.paillier.public}
        self._rp: dict[int, RingPedersenParams] = {party_index: preparams.ring_pedersen.public}

    def __repr__(self) -> str:
        return f"Gg20KeygenSession(session={self.session_id!r}, party={self.party_index}, secret=<redacted>)"

    def _ctx(self, prover: int, verifier: int = 0) -> ProofContext:
        return ProofContext(self.session_id.encode("utf-8"), prover, verifier, b"gg20/keygen")

    # ---- round 1 -----------------------------------------------------------------------------------
    def start(self) -> list[Outgoing]:
        self._begin()
        i, sid = self.party_index, self.session_id
        self._commitment, self._salt = commit(sid, i, _COMMIT_PURPOSE, _vss_message(self._vss, self._chain))
        pai, rp = self._pre.paillier, self._pre.ring_pedersen
        payload = (
            Writer(K_R1, VERSION)
            .fixed(self._commitment)
            .fixed(self._e2e.public)
            .var(pai.public.to_bytes())
            .var(rp.public.to_bytes())
            .var(mod.prove(self._ctx(i), pai).to_bytes())
            .var(prm.prove(self._ctx(i), rp).to_bytes())
            .done()
        )
        self._next(1, self._round2)
        return [self.broadcast(1, payload)]

    # ---- round 2 -----------------------------------------------------------------------------------
    def _round2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        sid = self.session_id
        for j in self.others:
            with blame(j, "keygen round-1 message"):
                r = Reader(inbox[InboxKey(j, True)], K_R1, VERSION)
                self._peer_commit[j] = r.fixed(COMMITMENT_LEN)
                self._peer_e2e[j] = r.fixed(e2e.PUBLIC_KEY_SIZE)
                self._paillier[j] = PaillierPublicKey.from_bytes(r.var(_MAX_MODULUS))
                self._rp[j] = RingPedersenParams.from_bytes(r.var(3 * _MAX_MODULUS))
                mod_proof, prm_proof = r.var(_MAX_PROOF), r.var(_MAX_PROOF)
                r.end()
            self._check_distinct_keys(j)
            with blame(j, "Π^mod proof"):
                mod.verify(self._ctx(j), self._paillier[j], mod.ModProof.from_bytes(mod_proof))
            with blame(j, "Π^prm proof"):
                prm.verify(self._ctx(j), self._rp[j], prm.PrmProof.from_bytes(prm_proof))
        opening = Writer(K_R2B, VERSION).fixed(self._salt).fixed(self._chain).u8(len(self._vss))
        for p in self._vss:
            opening.point(GROUP, p)
        out = [self.broadcast(2, opening.done())]
        for j in self.others:
            ctx = e2e.context(_E2E_LABEL, sid, self.party_index, j, 2)
            sealed = self._e2e.seal(self._peer_e2e[j], GROUP.encode_scalar(share_for(self._poly, j)), ctx)
            fac_proof = fac.prove(self._ctx(self.party_index, j), self._pre.paillier, self._rp[j]).to_bytes()
            out.append(Outgoing(j, 2, Writer(K_R2P, VERSION).var(sealed).var(fac_proof).done()))
        self._next(2, self._round3, broadcast=True, p2p=True)
        return out

    def _check_distinct_keys(self, j: int) -> None:
        """A modulus or ring-Pedersen Ñ reused from another party is refused (it would be another's key)."""
        for k in self._paillier:
            if k != j and (self._paillier[k].n == self._paillier[j].n or self._rp[k].n == self._rp[j].n):
                raise ProtocolError(f"party {j} reuses another party's Paillier or ring-Pedersen modulus", [j])

    # ---- round 3 -----------------------------------------------------------------------------------
    def _round3(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        sid, i, t = self.session_id, self.party_index, self.threshold
        vss: dict[int, list[Point]] = {i: self._vss}
        chains = {i: self._chain}
        x = share_for(self._poly, i)
        for j in self.others:
            with blame(j, "keygen round-2 broadcast"):
                r = Reader(inbox[InboxKey(j, True)], K_R2B, VERSION)
                salt, chain, count = r.fixed(SALT_LEN), r.fixed(CHAIN_CODE_LEN), r.u8()
                if count != t:
                    raise DecodeError(f"expected {t} Feldman commitments, got {count}")
                vss[j] = [r.point(GROUP) for _ in range(count)]
                r.end()
            if not opens(self._peer_commit[j], sid, j, _COMMIT_PURPOSE, salt, _vss_message(vss[j], chain)):
                raise ProtocolError(f"party {j}'s decommitment does not open its round-1 commitment", [j])
            chains[j] = chain
            with blame(j, "keygen round-2 share"):
                r = Reader(inbox[InboxKey(j, False)], K_R2P, VERSION)
                sealed, fac_proof = r.var(1024), r.var(_MAX_PROOF)
                r.end()
            try:
                share = GROUP.decode_scalar(
                    self._e2e.open(self._peer_e2e[j], sealed, e2e.context(_E2E_LABEL, sid, j, i, 2))
                )
            except (E2EError, DecodeError):
                raise ProtocolError(f"party {j}'s encrypted share cannot be opened", [j]) from None
            if not verify_share(GROUP, vss[j], i, share):
                raise ProtocolError(f"party {j}'s VSS share is inconsistent with its commitments", [j])
            with blame(j, "Π^fac proof"):
                fac.verify(self._ctx(j, i), self._paillier[j], self._rp[i], fac.FacProof.from_bytes(fac_proof))
            x = (x + share) % ORDER
        combined = sum_commitments(GROUP, [vss[p] for p in self.parties])
        self._public_key = combined[0]
        if self._public_key.is_identity:
            raise ProtocolError("the joint public key is the identity", [])
        self._public_shares = {p: evaluate_commitments(GROUP, combined, p) for p in self.parties}
        self._x = x
        self._chain_code = hashlib.sha256(
            b"mpc-signer/gg20/chain-code/v1" + b"".join(chains[p] for p in self.parties)
        ).digest()
        proof = schnorr.prove(self._ctx(i), x, self._public_shares[i]).to_bytes()
        self._next(3, self._finish_keygen)
        return [self.broadcast(3, Writer(K_R3, VERSION).var(proof).done())]

    # ---- finish ------------------------------------------------------------------------------------
    def _finish_keygen(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        for j in self.others:
            with blame(j, "keygen round-3 message"):
                r = Reader(inbox[InboxKey(j, True)], K_R3, VERSION)
                proof = r.var(_MAX_PROOF)
                r.end()
            with blame(j, "Schnorr proof of x_j"):
                schnorr.verify(self._ctx(j), self._public_shares[j], schnorr.SchnorrProof.from_bytes(proof))
        aux = AuxInfo(dict(self._paillier), dict(self._rp), self._pre.paillier)
        share = KeyShare.build(
            self.threshold,
            self.parties,
            self.party_index,
            self._public_key,
            self._chain_code,
            self._public_shares,
            self._x,
            aux,
        )
        self._finish(DkgResult(public_key=self._public_key.encode(), key_share=share.encode()))
        return []
