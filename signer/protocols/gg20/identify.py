"""GG20's identification step for a presigning whose phase-5 (ΣR̄_j = G) or phase-6 (ΣS_j = Y) check failed.

GG20 §4.2 ("identifying aborts"): once a presignature is abandoned its nonce k may be revealed, since
no signature will ever be made with it. Every signer broadcasts k_j (with the Paillier nonce of K_j),
γ_j, and, as Alice in each MtA/MtAwc, the plaintexts α_{j,b}, α̂_{j,b} of the ciphertexts D it received
together with their Paillier nonces (recovered with its secret key). Everyone then checks publicly:

  * each reveal opens what was committed: K_j = Enc_j(k_j; ρ_j), Γ_j = γ_j·G, D = Enc_j(α; r);
  * each δ_j = k_j·γ_j + Σ_b α_{j,b} + Σ_a (k_a·γ_j − α_{a,j})  (Bob's β = k_a·γ_j − α mod q, since
    Π^aff-g fixed D = K_a^{γ_j}·Enc(−β') in range);
  * each S_j = c·g^{σ_j} where R = c·G (c = ΣΓ/δ, known once γ and k are) and
    g^{σ_j} = k_j·W_j + Σ_b α̂_{j,b}·G + Σ_a (k_a·W_j − α̂_{a,j}·G).
The MtAwc values stay hidden in the exponent: α̂ = k_a·w_j − β̂' is masked by β̂' ∈ ±2^ℓ' (ℓ' = 1280),
so w_j is not revealed. A party whose reveal does not open, or whose δ_j or S_j is wrong, is named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from signer.crypto.codec import Reader, Writer
from signer.crypto.paillier import PaillierError
from signer.crypto.secp256k1 import ORDER, base_mul
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.zk.base import get_int, put_int
from signer.protocols.base import InboxKey, ProtocolError

from .common import blame

if TYPE_CHECKING:
    from .presign_state import PresignState

P_REVEAL = 0x58
VERSION = 1


def encode_reveal(core: PresignState) -> bytes:
    sk = core.key.paillier_secret
    w = Writer(P_REVEAL, VERSION).scalar(GROUP, core.k)
    put_int(w, core.rho).scalar(GROUP, core.gamma)
    for b in core.others:
        for c in core.D[(core.i, b)]:
            put_int(w, sk.decrypt_signed(c))
            put_int(w, sk.nonce(c))
    return w.done()


class _Reveal:
    __slots__ = ("k", "rho", "gamma", "alpha", "alpha_hat")

    def __init__(self, k: int, rho: int, gamma: int) -> None:
        self.k, self.rho, self.gamma = k, rho, gamma
        self.alpha: dict[int, int] = {}
        self.alpha_hat: dict[int, int] = {}


def _decode_reveal(core: PresignState, j: int, data: bytes) -> _Reveal:
    """Decode P_j's reveal and check that it opens K_j, Γ_j and every D P_j received."""
    pk = core.key.paillier[j]
    with blame(j, "identification reveal"):
        r = Reader(data, P_REVEAL, VERSION)
        rev = _Reveal(r.scalar(GROUP), int(get_int(r)), 0)
        rev.gamma = r.scalar(GROUP)
        for b in core.others_of(j):
            for which, store in enumerate((rev.alpha, rev.alpha_hat)):
                alpha, nonce = get_int(r), get_int(r)
                if pk.encrypt_with(alpha % pk.n, nonce) != core.D[(j, b)][which]:
                    raise ProtocolError(f"party {j}'s revealed MtA plaintext does not open its ciphertext", [j])
                store[b] = int(alpha % ORDER)
        r.end()
    try:
        opened = rev.k != 0 and pk.encrypt_with(rev.k, rev.rho) == core.K[j]
    except PaillierError:
        opened = False
    if not opened:
        raise ProtocolError(f"party {j}'s revealed k_j does not open K_j", [j])
    if base_mul(rev.gamma) != core.Gamma[j]:
        raise ProtocolError(f"party {j}'s revealed γ_j does not match Γ_j", [j])
    return rev


def identify(core: PresignState, inbox: Mapping[InboxKey, bytes]) -> ProtocolError:
    """The ProtocolError naming the parties whose δ_j or S_j (or reveal) is wrong."""
    reveals = {core.i: _decode_reveal(core, core.i, encode_reveal(core))}
    for j in core.others:
        reveals[j] = _decode_reveal(core, j, inbox[InboxKey(j, True)])
    signers = core.signers
    delta = sum(core.delta.values()) % ORDER
    gamma_sum = sum(reveals[j].gamma for j in signers) % ORDER
    c = 1 if core.degenerate else gamma_sum * pow(delta, -1, ORDER) % ORDER
    culprits = []
    for j in signers:
        rev, others = reveals[j], core.others_of(j)
        expected_delta = rev.k * rev.gamma + sum(rev.alpha[b] for b in others)
        expected_delta += sum(reveals[a].k * rev.gamma - reveals[a].alpha[j] for a in others)
        g_sigma = core.W[j] * rev.k + base_mul(sum(rev.alpha_hat[b] for b in others))
        for a in others:
            g_sigma = g_sigma + core.W[j] * reveals[a].k - base_mul(reveals[a].alpha_hat[j])
        if expected_delta % ORDER != core.delta[j] or core.S[j] != g_sigma * c:
            culprits.append(j)
    if not culprits:
        return ProtocolError("presignature check failed but every reveal is consistent", [])
    return ProtocolError("presigning failed: wrong δ_j or S_j", culprits)


__all__ = ["encode_reveal", "identify"]
