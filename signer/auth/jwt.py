"""Service tokens (docs/contract.md §2.2): mpc-service sends `authorization: Bearer <JWT>` with every call but Ping.

The verifier only ever holds public keys and an allow-list of asymmetric algorithms: `none` and HMAC
algorithms are refused when it is built, a token whose header names an algorithm outside the list is
refused before any signature check, and the key handed to pyjwt is a parsed key object of the type the
algorithm needs, so the classic "HS256 keyed with the public key" confusion cannot reach a verifier.
Every failure is a TokenError whose message says which check failed and nothing secret.

The minter is the coordinator's side (the P1 client, `signer demo`, tests).
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

DEFAULT_ALGORITHMS: tuple[str, ...] = ("EdDSA", "ES256", "RS256")
DEFAULT_LEEWAY_S = 30.0
#: Longest accepted token lifetime (`exp - iat`): mpc-service mints a token per few minutes of calls, so a
#: longer-lived token is either a misconfigured issuer or a token minted to be stolen and replayed.
DEFAULT_MAX_LIFETIME_S = 300.0
REQUIRED_CLAIMS = ("exp", "iss", "aud")
MAX_TOKEN_CHARS = 8192
#: Verified tokens remembered (oldest dropped first); a few per calling service instance is the normal load.
VERIFIED_CACHE_SIZE = 1024
MIN_RSA_BITS = 2048
_MAX_KEY_FILE_BYTES = 1 << 20

_EC_CURVES = {"ES256": "secp256r1", "ES256K": "secp256k1", "ES384": "secp384r1", "ES512": "secp521r1"}
_RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
ASYMMETRIC_ALGORITHMS = frozenset({"EdDSA", *_EC_CURVES, *_RSA_ALGS})

PublicKey = ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
_PUBLIC_KEY_TYPES = (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)
_PRIVATE_KEY_TYPES = (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey, ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)


class TokenError(Exception):
    """A service token was refused. `reason` is a stable code, str() a message safe to return to the caller.

    Reasons: missing, malformed, bad_signature, expired, not_yet_valid, wrong_issuer, wrong_audience,
    missing_claim, algorithm_not_allowed, unknown_key, lifetime_too_long.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class TokenConfigError(ValueError):
    """The verifier or minter configuration is unusable (bad key file, forbidden algorithm, ...)."""


@dataclass(frozen=True)
class Claims:
    """The verified claims of a service token."""

    issuer: str
    audience: tuple[str, ...]
    expires_at: int
    subject: str | None = None
    issued_at: int | None = None
    not_before: int | None = None
    token_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


def _check_algorithms(algorithms: Iterable[str]) -> tuple[str, ...]:
    algs = tuple(algorithms)
    if not algs:
        raise TokenConfigError("JWT algorithm allow-list is empty")
    for alg in algs:
        if not isinstance(alg, str):
            raise TokenConfigError("JWT algorithms must be strings")
        if alg.lower() == "none":
            raise TokenConfigError("JWT algorithm 'none' is never allowed")
        if alg.upper().startswith("HS"):
            raise TokenConfigError(f"JWT algorithm {alg!r} is an HMAC algorithm; only public-key algorithms")
        if alg not in ASYMMETRIC_ALGORITHMS:
            raise TokenConfigError(
                f"JWT algorithm {alg!r} unknown; choose from {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}"
            )
    return algs


def key_fits_algorithm(key: PublicKey | PrivateKey, alg: str) -> bool:
    """Whether `key` is the kind of key `alg` signs or verifies with."""
    if alg == "EdDSA":
        return isinstance(
            key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey | ed448.Ed448PublicKey | ed448.Ed448PrivateKey
        )
    if alg in _EC_CURVES:
        return isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) and (
            key.curve.name == _EC_CURVES[alg]
        )
    if alg in _RSA_ALGS:
        return isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
    return False


def algorithm_for_key(key: PublicKey | PrivateKey) -> str:
    """The algorithm a key signs with when none is named: EdDSA, ES256/ES256K/ES384/ES512 by curve, RS256.

    TokenConfigError for a key no allowed algorithm fits (an EC key on another curve)."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        for alg, curve in _EC_CURVES.items():
            if key.curve.name == curve:
                return alg
        raise TokenConfigError(f"JWT key on curve {key.curve.name} fits no JWT algorithm")
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RS256"
    return "EdDSA"


def key_kind(key: PublicKey | PrivateKey) -> str:
    """A short description of a key for error messages: `EC secp256r1`, `RSA 2048`, `Ed25519`."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"RSA {key.key_size}"
    return type(key).__name__.removeprefix("_").replace("PrivateKey", "").replace("PublicKey", "")


def _check_public_key(key: object, source: str) -> PublicKey:
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise TokenConfigError(f"{source}: RSA key shorter than {MIN_RSA_BITS} bits")
    if isinstance(key, _PUBLIC_KEY_TYPES):
        return key
    if isinstance(key, _PRIVATE_KEY_TYPES):
        raise TokenConfigError(f"{source}: holds a private key; give the verifier the public key only")
    raise TokenConfigError(f"{source}: unsupported key type {type(key).__name__}")


@dataclass(frozen=True)
class _Key:
    key: PublicKey
    kid: str | None
    alg: str | None  # the JWK's own "alg", if it names one


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise TokenConfigError(f"{what} file {path} not found") from None
    except OSError as e:
        raise TokenConfigError(f"{what} file {path} cannot be read ({e.strerror})") from None
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise TokenConfigError(f"{what} file {path} is too large")
    return data


def _load_pem(data: bytes, source: str) -> list[_Key]:
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            key: object = x509.load_pem_x509_certificate(data).public_key()
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError:
        raise TokenConfigError(f"{source}: not a PEM public key or certificate") from None
    return [_Key(_check_public_key(key, source), None, None)]


def _load_jwks(data: bytes, source: str) -> list[_Key]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise TokenConfigError(f"{source}: neither PEM nor JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise TokenConfigError(f"{source}: a JWKS file needs a 'keys' list")
    keys: list[_Key] = []
    for i, jwk in enumerate(doc["keys"]):
        where = f"{source}: keys[{i}]"
        if not isinstance(jwk, dict):
            raise TokenConfigError(f"{where} is not an object")
        if jwk.get("use", "sig") != "sig":
            continue  # an encryption key in a shared set; not ours to use
        if jwk.get("kty") == "oct":
            raise TokenConfigError(f"{where} is a symmetric key; only public keys are accepted")
        if "d" in jwk:
            raise TokenConfigError(f"{where} holds a private key; publish only public keys")
        alg = jwk.get("alg")
        if alg is not None and alg not in ASYMMETRIC_ALGORITHMS:
            raise TokenConfigError(f"{where} names algorithm {alg!r}, which is not a public-key algorithm")
        try:
            parsed = jwt.PyJWK(jwk).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, KeyError, TypeError) as e:
            raise TokenConfigError(f"{where} cannot be parsed ({type(e).__name__})") from None
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenConfigError(f"{where} has a non-string kid")
        keys.append(_Key(_check_public_key(parsed, where), kid, alg))
    if not keys:
        raise TokenConfigError(f"{source}: no signature keys")
    kids = [k.kid for k in keys if k.kid is not None]
    if len(kids) != len(set(kids)):
        raise TokenConfigError(f"{source}: duplicate kid")
    return keys


def _claim_int(claims: Mapping[str, Any], name: str) -> int | None:
    value = claims.get(name)
    return None if value is None else int(value)


def _numeric_time_claims(payload: Mapping[str, Any]) -> None:
    """`exp`, `iat` and `nbf` must be JSON numbers (RFC 7519 NumericDate), finite ones.

    pyjwt converts them with int(), which turns the string "9999999999" into a valid expiry and lets an
    `Infinity` literal escape as OverflowError; neither is a NumericDate, so both are refused here first.
    """
    for name in ("exp", "iat", "nbf"):
        value = payload.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise TokenError("malformed", f"service token {name} claim is not a number")


class TokenVerifier:
    """Verifies service tokens against a PEM public key (or certificate) file or a JWKS file.

    With a JWKS file a token's `kid` picks the key (unknown kid: refused; no kid: allowed only when
    exactly one key fits the algorithm). With a PEM file there is one key and `kid` is ignored.
    """

    def __init__(
        self,
        public_keys: Path | str,
        issuer: str,
        audience: str,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        leeway_s: float = DEFAULT_LEEWAY_S,
        max_lifetime_s: float = DEFAULT_MAX_LIFETIME_S,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise TokenConfigError("JWT issuer must be a non-empty string")
        if not isinstance(audience, str) or not audience:
            raise TokenConfigError("JWT audience must be a non-empty string")
        if not 0 <= leeway_s <= 300:
            raise TokenConfigError("JWT leeway must be between 0 and 300 seconds")
        if not 1 <= max_lifetime_s <= 86400:
            raise TokenConfigError("JWT max lifetime must be between 1 and 86400 seconds")
        self._algorithms = _check_algorithms(algorithms)
        path = Path(public_keys)
        data = _read_key_file(path, "JWT public key")
        self._from_jwks = b"-----BEGIN" not in data
        self._keys = _load_jwks(data, str(path)) if self._from_jwks else _load_pem(data, str(path))
        if not any(key_fits_algorithm(k.key, a) for k in self._keys for a in self._algorithms):
            raise TokenConfigError(f"{path}: no key fits the allowed algorithms {', '.join(self._algorithms)}")
        self._issuer = issuer
        self._audience = audience
        self._leeway = float(leeway_s)
        self._max_lifetime = float(max_lifetime_s)
        self._verified: dict[str, Claims] = {}

    def __repr__(self) -> str:
        return (
            f"TokenVerifier(issuer={self._issuer!r}, audience={self._audience!r}, "
            f"algorithms={list(self._algorithms)!r}, keys={len(self._keys)})"
        )

    def _select_key(self, kid: object, alg: str) -> PublicKey:
        keys = self._keys
        if self._from_jwks and kid is not None:
            keys = [k for k in keys if k.kid == kid]
            if not keys:
                raise TokenError("unknown_key", "service token key id is not known")
        fitting = [k for k in keys if key_fits_algorithm(k.key, alg) and k.alg in (None, alg)]
        if not fitting:
            raise TokenError("algorithm_not_allowed", f"service token algorithm {alg} does not fit the key")
        if len(fitting) > 1:
            raise TokenError("unknown_key", "service token has no key id and several keys could verify it")
        return fitting[0].key

    def verify_bearer(self, authorization: str | None) -> Claims:
        """Verify the value of an `authorization` metadata entry of the form `Bearer <JWT>`."""
        return self.verify(bearer_token(authorization))

    def verify(self, token: str | None) -> Claims:
        """Return the claims of a valid token; raise TokenError naming the first check that failed.

        mpc-service reuses a token for every call within its lifetime, so a verified token is remembered
        (exact string, bounded cache) until it expires: the signature, issuer, audience, nbf and lifetime
        checks cannot change for the same bytes (a lifetime measured from now only shrinks), and expiry is
        checked again on every use.

        Lifetime: a token with `iat` may live at most `max_lifetime_s` from it (`exp - iat`); a token without
        `iat` is accepted only while its `exp` is at most `max_lifetime_s` (plus the leeway) ahead of now, so
        no token, with or without `iat`, is a pass for longer than that.
        """
        if not token:
            raise TokenError("missing", "service token missing")
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise TokenError("malformed", "service token malformed")
        cached = self._verified.get(token)
        if cached is not None:
            if time.time() <= cached.expires_at + self._leeway:
                return cached
            del self._verified[token]
            raise TokenError("expired", "service token expired")
        claims = self._verify_uncached(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[token] = claims
        return claims

    def _verify_uncached(self, token: str) -> Claims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenError("malformed", "service token malformed") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg:
            raise TokenError("malformed", "service token header names no algorithm")
        if alg not in self._algorithms:
            shown = alg if alg.isalnum() and len(alg) <= 16 else "?"
            raise TokenError("algorithm_not_allowed", f"service token algorithm {shown} not allowed")
        key = self._select_key(header.get("kid"), alg)
        try:
            _numeric_time_claims(jwt.decode(token, options={"verify_signature": False}))
        except jwt.PyJWTError:
            raise TokenError("malformed", "service token malformed") from None
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("expired", "service token expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("not_yet_valid", "service token not yet valid") from None
        except jwt.InvalidIssuerError:
            raise TokenError("wrong_issuer", "service token issuer not accepted") from None
        except jwt.InvalidAudienceError:
            raise TokenError("wrong_audience", "service token audience not accepted") from None
        except jwt.MissingRequiredClaimError as e:
            raise TokenError("missing_claim", f"service token lacks the {e.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise TokenError("bad_signature", "service token signature invalid") from None
        except jwt.InvalidAlgorithmError:
            raise TokenError("algorithm_not_allowed", f"service token algorithm {alg} not allowed") from None
        except jwt.PyJWTError:
            raise TokenError("malformed", "service token malformed") from None
        self._check_lifetime(claims)
        aud = claims["aud"]
        return Claims(
            issuer=claims["iss"],
            audience=(aud,) if isinstance(aud, str) else tuple(aud),
            expires_at=int(claims["exp"]),
            subject=claims.get("sub"),
            issued_at=_claim_int(claims, "iat"),
            not_before=_claim_int(claims, "nbf"),
            token_id=claims.get("jti"),
            raw=claims,
        )

    def _check_lifetime(self, claims: Mapping[str, Any]) -> None:
        exp = claims["exp"]
        iat = claims.get("iat")
        lifetime = exp - iat if iat is not None else exp - time.time() - self._leeway
        if lifetime > self._max_lifetime:
            raise TokenError(
                "lifetime_too_long", f"service token lifetime exceeds the accepted {self._max_lifetime:g} s"
            )


def bearer_token(authorization: str | None) -> str:
    """The token in an `authorization: Bearer <JWT>` value; TokenError if absent or another scheme."""
    if not authorization:
        raise TokenError("missing", "service token missing")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise TokenError("malformed", "authorization is not a Bearer token")
    token = token.strip()
    if not token:
        raise TokenError("missing", "service token missing")
    return token


class TokenMinter:
    """Mints short-lived service tokens as mpc-service would (coordinator client, demo, tests)."""

    def __init__(
        self,
        private_key_pem: bytes,
        issuer: str,
        audience: str,
        algorithm: str | None = None,
        ttl_s: float = 60.0,
        *,
        subject: str = "mpc-service",
        kid: str | None = None,
    ) -> None:
        try:
            key = serialization.load_pem_private_key(private_key_pem, password=None)
        except (ValueError, TypeError):
            raise TokenConfigError("JWT private key is not an unencrypted PEM private key") from None
        if not isinstance(key, _PRIVATE_KEY_TYPES):
            raise TokenConfigError(f"JWT private key of type {type(key).__name__} cannot sign service tokens")
        (self._alg,) = _check_algorithms([algorithm or algorithm_for_key(key)])
        if not key_fits_algorithm(key, self._alg):
            raise TokenConfigError(f"JWT private key ({key_kind(key)}) does not fit algorithm {self._alg}")
        if not issuer or not audience:
            raise TokenConfigError("JWT issuer and audience must be non-empty")
        if not 1 <= ttl_s <= 86400:
            raise TokenConfigError("JWT ttl must be between 1 and 86400 seconds")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._ttl = ttl_s
        self._subject = subject
        self._kid = kid
        self._current: str | None = None
        self._refresh_at = 0.0

    @classmethod
    def from_file(
        cls, path: Path | str, issuer: str, audience: str, algorithm: str | None = None, ttl_s: float = 60.0, **kw: Any
    ) -> TokenMinter:
        return cls(_read_key_file(Path(path), "JWT private key"), issuer, audience, algorithm, ttl_s, **kw)

    def __repr__(self) -> str:
        return f"TokenMinter(issuer={self._issuer!r}, audience={self._audience!r}, algorithm={self._alg!r})"

    def mint(self, *, now: float | None = None, extra_claims: Mapping[str, Any] | None = None) -> str:
        """A fresh token valid from `now` for ttl_s seconds; `extra_claims` override the standard ones."""
        t = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": self._subject,
            "iat": t,
            "nbf": t,
            "exp": t + int(self._ttl),
            "jti": secrets.token_hex(16),
        }
        claims.update(extra_claims or {})
        headers = {"kid": self._kid} if self._kid else None
        return jwt.encode(claims, self._key, algorithm=self._alg, headers=headers)

    def authorization(self, *, now: float | None = None) -> str:
        """The `authorization` metadata value. Without `now`, the current token is reused until half its
        lifetime has passed, as a service reuses its token across calls; with `now`, a fresh one."""
        if now is not None:
            return f"Bearer {self.mint(now=now)}"
        t = time.time()
        if self._current is None or t >= self._refresh_at:
            self._current, self._refresh_at = self.mint(now=t), t + self._ttl / 2
        return f"Bearer {self._current}"
