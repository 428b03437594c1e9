"""TLS contexts for mTLS between mpc-service and the node (docs/contract.md §2.1), ready for grpclib.

Server: TLS 1.2+, ALPN h2, its certificate chain, and with `client_auth="require"` a client certificate
signed by the configured CA (CERT_REQUIRED). Client: verifies the server against the CA and its name,
presents the client certificate. `peer_subject` turns the peer's certificate into a short string for the
session log line.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

CLIENT_AUTH_MODES = ("require", "none")
_ALPN = ["h2"]
# TLS 1.2 suites: forward secret AEAD only (also what HTTP/2 requires); TLS 1.3 suites are all fine.
_TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
_MAX_SUBJECT_CHARS = 200


class TlsConfigError(ValueError):
    """A certificate, key or CA file is missing or unusable, or a TLS option is invalid."""


def _existing(path: Path | str | None, what: str) -> str:
    if path is None or str(path) == "":
        raise TlsConfigError(f"{what} not configured")
    p = Path(path)
    if not p.is_file():
        raise TlsConfigError(f"{what} {p} not found")
    return str(p)


def _base_context(protocol: int, cls: type[ssl.SSLContext] = ssl.SSLContext) -> ssl.SSLContext:
    ctx = cls(protocol)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(_TLS12_CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION
    ctx.set_alpn_protocols(_ALPN)
    return ctx


def _load_chain(ctx: ssl.SSLContext, cert_file: Path | str, key_file: Path | str, what: str) -> None:
    cert = _existing(cert_file, f"{what} certificate file")
    key = _existing(key_file, f"{what} key file")
    try:
        ctx.load_cert_chain(cert, key)
    except ssl.SSLError as e:
        raise TlsConfigError(
            f"{what} certificate {cert} and key {key} cannot be used together ({e.reason or 'invalid PEM'})"
        ) from None
    except OSError as e:
        raise TlsConfigError(f"{what} certificate {cert} or key {key} cannot be read ({e.strerror})") from None


def _load_ca(ctx: ssl.SSLContext, ca_cert: Path | str | None, what: str) -> None:
    ca = _existing(ca_cert, what)
    try:
        ctx.load_verify_locations(cafile=ca)
    except (ssl.SSLError, ValueError) as e:
        raise TlsConfigError(f"{what} {ca} holds no usable certificate ({e})") from None
    except OSError as e:
        raise TlsConfigError(f"{what} {ca} cannot be read ({e.strerror})") from None


def server_ssl_context(
    cert_file: Path | str,
    key_file: Path | str,
    ca_cert: Path | str | None = None,
    client_auth: str = "require",
) -> ssl.SSLContext:
    """The server context for grpclib's `Server.start(..., ssl=ctx)`."""
    if client_auth not in CLIENT_AUTH_MODES:
        raise TlsConfigError(f"client_auth must be one of {', '.join(CLIENT_AUTH_MODES)}, not {client_auth!r}")
    ctx = _base_context(ssl.PROTOCOL_TLS_SERVER)
    _load_chain(ctx, cert_file, key_file, "server")
    if client_auth == "require":
        _load_ca(ctx, ca_cert, "client CA certificate file")
        ctx.verify_mode = ssl.CERT_REQUIRED
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class _PinnedNameContext(ssl.SSLContext):
    """A client context that checks the server certificate against one fixed name, whatever address
    the connection was opened to (e.g. dialing 10.0.0.5 whose certificate names signer-p2)."""

    server_name: str

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLSocket:
        return super().wrap_socket(
            sock, server_side, do_handshake_on_connect, suppress_ragged_eofs, self.server_name, session
        )

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        return super().wrap_bio(incoming, outgoing, server_side, self.server_name, session)


def client_ssl_context(
    ca_cert: Path | str,
    client_cert: Path | str | None = None,
    client_key: Path | str | None = None,
    *,
    server_name: str | None = None,
) -> ssl.SSLContext:
    """The client context for grpclib's `Channel(host, port, ssl=ctx)`.

    The server certificate must chain to `ca_cert` and name the host: the dialed host, or `server_name`
    when given. A client certificate is presented when `client_cert`/`client_key` are given.
    """
    if (client_cert is None) != (client_key is None):
        raise TlsConfigError("client certificate and client key must be given together")
    if server_name is not None and not server_name:
        raise TlsConfigError("server_name must not be empty")
    if server_name is None:
        ctx = _base_context(ssl.PROTOCOL_TLS_CLIENT)
    else:
        ctx = _base_context(ssl.PROTOCOL_TLS_CLIENT, _PinnedNameContext)
        ctx.server_name = server_name  # type: ignore[attr-defined]
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    _load_ca(ctx, ca_cert, "server CA certificate file")
    if client_cert is not None and client_key is not None:
        _load_chain(ctx, client_cert, client_key, "client")
    return ctx


def _clean(value: str) -> str:
    return "".join(c if c.isprintable() and c not in ",=" else "?" for c in value)


def peer_subject(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str:
    """A readable subject of the verified peer certificate, e.g. "CN=mpc-service,O=Example", for logs.

    Only verified certificates are visible here (with CERT_NONE Python reports none), so the string
    names a peer the CA vouched for. Control characters and separators in names are replaced.
    """
    if ssl_object is None:
        return "(no TLS)"
    return subject_from_cert(ssl_object.getpeercert())


def subject_from_cert(cert: dict[str, Any] | None) -> str:
    """The subject string of a decoded peer certificate (`getpeercert()`'s dict), as `peer_subject` reports."""
    if not cert:
        return "(no client certificate)"
    fields: dict[str, list[str]] = {}
    for rdn in cert.get("subject", ()):
        for name, value in rdn:
            fields.setdefault(name, []).append(_clean(str(value)))
    parts = [
        f"{short}={v}"
        for short, long in (("CN", "commonName"), ("O", "organizationName"), ("OU", "organizationalUnitName"))
        for v in fields.get(long, [])
    ]
    text = ",".join(parts) if parts else "(certificate without CN/O)"
    return text[:_MAX_SUBJECT_CHARS]
