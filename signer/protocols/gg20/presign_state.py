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

from signer.crypto.secp256k1 import ORDER, Point, base_mul, random_scalar
from signer.crypto.zk.base import ProofContext

from .keyshare import KeyShare

P_R1B, P_R1P, P_R2B, P_R2P, P_R3, P_R4B, P_R4P = 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57
VERSION = 1
LABEL = b"gg20/presign/mta"
GAMMA_PURPOSE = b"presign/gamma"
R_BAR_LABEL = b"gg20/presign/r-bar"
MAX_MESSAGE = 1 << 17


class PresignState:
    """One party's presigning state, shared by the round modules presign_round1..4, presign_finish and identify."""

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
        self.peer_commitment: dict[int, bytes] = {}
        # Set by later rounds: round 1 (rho, commitment, salt), round 3 (sigma, ell), round 4 (the rest).
        self.rho: int
        self.commitment: bytes
        self.salt: bytes
        self.sigma: int
        self.ell: int
        self.R: Point
        self.degenerate: bool
        self.r_bar: dict[int, Point]
        self.S: dict[int, Point]

    def __repr__(self) -> str:
        return f"PresignState(party={self.i}, signers={self.signers}, secret=<redacted>)"

    def ctx(self, prover: int, verifier: int, label: bytes) -> ProofContext:
        return ProofContext(self.sid, prover, verifier, label)

    def others_of(self, j: int) -> tuple[int, ...]:
        return tuple(a for a in self.signers if a != j)
