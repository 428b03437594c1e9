"""MtA and MtAwc (multiplicative-to-additive share conversion) for GG20, made safe with CGGMP21 proofs.

Alice holds k, Bob holds x; afterwards Alice holds α and Bob holds β with α + β = k·x mod q.

    1. Alice -> Bob   K = Enc_A(k; ρ) and Π^enc (k ∈ ±2^ℓ), proved under *Bob's* ring-Pedersen.
                      One K may serve every Bob (GG20 broadcasts it); each Bob gets his own Π^enc.
    2. Bob            verifies Π^enc, samples β' ← ±2^ℓ' and answers
                      D = (k ⊙ x) ⊕ Enc_A(-β'; ρ_D)   (= K^x · (1+N_A)^(-β') · ρ_D^N_A mod N_A²),
                      Y = Enc_B(-β'; ρ_Y) under his own key, X = x·G, and Π^aff-g under *Alice's*
                      ring-Pedersen; his share is β = β' mod q.
    3. Alice          verifies Π^aff-g and, for MtAwc, that X is the public point she expects
                      (e.g. Bob's W_j = λ_j·x_j·G); α = Dec_A(D) (signed) mod q = k·x − β'.

For plain MtA (k·γ in GG20) the response still carries X = γ·G, which Π^aff-g binds: call
`finish(..., expected_X=None)` and check `MtaResponse.X` against Γ_j once Bob decommits it.
Without these proofs a malicious Bob can learn Alice's k bit by bit
(Alpha-Rays) and a malicious Alice with a bad modulus can learn x (BitForge).

Speed: every random Paillier nonce power r^N and every random ring-Pedersen mask commitment the answers and
proofs use comes from the process's pools of precomputed values when some are ready (precompute.py), else it
is computed on the spot. The verifier owns the ring-Pedersen parameters its proofs are checked under, so `respond` takes
Bob's own RingPedersenSecret as `bob_rp` and `finish` Alice's own as `alice_rp` (RingPedersenParams also
work, slower): the checks then run by CRT with the same result. `request` takes Bob's public
RingPedersenParams and `respond` Alice's public ones (the provers never hold the other side's secret).

Contexts: every proof is bound to (session_id, prover, verifier, label); pass a distinct `label` per MtA
instance in a session (e.g. b"mta-gamma" and b"mta-w"). When one request serves two instances
(`respond_many`, GG20's k·γ and k·w), `label` binds Alice's Π^enc and `answer_labels` gives each answer's
Π^aff-g its own label; Alice then calls `finish` with that answer's label, so an answer made for one
instance does not verify as the other's.

Public API:
    MtaRequest(K, proof: EncProof)                   .to_bytes() / MtaRequest.from_bytes(b)
    MtaResponse(D, Y, X: Point, proof: AffGProof)    .to_bytes() / MtaResponse.from_bytes(b)
    encrypt_share(alice_sk, k) -> (K, rho)           Alice's Enc(k), reusable for every Bob
    request(session_id, alice, bob, label, alice_sk, bob_rp, k, K, rho) -> MtaRequest
    respond(session_id, alice, bob, label, alice_pk, alice_rp, bob_sk, bob_rp, req, x)
        -> (MtaResponse, beta)                       verifies Π^enc first (raises ProofError)
    respond_many(..., req, xs, answer_labels=None) -> [(MtaResponse, beta), ...]
                                                     one Π^enc check for several answers, each under its label
    finish(session_id, alice, bob, label, alice_sk, alice_rp, bob_pk, K, resp, expected_X=None)
        -> alpha                                     verifies Π^aff-g (raises ProofError)
"""

from __future__ import annotations

from dataclasses import dataclass

from .bigint import mpz, random_signed
from .codec import Reader, Writer
from .paillier import PaillierPublicKey, PaillierSecretKey
from .ringpedersen import RingPedersenParams, RingPedersenSecret
from .secp256k1 import ORDER, SECP256K1, Point, base_mul
from .zk import affg, enc
from .zk.base import ELL_PRIME, ProofContext, ProofError, get_int, put_int

KIND_REQUEST = 0x68
KIND_RESPONSE = 0x69
VERSION = 1
_MAX_PROOF = 1 << 16


@dataclass(frozen=True)
class MtaRequest:
    K: mpz
    proof: enc.EncProof

    def to_bytes(self) -> bytes:
        return put_int(Writer(KIND_REQUEST, VERSION), self.K).var(self.proof.to_bytes()).done()

    @classmethod
    def from_bytes(cls, data: bytes) -> MtaRequest:
        r = Reader(data, KIND_REQUEST, VERSION)
        K = get_int(r)
        proof = enc.EncProof.from_bytes(r.var(_MAX_PROOF))
        r.end()
        return cls(K, proof)


@dataclass(frozen=True)
class MtaResponse:
    D: mpz
    Y: mpz
    X: Point
    proof: affg.AffGProof

    def to_bytes(self) -> bytes:
        w = put_int(put_int(Writer(KIND_RESPONSE, VERSION), self.D), self.Y)
        return w.point(SECP256K1, self.X).var(self.proof.to_bytes()).done()

    @classmethod
    def from_bytes(cls, data: bytes) -> MtaResponse:
        r = Reader(data, KIND_RESPONSE, VERSION)
        D, Y = get_int(r), get_int(r)
        X = r.point(SECP256K1)
        proof = affg.AffGProof.from_bytes(r.var(_MAX_PROOF))
        r.end()
        return cls(D, Y, X, proof)


def _check_scalar(v: int, what: str) -> int:
    if not isinstance(v, int | mpz) or isinstance(v, bool) or not 0 < v < ORDER:
        raise ValueError(f"{what} must be a non-zero scalar mod q")
    return int(v)


def encrypt_share(alice_sk: PaillierSecretKey, k: int) -> tuple[mpz, mpz]:
    """Alice's K = Enc_A(k; ρ) (CRT-accelerated); keep ρ secret, it is the Π^enc witness."""
    return alice_sk.encrypt(_check_scalar(k, "k"))


def request(
    session_id: bytes,
    alice: int,
    bob: int,
    label: bytes,
    alice_sk: PaillierSecretKey,
    bob_rp: RingPedersenParams,
    k: int,
    K: int,
    rho: int,
) -> MtaRequest:
    """Alice's message to Bob: K with Π^enc under Bob's ring-Pedersen parameters."""
    ctx = ProofContext(session_id, alice, bob, label)
    return MtaRequest(mpz(K), enc.prove(ctx, alice_sk, bob_rp, K, _check_scalar(k, "k"), rho))


def respond(
    session_id: bytes,
    alice: int,
    bob: int,
    label: bytes,
    alice_pk: PaillierPublicKey,
    alice_rp: RingPedersenParams,
    bob_sk: PaillierSecretKey,
    bob_rp: RingPedersenSecret | RingPedersenParams,
    req: MtaRequest,
    x: int,
) -> tuple[MtaResponse, int]:
    """Bob: verify Alice's Π^enc (raises ProofError), answer with D, Y, X and Π^aff-g; returns (response, β)."""
    return respond_many(session_id, alice, bob, label, alice_pk, alice_rp, bob_sk, bob_rp, req, (x,))[0]


def respond_many(
    session_id: bytes,
    alice: int,
    bob: int,
    label: bytes,
    alice_pk: PaillierPublicKey,
    alice_rp: RingPedersenParams,
    bob_sk: PaillierSecretKey,
    bob_rp: RingPedersenSecret | RingPedersenParams,
    req: MtaRequest,
    xs: tuple[int, ...],
    answer_labels: tuple[bytes, ...] | None = None,
) -> list[tuple[MtaResponse, int]]:
    """`respond` for several of Bob's values against one request (GG20's MtA for γ and MtAwc for w share
    Alice's Enc(k)): Alice's Π^enc is verified once (under `label`), each answer gets its own fresh β' and
    Π^aff-g, bound to answer_labels[i] (distinct, one per value); without answer_labels every answer
    uses `label`, which is only right for a single instance."""
    if answer_labels is None:
        labels = (label,) * len(xs)
    elif len(answer_labels) != len(xs) or len(set(answer_labels)) != len(xs):
        raise ValueError("answer_labels must give one distinct label per value")
    else:
        labels = answer_labels
    enc.verify(ProofContext(session_id, alice, bob, label), alice_pk, bob_rp, req.K, req.proof)
    return [
        _answer(ProofContext(session_id, bob, alice, lab), alice_pk, alice_rp, bob_sk, req.K, _check_scalar(x, "x"))
        for x, lab in zip(xs, labels, strict=True)
    ]


def _answer(
    ctx: ProofContext,
    alice_pk: PaillierPublicKey,
    alice_rp: RingPedersenParams,
    bob_sk: PaillierSecretKey,
    K: int,
    x: int,
) -> tuple[MtaResponse, int]:
    """D = x⊙K ⊕ Enc(−β'), Y = Enc_B(−β'), X = x·G, with Π^aff-g over all of them; returns (response, β')."""
    beta_prime = random_signed(1 << ELL_PRIME)
    y = -beta_prime
    n0, n02 = alice_pk.n, alice_pk.n2
    enc_y, rho = alice_pk.encrypt(y % n0)
    D = alice_pk.mul_const_secret(K, x) * enc_y % n02
    Y, rho_y = bob_sk.encrypt(y % bob_sk.n)
    X = base_mul(x)
    proof = affg.prove(ctx, alice_pk, bob_sk, alice_rp, K, D, Y, X, x, y, rho, rho_y)
    return MtaResponse(D, Y, X, proof), int(beta_prime % ORDER)


def finish(
    session_id: bytes,
    alice: int,
    bob: int,
    label: bytes,
    alice_sk: PaillierSecretKey,
    alice_rp: RingPedersenSecret | RingPedersenParams,
    bob_pk: PaillierPublicKey,
    K: int,
    resp: MtaResponse,
    expected_X: Point | None = None,
) -> int:
    """Alice: verify Bob's Π^aff-g (and X for MtAwc), return α = Dec(D) mod q. Raises ProofError."""
    if expected_X is not None and resp.X != expected_X:
        raise ProofError(affg.NAME, "X is not the expected public point (MtAwc)")
    ctx = ProofContext(session_id, bob, alice, label)
    affg.verify(ctx, alice_sk, bob_pk, alice_rp, K, resp.D, resp.Y, resp.X, resp.proof)
    return int(alice_sk.decrypt_signed(resp.D) % ORDER)
