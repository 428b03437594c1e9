"""Party identity keys: long-term signing keys that say which party wrote a relayed message.

Two schemes (the numbers are `mpc.v1.IdentityScheme`'s):

    ED25519             RFC 8032 Ed25519 (libsodium through pynacl): 32-byte public key, 64-byte signature.
                        The node's own identity is always one of these.
    ECDSA_P256_SHA256   ECDSA over NIST P-256 with SHA-256 (`cryptography`), the only kind a phone's secure
                        hardware holds. Public key: SEC1, 33 bytes compressed or 65 uncompressed, used
                        exactly as given (the session context binds those bytes, docs/contract.md §11).
                        Signature: DER `SEQUENCE { r INTEGER, s INTEGER }`, canonical DER only (no
                        padding, no long-form lengths, no trailing bytes); both s and n - s are accepted,
                        because secure-hardware keys do not normalise s and nothing here uses a signature's
                        bytes as an id (a resent message is matched by its content, never its signature).

`verify` raises `IdentityError` for an unknown scheme, a malformed key or a signature that does not verify;
`IdentityKey` is a private identity key (generate, serialise to one line of text, sign).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ED25519 = 1
ECDSA_P256_SHA256 = 2
# The names a key file and the configuration use, by scheme number.
SCHEME_NAMES = {ED25519: "ed25519", ECDSA_P256_SHA256: "ecdsa-p256-sha256"}
SCHEMES = tuple(SCHEME_NAMES)

ED25519_PUBLIC_BYTES = 32
ED25519_SIGNATURE_BYTES = 64
P256_PUBLIC_BYTES = (33, 65)
# A DER ECDSA P-256 signature is at most 72 bytes (two 33-byte INTEGERs with headers).
P256_MAX_SIGNATURE_BYTES = 72
MAX_SIGNATURE_BYTES = P256_MAX_SIGNATURE_BYTES
FINGERPRINT_BYTES = 8


class IdentityError(ValueError):
    """An identity key or signature that is malformed or does not verify; never carries a secret."""


def check_public_key(scheme: int, public_key: bytes) -> None:
    """IdentityError unless `public_key` is a valid key of `scheme` (a point on the curve, right length)."""
    _load_public(scheme, public_key)


def _load_public(scheme: int, public_key: bytes) -> nacl.signing.VerifyKey | ec.EllipticCurvePublicKey:
    if not isinstance(public_key, bytes):
        raise IdentityError("identity public key must be bytes")
    if scheme == ED25519:
        if len(public_key) != ED25519_PUBLIC_BYTES:
            raise IdentityError(f"an Ed25519 identity key is {ED25519_PUBLIC_BYTES} bytes, not {len(public_key)}")
        return nacl.signing.VerifyKey(public_key)
    if scheme == ECDSA_P256_SHA256:
        if len(public_key) not in P256_PUBLIC_BYTES:
            raise IdentityError(f"a P-256 identity key is 33 or 65 SEC1 bytes, not {len(public_key)}")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
        except ValueError:
            raise IdentityError("the P-256 identity key is not a point on the curve") from None
    raise IdentityError(f"identity scheme must be one of {SCHEMES}, not {scheme!r}")


def verify(scheme: int, public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check `signature` over `message` by `public_key` of `scheme`; IdentityError if it does not verify."""
    key = _load_public(scheme, public_key)
    if not isinstance(signature, bytes) or not signature or len(signature) > MAX_SIGNATURE_BYTES:
        raise IdentityError("identity signature is missing or too long")
    if isinstance(key, nacl.signing.VerifyKey):
        if len(signature) != ED25519_SIGNATURE_BYTES:
            raise IdentityError(f"an Ed25519 signature is {ED25519_SIGNATURE_BYTES} bytes, not {len(signature)}")
        try:
            key.verify(message, signature)
        except nacl.exceptions.BadSignatureError:
            raise IdentityError("identity signature does not verify") from None
        return
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        raise IdentityError("the P-256 signature is not DER") from None
    if encode_dss_signature(r, s) != signature:
        raise IdentityError("the P-256 signature is not canonical DER")
    try:
        key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise IdentityError("identity signature does not verify") from None


def fingerprint(public_key: bytes) -> str:
    """A short, human-comparable name for a public key: the first 8 bytes of its SHA-256, in hex groups
    of four (`3f2a 91c0 5be4 0d17`)."""
    digest = hashlib.sha256(public_key).hexdigest()[: 2 * FINGERPRINT_BYTES]
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


@dataclass(frozen=True)
class IdentityKey:
    """A private identity key. `secret` is the Ed25519 seed or the P-256 private scalar (32 bytes each)."""

    scheme: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise IdentityError(f"identity scheme must be one of {SCHEMES}, not {self.scheme!r}")
        if not isinstance(self.secret, bytes) or len(self.secret) != 32:
            raise IdentityError("an identity secret key is 32 bytes")
        if self.scheme == ECDSA_P256_SHA256:
            try:
                self._p256()  # 1 <= scalar < n
            except ValueError:
                raise IdentityError("the P-256 secret key is out of range") from None

    @classmethod
    def generate(cls, scheme: int = ED25519) -> IdentityKey:
        if scheme == ED25519:
            return cls(scheme, bytes(nacl.signing.SigningKey.generate()))
        if scheme == ECDSA_P256_SHA256:
            scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
            return cls(scheme, scalar.to_bytes(32, "big"))
        raise IdentityError(f"identity scheme must be one of {SCHEMES}, not {scheme!r}")

    @classmethod
    def from_p256(cls, key: ec.EllipticCurvePrivateKey) -> IdentityKey:
        """An identity from a `cryptography` P-256 key (the device side of the tests and the demo)."""
        if not isinstance(key.curve, ec.SECP256R1):
            raise IdentityError("the key is not on P-256")
        return cls(ECDSA_P256_SHA256, key.private_numbers().private_value.to_bytes(32, "big"))

    @property
    def public_key(self) -> bytes:
        """Ed25519: the 32-byte key; P-256: the 33-byte compressed SEC1 point."""
        if self.scheme == ED25519:
            return bytes(nacl.signing.SigningKey(self.secret).verify_key)
        return (
            self._p256()
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
        )

    def _p256(self) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(int.from_bytes(self.secret, "big"), ec.SECP256R1())

    def sign(self, message: bytes) -> bytes:
        if self.scheme == ED25519:
            return nacl.signing.SigningKey(self.secret).sign(message).signature
        return self._p256().sign(message, ec.ECDSA(hashes.SHA256()))

    def to_text(self) -> str:
        """One line, `<scheme name>:<secret hex>`: the device identity file's content (keep it private)."""
        return f"{SCHEME_NAMES[self.scheme]}:{self.secret.hex()}"

    @classmethod
    def from_text(cls, text: str) -> IdentityKey:
        name, _, secret = text.strip().partition(":")
        schemes = {v: k for k, v in SCHEME_NAMES.items()}
        if name not in schemes:
            raise IdentityError(f"an identity key file starts with one of {sorted(schemes)} and a colon")
        try:
            raw = bytes.fromhex(secret)
        except ValueError:
            raise IdentityError("an identity key file holds the secret key in hex after the colon") from None
        return cls(schemes[name], raw)
