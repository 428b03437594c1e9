"""Identity signatures (docs/contract.md §11): what one party pays per message to sign it and to verify a
peer's, for the node's Ed25519 key and a device's P-256 key. The input is a real message-signing input
(a session context hash and a 1 KiB payload), the shape every relayed message has.

Per session a party signs each message it sends and verifies each one it receives: a 2-of-2 FROST signing
has 2 rounds (2 signs, 2 verifies per party), a FROST DKG 3, GG20 more. Compare with `frost.sign.2of2`.
"""

from __future__ import annotations

import hashlib

from benchmarks.harness import entry
from signer.crypto.identity import ECDSA_P256_SHA256, ED25519, IdentityKey, verify
from signer.session_context import message_signing_input

INPUT = message_signing_input(hashlib.sha256(b"context").digest(), "sign-bench", 2, 1, 1, 3, bytes(1024))


def _sign(scheme: int):
    key = IdentityKey.generate(scheme)
    return lambda: key.sign(INPUT)


def _verify(scheme: int):
    key = IdentityKey.generate(scheme)
    public_key, signature = key.public_key, key.sign(INPUT)
    return lambda: verify(scheme, public_key, INPUT, signature)


@entry("identity.sign.ed25519", note="the node's identity signature over one message-signing input (1 KiB payload)")
def sign_ed25519():
    return _sign(ED25519)


@entry("identity.verify.ed25519", note="checking an Ed25519 party_signature: key load, verify")
def verify_ed25519():
    return _verify(ED25519)


@entry("identity.sign.p256", note="a P-256 device identity signature (DER), as a software key makes it")
def sign_p256():
    return _sign(ECDSA_P256_SHA256)


@entry("identity.verify.p256", note="checking a P-256 party_signature: SEC1 point decode, canonical-DER check, verify")
def verify_p256():
    return _verify(ECDSA_P256_SHA256)
