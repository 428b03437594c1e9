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

Which plaintext opens D. A Paillier ciphertext under N_j is opened by α and by every α + t·N_j, and those
differ mod q: were any of them accepted, P_j could shift its revealed α by N_j (and its δ_j by N_j mod q)
and the check of an honest Bob's δ_b would fail instead of its own. So only the one integer the MtA can
have produced is accepted, |α| ≤ `OPENING_BOUND`:
  * Alice's k is revealed as a scalar 0 < k < q (it must open K_j, so a K_j that encrypts anything
    else is Alice's own deviation);
  * Bob's Π^aff-g (affg.py) bounds z1 ∈ ±2^(ℓ+ε) and z2 ∈ ±2^(ℓ'+ε); the witness extracted from two
    accepting transcripts is (z − z')/(e − e'), so x ∈ ±2^(ℓ+ε+1) and y ∈ ±2^(ℓ'+ε+1) (an honest Bob's
    x is a scalar and y = −β' ∈ ±2^ℓ', well inside);
  * so the plaintext k·x + y of D = K^x ⊙ Enc(y) is an integer with |α| ≤ (q−1)·2^(ℓ+ε+1) + 2^(ℓ'+ε+1)
    (about 2^1793). Alice's honest signed decryption (−N/2, N/2) returns exactly that integer, and since
    N_j ≥ 2^2047 > 2·OPENING_BOUND no other integer in the interval opens the same D.
The same holds for α̂ (MtAwc, x = w_b).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from signer.crypto.paillier import PaillierError, PaillierPublicKey
from signer.crypto.secp256k1 import ORDER, base_mul
from signer.crypto.zk.base import ELL, ELL_PRIME, EPSILON
from signer.protocols.base import ProtocolError

from .messages import Reveal

if TYPE_CHECKING:
    from .presign import Abandoned

#: The largest |plaintext| an MtA ciphertext D can hold once Π^enc and Π^aff-g passed (module docstring).
OPENING_BOUND = (ORDER - 1) * (1 << (ELL + EPSILON + 1)) + (1 << (ELL_PRIME + EPSILON + 1))


def reveal(abandoned: Abandoned) -> Reveal:
    """This party's reveal: k_i, ρ_i, γ_i and, for each Bob b, the openings (plaintext, Paillier nonce)
    of the D and D̂ received from b, recovered with this party's Paillier secret key."""
    r3 = abandoned.round4.round3
    r1 = r3.round2.round1
    setup = r1.setup
    sk = setup.key.paillier_secret
    openings = {}
    for b in setup.others:
        d_gamma, d_w = (r3.D[(setup.i, b)][which] for which in (0, 1))
        openings[b] = (
            (int(sk.decrypt_signed(d_gamma)), int(sk.nonce(d_gamma))),
            (int(sk.decrypt_signed(d_w)), int(sk.nonce(d_w))),
        )
    return Reveal(r1.k, int(r1.rho), r1.gamma, openings)


def _encrypts(pk: PaillierPublicKey, m: int, nonce: int, c: int) -> bool:
    """Enc(m; nonce) == c; a nonce outside Z*_N opens nothing."""
    try:
        return pk.encrypt_with(m % pk.n, nonce) == c
    except PaillierError:
        return False


def _opens_mta(pk: PaillierPublicKey, alpha: int, nonce: int, d: int) -> bool:
    """`alpha` is the one plaintext of the MtA ciphertext d that the proofs allow, |alpha| ≤ OPENING_BOUND.

    It is the only one when N > 2·OPENING_BOUND, which keygen's 2048-bit moduli give with room to spare
    (checked here all the same, so that the argument does not rest on another module's constant)."""
    in_range = -OPENING_BOUND <= alpha <= OPENING_BOUND and 2 * OPENING_BOUND < pk.n
    return in_range and _encrypts(pk, alpha, nonce, d)


@dataclass(frozen=True)
class _Opened:
    """A reveal checked against what its sender committed to: k_j, γ_j and α, α̂ (mod q) per Bob."""

    k: int
    gamma: int
    alpha: Mapping[int, int]
    alpha_hat: Mapping[int, int]


def _open(abandoned: Abandoned, j: int, rev: Reveal) -> _Opened:
    """Check that P_j's reveal opens K_j, Γ_j and every D P_j received; raises ProtocolError naming j."""
    r3 = abandoned.round4.round3
    r1 = r3.round2.round1
    setup = r1.setup
    pk = setup.key.paillier[j]
    alpha, alpha_hat = {}, {}
    for b, ((a_g, n_g), (a_w, n_w)) in rev.openings.items():
        d_gamma, d_w = r3.D[(j, b)]
        if not (_opens_mta(pk, a_g, n_g, d_gamma) and _opens_mta(pk, a_w, n_w, d_w)):
            raise ProtocolError(f"party {j}'s revealed MtA plaintext does not open its ciphertext", [j])
        alpha[b], alpha_hat[b] = a_g % ORDER, a_w % ORDER
    K_j = r1.K if j == setup.i else r3.round2.peers[j].K
    if rev.k == 0 or not _encrypts(pk, rev.k, rev.rho, K_j):
        raise ProtocolError(f"party {j}'s revealed k_j does not open K_j", [j])
    if base_mul(rev.gamma) != r3.Gamma[j]:
        raise ProtocolError(f"party {j}'s revealed γ_j does not match Γ_j", [j])
    return _Opened(rev.k, rev.gamma, alpha, alpha_hat)


def identify(abandoned: Abandoned, reveals: Mapping[int, Reveal]) -> ProtocolError:
    """The ProtocolError naming the parties whose δ_j or S_j (or reveal) is wrong."""
    r4 = abandoned.round4
    setup = r4.round3.round2.round1.setup
    opened = {setup.i: _open(abandoned, setup.i, reveal(abandoned))}
    for j in setup.others:
        opened[j] = _open(abandoned, j, reveals[j])
    delta = sum(r4.deltas.values()) % ORDER
    gamma_sum = sum(opened[j].gamma for j in setup.signers) % ORDER
    c = 1 if r4.degenerate else gamma_sum * pow(delta, -1, ORDER) % ORDER
    culprits = []
    for j in setup.signers:
        rev, others, W_j = opened[j], setup.others_of(j), setup.W[j]
        # δ_j = k_j·γ_j + Σ_b α_{j,b} + Σ_a β_{a,j}, with Bob's β_{a,j} = k_a·γ_j − α_{a,j}
        expected_delta = rev.k * rev.gamma + sum(rev.alpha[b] for b in others)
        expected_delta += sum(opened[a].k * rev.gamma - opened[a].alpha[j] for a in others)
        # g^{σ_j} = k_j·W_j + Σ_b α̂_{j,b}·G + Σ_a (k_a·W_j − α̂_{a,j}·G)
        g_sigma = W_j * rev.k + base_mul(sum(rev.alpha_hat[b] for b in others))
        for a in others:
            g_sigma = g_sigma + W_j * opened[a].k - base_mul(opened[a].alpha_hat[j])
        if expected_delta % ORDER != r4.deltas[j] or abandoned.S[j] != g_sigma * c:
            culprits.append(j)
    if not culprits:
        return ProtocolError("presignature check failed but every reveal is consistent", [])
    return ProtocolError("presigning failed: wrong δ_j or S_j", culprits)
