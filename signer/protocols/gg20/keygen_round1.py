"""Keygen round 1: "[KGC_i, KGD_i] = Com(g^{u_i})" over the Feldman commitments and a chain-code contribution;
broadcast it with the Paillier key and Π^mod, the ring-Pedersen parameters and Π^prm, and an X25519 key."""

from __future__ import annotations

from signer.crypto.codec import Writer
from signer.crypto.zk import mod, prm
from signer.protocols.base import Outgoing

from .commit import commit
from .keygen_state import COMMIT_PURPOSE, K_R1, VERSION, KeygenState, vss_message


def round1(st: KeygenState) -> list[Outgoing]:
    st.commitment, st.salt = commit(st.session_id, st.i, COMMIT_PURPOSE, vss_message(st.vss, st.chain))
    pai, rp = st.pre.paillier, st.pre.ring_pedersen
    payload = (
        Writer(K_R1, VERSION)
        .fixed(st.commitment)
        .fixed(st.e2e.public)
        .var(pai.public.to_bytes())
        .var(rp.public.to_bytes())
        .var(mod.prove(st.ctx(st.i), pai).to_bytes())
        .var(prm.prove(st.ctx(st.i), rp).to_bytes())
        .done()
    )
    return [Outgoing(0, 1, payload)]
