"""Device certificates (docs/contract.md §11.7): JWTs from the device authority whose `cnf.jwk` is the party's
identity key. Real keys and real JWTs (pyjwt signs them, as a device registry would); each refusal is checked,
then one valid certificate, also for a P-256 identity, also through StartDKG over mTLS."""

from __future__ import annotations

import time

import jwt
import pytest
import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from grpclib.const import Status

from signer.app import run_node
from signer.auth.devcerts import make_dev_certs
from signer.auth.devicecert import DeviceAuthority, DeviceCertError, identity_jwk
from signer.client.in_trio import TrioCoordinator
from signer.crypto.identity import ECDSA_P256_SHA256, ED25519, IdentityKey
from signer.protocols.frost.session import FrostDkgSession
from tests.transport.conftest import SecureNode, node_client, secure_config


def authority_files(tmp_path):  # noqa: ANN001, ANN201
    private = ed25519.Ed25519PrivateKey.generate()
    path = tmp_path / "device-authority.pem"
    path.write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, path


def certificate(signer, key: IdentityKey, *, expires_in: float = 3600, sub: str = "device-42", **extra) -> str:  # noqa: ANN001
    claims = {
        "sub": sub,
        "exp": int(time.time() + expires_in),
        "cnf": {"jwk": identity_jwk(key.scheme, key.public_key)},
    }
    return jwt.encode({**claims, **extra}, signer, algorithm="EdDSA")


def test_each_bad_certificate_is_refused_and_a_valid_one_names_the_device(tmp_path):
    signer, path = authority_files(tmp_path)
    authority = DeviceAuthority(path)
    device, other = IdentityKey.generate(), IdentityKey.generate()
    stranger = ed25519.Ed25519PrivateKey.generate()
    cases = {
        "no certificate": ("", "no certificate"),
        "expired": (certificate(signer, device, expires_in=-3600), "expired"),
        "signed by another key": (certificate(stranger, device), "not signed by the device authority"),
        "cnf of another key": (certificate(signer, other), "cnf.jwk"),
        "no sub": (
            jwt.encode(
                {"exp": int(time.time()) + 60, "cnf": {"jwk": identity_jwk(ED25519, device.public_key)}},
                signer,
                algorithm="EdDSA",
            ),
            "sub",
        ),
        "not a JWT": ("garbage", "not a JWT"),
    }
    for cert, words in cases.values():
        with pytest.raises(DeviceCertError, match=words):
            authority.check(cert, ED25519, device.public_key)
    assert authority.check(certificate(signer, device), ED25519, device.public_key) == "device-42"


def test_a_p256_identity_is_bound_by_its_x_and_y(tmp_path):
    signer, path = authority_files(tmp_path)
    authority = DeviceAuthority(path)
    device = IdentityKey.from_p256(ec.generate_private_key(ec.SECP256R1()))
    uncompressed = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), device.public_key).public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    cert = certificate(signer, device)
    assert authority.check(cert, ECDSA_P256_SHA256, device.public_key) == "device-42"
    assert authority.check(cert, ECDSA_P256_SHA256, uncompressed) == "device-42"  # the same point
    with pytest.raises(DeviceCertError, match="cnf.jwk"):
        authority.check(cert, ED25519, IdentityKey.generate().public_key)


async def test_startdkg_needs_a_certificate_for_the_device(tmp_path):
    signer, path = authority_files(tmp_path)
    certs = make_dev_certs(tmp_path / "certs")
    config = secure_config(certs, tmp_path / "data", **{"auth.device_authority": str(path)})
    device = IdentityKey.generate()
    async with trio.open_nursery() as nursery:
        handle = await nursery.start(run_node, config)
        async with node_client(SecureNode(handle, certs, handle.address[1])) as node:
            bare = TrioCoordinator({2: node}, identities={1: device})
            refused = await bare.dkg(
                "dkg-nocert", "wallet-c", "frost", 2, 2, {1: FrostDkgSession("dkg-nocert", 1, 2, (1, 2))}
            )
            assert refused.status == Status.PERMISSION_DENIED and "party 1" in refused.error
            assert not refused.culprits
            wrong = TrioCoordinator(
                {2: node}, identities={1: device}, certificates={1: certificate(signer, IdentityKey.generate())}
            )
            refused = await wrong.dkg(
                "dkg-wrong", "wallet-c", "frost", 2, 2, {1: FrostDkgSession("dkg-wrong", 1, 2, (1, 2))}
            )
            assert refused.status == Status.PERMISSION_DENIED
            good = TrioCoordinator({2: node}, identities={1: device}, certificates={1: certificate(signer, device)})
            out = await good.dkg("dkg-cert", "wallet-c", "frost", 2, 2, {1: FrostDkgSession("dkg-cert", 1, 2, (1, 2))})
            assert out.ok, out.error
        nursery.cancel_scope.cancel()
