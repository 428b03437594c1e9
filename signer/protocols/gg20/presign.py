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

As in keygen.py, each round is a function from the previous round's frozen secret state (which wraps the
one before it) and the decoded messages to the next state and the messages to send; `PresignRounds` is the
session that decodes, attributes and calls them, shared by presigning alone and by a full signing (sign.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from signer.crypto import mta
from signer.crypto.bigint import mpz
from signer.crypto.errors import DecodeError
from signer.crypto.paillier import nonce_need
from signer.crypto.precompute import Need
from signer.crypto.secp256k1 import IDENTITY, ORDER, Point, base_mul, random_scalar
from signer.crypto.zk import logstar
from signer.crypto.zk.base import ProofContext, mask_need
from signer.protocols.base import InboxKey, Outgoing, ProtocolError, RoundMachine, SecretState, attribute
from signer.protocols.params import validate_signers

from . import identify, sigma
from .commit import commit, opens
from .keyshare import Gg20KeyShare
from .messages import (
    DeltaShare,
    GammaOpening,
    MtaRequestMsg,
    MtaResponses,
    NonceShares,
    PresignCommit,
    RBarProof,
    Reveal,
)
from .presignature import Presignature, PresignatureData

MTA_LABEL = b"gg20/presign/mta"  # Alice's Π^enc for K_i, shared by both conversions
# Bob's Π^aff-g for each conversion under its own label: k_j·γ_i (MtA) and k_j·w_i (MtAwc).
MTA_GAMMA_LABEL = b"gg20/presign/mta-gamma"
MTA_W_LABEL = b"gg20/presign/mtawc-w"
GAMMA_PURPOSE = b"presign/gamma"
R_BAR_LABEL = b"gg20/presign/r-bar"


@dataclass(frozen=True, repr=False)
class PresignSetup:
    """What presigning starts from: the key share, the signer set, w_i = λ_i·x_i and every W_j = λ_j·X_j."""

    session_id: str
    key: Gg20KeyShare
    signers: tuple[int, ...]
    w: int
    W: Mapping[int, Point]

    @classmethod
    def create(cls, session_id: str, key: Gg20KeyShare, signers: tuple[int, ...]) -> PresignSetup:
        lam = key.lagrange(signers)
        w = lam[key.party_index] * key.secret_share % ORDER
        return cls(session_id, key, signers, w, {j: key.public_shares[j] * lam[j] for j in signers})

    def __repr__(self) -> str:
        return f"PresignSetup(party={self.i}, signers={self.signers}, secret=<redacted>)"

    @property
    def i(self) -> int:
        return self.key.party_index

    @property
    def sid(self) -> bytes:
        return self.session_id.encode("utf-8")

    @property
    def others(self) -> tuple[int, ...]:
        return self.others_of(self.i)

    def others_of(self, j: int) -> tuple[int, ...]:
        return tuple(a for a in self.signers if a != j)

    def context(self, prover: int, verifier: int, label: bytes) -> ProofContext:
        return ProofContext(self.sid, prover, verifier, label)


@dataclass(frozen=True, repr=False)
class Round1Secret(SecretState):
    """After round 1: k_i, γ_i, Γ_i = γ_i·G, K_i = Enc_i(k_i; ρ_i) and the salt opening Com(Γ_i)."""

    setup: PresignSetup
    k: int
    gamma: int
    Gamma: Point
    K: mpz
    rho: mpz
    salt: bytes


@dataclass(frozen=True, repr=False)
class Round2Secret(SecretState):
    """After round 2: every other signer's C_j and K_j, and this party's MtA side as Bob: β_{j}, β̂_{j} and the
    ciphertexts (D, D̂) it answered each P_j with."""

    round1: Round1Secret
    peers: Mapping[int, PresignCommit]
    beta: Mapping[int, int]
    beta_hat: Mapping[int, int]
    answers: Mapping[int, tuple[int, int]]


@dataclass(frozen=True, repr=False)
class Round3Secret(SecretState):
    """After round 3: every Γ_j, every MtA ciphertext D_{a,b} (Alice a, Bob b), and δ_i, σ_i, ℓ_i, T_i."""

    round2: Round2Secret
    Gamma: Mapping[int, Point]
    D: Mapping[tuple[int, int], tuple[int, int]]
    delta: int
    sigma: int
    ell: int
    T: Point


@dataclass(frozen=True, repr=False)
class Round4Secret(SecretState):
    """After round 4: every δ_j and T_j, R (G itself when degenerate), R̄_i = k_i·R and S_i = σ_i·R."""

    round3: Round3Secret
    deltas: Mapping[int, int]
    T: Mapping[int, Point]
    R: Point
    degenerate: bool
    r_bar: Point
    S: Point


@dataclass(frozen=True, repr=False)
class Abandoned(SecretState):
    """A presigning whose phase-5/6 check failed: its nonce may now be revealed (identify.py)."""

    round4: Round4Secret
    S: Mapping[int, Point]


def round1(setup: PresignSetup) -> tuple[Round1Secret, PresignCommit, dict[int, MtaRequestMsg]]:
    """Phase 1: k_i, γ_i; broadcast Com(Γ_i) and K_i = Enc_i(k_i); Π^enc to each P_j as its MtA request."""
    sk, i = setup.key.paillier_secret, setup.i
    k, gamma = random_scalar(), random_scalar()
    Gamma = base_mul(gamma)
    K, rho = mta.encrypt_share(sk, k)
    commitment, salt = commit(setup.session_id, i, GAMMA_PURPOSE, Gamma.encode())
    requests = {
        j: MtaRequestMsg(mta.request(setup.sid, i, j, MTA_LABEL, sk, setup.key.ring_pedersen[j], k, K, rho))
        for j in setup.others
    }
    return Round1Secret(setup, k, gamma, Gamma, K, rho, salt), PresignCommit(commitment, K), requests


def round2(
    secret: Round1Secret, commits: Mapping[int, PresignCommit], requests: Mapping[int, MtaRequestMsg]
) -> tuple[Round2Secret, GammaOpening, dict[int, MtaResponses]]:
    """Phase 2: answer every P_j's MtA (k_j·γ_i) and MtAwc (k_j·w_i) with Π^aff-g; decommit Γ_i and
    broadcast every D so that an identification can check the claimed decryptions publicly."""
    setup = secret.setup
    key, i = setup.key, setup.i
    beta, beta_hat, answers, responses = {}, {}, {}, {}
    for j in setup.others:
        req = requests[j].request
        if req.K != commits[j].K:
            raise ProtocolError(f"party {j} sent a different K_j point-to-point than it broadcast", [j])
        # Only Π^enc's ProofError can name j here; a failure while computing our own answers is our bug.
        with attribute(j, "Π^enc proof"):
            (resp_g, beta[j]), (resp_w, beta_hat[j]) = mta.respond_many(
                setup.sid,
                j,
                i,
                MTA_LABEL,
                key.paillier[j],
                key.ring_pedersen[j],
                key.paillier_secret,
                key.ring_pedersen_secret,
                req,
                (secret.gamma, setup.w),
                (MTA_GAMMA_LABEL, MTA_W_LABEL),
            )
        answers[j] = (int(resp_g.D), int(resp_w.D))
        responses[j] = MtaResponses(resp_g, resp_w)
    state = Round2Secret(secret, dict(commits), beta, beta_hat, answers)
    return state, GammaOpening(secret.salt, secret.Gamma, answers), responses


def round3(
    secret: Round2Secret, openings: Mapping[int, GammaOpening], responses: Mapping[int, MtaResponses]
) -> tuple[Round3Secret, DeltaShare]:
    """Phase 3: check Γ_j and Π^aff-g, compute δ_i and σ_i; broadcast δ_i and T_i = σ_i·G + ℓ_i·H with a
    proof of knowledge of its opening."""
    r1 = secret.round1
    setup = r1.setup
    key, i = setup.key, setup.i
    Gamma = {i: r1.Gamma}
    D = {(j, i): secret.answers[j] for j in setup.others}
    alpha, alpha_hat = {}, {}
    for j in setup.others:
        opening, resp = openings[j], responses[j]
        if not opens(
            secret.peers[j].commitment, setup.session_id, j, GAMMA_PURPOSE, opening.salt, opening.Gamma.encode()
        ):
            raise ProtocolError(f"party {j}'s Γ_j does not open its round-1 commitment", [j])
        Gamma[j] = opening.Gamma
        D |= {(a, j): pair for a, pair in opening.answers.items()}
        if (resp.gamma.D, resp.w.D) != D[(i, j)]:
            raise ProtocolError(f"party {j} sent MtA ciphertexts that differ from its broadcast", [j])
        with attribute(j, "Π^aff-g proof"):
            keys = (key.paillier_secret, key.ring_pedersen_secret, key.paillier[j], r1.K)
            alpha[j] = mta.finish(setup.sid, i, j, MTA_GAMMA_LABEL, *keys, resp.gamma, expected_X=opening.Gamma)
            alpha_hat[j] = mta.finish(setup.sid, i, j, MTA_W_LABEL, *keys, resp.w, expected_X=setup.W[j])
    delta = (r1.k * r1.gamma + sum(alpha[j] + secret.beta[j] for j in setup.others)) % ORDER
    sigma_i = (r1.k * setup.w + sum(alpha_hat[j] + secret.beta_hat[j] for j in setup.others)) % ORDER
    ell = random_scalar()
    T = sigma.pedersen(sigma_i, ell)
    state = Round3Secret(secret, Gamma, D, delta, sigma_i, ell, T)
    return state, DeltaShare(delta, T, sigma.prove_t(setup.session_id, i, sigma_i, ell))


def round4(
    secret: Round3Secret, shares: Mapping[int, DeltaShare]
) -> tuple[Round4Secret, NonceShares, dict[int, RBarProof]]:
    """Phases 4–6: R = δ⁻¹·ΣΓ_j; broadcast R̄_i = k_i·R with Π^log* to each P_j, and S_i = σ_i·R with the
    proof that S_i and T_i share σ_i."""
    r1 = secret.round2.round1
    setup = r1.setup
    i = setup.i
    for j in setup.others:
        with attribute(j, "T_j opening proof"):
            sigma.verify_t(setup.session_id, j, shares[j].T, shares[j].proof)
    deltas = {j: shares[j].delta for j in setup.others} | {i: secret.delta}
    T = {j: shares[j].T for j in setup.others} | {i: secret.T}
    delta = sum(deltas.values()) % ORDER
    R = sum((secret.Gamma[j] for j in setup.signers), IDENTITY) * pow(delta, -1, ORDER) if delta else IDENTITY
    degenerate = R.is_identity
    if degenerate:
        # δ = 0 or ΣΓ_j = identity: impossible for honest parties; R = G fails the R̄ check below
        R = base_mul(1)
    r_bar, S = R * r1.k, R * secret.sigma
    state = Round4Secret(secret, deltas, T, R, degenerate, r_bar, S)
    proofs = {
        j: RBarProof(
            logstar.prove(
                setup.context(i, j, R_BAR_LABEL),
                setup.key.paillier_secret,
                setup.key.ring_pedersen[j],
                r1.K,
                r_bar,
                r1.k,
                r1.rho,
                g=R,
            )
        )
        for j in setup.others
    }
    return state, NonceShares(r_bar, S, sigma.prove_st(setup.session_id, i, R, secret.sigma, secret.ell)), proofs


def finish(
    secret: Round4Secret, nonces: Mapping[int, NonceShares], proofs: Mapping[int, RBarProof]
) -> PresignatureData | Abandoned:
    """Phases 5–6: verify the round-4 proofs, then "check g = ΣR̄_i" and "check y = ΣS_i"; a failed check
    abandons the presignature, and the identification round runs."""
    r3 = secret.round3
    r1 = r3.round2.round1
    setup = r1.setup
    key, i = setup.key, setup.i
    for j in setup.others:
        with attribute(j, "S_j/T_j consistency proof"):
            sigma.verify_st(setup.session_id, j, secret.R, secret.T[j], nonces[j].S, nonces[j].proof)
        with attribute(j, "Π^log* proof for R̄_j"):
            K_j = r3.round2.peers[j].K
            ctx = setup.context(j, i, R_BAR_LABEL)
            logstar.verify(
                ctx, key.paillier[j], key.ring_pedersen_secret, K_j, nonces[j].r_bar, proofs[j].proof, g=secret.R
            )
    r_bar = {j: nonces[j].r_bar for j in setup.others} | {i: secret.r_bar}
    S = {j: nonces[j].S for j in setup.others} | {i: secret.S}
    # phase 5: "check that g = Π R̄_i"; phase 6: "check that y = Π S_i"
    if sum(r_bar.values(), IDENTITY) != base_mul(1) or sum(S.values(), IDENTITY) != key.public_key:
        return Abandoned(secret, S)
    return PresignatureData(setup.session_id, i, setup.signers, key.public_key, secret.R, r_bar, S, r1.k, r3.sigma)


# What one party's presigning step draws from the precompute pools (signer/crypto/precompute.py), as
# (nonces under its own modulus N_i once, the same per peer j, nonces under N_j, commitments under j's
# ring-Pedersen parameters by MASK_KINDS kind). round1: Enc(k_i) once; per peer Π^enc's A under N_i and its
# S (t) and C (alpha). round2: per peer two answers (MtA, MtAwc), each D and Π^aff-g's A under N_j, Y and
# B_y under N_i, Π^aff-g's S and T (t), E (alpha), F (beta). round4: per peer Π^log*'s A, S (t), D (alpha).
PRESIGN_STEPS = ("round1", "round2", "round3", "round4", "finish")
STEP_DRAWS: dict[str, tuple[int, int, int, dict[str, int]]] = {
    "round1": (1, 1, 0, {"t": 1, "alpha": 1}),
    "round2": (0, 4, 4, {"t": 4, "alpha": 2, "beta": 2}),
    "round4": (0, 1, 0, {"t": 1, "alpha": 1}),
}


def precompute_needs(key: Gg20KeyShare, signers: tuple[int, ...], steps: tuple[str, ...]) -> list[Need]:
    """The precomputable values (Paillier nonces, ring-Pedersen masks) party key.party_index's `steps` of a
    presigning among `signers` will take: what an engine can make ahead of time and hand to the step."""
    peers = [j for j in signers if j != key.party_index]
    own = once = peer_nonces = 0
    masks: dict[str, int] = {}
    for step in steps:
        base, per_peer, peer, kinds = STEP_DRAWS.get(step, (0, 0, 0, {}))
        once, own, peer_nonces = once + base, own + per_peer, peer_nonces + peer
        masks = {kind: masks.get(kind, 0) + kinds.get(kind, 0) for kind in masks.keys() | kinds.keys()}
    needs = [nonce_need(key.paillier_secret, once + own * len(peers))] if once + own else []
    for j in peers:
        needs += [nonce_need(key.paillier[j], peer_nonces)] if peer_nonces else []
        needs += [mask_need(key.ring_pedersen[j], kind, n) for kind, n in sorted(masks.items()) if n]
    return needs


def _load_key(key_share: bytes) -> Gg20KeyShare:
    """Decode a stored key share given to a session constructor (ValueError: it is the caller's argument)."""
    if not isinstance(key_share, bytes | bytearray):
        raise ValueError("key_share must be bytes")
    try:
        return Gg20KeyShare.decode(bytes(key_share))
    except DecodeError as exc:
        raise ValueError(f"invalid key share: {exc}") from None


class PresignRounds(RoundMachine):
    """Rounds 1–4 of presigning and the identification round, shared by both sessions; a subclass says
    what to do with the finished presignature (`_presigned`)."""

    def __init__(
        self, session_id: str, party_index: int, key_share: bytes, signers: tuple[int, ...], presigning: bool = True
    ) -> None:
        key = _load_key(key_share)
        if party_index != key.party_index:
            raise ValueError(f"key share belongs to party {key.party_index}, not {party_index}")
        signers = validate_signers(party_index, signers, key.parties, key.threshold)
        super().__init__(session_id, party_index, signers)
        self.key = key
        self.signers = signers
        self._presigning = presigning
        if presigning:
            try:
                _ = key.aux  # decode and validate the Paillier / ring-Pedersen material now
            except DecodeError as exc:
                raise ValueError(f"invalid key share: {exc}") from None
        self._r1: Round1Secret | None = None
        self._r2: Round2Secret | None = None
        self._r3: Round3Secret | None = None
        self._r4: Round4Secret | None = None
        self._abandoned: Abandoned | None = None

    def _presigned(self, pre: PresignatureData) -> list[Outgoing]:
        """What the session does with a finished presignature."""
        raise NotImplementedError

    def precompute_needs(self, whole: bool = False) -> list[Need]:
        """What the next presigning step (with `whole`: it and every later one) will take from the
        precompute pools; nothing once presigning is over or when the session starts from a presignature."""
        handlers: dict[object, str] = {self._round2: "round2", self._round3: "round3", self._round4: "round4"}
        step = ("round1" if self._presigning else None) if not self._started else handlers.get(self._handler)
        if step is None:
            return []
        first = PRESIGN_STEPS.index(step)
        return precompute_needs(self.key, self.signers, PRESIGN_STEPS[first:] if whole else (step,))

    def _start_presign(self) -> list[Outgoing]:
        self._r1, commitment, requests = round1(PresignSetup.create(self.session_id, self.key, self.signers))
        self._expect(1, self._round2, p2p=True)
        return [self.broadcast(1, commitment.encode())] + [Outgoing(j, 1, m.encode()) for j, m in requests.items()]

    def _round2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r1 is not None
        what, paillier = "presign round-1 broadcast", self.key.paillier
        commits = self._receive(inbox, what, lambda j, p: PresignCommit.decode(p, paillier[j]))
        requests = self._receive(inbox, what, lambda _, p: MtaRequestMsg.decode(p), p2p=True)
        self._r2, opening, responses = round2(self._r1, commits, requests)
        self._r1 = None
        self._expect(2, self._round3, p2p=True)
        return [self.broadcast(2, opening.encode())] + [Outgoing(j, 2, m.encode()) for j, m in responses.items()]

    def _round3(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r2 is not None
        what, paillier = "presign round-2 broadcast", self.key.paillier

        def opening(j: int, payload: bytes) -> GammaOpening:
            return GammaOpening.decode(payload, {a: paillier[a] for a in self.signers if a != j})

        openings = self._receive(inbox, what, opening)
        responses = self._receive(inbox, what, lambda _, p: MtaResponses.decode(p), p2p=True)
        self._r3, share = round3(self._r2, openings, responses)
        self._r2 = None
        self._expect(3, self._round4)
        return [self.broadcast(3, share.encode())]

    def _round4(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r3 is not None
        shares = self._receive(inbox, "presign round-3 message", lambda _, p: DeltaShare.decode(p))
        self._r4, nonces, proofs = round4(self._r3, shares)
        self._r3 = None
        self._expect(4, self._finish_presign, p2p=True)
        return [self.broadcast(4, nonces.encode())] + [Outgoing(j, 4, m.encode()) for j, m in proofs.items()]

    def _finish_presign(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r4 is not None
        nonces = self._receive(inbox, "presign round-4 message", lambda _, p: NonceShares.decode(p))
        proofs = self._receive(inbox, "presign round-4 message", lambda _, p: RBarProof.decode(p), p2p=True)
        outcome = finish(self._r4, nonces, proofs)
        self._r4 = None  # k_i, γ_i and the MtA state are no longer needed
        if isinstance(outcome, Abandoned):
            self._abandoned = outcome
            self._expect(5, self._identify)
            return [self.broadcast(5, identify.reveal(outcome).encode())]
        return self._presigned(outcome)

    def _identify(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._abandoned is not None
        signers = self.signers
        reveals = self._receive(
            inbox, "identification reveal", lambda j, p: Reveal.decode(p, [b for b in signers if b != j])
        )
        raise identify.identify(self._abandoned, reveals)


class Gg20PresignSession(PresignRounds):
    """GG20 presigning among `signers`; `result` is a single-use `Presignature`."""

    def _start(self) -> list[Outgoing]:
        return self._start_presign()

    def _presigned(self, pre: PresignatureData) -> list[Outgoing]:
        self._finish(Presignature(pre))
        return []
