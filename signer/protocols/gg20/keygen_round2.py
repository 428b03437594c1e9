"""Keygen round 2: verify every Π^mod and Π^prm; "broadcast KGD_i" (the opening) and send each P_j its
Feldman share f_i(j), end-to-end encrypted, with Π^fac for N_i under P_j's ring-Pedersen parameters."""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto import e2e
from signer.crypto.codec import Reader, Writer
from signer.crypto.paillier import PaillierPublicKey
from signer.crypto.ringpedersen import RingPedersenParams
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.vss import share_for
from signer.crypto.zk import fac, mod, prm
from signer.protocols.base import InboxKey, Outgoing

from .commit import COMMITMENT_LEN
from .common import blame
from .keygen_state import E2E_LABEL, K_R1, K_R2B, K_R2P, MAX_MODULUS, MAX_PROOF, VERSION, KeygenState


def round2(st: KeygenState, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
    for j in st.others:
        with blame(j, "keygen round-1 message"):
            r = Reader(inbox[InboxKey(j, True)], K_R1, VERSION)
            st.peer_commit[j] = r.fixed(COMMITMENT_LEN)
            st.peer_e2e[j] = r.fixed(e2e.PUBLIC_KEY_SIZE)
            st.paillier[j] = PaillierPublicKey.from_bytes(r.var(MAX_MODULUS))
            st.rp[j] = RingPedersenParams.from_bytes(r.var(3 * MAX_MODULUS))
            mod_proof, prm_proof = r.var(MAX_PROOF), r.var(MAX_PROOF)
            r.end()
        st.check_distinct_keys(j)
        with blame(j, "Π^mod proof"):
            mod.verify(st.ctx(j), st.paillier[j], mod.ModProof.from_bytes(mod_proof))
        with blame(j, "Π^prm proof"):
            prm.verify(st.ctx(j), st.rp[j], prm.PrmProof.from_bytes(prm_proof))
    opening = Writer(K_R2B, VERSION).fixed(st.salt).fixed(st.chain).u8(len(st.vss))
    for p in st.vss:
        opening.point(GROUP, p)
    out = [Outgoing(0, 2, opening.done())]
    for j in st.others:
        ctx = e2e.context(E2E_LABEL, st.session_id, st.i, j, 2)
        sealed = st.e2e.seal(st.peer_e2e[j], GROUP.encode_scalar(share_for(st.poly, j)), ctx)
        fac_proof = fac.prove(st.ctx(st.i, j), st.pre.paillier, st.rp[j]).to_bytes()
        out.append(Outgoing(j, 2, Writer(K_R2P, VERSION).var(sealed).var(fac_proof).done()))
    return out
