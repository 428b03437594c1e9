"""Round 4 (GG20 phases 4–6): R = δ⁻¹·ΣΓ_j; broadcast R̄_i = k_i·R with Π^log* to each P_j, and S_i = σ_i·R
with the proof that S_i and T_i share σ_i."""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto.codec import Reader, Writer
from signer.crypto.secp256k1 import IDENTITY, ORDER, base_mul
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.zk import logstar
from signer.protocols.base import InboxKey, Outgoing

from . import sigma
from .common import blame
from .presign_state import (
    MAX_MESSAGE,
    P_R3,
    P_R4B,
    P_R4P,
    R_BAR_LABEL,
    VERSION,
    PresignState,
)


def round4(st: PresignState, inbox: Mapping[InboxKey, bytes], r: int) -> list[Outgoing]:
    key, i = st.key, st.i
    for j in st.others:
        with blame(j, "presign round-3 message"):
            rd = Reader(inbox[InboxKey(j, True)], P_R3, VERSION)
            st.delta[j], st.T[j] = rd.scalar(GROUP), rd.point(GROUP)
            proof = rd.var(MAX_MESSAGE)
            rd.end()
            sigma.verify_t(st.session_id, j, st.T[j], proof)
    delta = sum(st.delta.values()) % ORDER
    gamma_sum = sum((st.Gamma[j] for j in st.signers), IDENTITY)
    st.R = gamma_sum * pow(delta, -1, ORDER) if delta else IDENTITY
    st.degenerate = st.R.is_identity
    if st.degenerate:
        # δ = 0 or ΣΓ_j = identity: impossible for honest parties; R = G fails the R̄ check below
        st.R = base_mul(1)
    st.r_bar = {i: st.R * st.k}
    st.S = {i: st.R * st.sigma}
    st_proof = sigma.prove_st(st.session_id, i, st.R, st.sigma, st.ell)
    w = Writer(P_R4B, VERSION).point(GROUP, st.r_bar[i]).point(GROUP, st.S[i]).var(st_proof)
    out = [Outgoing(0, r, w.done())]
    for j in st.others:
        r_bar_proof = logstar.prove(
            st.ctx(i, j, R_BAR_LABEL),
            key.paillier_secret,
            key.ring_pedersen[j],
            st.K[i],
            st.r_bar[i],
            st.k,
            st.rho,
            g=st.R,
        )
        out.append(Outgoing(j, r, Writer(P_R4P, VERSION).var(r_bar_proof.to_bytes()).done()))
    return out
