"""GG20 presigning (phases 1–6 of Gennaro–Goldfeder 2020 §4.2), with CGGMP21's proofs for every MtA.

Signers S (|S| ≥ t); P_i's additive key share is w_i = λ_i·x_i, and everyone knows W_j = λ_j·X_j.

  Round 1 (phase 1): k_i, γ_i ← Z_q; "broadcast C_i = Com(Γ_i)" and K_i = Enc_i(k_i); to each P_j the
           MtA request, i.e. Π^enc for K_i under P_j's ring-Pedersen parameters.
  Round 2 (phase 2): for each P_j, MtA of k_j·γ_i and MtAwc of k_j·w_i, each answered with D, Y and
           Π^aff-g (MtAwc checked against W_i, MtA against Γ_i); Γ_i is decommitted (phase 4 moved up,
           since Π^aff-g binds Γ_i anyway) and every D is also broadcast, so that a later
           identification can check each party's claimed decryptions publicly.
  Round 3 (phase 3): δ_i = k_i·γ_i + Σ(α + β), σ_i = k_i·w_i + Σ(α̂ + β̂); "broadcast δ_i and
           T_i = g^{σ_i} h^{ℓ_i} with a ZK proof of knowledge of σ_i, ℓ_i".
  Round 4 (phases 4–6): δ = Σδ_j, R = δ⁻¹·ΣΓ_j; "broadcast R̄_i = R^{k_i}" with Π^log* (K_i encrypts
           log_R R̄_i) and "S_i = R^{σ_i}" with a proof that S_i and T_i share σ_i.
  Finish: "if g ≠ ΣR̄_i abort", "if y ≠ ΣS_i abort" — and either abort runs the identification round
           (identify.py), which names the party that cheated.
"""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto import mta
from signer.crypto.codec import Reader, Writer
from signer.crypto.secp256k1 import IDENTITY, ORDER, Point, base_mul, random_scalar
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.zk import logstar
from signer.crypto.zk.base import ProofContext
from signer.protocols.base import InboxKey, Outgoing, ProtocolError

from . import identify, sigma
from .commit import COMMITMENT_LEN, SALT_LEN, commit, opens
from .common import blame, get_int, put_int
from .keyshare import KeyShare
from .presignature import PresignatureData

P_R1B, P_R1P, P_R2B, P_R2P, P_R3, P_R4B, P_R4P = 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57
VERSION = 1
LABEL = b"gg20/presign/mta"
_GAMMA = b"presign/gamma"
_MAX_MSG = 1 << 17


class PresignCore:
    """The presigning rounds for one party; the session classes route messages to these methods."""

    def __init__(self, session_id: str, key: KeyShare, signers: tuple[int, ...]) -> None:
        self.session_id = session_id
        self.sid = session_id.encode("utf-8")
        self.key = key
        self.i = key.party_index
        self.signers = signers
        self.others = tuple(j for j in signers if j != self.i)
        lam = key.lagrange(signers)
        self.w = lam[self.i] * key.secret_share % ORDER
        self.W = {j: key.public_shares[j] * lam[j] for j in signers}
        self.k, self.gamma = random_scalar(), random_scalar()
        self.Gamma = {self.i: base_mul(self.gamma)}
        self.K: dict[int, int] = {}
        self.alpha: dict[int, int] = {}
        self.alpha_hat: dict[int, int] = {}
        self.beta: dict[int, int] = {}
        self.beta_hat: dict[int, int] = {}
        self.D: dict[tuple[int, int], tuple[int, int]] = {}  # (alice, bob) -> (D for γ, D for w)
        self.delta: dict[int, int] = {}
        self.T: dict[int, Point] = {}

    def __repr__(self) -> str:
        return f"PresignCore(party={self.i}, signers={self.signers}, secret=<redacted>)"

    def _ctx(self, prover: int, verifier: int, label: bytes) -> ProofContext:
        return ProofContext(self.sid, prover, verifier, label)

    # ---- round 1 -----------------------------------------------------------------------------------
    def round1(self, r: int) -> list[Outgoing]:
        sk = self.key.paillier_secret
        self.K[self.i], self.rho = mta.encrypt_share(sk, self.k)
        self.commitment, self.salt = commit(self.session_id, self.i, _GAMMA, self.Gamma[self.i].encode())
        out = [Outgoing(0, r, put_int(Writer(P_R1B, VERSION).fixed(self.commitment), self.K[self.i]).done())]
        for j in self.others:
            req = mta.request(
                self.sid, self.i, j, LABEL, sk, self.key.ring_pedersen[j], self.k, self.K[self.i], self.rho
            )
            out.append(Outgoing(j, r, Writer(P_R1P, VERSION).var(req.to_bytes()).done()))
        return out

    # ---- round 2 -----------------------------------------------------------------------------------
    def round2(self, inbox: Mapping[InboxKey, bytes], r: int) -> list[Outgoing]:
        key, i = self.key, self.i
        self.peer_commitment: dict[int, bytes] = {}
        responses: dict[int, tuple[mta.MtaResponse, mta.MtaResponse]] = {}
        for j in self.others:
            with blame(j, "presign round-1 broadcast"):
                rd = Reader(inbox[InboxKey(j, True)], P_R1B, VERSION)
                self.peer_commitment[j] = rd.fixed(COMMITMENT_LEN)
                self.K[j] = key.paillier[j].validate_ciphertext(get_int(rd))
                rd.end()
                rd = Reader(inbox[InboxKey(j, False)], P_R1P, VERSION)
                req = mta.MtaRequest.from_bytes(rd.var(_MAX_MSG))
                rd.end()
            if req.K != self.K[j]:
                raise ProtocolError(f"party {j} sent a different K_j point-to-point than it broadcast", [j])
            with blame(j, "Π^enc proof"):
                args = (
                    self.sid,
                    j,
                    i,
                    LABEL,
                    key.paillier[j],
                    key.ring_pedersen[j],
                    key.paillier_secret,
                    key.ring_pedersen[i],
                    req,
                )
                resp_g, beta = mta.respond(*args, self.gamma)
                resp_w, beta_hat = mta.respond(*args, self.w)
            self.beta[j], self.beta_hat[j] = beta, beta_hat
            self.D[(j, i)] = (int(resp_g.D), int(resp_w.D))
            responses[j] = (resp_g, resp_w)
        w = Writer(P_R2B, VERSION).fixed(self.salt).point(GROUP, self.Gamma[i])
        for j in self.others:
            put_int(put_int(w, self.D[(j, i)][0]), self.D[(j, i)][1])
        out = [Outgoing(0, r, w.done())]
        for j, (resp_g, resp_w) in responses.items():
            out.append(Outgoing(j, r, Writer(P_R2P, VERSION).var(resp_g.to_bytes()).var(resp_w.to_bytes()).done()))
        return out

    # ---- round 3 -----------------------------------------------------------------------------------
    def round3(self, inbox: Mapping[InboxKey, bytes], r: int) -> list[Outgoing]:
        key, i = self.key, self.i
        for j in self.others:
            with blame(j, "presign round-2 broadcast"):
                rd = Reader(inbox[InboxKey(j, True)], P_R2B, VERSION)
                salt, gamma_j = rd.fixed(SALT_LEN), rd.point(GROUP)
                for a in self.others_of(j):
                    self.D[(a, j)] = (
                        int(key.paillier[a].validate_ciphertext(get_int(rd))),
                        int(key.paillier[a].validate_ciphertext(get_int(rd))),
                    )
                rd.end()
                rd = Reader(inbox[InboxKey(j, False)], P_R2P, VERSION)
                resp_g = mta.MtaResponse.from_bytes(rd.var(_MAX_MSG))
                resp_w = mta.MtaResponse.from_bytes(rd.var(_MAX_MSG))
                rd.end()
            if not opens(self.peer_commitment[j], self.session_id, j, _GAMMA, salt, gamma_j.encode()):
                raise ProtocolError(f"party {j}'s Γ_j does not open its round-1 commitment", [j])
            self.Gamma[j] = gamma_j
            if (resp_g.D, resp_w.D) != self.D[(i, j)]:
                raise ProtocolError(f"party {j} sent MtA ciphertexts that differ from its broadcast", [j])
            with blame(j, "Π^aff-g proof"):
                args = (self.sid, i, j, LABEL, key.paillier_secret, key.ring_pedersen[i], key.paillier[j], self.K[i])
                self.alpha[j] = mta.finish(*args, resp_g, expected_X=gamma_j)
                self.alpha_hat[j] = mta.finish(*args, resp_w, expected_X=self.W[j])
        self.delta[i] = (self.k * self.gamma + sum(self.alpha[j] + self.beta[j] for j in self.others)) % ORDER
        self.sigma = (self.k * self.w + sum(self.alpha_hat[j] + self.beta_hat[j] for j in self.others)) % ORDER
        self.ell = random_scalar()
        self.T[i] = sigma.pedersen(self.sigma, self.ell)
        proof = sigma.prove_t(self.session_id, i, self.sigma, self.ell)
        w = Writer(P_R3, VERSION).scalar(GROUP, self.delta[i]).point(GROUP, self.T[i]).var(proof)
        return [Outgoing(0, r, w.done())]

    def others_of(self, j: int) -> tuple[int, ...]:
        return tuple(a for a in self.signers if a != j)

    # ---- round 4 -----------------------------------------------------------------------------------
    def round4(self, inbox: Mapping[InboxKey, bytes], r: int) -> list[Outgoing]:
        key, i = self.key, self.i
        for j in self.others:
            with blame(j, "presign round-3 message"):
                rd = Reader(inbox[InboxKey(j, True)], P_R3, VERSION)
                self.delta[j], self.T[j] = rd.scalar(GROUP), rd.point(GROUP)
                proof = rd.var(_MAX_MSG)
                rd.end()
                sigma.verify_t(self.session_id, j, self.T[j], proof)
        delta = sum(self.delta.values()) % ORDER
        gamma_sum = sum((self.Gamma[j] for j in self.signers), IDENTITY)
        self.R = gamma_sum * pow(delta, -1, ORDER) if delta else IDENTITY
        self.degenerate = self.R.is_identity
        if self.degenerate:
            # δ = 0 or ΣΓ_j = identity: impossible for honest parties; R = G fails the R̄ check below
            self.R = base_mul(1)
        self.r_bar = {i: self.R * self.k}
        self.S = {i: self.R * self.sigma}
        st = sigma.prove_st(self.session_id, i, self.R, self.sigma, self.ell)
        w = Writer(P_R4B, VERSION).point(GROUP, self.r_bar[i]).point(GROUP, self.S[i]).var(st)
        out = [Outgoing(0, r, w.done())]
        for j in self.others:
            proof = logstar.prove(
                self._ctx(i, j, b"gg20/presign/r-bar"),
                key.paillier_secret,
                key.ring_pedersen[j],
                self.K[i],
                self.r_bar[i],
                self.k,
                self.rho,
                g=self.R,
            )
            out.append(Outgoing(j, r, Writer(P_R4P, VERSION).var(proof.to_bytes()).done()))
        return out

    # ---- finish ------------------------------------------------------------------------------------
    def finish(self, inbox: Mapping[InboxKey, bytes]) -> PresignatureData | None:
        """The presignature, or None when a phase-5/6 check failed and identification must run."""
        key, i = self.key, self.i
        for j in self.others:
            with blame(j, "presign round-4 message"):
                rd = Reader(inbox[InboxKey(j, True)], P_R4B, VERSION)
                self.r_bar[j], self.S[j] = rd.point(GROUP), rd.point(GROUP)
                st = rd.var(_MAX_MSG)
                rd.end()
                rd = Reader(inbox[InboxKey(j, False)], P_R4P, VERSION)
                proof = logstar.LogStarProof.from_bytes(rd.var(_MAX_MSG))
                rd.end()
            with blame(j, "S_j/T_j consistency proof"):
                sigma.verify_st(self.session_id, j, self.R, self.T[j], self.S[j], st)
            with blame(j, "Π^log* proof for R̄_j"):
                logstar.verify(
                    self._ctx(j, i, b"gg20/presign/r-bar"),
                    key.paillier[j],
                    key.ring_pedersen[i],
                    self.K[j],
                    self.r_bar[j],
                    proof,
                    g=self.R,
                )
        # phase 5: "check that g = Π R̄_i"; phase 6: "check that y = Π S_i"
        if sum(self.r_bar.values(), IDENTITY) != base_mul(1) or sum(self.S.values(), IDENTITY) != key.public_key:
            return None
        return PresignatureData(
            self.session_id, i, self.signers, key.public_key, self.R, dict(self.r_bar), dict(self.S), self.k, self.sigma
        )

    # ---- identification ----------------------------------------------------------------------------
    def reveal(self, r: int) -> list[Outgoing]:
        return [Outgoing(0, r, identify.encode_reveal(self))]

    def identify(self, inbox: Mapping[InboxKey, bytes]) -> ProtocolError:
        return identify.identify(self, inbox)
