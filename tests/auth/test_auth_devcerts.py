"""`signer certs dev DIR`: the files, their permissions, refusal to overwrite, and that every credential
works with an independent verifier (cryptography's X.509 path validation) and with our own consumers."""

import datetime as dt
import ipaddress
import os
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store

from signer.auth.devcerts import DevCertsError, make_ca, make_client_cert, make_dev_certs
from signer.auth.jwt import TokenMinter, TokenVerifier
from signer.auth.keyfiles import load_hex_key

NAMES = [
    "ca.crt",
    "ca.key",
    "server.crt",
    "server.key",
    "client.crt",
    "client.key",
    "jwt-private.pem",
    "jwt-public.pem",
    "hmac.hex",
]


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_writes_every_file_0600_in_a_0700_dir(tmp_path):
    d = tmp_path / "certs"
    paths = make_dev_certs(d)
    assert sorted(p.name for p in d.iterdir()) == sorted(NAMES)
    assert [p.name for p in paths.all()] == NAMES
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for p in paths.all():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_certificates_validate_independently(tmp_path):
    paths = make_dev_certs(tmp_path, node_id="signer-p3", hosts=("localhost", "127.0.0.1", "signer.example", "::1"))
    ca, server, client = _cert(paths.ca_cert), _cert(paths.server_cert), _cert(paths.client_cert)
    store = Store([ca])
    server_verifier = PolicyBuilder().store(store)
    for name in (
        x509.DNSName("localhost"),
        x509.DNSName("signer.example"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ):
        chain = server_verifier.build_server_verifier(name).verify(server, [])
        assert chain[-1] == ca
    with pytest.raises(x509.verification.VerificationError):
        server_verifier.build_server_verifier(x509.DNSName("evil.example")).verify(server, [])
    verified = PolicyBuilder().store(store).build_client_verifier().verify(client, [])
    assert verified.chain[-1] == ca
    assert server.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "signer-p3"
    assert client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "mpc-service"
    eku = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_jwt_pair_and_hmac_key_work_with_their_consumers(tmp_path):
    paths = make_dev_certs(tmp_path)
    verifier = TokenVerifier(paths.jwt_public_key, "mpc-service", "server-signer-p2", algorithms=["EdDSA"])
    minter = TokenMinter.from_file(paths.jwt_private_key, "mpc-service", "server-signer-p2", "EdDSA")
    assert verifier.verify(minter.mint()).subject == "mpc-service"
    loaded = load_hex_key(paths.hmac_key)
    assert len(loaded.key) == 32 and loaded.warning is None


def test_refuses_to_overwrite_and_writes_nothing(tmp_path):
    (tmp_path / "server.key").write_text("mine")
    with pytest.raises(DevCertsError, match="server.key"):
        make_dev_certs(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["server.key"]
    assert (tmp_path / "server.key").read_text() == "mine"


def test_overwrite_replaces_everything(tmp_path):
    first = make_dev_certs(tmp_path)
    old_ca = first.ca_cert.read_bytes()
    old_hmac = load_hex_key(first.hmac_key).key
    second = make_dev_certs(tmp_path, overwrite=True)
    assert second.ca_cert.read_bytes() != old_ca
    assert load_hex_key(second.hmac_key).key != old_hmac
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(NAMES)
    for p in second.all():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600


@pytest.mark.parametrize("hosts", [(), ("bad host",), ("-x",), ("x" * 254,), ("h\u00f6st",)])
def test_bad_hosts_write_nothing(tmp_path, hosts):
    d = tmp_path / "out"
    with pytest.raises(DevCertsError):
        make_dev_certs(d, hosts=hosts)
    assert not d.exists()


def test_target_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(DevCertsError, match="not a directory"):
        make_dev_certs(f)


def test_validity_window_parameters():
    ca = make_ca()
    now = dt.datetime.now(dt.UTC)
    expired = make_client_cert(ca, not_before=now - dt.timedelta(days=2), not_after=now - dt.timedelta(days=1))
    assert expired.cert.not_valid_after_utc < now
    with pytest.raises(x509.verification.VerificationError):
        PolicyBuilder().store(Store([ca.cert])).time(now).build_client_verifier().verify(expired.cert, [])
    with pytest.raises(DevCertsError, match="later"):
        make_client_cert(ca, not_before=now, not_after=now)
    assert "PRIVATE" not in repr(expired)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_key_pem_files_are_unencrypted_pkcs8(tmp_path):
    paths = make_dev_certs(tmp_path)
    for p in (paths.ca_key, paths.server_key, paths.client_key, paths.jwt_private_key):
        assert p.read_text().startswith("-----BEGIN PRIVATE KEY-----")
