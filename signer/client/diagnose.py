"""One-line diagnoses for a client (`signer demo`, `signer healthcheck`) that cannot talk to a node.

A TLS mismatch shows up far from its cause: a plaintext client on a TLS port sees HTTP/2 fail with
grpclib's StreamTerminatedError ("Connection lost") and a 100-line traceback; a TLS client without the
client certificate the node requires sees the same once the node's alert arrives. The client knows what
it offered (TLS or not, a certificate or not), which is enough to say what to change.
"""

from __future__ import annotations

import ssl

from grpclib.exceptions import StreamTerminatedError

#: OpenSSL reasons that mean "the node wanted a (different) client certificate".
_CLIENT_CERT_REFUSED = frozenset(
    {
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
    }
)
_CERT_FLAGS = "--client-cert and --client-key"


def connection_failure(exc: BaseException, target: str, *, tls: bool, client_cert: bool) -> str | None:
    """The operator's one line for a failure to reach `target`, or None when `exc` is no such failure."""
    if isinstance(exc, StreamTerminatedError):
        if not tls:
            return (
                f"{target} closed the connection: it probably serves TLS; pass --ca-cert "
                f"(and {_CERT_FLAGS} if it requires client certificates)"
            )
        return _client_cert_advice(target, client_cert)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"{target}: the node's certificate is not trusted ({exc.verify_message}): check --ca-cert and that "
            "the certificate names the host you dial"
        )
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason == "WRONG_VERSION_NUMBER" or "record layer failure" in str(exc):
            return f"{target} does not speak TLS (plaintext port?): drop --ca-cert, or enable grpc.tls_enabled"
        if reason in _CLIENT_CERT_REFUSED:
            return _client_cert_advice(target, client_cert)
        return f"{target}: TLS failed ({reason or exc})"
    if isinstance(exc, TimeoutError):
        return f"{target} did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return f"{target}: connection refused: is the node running and listening there?"
    if isinstance(exc, OSError):
        return f"cannot reach {target}: {exc.strerror or exc}"
    return None


def _client_cert_advice(target: str, client_cert: bool) -> str:
    if not client_cert:
        return f"{target} closed the TLS connection: it requires a client certificate; pass {_CERT_FLAGS}"
    return (
        f"{target} refused the client certificate: it must be issued by the node's grpc.ca_cert and be "
        "within its validity"
    )
