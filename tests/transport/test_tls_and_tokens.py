"""mTLS and service tokens on a real socket, seen from an independent grpcio client: each refusal has its
exact status, and a good client gets through."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json

import grpc
import jwt as pyjwt
import trio
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signer.auth.devcerts import Issued, make_ca, make_client_cert, write_issued


def _call(channel_factory, stubs, method: str, request, metadata=()):
    _, signer_pb2_grpc = stubs
    with channel_factory() as channel:
        try:
            resp = getattr(signer_pb2_grpc.SignerServiceStub(channel), method)(request, timeout=5, metadata=metadata)
        except grpc.RpcError as err:
            return err.code(), err.details()
    return grpc.StatusCode.OK, resp


async def call(*args):
    return await trio.to_thread.run_sync(_call, *args)


async def test_client_with_ca_certificate_pings(secure_node, grpcio_stubs):
    pb2, _ = grpcio_stubs
    code, pong = await call(secure_node.good_channel, grpcio_stubs, "Ping", pb2.PingRequest())
    assert code == grpc.StatusCode.OK
    assert pong.node_id == "server-signer-p2"


async def test_client_without_certificate_is_refused(secure_node, grpcio_stubs):
    pb2, _ = grpcio_stubs
    code, _ = await call(lambda: secure_node.channel(), grpcio_stubs, "Ping", pb2.PingRequest())
    assert code == grpc.StatusCode.UNAVAILABLE


async def test_certificate_from_another_ca_is_refused(secure_node, grpcio_stubs, tmp_path):
    pb2, _ = grpcio_stubs
    other = make_ca("some other CA")
    rogue = make_client_cert(other, "mpc-service")
    write_issued(rogue, tmp_path / "rogue.crt", tmp_path / "rogue.key")
    code, _ = await call(
        lambda: secure_node.channel(client_cert=tmp_path / "rogue.crt", client_key=tmp_path / "rogue.key"),
        grpcio_stubs,
        "Ping",
        pb2.PingRequest(),
    )
    assert code == grpc.StatusCode.UNAVAILABLE


async def test_expired_certificate_is_refused(secure_node, grpcio_stubs, tmp_path):
    pb2, _ = grpcio_stubs
    ca_cert = secure_node.certs.ca_cert.read_bytes()
    ca_key = secure_node.certs.ca_key.read_bytes()
    ca = Issued(x509.load_pem_x509_certificate(ca_cert), serialization.load_pem_private_key(ca_key, None))
    now = dt.datetime.now(dt.UTC)
    expired = make_client_cert(
        ca, "mpc-service", not_before=now - dt.timedelta(days=10), not_after=now - dt.timedelta(days=1)
    )
    write_issued(expired, tmp_path / "old.crt", tmp_path / "old.key")
    code, _ = await call(
        lambda: secure_node.channel(client_cert=tmp_path / "old.crt", client_key=tmp_path / "old.key"),
        grpcio_stubs,
        "Ping",
        pb2.PingRequest(),
    )
    assert code == grpc.StatusCode.UNAVAILABLE


def _tokens(node):
    minter = node.minter()
    now = int(dt.datetime.now(dt.UTC).timestamp())
    good = minter.mint()
    private = serialization.load_pem_private_key(node.certs.jwt_private_key.read_bytes(), None)
    public_pem = node.certs.jwt_public_key.read_bytes()
    base = {"iss": "mpc-service", "aud": "mpc-signer", "iat": now, "nbf": now, "exp": now + 60}
    header, payload, sig = good.split(".")
    tampered_payload = pyjwt.utils.base64url_encode(b'{"iss":"mpc-service","aud":"mpc-signer","exp":9999999999}')
    return {
        "no token": (None, "missing"),
        "expired": (minter.mint(now=now - 3600), "expired"),
        "not yet valid": (minter.mint(now=now + 3600), "not yet valid"),
        "wrong iss": (pyjwt.encode({**base, "iss": "evil"}, private, algorithm="EdDSA"), "issuer"),
        "wrong aud": (pyjwt.encode({**base, "aud": "other"}, private, algorithm="EdDSA"), "audience"),
        "alg none": (pyjwt.encode(base, None, algorithm="none"), "algorithm"),
        "HS256 with public key": (_hs256(base, public_pem), "algorithm"),
        "tampered payload": (f"{header}.{tampered_payload.decode()}.{sig}", "signature"),
    }


def _hs256(claims, secret: bytes) -> str:
    """An HS256 token keyed with the server's public key bytes (the classic algorithm-confusion forgery)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


async def test_token_matrix(secure_node, grpcio_stubs):
    pb2, _ = grpcio_stubs
    request = pb2.GetDKGStatusRequest(session_id="no-such-session", wait_ms=0)
    for case, (token, words) in _tokens(secure_node).items():
        metadata = () if token is None else (("authorization", f"Bearer {token}"),)
        code, details = await call(secure_node.good_channel, grpcio_stubs, "GetDKGStatus", request, metadata)
        assert code == grpc.StatusCode.UNAUTHENTICATED, case
        assert words in details, (case, details)
    good = (("authorization", secure_node.minter().authorization()),)
    code, _ = await call(secure_node.good_channel, grpcio_stubs, "GetDKGStatus", request, good)
    assert code != grpc.StatusCode.UNAUTHENTICATED
    # Ping needs no token.
    code, _ = await call(secure_node.good_channel, grpcio_stubs, "Ping", pb2.PingRequest())
    assert code == grpc.StatusCode.OK
