"""Presigning output (GG20 phases 5–6 checks): verify the round-4 proofs, then "check g = ΣR̄_i" and
"check y = ΣS_i"; a failed check hands over to the identification round (identify.py)."""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto.codec import Reader
from signer.crypto.secp256k1 import IDENTITY, base_mul
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.zk import logstar
from signer.protocols.base import InboxKey

from . import sigma
from .common import blame
from .presign_state import (
    MAX_MESSAGE,
    P_R4B,
    P_R4P,
    R_BAR_LABEL,
    VERSION,
    PresignState,
)
from .presignature import PresignatureData


def finish(st: PresignState, inbox: Mapping[InboxKey, bytes]) -> PresignatureData | None:
    """The presignature, or None when a phase-5/6 check failed and identification must run."""
    key, i = st.key, st.i
    for j in st.others:
        with blame(j, "presign round-4 message"):
            rd = Reader(inbox[InboxKey(j, True)], P_R4B, VERSION)
            st.r_bar[j], st.S[j] = rd.point(GROUP), rd.point(GROUP)
            st_proof = rd.var(MAX_MESSAGE)
            rd.end()
            rd = Reader(inbox[InboxKey(j, False)], P_R4P, VERSION)
            proof = logstar.LogStarProof.from_bytes(rd.var(MAX_MESSAGE))
            rd.end()
        with blame(j, "S_j/T_j consistency proof"):
            sigma.verify_st(st.session_id, j, st.R, st.T[j], st.S[j], st_proof)
        with blame(j, "Π^log* proof for R̄_j"):
            logstar.verify(
                st.ctx(j, i, R_BAR_LABEL),
                key.paillier[j],
                key.ring_pedersen_secret,
                st.K[j],
                st.r_bar[j],
                proof,
                g=st.R,
            )
    # phase 5: "check that g = Π R̄_i"; phase 6: "check that y = Π S_i"
    if sum(st.r_bar.values(), IDENTITY) != base_mul(1) or sum(st.S.values(), IDENTITY) != key.public_key:
        return None
    return PresignatureData(
        st.session_id, i, st.signers, key.public_key, st.R, dict(st.r_bar), dict(st.S), st.k, st.sigma
    )
