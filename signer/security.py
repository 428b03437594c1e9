"""Start-up loading of the node's security material: TLS context, token verifier, message MAC key.

Every failure here is a configuration error naming the key (exit code 2), raised before the node binds
its port. Development conveniences (no TLS, no token check, an HMAC key created on first run) are
allowed only where the operator did not configure the real thing, and each one logs a warning.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass

from signer.auth.jwt import TokenConfigError, TokenVerifier
from signer.auth.keyfiles import KeyFileError, create_hex_key_file, load_hex_key
from signer.auth.mac import MessageAuthenticator
from signer.auth.tls import TlsConfigError, server_ssl_context
from signer.config import Config, ConfigError

log = logging.getLogger("signer.security")


@dataclass(frozen=True)
class Security:
    ssl_context: ssl.SSLContext | None
    token_verifier: TokenVerifier | None
    authenticator: MessageAuthenticator


def load_security(config: Config) -> Security:
    return Security(_tls(config), _verifier(config), MessageAuthenticator(_hmac_key(config)))


def _tls(config: Config) -> ssl.SSLContext | None:
    if not config["grpc.tls_enabled"]:
        log.warning("gRPC is plaintext (grpc.tls_enabled is false): for development only")
        return None
    try:
        return server_ssl_context(
            config["grpc.cert_file"],
            config["grpc.key_file"],
            config["grpc.ca_cert"] or None,
            config["grpc.client_auth"],
        )
    except TlsConfigError as exc:
        raise ConfigError(f"grpc.cert_file: {exc}") from None


def _verifier(config: Config) -> TokenVerifier | None:
    if not config["auth.jwt.public_key_file"]:
        log.warning("service tokens are not checked (auth.jwt.public_key_file is empty): for development only")
        return None
    try:
        return TokenVerifier(
            config["auth.jwt.public_key_file"],
            config["auth.jwt.issuer"],
            config["auth.jwt.audience"],
            config["auth.jwt.algorithms"],
            config["auth.jwt.leeway_s"],
        )
    except (TokenConfigError, ValueError) as exc:
        raise ConfigError(f"auth.jwt.public_key_file: {exc}") from None


def _hmac_key(config: Config) -> bytes:
    path = config.hmac_key_file
    if not config["auth.hmac.key_file"] and not path.exists():
        create_hex_key_file(path)
        log.warning(
            "created a development HMAC key at %s; share it with mpc-service or configure auth.hmac.key_file", path
        )
    try:
        loaded = load_hex_key(path, "HMAC key")
    except KeyFileError as exc:
        raise ConfigError(f"auth.hmac.key_file: {exc}") from None
    if loaded.warning:
        log.warning("%s", loaded.warning)
    return loaded.key
