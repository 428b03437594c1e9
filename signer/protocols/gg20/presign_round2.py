"""Round 2 (GG20 phase 2): answer every P_j's MtA (k_j·γ_i) and MtAwc (k_j·w_i) with Π^aff-g; decommit Γ_i and
broadcast every D so that an identification can check the claimed decryptions publicly."""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto import mta
from signer.crypto.codec import Reader, Writer
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.zk.base import get_int, put_int
from signer.protocols.base import InboxKey, Outgoing, ProtocolError

from .commit import COMMITMENT_LEN
from .common import blame
from .presign_state import (
    LABEL,
    MAX_MESSAGE,
    P_R1B,
    P_R1P,
    P_R2B,
    P_R2P,
    VERSION,
    PresignState,
)


def round2(st: PresignState, inbox: Mapping[InboxKey, bytes], r: int) -> list[Outgoing]:
    key, i = st.key, st.i
    responses: dict[int, tuple[mta.MtaResponse, mta.MtaResponse]] = {}
    for j in st.others:
        with blame(j, "presign round-1 broadcast"):
            rd = Reader(inbox[InboxKey(j, True)], P_R1B, VERSION)
            st.peer_commitment[j] = rd.fixed(COMMITMENT_LEN)
            st.K[j] = key.paillier[j].validate_ciphertext(get_int(rd))
            rd.end()
            rd = Reader(inbox[InboxKey(j, False)], P_R1P, VERSION)
            req = mta.MtaRequest.from_bytes(rd.var(MAX_MESSAGE))
            rd.end()
        if req.K != st.K[j]:
            raise ProtocolError(f"party {j} sent a different K_j point-to-point than it broadcast", [j])
        with blame(j, "Π^enc proof"):
            args = (
                st.sid,
                j,
                i,
                LABEL,
                key.paillier[j],
                key.ring_pedersen[j],
                key.paillier_secret,
                key.ring_pedersen_secret,
                req,
            )
            (resp_g, beta), (resp_w, beta_hat) = mta.respond_many(*args, (st.gamma, st.w))
        st.beta[j], st.beta_hat[j] = beta, beta_hat
        st.D[(j, i)] = (int(resp_g.D), int(resp_w.D))
        responses[j] = (resp_g, resp_w)
    w = Writer(P_R2B, VERSION).fixed(st.salt).point(GROUP, st.Gamma[i])
    for j in st.others:
        put_int(put_int(w, st.D[(j, i)][0]), st.D[(j, i)][1])
    out = [Outgoing(0, r, w.done())]
    for j, (resp_g, resp_w) in responses.items():
        out.append(Outgoing(j, r, Writer(P_R2P, VERSION).var(resp_g.to_bytes()).var(resp_w.to_bytes()).done()))
    return out
