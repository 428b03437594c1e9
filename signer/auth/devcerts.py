"""Development credentials for `signer certs dev DIR`: a CA, a server and a client certificate, the JWT
signing key pair and the HMAC key, so a node and a coordinator can run with mTLS, tokens and MACs on one
machine. Every file is written 0600 and nothing is overwritten unless asked.

Certificates use ECDSA P-256 (accepted by OpenSSL, BoringSSL/grpcio and Go alike) and carry the
extensions strict X.509 verification expects (key usages, SKI/AKI, SANs on the server certificate).
Not for production: the CA key sits next to the certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signer.auth.keyfiles import create_hex_key_file, write_secret_file

DEV_ORG = "mpc-signer development"
CLIENT_CN = "mpc-service"
CA_DAYS = 3650
LEAF_DAYS = 825


class DevCertsError(ValueError):
    """Development credentials cannot be written (files exist, bad host name, ...)."""


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey = field(repr=False)

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


@dataclass(frozen=True)
class DevCertPaths:
    """Where `make_dev_certs` wrote each file."""

    dir: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    jwt_private_key: Path
    jwt_public_key: Path
    hmac_key: Path

    def all(self) -> tuple[Path, ...]:
        return (
            self.ca_cert,
            self.ca_key,
            self.server_cert,
            self.server_key,
            self.client_cert,
            self.client_key,
            self.jwt_private_key,
            self.jwt_public_key,
            self.hmac_key,
        )


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORG)]
    )


def _window(
    not_before: dt.datetime | None, not_after: dt.datetime | None, days: int
) -> tuple[dt.datetime, dt.datetime]:
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    end = not_after or start + dt.timedelta(days=days)
    if end <= start:
        raise DevCertsError("certificate not_after must be later than not_before")
    return start, end


def make_ca(
    cn: str = "mpc-signer development CA",
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """A self-signed CA that may sign leaf certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _window(not_before, not_after, CA_DAYS)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        label_ok = host and host.isascii() and all(c.isalnum() or c in "-.*" for c in host)
        if not label_ok or host.startswith(("-", ".")) or len(host) > 253:
            raise DevCertsError(f"not a host name or IP address: {host!r}")
        names.append(x509.DNSName(host.lower()))
    if not names:
        raise DevCertsError("a server certificate needs at least one host")
    return x509.SubjectAlternativeName(names)


def _leaf(
    ca: Issued,
    cn: str,
    usage: x509.ObjectIdentifier,
    san: x509.SubjectAlternativeName,
    not_before: dt.datetime | None,
    not_after: dt.datetime | None,
) -> Issued:
    if not cn:
        raise DevCertsError("certificate common name must not be empty")
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _window(not_before, not_after, LEAF_DAYS)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .add_extension(san, critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_server_cert(
    ca: Issued,
    cn: str,
    hosts: Sequence[str] = ("localhost", "127.0.0.1"),
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """A TLS server certificate for `hosts` (DNS names and IP addresses) signed by `ca`."""
    return _leaf(ca, cn, ExtendedKeyUsageOID.SERVER_AUTH, _san(hosts), not_before, not_after)


def make_client_cert(
    ca: Issued,
    cn: str = CLIENT_CN,
    *,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> Issued:
    """A TLS client certificate signed by `ca`; pass `not_after` in the past to get an expired one.

    `cn` is also the certificate's DNS subject alternative name (strict RFC 5280 verifiers want one),
    so it must be host-name shaped.
    """
    return _leaf(ca, cn, ExtendedKeyUsageOID.CLIENT_AUTH, _san([cn]), not_before, not_after)


def load_issued(cert_path: Path | str, key_path: Path | str) -> Issued:
    """Read back a certificate and its EC key, e.g. the dev CA to issue more certificates in tests."""
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
    except (OSError, ValueError) as e:
        raise DevCertsError(f"cannot load {cert_path} / {key_path} ({type(e).__name__})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise DevCertsError(f"{key_path} is not an EC private key")
    return Issued(cert, key)


def write_issued(issued: Issued, cert_path: Path, key_path: Path, *, overwrite: bool = False) -> None:
    """Write a certificate and its key as PEM files with 0600 permissions."""
    write_secret_file(cert_path, issued.cert_pem(), overwrite=overwrite)
    write_secret_file(key_path, issued.key_pem(), overwrite=overwrite)


def dev_cert_paths(dir: Path | str) -> DevCertPaths:
    """Where `make_dev_certs` writes (or wrote) each file in `dir`."""
    d = Path(dir)
    return DevCertPaths(
        dir=d,
        ca_cert=d / "ca.crt",
        ca_key=d / "ca.key",
        server_cert=d / "server.crt",
        server_key=d / "server.key",
        client_cert=d / "client.crt",
        client_key=d / "client.key",
        jwt_private_key=d / "jwt-private.pem",
        jwt_public_key=d / "jwt-public.pem",
        hmac_key=d / "hmac.hex",
    )


def make_dev_certs(
    dir: Path | str,
    node_id: str = "server-signer-p2",
    hosts: Sequence[str] = ("localhost", "127.0.0.1"),
    *,
    overwrite: bool = False,
) -> DevCertPaths:
    """Write the full development credential set into `dir` (created 0700 if missing).

    Files: ca.crt ca.key server.crt server.key client.crt client.key jwt-private.pem jwt-public.pem
    hmac.hex. The server certificate's CN is `node_id`, the client's `mpc-service`; the JWT pair is
    Ed25519 (algorithm EdDSA). Raises DevCertsError, writing nothing, if any file exists and not
    `overwrite`.
    """
    d = Path(dir)
    paths = dev_cert_paths(d)
    if d.exists() and not d.is_dir():
        raise DevCertsError(f"{d} exists and is not a directory")
    existing = [p.name for p in paths.all() if p.exists()]
    if existing and not overwrite:
        raise DevCertsError(f"{d} already holds {', '.join(existing)}; refusing to overwrite")
    _san(hosts)  # validate before writing anything
    d.mkdir(mode=0o700, parents=True, exist_ok=True)

    ca = make_ca()
    server = make_server_cert(ca, node_id, hosts)
    client = make_client_cert(ca)
    jwt_key = ed25519.Ed25519PrivateKey.generate()

    write_issued(ca, paths.ca_cert, paths.ca_key, overwrite=overwrite)
    write_issued(server, paths.server_cert, paths.server_key, overwrite=overwrite)
    write_issued(client, paths.client_cert, paths.client_key, overwrite=overwrite)
    write_secret_file(
        paths.jwt_private_key,
        jwt_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        overwrite=overwrite,
    )
    write_secret_file(
        paths.jwt_public_key,
        jwt_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        overwrite=overwrite,
    )
    create_hex_key_file(paths.hmac_key, overwrite=overwrite)
    return paths
