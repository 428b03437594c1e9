"""Device certificates (`auth.device_authority`, docs/contract.md §11.7): for deployments that keep a device
registry, a party's identity key in StartDKG must come with a JWT from that registry's authority binding it.

A certificate is accepted when it is a JWT signed by the authority (a PEM public key or a JWKS file; the
algorithms of `signer.auth.jwt`), carries `sub` (the device, for the audit log) and an unexpired `exp`, and its
`cnf.jwk` (RFC 7800 proof-of-possession key) is exactly the party's identity key: an OKP/Ed25519 JWK for an
Ed25519 identity, an EC/P-256 JWK (x and y) for a P-256 one. A compromised coordinator then cannot create a
wallet in a user's name with a key of its own.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from signer import limits
from signer.auth.jwt import (
    DEFAULT_ALGORITHMS,
    DEFAULT_LEEWAY_S,
    TokenConfigError,
    _check_algorithms,
    _load_jwks,
    _load_pem,
    _read_key_file,
    key_fits_algorithm,
)
from signer.crypto.identity import ECDSA_P256_SHA256, ED25519, IdentityError, check_public_key


class DeviceCertError(Exception):
    """A certificate missing, malformed, expired, not from the authority, or binding another key."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def identity_jwk(scheme: int, public_key: bytes) -> dict[str, str]:
    """The JWK members that name `public_key` (RFC 8037 OKP for Ed25519, RFC 7518 EC for P-256)."""
    check_public_key(scheme, public_key)
    if scheme == ED25519:
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_key)}
    assert scheme == ECDSA_P256_SHA256
    numbers = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key).public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url(numbers.x.to_bytes(32, "big")),
        "y": _b64url(numbers.y.to_bytes(32, "big")),
    }


class DeviceAuthority:
    """Checks device certificates against the authority's public key(s)."""

    def __init__(
        self,
        public_keys: Path | str,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> None:
        self._algorithms = _check_algorithms(algorithms)
        path = Path(public_keys)
        data = _read_key_file(path, "device authority key")
        self._keys = _load_pem(data, str(path)) if b"-----BEGIN" in data else _load_jwks(data, str(path))
        if not any(key_fits_algorithm(k.key, a) for k in self._keys for a in self._algorithms):
            raise TokenConfigError(f"{path}: no key fits the allowed algorithms {', '.join(self._algorithms)}")
        self._leeway = float(leeway_s)

    def check(self, certificate: str, scheme: int, public_key: bytes) -> str:
        """The certificate's `sub` if it binds `public_key`; DeviceCertError (never naming a secret) if not."""
        if not certificate:
            raise DeviceCertError("no certificate")
        if len(certificate) > limits.MAX_CERTIFICATE_CHARS:
            raise DeviceCertError("certificate too long")
        claims = self._verified_claims(certificate)
        try:
            expected = identity_jwk(scheme, public_key)
        except IdentityError as exc:
            raise DeviceCertError(str(exc)) from None
        cnf = claims.get("cnf")
        jwk_claim = cnf.get("jwk") if isinstance(cnf, dict) else None
        if not isinstance(jwk_claim, dict) or any(jwk_claim.get(k) != v for k, v in expected.items()):
            raise DeviceCertError("the certificate's cnf.jwk is not this party's identity key")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise DeviceCertError("the certificate's sub is empty")
        return subject

    def _verified_claims(self, certificate: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(certificate)
        except jwt.PyJWTError:
            raise DeviceCertError("certificate is not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self._algorithms:
            raise DeviceCertError("certificate algorithm not allowed")
        keys = [k.key for k in self._keys if key_fits_algorithm(k.key, alg) and kid in (None, k.kid)]
        for key in keys:
            try:
                return jwt.decode(
                    certificate,
                    key,
                    algorithms=[alg],
                    leeway=self._leeway,
                    options={"require": ["exp", "sub"], "verify_aud": False},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise DeviceCertError("certificate expired") from None
            except jwt.MissingRequiredClaimError as exc:
                raise DeviceCertError(f"certificate lacks the {exc.claim} claim") from None
            except jwt.PyJWTError:
                raise DeviceCertError("certificate malformed") from None
        raise DeviceCertError("certificate not signed by the device authority")
