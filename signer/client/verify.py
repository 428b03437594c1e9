"""Independent signature checks for the client side: libraries other than the ones the protocols use
for their own arithmetic, so a bug in our code cannot vouch for itself.

EdDSA: pynacl's RFC 8032 verifier. ECDSA: pyca/cryptography's verifier over secp256k1 (OpenSSL), plus
public-key recovery with coincurve from `recovery_id`, as Ethereum's ecrecover would do it. BIP-340
(FROST secp256k1 for Taproot): coincurve's (libsecp256k1's) Schnorr verifier under the x-only output key.
"""

from __future__ import annotations

import coincurve
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError, TypeError):
        return False
    return True


def verify_ecdsa(public_key: bytes, digest: bytes, signature: bytes, recovery_id: int) -> bool:
    """r||s over a 32-byte digest, low-s, and `recovery_id` recovering `public_key`."""
    from signer.crypto.secp256k1 import ORDER  # here, not at import: a relay importing signer.client loads no gmpy2

    if len(signature) != 64 or len(digest) != 32 or recovery_id not in (0, 1):
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if s > ORDER // 2:
        return False
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), public_key)
        key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        recovered = coincurve.PublicKey.from_signature_and_message(
            signature + bytes([recovery_id]), digest, hasher=None
        )
    except (InvalidSignature, ValueError):
        return False
    return recovered.format(compressed=True) == public_key


def verify_bip340(output_key: bytes, message: bytes, signature: bytes) -> bool:
    """A 64-byte BIP-340 signature under a 32-byte x-only key."""
    if len(output_key) != 32 or len(signature) != 64:
        return False
    try:
        return coincurve.PublicKeyXOnly(output_key).verify(signature, message)
    except ValueError:
        return False


def verify_signature(
    protocol: str, public_key: bytes, message: bytes, signature: bytes, recovery_id: int, output_key: bytes = b""
) -> bool:
    """Under `output_key` if given (a Taproot signing), else by the protocol's verifier under `public_key`."""
    if output_key:
        return verify_bip340(output_key, message, signature)
    if protocol == "frost":
        return verify_ed25519(public_key, message, signature)
    return verify_ecdsa(public_key, message, signature, recovery_id)
