"""GG20 threshold ECDSA over secp256k1 with identifiable abort (Gennaro & Goldfeder 2020).

Public API:
    Gg20KeygenSession(session_id, party_index, threshold, parties, preparams)   -> DkgResult
    Gg20RefreshSession(session_id, party_index, key_share, preparams)           -> DkgResult (same key)
    Gg20ReshareSession(session_id, party_index, key_share | None, old_parties,
                       new_threshold, new_parties, preparams, public_key=None)  -> DkgResult (same key)
    Gg20PresignSession(session_id, party_index, key_share, signers)             -> Presignature
    Gg20SignSession(session_id, party_index, key_share, digest, signers,
                    derivation_path=(), presignature=None)                      -> SignResult
    key_share_info(key_share) -> Gg20KeyInfo(threshold, parties, party_index, public_key, chain_code)
    Presignature (.consume() once -> bytes, .presignature_id, .signers, .public_key), PresignatureUsed

Modules, in the order a newcomer reads them:
    messages.py     every wire message: one dataclass per round payload, encode and decode side by side
    keygen.py       key generation rounds 1–3 and finish, with their frozen per-round secret state
    refresh.py      key refresh and reshare (new shares and auxiliary keys, same key), from keygen's steps
    presign.py      presigning rounds 1–4 and finish (phases 1–6), their state, and the session base
    identify.py     the identification round run when a phase-5/6 check fails
    sign.py         the online round (phase 7) and the signing session
    keyshare.py     the stored key share (Gg20KeyShare); presignature.py the stored presignature
    commit.py, sigma.py   GG20's hash commitments and its two small sigma proofs
"""

from .keygen import Gg20KeygenSession
from .keyshare import Gg20KeyInfo, key_share_info
from .presign import Gg20PresignSession
from .presignature import Presignature, PresignatureUsed
from .refresh import Gg20RefreshSession, Gg20ReshareSession
from .sign import Gg20SignSession

__all__ = [
    "Gg20KeyInfo",
    "Gg20KeygenSession",
    "Gg20PresignSession",
    "Gg20RefreshSession",
    "Gg20ReshareSession",
    "Gg20SignSession",
    "Presignature",
    "PresignatureUsed",
    "key_share_info",
]
