"""Round 3 (GG20 phase 3): check Γ_j and Π^aff-g, compute δ_i and σ_i; broadcast δ_i and T_i = σ_i·G + ℓ_i·H
with a proof of knowledge of its opening."""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto import mta
from signer.crypto.codec import Reader, Writer
from signer.crypto.secp256k1 import ORDER, random_scalar
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.zk.base import get_int
from signer.protocols.base import InboxKey, Outgoing, ProtocolError

from . import sigma
from .commit import SALT_LEN, opens
from .common import blame
from .presign_state import (
    GAMMA_PURPOSE,
    LABEL,
    MAX_MESSAGE,
    P_R2B,
    P_R2P,
    P_R3,
    VERSION,
    PresignState,
)


def round3(st: PresignState, inbox: Mapping[InboxKey, bytes], r: int) -> list[Outgoing]:
    key, i = st.key, st.i
    for j in st.others:
        with blame(j, "presign round-2 broadcast"):
            rd = Reader(inbox[InboxKey(j, True)], P_R2B, VERSION)
            salt, gamma_j = rd.fixed(SALT_LEN), rd.point(GROUP)
            for a in st.others_of(j):
                st.D[(a, j)] = (
                    int(key.paillier[a].validate_ciphertext(get_int(rd))),
                    int(key.paillier[a].validate_ciphertext(get_int(rd))),
                )
            rd.end()
            rd = Reader(inbox[InboxKey(j, False)], P_R2P, VERSION)
            resp_g = mta.MtaResponse.from_bytes(rd.var(MAX_MESSAGE))
            resp_w = mta.MtaResponse.from_bytes(rd.var(MAX_MESSAGE))
            rd.end()
        if not opens(st.peer_commitment[j], st.session_id, j, GAMMA_PURPOSE, salt, gamma_j.encode()):
            raise ProtocolError(f"party {j}'s Γ_j does not open its round-1 commitment", [j])
        st.Gamma[j] = gamma_j
        if (resp_g.D, resp_w.D) != st.D[(i, j)]:
            raise ProtocolError(f"party {j} sent MtA ciphertexts that differ from its broadcast", [j])
        with blame(j, "Π^aff-g proof"):
            args = (st.sid, i, j, LABEL, key.paillier_secret, key.ring_pedersen_secret, key.paillier[j], st.K[i])
            st.alpha[j] = mta.finish(*args, resp_g, expected_X=gamma_j)
            st.alpha_hat[j] = mta.finish(*args, resp_w, expected_X=st.W[j])
    st.delta[i] = (st.k * st.gamma + sum(st.alpha[j] + st.beta[j] for j in st.others)) % ORDER
    st.sigma = (st.k * st.w + sum(st.alpha_hat[j] + st.beta_hat[j] for j in st.others)) % ORDER
    st.ell = random_scalar()
    st.T[i] = sigma.pedersen(st.sigma, st.ell)
    proof = sigma.prove_t(st.session_id, i, st.sigma, st.ell)
    w = Writer(P_R3, VERSION).scalar(GROUP, st.delta[i]).point(GROUP, st.T[i]).var(proof)
    return [Outgoing(0, r, w.done())]
