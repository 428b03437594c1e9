"""mTLS over real loopback sockets with contexts built from `signer certs dev` files: the handshake works,
and clients without a certificate, with one from another CA, or with an expired one are refused."""

import datetime as dt
import socket
import ssl
import threading

import pytest

from signer.auth.devcerts import load_issued, make_ca, make_client_cert, make_dev_certs, make_server_cert, write_issued
from signer.auth.tls import TlsConfigError, client_ssl_context, peer_subject, server_ssl_context, subject_from_cert


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    return make_dev_certs(tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="module")
def server_ctx(dev):
    return server_ssl_context(dev.server_cert, dev.server_key, dev.ca_cert, "require")


class Outcome:
    def __init__(self):
        self.error: BaseException | None = None
        self.subject: str | None = None
        self.alpn: str | None = None
        self.version: str | None = None
        self.data: bytes | None = None


def handshake(server_ctx, client_ctx, server_hostname="localhost"):
    """One TLS connection over 127.0.0.1: the client sends b"ping", the server answers b"pong"."""
    server, client = Outcome(), Outcome()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(5)
        port = listener.getsockname()[1]

        def serve():
            try:
                conn, _ = listener.accept()
                conn.settimeout(5)
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    server.subject = peer_subject(tls)
                    server.alpn = tls.selected_alpn_protocol()
                    server.version = tls.version()
                    server.data = tls.recv(4)
                    tls.sendall(b"pong")
            except BaseException as e:  # recorded for the assertions
                server.error = e

        t = threading.Thread(target=serve)
        t.start()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
                    client.subject = peer_subject(tls)
                    client.alpn = tls.selected_alpn_protocol()
                    tls.sendall(b"ping")
                    client.data = tls.recv(4)
                    if not client.data:
                        raise ConnectionError("closed by server")
        except BaseException as e:
            client.error = e
        t.join(10)
    return server, client


def test_mtls_handshake_with_dev_certs(dev, server_ctx):
    client_ctx = client_ssl_context(dev.ca_cert, dev.client_cert, dev.client_key)
    for host in ("localhost", "127.0.0.1"):
        server, client = handshake(server_ctx, client_ctx, host)
        assert server.error is None and client.error is None, (server.error, client.error)
        assert server.data == b"ping" and client.data == b"pong"
        assert server.alpn == "h2" and client.alpn == "h2"
        assert server.version in ("TLSv1.2", "TLSv1.3")
        assert server.subject == "CN=mpc-service,O=mpc-signer development"
        assert client.subject == "CN=server-signer-p2,O=mpc-signer development"


def _refused(server, client, reason):
    assert server.data is None and client.data is None
    assert isinstance(server.error, ssl.SSLError), server.error
    assert reason in str(server.error)
    assert client.error is not None


def test_client_without_certificate_is_refused(dev, server_ctx):
    server, client = handshake(server_ctx, client_ssl_context(dev.ca_cert))
    _refused(server, client, "PEER_DID_NOT_RETURN_A_CERTIFICATE")


def test_client_cert_from_another_ca_is_refused(dev, server_ctx, tmp_path):
    other = make_client_cert(make_ca("some other CA"))
    write_issued(other, tmp_path / "c.crt", tmp_path / "c.key")
    client_ctx = client_ssl_context(dev.ca_cert, tmp_path / "c.crt", tmp_path / "c.key")
    server, client = handshake(server_ctx, client_ctx)
    _refused(server, client, "certificate verify failed")
    assert server.error.verify_message == "unable to get local issuer certificate"


def test_expired_client_cert_is_refused(dev, server_ctx, tmp_path):
    ca = load_issued(dev.ca_cert, dev.ca_key)
    now = dt.datetime.now(dt.UTC)
    expired = make_client_cert(ca, not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=1))
    write_issued(expired, tmp_path / "c.crt", tmp_path / "c.key")
    server, client = handshake(server_ctx, client_ssl_context(dev.ca_cert, tmp_path / "c.crt", tmp_path / "c.key"))
    _refused(server, client, "certificate verify failed")
    assert server.error.verify_message == "certificate has expired"


def test_server_cert_used_as_client_cert_is_refused(dev, server_ctx):
    # Signed by the right CA but its extended key usage is serverAuth only.
    server, client = handshake(server_ctx, client_ssl_context(dev.ca_cert, dev.server_cert, dev.server_key))
    _refused(server, client, "certificate verify failed")


def test_client_auth_none_accepts_anonymous_clients(dev):
    ctx = server_ssl_context(dev.server_cert, dev.server_key, client_auth="none")
    assert ctx.verify_mode == ssl.CERT_NONE
    server, client = handshake(ctx, client_ssl_context(dev.ca_cert))
    assert server.error is None and client.error is None
    assert server.subject == "(no client certificate)"


def test_client_checks_the_server_name(dev, tmp_path):
    ca = load_issued(dev.ca_cert, dev.ca_key)
    write_issued(make_server_cert(ca, "p2", ["signer-p2.internal"]), tmp_path / "s.crt", tmp_path / "s.key")
    ctx = server_ssl_context(tmp_path / "s.crt", tmp_path / "s.key", dev.ca_cert)
    # dialing 127.0.0.1, which the certificate does not name
    _, client = handshake(ctx, client_ssl_context(dev.ca_cert, dev.client_cert, dev.client_key), "127.0.0.1")
    assert isinstance(client.error, ssl.SSLCertVerificationError) and "mismatch" in client.error.verify_message
    pinned = client_ssl_context(dev.ca_cert, dev.client_cert, dev.client_key, server_name="signer-p2.internal")
    server, client = handshake(ctx, pinned, "127.0.0.1")
    assert server.error is None and client.error is None and client.data == b"pong"
    wrong = client_ssl_context(dev.ca_cert, dev.client_cert, dev.client_key, server_name="other.internal")
    _, client = handshake(ctx, wrong, "signer-p2.internal")
    assert isinstance(client.error, ssl.SSLCertVerificationError)


def test_client_refuses_server_from_another_ca(dev, tmp_path):
    other = make_ca("rogue")
    write_issued(make_server_cert(other, "p2"), tmp_path / "s.crt", tmp_path / "s.key")
    ctx = server_ssl_context(tmp_path / "s.crt", tmp_path / "s.key", client_auth="none")
    _, client = handshake(ctx, client_ssl_context(dev.ca_cert))
    assert isinstance(client.error, ssl.SSLCertVerificationError)


def test_contexts_are_tls12_plus_with_h2(dev, server_ctx):
    client_ctx = client_ssl_context(dev.ca_cert)
    for ctx in (server_ctx, client_ctx):
        assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert server_ctx.verify_mode == ssl.CERT_REQUIRED
    assert client_ctx.verify_mode == ssl.CERT_REQUIRED and client_ctx.check_hostname


def test_configuration_errors(dev, tmp_path):
    with pytest.raises(TlsConfigError, match=r"server certificate file .*missing\.crt not found"):
        server_ssl_context(tmp_path / "missing.crt", dev.server_key, dev.ca_cert)
    with pytest.raises(TlsConfigError, match="server key file .* not found"):
        server_ssl_context(dev.server_cert, tmp_path / "missing.key", dev.ca_cert)
    with pytest.raises(TlsConfigError, match="client CA certificate file not configured"):
        server_ssl_context(dev.server_cert, dev.server_key, None, "require")
    with pytest.raises(TlsConfigError, match="client_auth"):
        server_ssl_context(dev.server_cert, dev.server_key, dev.ca_cert, "optional")
    with pytest.raises(TlsConfigError, match="cannot be used together"):
        server_ssl_context(dev.server_cert, dev.client_key, dev.ca_cert)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(TlsConfigError, match="no usable certificate"):
        server_ssl_context(dev.server_cert, dev.server_key, bad)
    with pytest.raises(TlsConfigError, match="server CA certificate file .* not found"):
        client_ssl_context(tmp_path / "ca.crt")
    with pytest.raises(TlsConfigError, match="together"):
        client_ssl_context(dev.ca_cert, dev.client_cert)
    with pytest.raises(TlsConfigError, match="server_name"):
        client_ssl_context(dev.ca_cert, server_name="")


def test_peer_subject_without_tls():
    assert peer_subject(None) == "(no TLS)"


def test_subject_from_cert_dict_is_log_safe():
    cert = {
        "subject": (
            (("countryName", "DE"),),
            (("organizationName", "Acme, Inc"),),
            (("commonName", "svc\nINJECTED=1"),),
        )
    }
    assert subject_from_cert(cert) == "CN=svc?INJECTED?1,O=Acme? Inc"
    assert subject_from_cert({}) == subject_from_cert(None) == "(no client certificate)"
    assert subject_from_cert({"subject": ((("countryName", "DE"),),)}) == "(certificate without CN/O)"
    assert len(subject_from_cert({"subject": ((("commonName", "x" * 1000),),)})) == 200
