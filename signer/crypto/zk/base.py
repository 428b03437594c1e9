"""What every CGGMP21 proof shares: the paper's parameters, the typed error, the context binding.

Parameters (CGGMP21, eprint 2021/060, §C.1 "Concrete security"; also the values of tss-lib v2 and
taurushq's implementation): κ = 256, ℓ = κ = 256, ε = 2κ = 512, ℓ' = 5κ = 1280. They are module constants,
not arguments: no caller can weaken a proof by passing smaller values.

Repetitions m = 128 for Π^mod and Π^prm (the paper and tss-lib use 80). Each repetition of Π^prm has a
one-bit challenge, and each repetition of Π^mod catches a modulus that is not Paillier–Blum with
probability at least 1/2, so a false statement passes one proof with probability at most 2^-m. After
Fiat–Shamir that bound is what an offline prover grinds against: with m = 80 about 2^80 hash evaluations
forge one proof, and one forged Π^prm on a smooth Ñ exposes the node's share in a single MtAwc. m = 128
puts the forgery at the 128-bit level of the rest of the system. A proof with any other count is refused
(`from_bytes` and `verify` both check it). Cost, once per party per key generation: each proof grows from
about 42 KB to 67 KB at 2048 bits, and proving/verifying takes about 1.3-1.5 times as long
(`just bench zk.mod`, `just bench zk.prm`).

Every proof's Fiat–Shamir transcript starts with the proof's name, the session id, the prover index,
the verifier index (0 when the proof is broadcast) and a label, so a proof made for one session or one party does not
verify under another (the TSSHOCK / replay class of bugs).

Public API:
    ELL = 256, EPSILON = 512, ELL_PRIME = 1280, REPETITIONS = 128, Q (secp256k1 order)
    ProofError(proof, reason)       (from signer.crypto.errors) verify() raises it and never returns False
    ProofContext(session_id: bytes, prover: int, verifier: int = 0, label: bytes = b"")
    start_transcript(proof_name, ctx) -> Transcript
    MASK_KINDS, refill_masks(rp, {kind: target})   the provers' precomputable commitments (ringpedersen.MASK_POOL)
    mask_need(rp, kind, count) -> precompute.Need  `count` of them about to be made, to move between processes
    (internal helpers for the proof modules: require, require_unit, put_int, get_int, paillier_enc, paillier_check,
     random_commitment, commit_masked)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from signer.crypto.bigint import gcd, mpz
from signer.crypto.codec import Reader, Writer
from signer.crypto.errors import DecodeError, ProofError
from signer.crypto.paillier import PaillierPublicKey, PaillierSecretKey
from signer.crypto.precompute import Need
from signer.crypto.ringpedersen import MASK_POOL_NAME, RingPedersenParams
from signer.crypto.secp256k1 import ORDER
from signer.crypto.transcript import Transcript, int_bytes

ELL = 256
EPSILON = 512
ELL_PRIME = 1280
REPETITIONS = 128
Q = ORDER
assert Q.bit_length() <= ELL

PROOF_VERSION = 1
MAX_INT_BYTES = 1024  # 8192 bits: larger than any honest field of any proof here
MAX_SESSION_ID = 256


@dataclass(frozen=True)
class ProofContext:
    """What a proof is bound to: the session, the prover, the verifier (0 = every party), and an optional
    label naming the proof's place in the protocol (e.g. b"mta-gamma" vs b"mta-w")."""

    session_id: bytes
    prover: int
    verifier: int = 0
    label: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.session_id, bytes) or not 0 < len(self.session_id) <= MAX_SESSION_ID:
            raise ValueError("session_id must be 1..256 bytes")
        if not isinstance(self.label, bytes) or len(self.label) > MAX_SESSION_ID:
            raise ValueError("label must be at most 256 bytes")
        for v in (self.prover, self.verifier):
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 1 << 32:
                raise ValueError("party indices must be ints in [0, 2^32)")


def start_transcript(proof_name: str, ctx: ProofContext) -> Transcript:
    """A transcript bound to the proof name, session id, prover and verifier."""
    t = Transcript(f"mpc-signer/zk/{proof_name}/v1")
    t.append_bytes("session-id", ctx.session_id)
    t.append_int("prover", ctx.prover)
    t.append_int("verifier", ctx.verifier)
    t.append_bytes("label", ctx.label)
    return t


def require(ok: bool, proof: str, reason: str) -> None:
    if not ok:
        raise ProofError(proof, reason)


def require_unit(x: int, n: int, proof: str, what: str) -> None:
    """x in Z*_n."""
    require(0 < x < n and gcd(x, n) == 1, proof, f"{what} not a unit")


def put_int(w: Writer, x: int) -> Writer:
    """A signed integer: sign byte and minimal magnitude, u32-length-prefixed."""
    return w.var(int_bytes(x))


def get_int(r: Reader) -> mpz:
    """The inverse of put_int; rejects non-minimal encodings and over-long values."""
    raw = r.var(MAX_INT_BYTES + 1)
    if not raw or raw[0] not in (0, 1):
        raise DecodeError("bad integer sign byte")
    if len(raw) > 1 and raw[1] == 0:
        raise DecodeError("integer encoding not minimal")
    mag = mpz(int.from_bytes(raw[1:], "big"))
    if raw[0] == 1 and mag == 0:
        raise DecodeError("negative zero")
    return -mag if raw[0] == 1 else mag


def paillier_enc(key: PaillierPublicKey | PaillierSecretKey, m: int) -> tuple[mpz, mpz]:
    """((1 + N)^m · r^N mod N², r) for any integer m (the paper's enc with a signed plaintext) and a fresh
    nonce r, whose r^N comes precomputed from paillier.NONCE_POOL when one is ready.

    The prover passes its secret key when it owns N, which makes a missing r^N a CRT exponentiation.
    """
    return key.encrypt(mpz(m) % key.n)


# The random commitments s^x·t^y the Π^enc, Π^aff-g and Π^log* provers make under the verifier's Ñ, by
# kind: (bound of x, bound of y) as functions of Ñ. "t": t^μ alone, μ ← ±2^ℓ·Ñ (the mask of S = s^k·t^μ);
# "alpha": s^α·t^γ, α ← ±2^(ℓ+ε), γ ← ±2^(ℓ+ε)·Ñ; "beta": Π^aff-g's s^β·t^δ, β ← ±2^(ℓ'+ε).
MASK_KINDS: dict[str, Callable[[int], tuple[int, int]]] = {
    "t": lambda nh: (0, (1 << ELL) * nh),
    "alpha": lambda nh: (1 << (ELL + EPSILON), (1 << (ELL + EPSILON)) * nh),
    "beta": lambda nh: (1 << (ELL_PRIME + EPSILON), (1 << (ELL + EPSILON)) * nh),
}


def random_commitment(rp: RingPedersenParams, kind: str) -> tuple[mpz, mpz, mpz]:
    """(x, y, s^x·t^y) of one MASK_KINDS kind, fresh (from ringpedersen.MASK_POOL when one is ready)."""
    return rp.random_commitment(*MASK_KINDS[kind](rp.n))


def commit_masked(rp: RingPedersenParams, x: int) -> tuple[mpz, mpz]:
    """(s^x·t^μ mod Ñ, μ) for a secret x and a fresh mask μ ← ±2^ℓ·Ñ whose t^μ may come precomputed."""
    _, mu, t_mu = random_commitment(rp, "t")
    return rp.pow_secret(rp.s, x) * t_mu % rp.n, mu


def mask_need(rp: RingPedersenParams, kind: str, count: int) -> Need:
    """`count` commitments of one MASK_KINDS kind under `rp` about to be made by a prover."""
    x_bound, y_bound = MASK_KINDS[kind](rp.n)
    return Need(MASK_POOL_NAME, (rp, x_bound, y_bound), partial(rp.refill_masks, x_bound, y_bound), count)


def refill_masks(rp: RingPedersenParams, counts: Mapping[str, int]) -> None:
    """Precompute commitments under a verifier's parameters until counts[kind] of each kind are ready."""
    for kind, target in counts.items():
        rp.refill_masks(*MASK_KINDS[kind](rp.n), target)


def paillier_check(pk: PaillierPublicKey | PaillierSecretKey, m: int, r: int, c: int) -> bool:
    """(1 + N)^m · r^N == c mod N² for a signed m, computed by the verifier."""
    n, n2 = pk.n, pk.n2
    return (1 + (mpz(m) % n) * n) * pk.pow_n2(r, n) % n2 == c % n2
