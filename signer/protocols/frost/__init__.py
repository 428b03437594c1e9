"""FROST threshold Schnorr signatures (RFC 9591: Ed25519, secp256k1; and BIP-340 for Taproot) with a DKG,
as sans-IO engine sessions.

Modules: `ciphersuite` (suites: group + H1..H5), `core` (RFC 9591 signing steps), `dkg` (key
generation parts 1-3), `taproot` (BIP-340/341 signing), `tweak` (additive key tweaks, BIP-32
derivation), `messages` (wire payloads), `keys` (the stored key share), `session` (the
`SessionProtocol` adapters the engine drives).
"""

from signer.protocols.frost.keys import FrostKeyInfo, key_share_info, public_key_of
from signer.protocols.frost.lifecycle import FrostRefreshSession, FrostReshareSession
from signer.protocols.frost.session import FrostDkgSession, FrostSignSession

__all__ = [
    "FrostDkgSession",
    "FrostKeyInfo",
    "FrostRefreshSession",
    "FrostReshareSession",
    "FrostSignSession",
    "key_share_info",
    "public_key_of",
]
