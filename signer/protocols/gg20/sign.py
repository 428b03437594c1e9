"""GG20 signing: phase 7, the two online rounds (fresh ρ_i, then s_i from a presignature and a digest; (r, s)
checked and released), and `Gg20SignSession`, which runs it after presigning rounds 1–4 (presign.py) in one session,
or alone from a stored presignature.

GG20 §4.3: "P_i broadcasts s_i = m·k_i + r·σ_i; set s = Σ s_i; if (r, s) is not a valid signature the
players abort" and, for identification, each s_i is checked as R^{s_i} = R̄_i^m · S_i^r.

Two additions for BIP-32 derived keys (signer.crypto.hd): the child key is Y' = Y + δ·G, so the share
becomes s_i = k_i·(m + r·δ) + r·σ_i (Σ = k·(m + r·(x + δ)), every party adds the same public tweak);
and the presignature is re-randomized, after Groth–Shoup ("On the security of ECDSA with additive key
derivation and presignatures", eprint 2021/1330, EUROCRYPT 2022). Their cube-root attack on presignatures
combined with additive derivation needs the nonce R of the signature to be known while the message and
the tweak are still being chosen; their "re-randomized presignatures" mitigation makes the signature's
nonce R' a function of a random value that is sampled only once the signing request (message, tweak,
presignature) is fixed, which is what their security argument relies on. GG20's nonce is 1/k, which the
signers hold additively as shares of k, so the re-randomization is multiplicative (an additive shift of
1/k would not be linear in the shares): R' = e·R and every share is multiplied by e⁻¹, with

    e = H(presignature id, R, Y', δ, digest, ρ_j for every signer j in index order).

ρ_j is a fresh 32-byte value every signer draws when its online round starts and broadcasts in online
round 1 (`OnlineNonce`); s_i is sent in online round 2, after every ρ_j is known, so the requester (P1)
finishes only after the node's ρ and s_i. Without the ρ_j (version 1 of this round) e was a public hash
P1 could evaluate for any message and tweak before asking, which is the situation the attack exploits.

Why no commit-then-reveal round for the ρ_j: the last signer to speak may pick its ρ after seeing the
others' and so choose e among the values it can hash — but each candidate is a hash of an input that
contains an honest signer's ρ, drawn after (m, δ, R) were fixed and unknown until then. Choosing among
polynomially many such fresh, independent values is what a random-oracle adversary can do with any
hash query, so the bias costs at most a factor of the number of hash evaluations in the reduction, and
no relation between e and the adversary's earlier choices can be arranged. A commitment would only
remove that choice, at the cost of a third online round. Every honest signer's ρ is fixed (drawn and
sent) before it reads any other party's online message, which is all the argument needs.

The r of a signature is thus not fixed before the digest, the tweak and the node's ρ are. It is applied
to every signature, derived or not. The share check becomes s_i·R' = (m + r·δ)·R̄_i + r·S_i.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from signer.crypto.errors import DecodeError
from signer.crypto.hd import derive_public
from signer.crypto.secp256k1 import ORDER, Point, base_mul
from signer.crypto.transcript import Transcript
from signer.protocols.base import InboxKey, Outgoing, ProtocolError, SignResult

from .messages import ONLINE_NONCE_LEN, OnlineNonce, SignatureShare
from .presign import PresignRounds
from .presignature import Presignature, PresignatureData

HALF_ORDER = ORDER // 2


@dataclass(frozen=True)
class OnlineContext:
    """What every signer computes identically from the presignature, the digest and the derivation."""

    m: int
    tweak: int
    child_key: Point
    e: int
    r_point: Point  # R' = e·R
    r: int


def online_context(
    pre: PresignatureData, digest: bytes, tweak: int, child_key: Point, nonces: Mapping[int, bytes]
) -> OnlineContext:
    """The re-randomized nonce for this signing; `nonces` holds every signer's ρ_j (module docstring)."""
    if len(digest) != 32:
        raise ValueError("digest must be 32 bytes")
    if sorted(nonces) != list(pre.signers) or any(len(rho) != ONLINE_NONCE_LEN for rho in nonces.values()):
        raise ValueError("one re-randomization contribution per signer is needed")
    m = int.from_bytes(digest, "big") % ORDER
    t = Transcript("mpc-signer/gg20/rerandomize/v2")
    t.append_bytes("presignature-id", pre.presignature_id)
    t.append_point("R", pre.r_point)
    t.append_point("child-key", child_key)
    t.append_int("tweak", tweak)
    t.append_bytes("digest", digest)
    for j in pre.signers:
        t.append_bytes(f"rho-{j}", nonces[j])
    e = 1 + t.challenge_int("e", ORDER - 1)
    r_point = pre.r_point * e
    r = r_point.x % ORDER
    if r == 0:
        raise ProtocolError("r = 0 for this presignature; use another one", [])
    return OnlineContext(m, tweak, child_key, e, r_point, r)


def share(pre: PresignatureData, ctx: OnlineContext) -> int:
    """s_i = e⁻¹·(k_i·(m + r·δ) + r·σ_i) mod q."""
    e_inv = pow(ctx.e, -1, ORDER)
    return e_inv * (pre.k * (ctx.m + ctx.r * ctx.tweak) + ctx.r * pre.sigma) % ORDER


def check_share(pre: PresignatureData, ctx: OnlineContext, j: int, s_j: int) -> bool:
    """s_j·R' == (m + r·δ)·R̄_j + r·S_j."""
    return ctx.r_point * s_j == pre.r_bar[j] * ((ctx.m + ctx.r * ctx.tweak) % ORDER) + pre.s_points[j] * ctx.r


def verify_ecdsa(public_key: Point, m: int, r: int, s: int) -> bool:
    """Plain ECDSA verification: x(m/s·G + r/s·Y) mod q == r."""
    if not (0 < r < ORDER and 0 < s < ORDER):
        return False
    w = pow(s, -1, ORDER)
    point = base_mul(m * w % ORDER) + public_key * (r * w % ORDER)
    return not point.is_identity and point.x % ORDER == r


def combine(pre: PresignatureData, ctx: OnlineContext, shares: dict[int, int]) -> SignResult:
    """s = Σ s_j, normalized to low-s with the recovery id; verified before release.

    A signature that does not verify is terminal: every s_j is checked against R̄_j and S_j and the
    parties whose share fails are named.
    """
    s = sum(shares.values()) % ORDER
    if not verify_ecdsa(ctx.child_key, ctx.m, ctx.r, s):
        culprits = [j for j in pre.signers if not check_share(pre, ctx, j, shares[j])]
        raise ProtocolError("the combined signature does not verify; bad signature shares", culprits)
    if ctx.r_point.x >= ORDER:
        # recovery ids 2/3 (x(R) >= q, probability ~2^-128) have no 0/1 encoding
        raise ProtocolError("nonce point has x >= q; use another presignature", [])
    recovery_id = ctx.r_point.y & 1
    if s > HALF_ORDER:  # low-s: s -> q - s negates R, which flips the parity of its y
        s = ORDER - s
        recovery_id ^= 1
    signature = ctx.r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return SignResult(signature=signature, public_key=ctx.child_key.encode(), recovery_id=recovery_id)


class Gg20SignSession(PresignRounds):
    """GG20 signing of a 32-byte digest, optionally with a BIP-32 non-hardened derivation path.

    With presignature=None: presigning rounds 1–4 then the online rounds 5–6 in one session; with a
    presignature, only the online rounds 1–2. Either way, a failed phase-5/6 check runs the identification
    round (5) and fails naming the culprit, and the signature is verified before it is released."""

    def __init__(
        self,
        session_id: str,
        party_index: int,
        key_share: bytes,
        digest: bytes,
        signers: tuple[int, ...],
        derivation_path: tuple[int, ...] = (),
        presignature: bytes | Presignature | None = None,
    ) -> None:
        super().__init__(session_id, party_index, key_share, signers, presigning=presignature is None)
        if not isinstance(digest, bytes | bytearray) or len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        self.digest = bytes(digest)
        if not isinstance(derivation_path, tuple | list) or any(
            not isinstance(i, int) or isinstance(i, bool) for i in derivation_path
        ):
            raise ValueError("derivation_path must be a tuple of integers")
        derived = derive_public(self.key.public_key.encode(), self.key.chain_code, tuple(derivation_path))
        self._tweak, self._child = derived.tweak, Point.decode(derived.public_key)
        self._pre: PresignatureData | None = None
        if presignature is not None:
            self._pre = self._load_presignature(presignature)

    def _load_presignature(self, presignature: bytes | Presignature) -> PresignatureData:
        data = presignature.consume() if isinstance(presignature, Presignature) else presignature
        if not isinstance(data, bytes | bytearray):
            raise ValueError("presignature must be bytes or a Presignature")
        try:
            pre = PresignatureData.decode(bytes(data))
        except DecodeError as exc:
            raise ValueError(f"invalid presignature: {exc}") from None
        if pre.party_index != self.party_index or pre.public_key != self.key.public_key:
            raise ValueError("presignature belongs to another party or key")
        if pre.signers != self.signers:
            raise ValueError("presignature was made for a different signer set")
        return pre

    def _start(self) -> list[Outgoing]:
        if self._pre is None:
            return self._start_presign()
        return self._presigned(self._pre, round_no=1)

    def _presigned(self, pre: PresignatureData, round_no: int = 5) -> list[Outgoing]:
        """Online round 1: draw and broadcast ρ_i, fixed before any other party's online message is read."""
        self._pre = pre
        self._rho = secrets.token_bytes(ONLINE_NONCE_LEN)
        self._share_round = round_no + 1
        self._expect(round_no, self._send_share)
        return [self.broadcast(round_no, OnlineNonce(self._rho).encode())]

    def _send_share(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        """Online round 2: e from every ρ_j; 'P_i broadcasts s_i'."""
        pre = self._pre
        assert pre is not None
        received = self._receive(inbox, "re-randomization contribution", lambda _, p: OnlineNonce.decode(p))
        nonces = {j: msg.rho for j, msg in received.items()} | {self.party_index: self._rho}
        self._ctx = online_context(pre, self.digest, self._tweak, self._child, nonces)
        self._expect(self._share_round, self._combine)
        return [self.broadcast(self._share_round, SignatureShare(share(pre, self._ctx)).encode())]

    def _combine(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        pre = self._pre
        assert pre is not None
        received = self._receive(inbox, "signature share", lambda _, p: SignatureShare.decode(p))
        shares = {j: msg.s for j, msg in received.items()} | {self.party_index: share(pre, self._ctx)}
        self._pre = None
        self._finish(combine(pre, self._ctx, shares))
        return []
