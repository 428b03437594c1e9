"""FROST(secp256k1, SHA-256) and its Taproot mode: in-process signing with every party's work, and the
PyPI frost-rs binding's secp256k1 suite (ZcashFoundation frost-secp256k1) as the reference.

As in `bench_frost`: our entries run the real sessions with both parties in one process through
`run_local`, so they include encoding, decoding and validation; every party verifies the other share,
aggregates and verifies the final signature (the reference verifies shares and aggregates once).
"""

from __future__ import annotations

from benchmarks.bench_frost import frost_rs_sign_op, sign_op
from benchmarks.harness import entry
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256
from signer.protocols.frost.taproot import TaprootOutput

MESSAGE = bytes.fromhex("6d9b2f2c5a4d3e1f00112233445566778899aabbccddeeff0123456789abcdef")  # a 32-byte sighash


def _sign_op(taproot: TaprootOutput | None):
    return sign_op(2, 2, FROST_SECP256K1_SHA256, MESSAGE, taproot)


@entry(
    "frost.secp256k1.sign.2of2", note="FROST(secp256k1,SHA-256) sessions; both signers: commit, sign, verify, aggregate"
)
def sign_2of2():
    return _sign_op(None)


@entry("frost.taproot.sign.2of2", note="BIP-340 for the BIP-341 key-path output key; same work plus the key tweak")
def taproot_sign_2of2():
    return _sign_op(TaprootOutput())


@entry("frost.secp256k1.sign.2of2.ref", note="PyPI frost-rs (ZF frost-secp256k1): preprocess x2, sign x2, aggregate")
def sign_2of2_ref():
    import frost_rs

    return frost_rs_sign_op(frost_rs.utility_secp256k1, MESSAGE)
