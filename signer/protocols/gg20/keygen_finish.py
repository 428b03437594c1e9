"""Keygen output: verify every Schnorr proof against X_j and package this party's key share."""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto.codec import Reader
from signer.crypto.zk import schnorr
from signer.protocols.base import DkgResult, InboxKey

from .common import blame
from .keygen_state import K_R3, MAX_PROOF, VERSION, KeygenState
from .keyshare import AuxInfo, KeyShare


def finish(st: KeygenState, inbox: Mapping[InboxKey, bytes]) -> DkgResult:
    for j in st.others:
        with blame(j, "keygen round-3 message"):
            r = Reader(inbox[InboxKey(j, True)], K_R3, VERSION)
            proof = r.var(MAX_PROOF)
            r.end()
        with blame(j, "Schnorr proof of x_j"):
            schnorr.verify(st.ctx(j), st.public_shares[j], schnorr.SchnorrProof.from_bytes(proof))
    aux = AuxInfo(dict(st.paillier), dict(st.rp), st.pre.paillier, st.pre.ring_pedersen)
    share = KeyShare.build(st.threshold, st.parties, st.i, st.public_key, st.chain_code, st.public_shares, st.x, aux)
    return DkgResult(public_key=st.public_key.encode(), key_share=share.encode())
