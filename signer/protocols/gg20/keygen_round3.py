"""Keygen round 3: check every opening, share (Feldman) and Π^fac; x_i = Σ_j f_j(i), the public shares
X_j from the summed commitments; "prove in ZK that they know x_i using Schnorr's protocol"."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from signer.crypto import e2e
from signer.crypto.codec import Reader, Writer
from signer.crypto.e2e import E2EError
from signer.crypto.secp256k1 import ORDER, Point
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.vss import evaluate_commitments, share_for, sum_commitments, verify_share
from signer.crypto.zk import fac, schnorr
from signer.protocols.base import DecodeError, InboxKey, Outgoing, ProtocolError

from .commit import SALT_LEN, opens
from .common import blame
from .keygen_state import (
    COMMIT_PURPOSE,
    E2E_LABEL,
    K_R2B,
    K_R2P,
    K_R3,
    MAX_PROOF,
    VERSION,
    KeygenState,
    vss_message,
)
from .keyshare import CHAIN_CODE_LEN


def round3(st: KeygenState, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
    sid, i, t = st.session_id, st.i, st.threshold
    vss: dict[int, list[Point]] = {i: st.vss}
    chains = {i: st.chain}
    x = share_for(st.poly, i)
    for j in st.others:
        with blame(j, "keygen round-2 broadcast"):
            r = Reader(inbox[InboxKey(j, True)], K_R2B, VERSION)
            salt, chain, count = r.fixed(SALT_LEN), r.fixed(CHAIN_CODE_LEN), r.u8()
            if count != t:
                raise DecodeError(f"expected {t} Feldman commitments, got {count}")
            vss[j] = [r.point(GROUP) for _ in range(count)]
            r.end()
        if not opens(st.peer_commit[j], sid, j, COMMIT_PURPOSE, salt, vss_message(vss[j], chain)):
            raise ProtocolError(f"party {j}'s decommitment does not open its round-1 commitment", [j])
        chains[j] = chain
        with blame(j, "keygen round-2 share"):
            r = Reader(inbox[InboxKey(j, False)], K_R2P, VERSION)
            sealed, fac_proof = r.var(1024), r.var(MAX_PROOF)
            r.end()
        try:
            share = GROUP.decode_scalar(st.e2e.open(st.peer_e2e[j], sealed, e2e.context(E2E_LABEL, sid, j, i, 2)))
        except (E2EError, DecodeError):
            raise ProtocolError(f"party {j}'s encrypted share cannot be opened", [j]) from None
        if not verify_share(GROUP, vss[j], i, share):
            raise ProtocolError(f"party {j}'s VSS share is inconsistent with its commitments", [j])
        with blame(j, "Π^fac proof"):
            fac.verify(st.ctx(j, i), st.paillier[j], st.pre.ring_pedersen, fac.FacProof.from_bytes(fac_proof))
        x = (x + share) % ORDER
    combined = sum_commitments(GROUP, [vss[p] for p in st.parties])
    st.public_key = combined[0]
    if st.public_key.is_identity:
        raise ProtocolError("the joint public key is the identity", [])
    st.public_shares = {p: evaluate_commitments(GROUP, combined, p) for p in st.parties}
    st.x = x
    st.chain_code = hashlib.sha256(b"mpc-signer/gg20/chain-code/v1" + b"".join(chains[p] for p in st.parties)).digest()
    proof = schnorr.prove(st.ctx(i), x, st.public_shares[i]).to_bytes()
    return [Outgoing(0, 3, Writer(K_R3, VERSION).var(proof).done())]
