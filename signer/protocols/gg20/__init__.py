"""GG20 threshold ECDSA over secp256k1 with identifiable abort (Gennaro & Goldfeder 2020).

Public API:
    Gg20KeygenSession(session_id, party_index, threshold, parties, preparams)   -> DkgResult
    Gg20PresignSession(session_id, party_index, key_share, signers)             -> Presignature
    Gg20SignSession(session_id, party_index, key_share, digest, signers,
                    derivation_path=(), presignature=None)                      -> SignResult
    key_share_info(key_share) -> KeyShareInfo(threshold, parties, party_index, public_key, chain_code)
    Presignature (.consume() once -> bytes, .presignature_id, .signers, .public_key), PresignatureUsed
"""

from .keygen import Gg20KeygenSession
from .keyshare import KeyShareInfo, key_share_info
from .presignature import Presignature, PresignatureUsed
from .sessions import Gg20PresignSession, Gg20SignSession

__all__ = [
    "Gg20KeygenSession",
    "Gg20PresignSession",
    "Gg20SignSession",
    "KeyShareInfo",
    "Presignature",
    "PresignatureUsed",
    "key_share_info",
]
