"""Our FROST(secp256k1) values in the PyPI frost-rs binding's formats, for the interop tests.

frost-rs passes ZcashFoundation frost-core objects as URL-safe Base64 of their postcard serialization:
a 5-byte header (format version 0 and the suite's 4-byte tag), then the fields in order, scalars as the
suite's 32-byte big-endian encoding and points as 33-byte compressed SEC1. Identifiers are scalars, so our
party index i is the identifier whose encoding is i as a 32-byte big-endian integer. Signature shares and
signatures carry no header; the aggregate signature is SerializeElement(R) || SerializeScalar(z).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from signer.crypto.group import Group
from signer.protocols.frost.core import KeyPackage, SigningCommitments

HEADER = bytes.fromhex("00eed6b1b1")  # what frost-rs's secp256k1 suite writes before every object


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text)


def identifier(g: Group, i: int) -> str:
    """frost-rs's dictionary key for our party i."""
    return b64(g.encode_scalar(i))


def key_package(g: Group, kp: KeyPackage) -> str:
    body = g.encode_scalar(kp.identifier) + g.encode_scalar(kp.signing_share)
    body += g.encode_point(kp.verifying_share) + g.encode_point(kp.group_public_key)
    return b64(HEADER + body + bytes([kp.threshold]))


def public_key_package(g: Group, verifying_shares: Mapping[int, Any], group_public_key: Any) -> str:
    body = bytes([len(verifying_shares)]) + b"".join(
        g.encode_scalar(i) + g.encode_point(y) for i, y in sorted(verifying_shares.items())
    )
    return b64(HEADER + body + g.encode_point(group_public_key))


def commitments(g: Group, c: SigningCommitments) -> str:
    return b64(HEADER + g.encode_point(c.hiding) + g.encode_point(c.binding))


def decode_commitments(g: Group, text: str) -> SigningCommitments:
    raw = unb64(text)
    assert raw[: len(HEADER)] == HEADER
    n = g.point_size
    body = raw[len(HEADER) :]
    assert len(body) == 2 * n
    return SigningCommitments(g.decode_point(body[:n]), g.decode_point(body[n:]))


def share(g: Group, z: int) -> str:
    return b64(g.encode_scalar(z))


def decode_share(g: Group, text: str) -> int:
    return g.decode_scalar(unb64(text))
