"""Round 1 (GG20 phase 1): k_i, γ_i; broadcast Com(Γ_i) and K_i = Enc_i(k_i); Π^enc to each P_j as its MtA request."""

from __future__ import annotations

from signer.crypto import mta
from signer.crypto.codec import Writer
from signer.crypto.zk.base import put_int
from signer.protocols.base import Outgoing

from .commit import commit
from .presign_state import (
    GAMMA_PURPOSE,
    LABEL,
    P_R1B,
    P_R1P,
    VERSION,
    PresignState,
)


def round1(st: PresignState, r: int) -> list[Outgoing]:
    sk = st.key.paillier_secret
    st.K[st.i], st.rho = mta.encrypt_share(sk, st.k)
    st.commitment, st.salt = commit(st.session_id, st.i, GAMMA_PURPOSE, st.Gamma[st.i].encode())
    out = [Outgoing(0, r, put_int(Writer(P_R1B, VERSION).fixed(st.commitment), st.K[st.i]).done())]
    for j in st.others:
        req = mta.request(st.sid, st.i, j, LABEL, sk, st.key.ring_pedersen[j], st.k, st.K[st.i], st.rho)
        out.append(Outgoing(j, r, Writer(P_R1P, VERSION).var(req.to_bytes()).done()))
    return out
