"""Start-up loading of the node's security material: TLS context, token verifier, message MAC key, KEK.

Every failure here is a configuration error naming the key (exit code 2), raised before the node binds
its port. Development conveniences (no TLS, no token check, an HMAC key created on first run) are
allowed only where the operator did not configure the real thing, and each one logs a warning.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from signer.auth.devicecert import DeviceAuthority
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
    kek: bytes = field(repr=False)
    device_authority: DeviceAuthority | None = None


def load_security(config: Config) -> Security:
    hmac_key = _key_file(
        config, "auth.hmac.key_file", config.hmac_key_file, "HMAC key", "share it with mpc-service or configure it"
    )
    kek = _key_file(config, "storage.kek_file", config.kek_file, "KEK", "keep it apart from the database backups")
    return Security(_tls(config), _verifier(config), MessageAuthenticator(hmac_key), kek, _device_authority(config))


def _device_authority(config: Config) -> DeviceAuthority | None:
    if not config["auth.device_authority"]:
        return None
    try:
        return DeviceAuthority(
            config["auth.device_authority"], config["auth.jwt.algorithms"], config["auth.jwt.leeway_s"]
        )
    except (TokenConfigError, ValueError) as exc:
        raise ConfigError(f"auth.device_authority: {exc}") from None


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
            config["auth.jwt.max_lifetime_s"],
        )
    except (TokenConfigError, ValueError) as exc:
        raise ConfigError(f"auth.jwt.public_key_file: {exc}") from None


def _key_file(config: Config, key: str, path: Path, what: str, advice: str) -> bytes:
    """The 32-byte key in `path`. When the operator left `key` unset and the default file is missing, a
    development key is created there first, with a warning: the quick start needs no set-up."""
    if not config[key] and not path.exists():
        create_hex_key_file(path)
        log.warning("created a development %s at %s; %s", what, path, advice)
    try:
        loaded = load_hex_key(path, what)
    except KeyFileError as exc:
        raise ConfigError(f"{key}: {exc}") from None
    if loaded.warning:
        log.warning("%s", loaded.warning)
    return loaded.key
