"""P2TR addresses (BIP-341 output key, BIP-350 Bech32m) against BIP-86's and BIP-350's vectors and bip_utils."""

import hashlib

import coincurve
import pytest
from bip_utils import CoinsConf, P2TRAddrDecoder, P2TRAddrEncoder

from signer.chain import bitcoin, chain_output
from signer.chain.encoding import segwit_address
from signer.chain.secp256k1 import N as N_ORDER

h = bytes.fromhex
BIP340_OFF_CURVE = "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34"  # BIP-340 vector 5's key

# BIP-86 "Test vectors": m/86'/0'/0'/0/0, m/86'/0'/0'/0/1, m/86'/0'/0'/1/0 (internal key, output key, address).
BIP86 = [
    (
        "cc8a4bc64d897bddc5fbc2f670f7a8ba0b386779106cf1223c6fc5d7cd6fc115",
        "a60869f0dbcf1dc659c9cecbaf8050135ea9e8cdc487053f1dc6880949dc684c",
        "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",
    ),
    (
        "83dfe85a3151d2517290da461fe2815591ef69f2b18a2ce63f01697a8b313145",
        "a82f29944d65b86ae6b5e5cc75e294ead6c59391a1edc5e016e3498c67fc7bbb",
        "bc1p4qhjn9zdvkux4e44uhx8tc55attvtyu358kutcqkudyccelu0was9fqzwh",
    ),
    (
        "399f1b2f4393f29a18c937859c5dd8a77350103157eb880f02e8c08214277cef",
        "882d74e5d0572d5a816cef0041a96b6c1de832f6f9676d9605c44d5e9a97d3dc",
        "bc1p3qkhfews2uk44qtvauqyr2ttdsw7svhkl9nkm9s9c3x4ax5h60wqwruhk7",
    ),
]

# BIP-350 "Test vectors for v0-v16 native segregated witness addresses": address, scriptPubKey.
BIP350_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]


@pytest.mark.parametrize(("internal", "output", "address"), BIP86, ids=["0/0", "0/1", "1/0"])
def test_bip86_vectors(internal: str, output: str, address: str) -> None:
    assert bitcoin.taproot_output_key(h(internal)).hex() == output
    # the same internal key as 33-byte SEC1 of either parity lifts to the same x-only key
    for prefix in (b"\x02", b"\x03"):
        assert bitcoin.taproot_output_key(prefix + h(internal)).hex() == output
    assert bitcoin.p2tr_address(h(output)) == address


@pytest.mark.parametrize(("address", "script"), BIP350_VALID, ids=lambda v: v[:12] if v.startswith(("b", "t")) else "")
def test_bip350_valid_addresses(address: str, script: str) -> None:
    spk = h(script)
    version = spk[0] - 0x50 if spk[0] else 0
    assert spk[1] == len(spk) - 2
    hrp = address.lower()[:2]
    assert segwit_address(hrp, version, spk[2:]) == address.lower()
    if version == 1 and len(spk) == 34:
        network = "mainnet" if hrp == "bc" else "testnet"
        assert bitcoin.p2tr_address(spk[2:], network) == address.lower()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("network", ["mainnet", "testnet"])
def test_p2tr_matches_bip_utils(seed: int, network: str) -> None:
    pub = coincurve.PrivateKey(bytes([seed + 1]) * 32).public_key
    hrp = (CoinsConf.BitcoinMainNet if network == "mainnet" else CoinsConf.BitcoinTestNet).ParamByKey("p2tr_hrp")
    expected = P2TRAddrEncoder.EncodeKey(pub.format(), hrp=hrp)
    output = bitcoin.taproot_output_key(pub.format())
    assert bitcoin.p2tr_address(output, network) == expected
    assert P2TRAddrDecoder.DecodeAddr(expected, hrp=hrp) == output


def test_merkle_root_changes_the_output_key() -> None:
    pub = coincurve.PrivateKey(b"\x03" * 32).public_key.format()
    assert bitcoin.taproot_output_key(pub, b"\x00" * 32) != bitcoin.taproot_output_key(pub)
    with pytest.raises(ValueError, match="merkle root"):
        bitcoin.taproot_output_key(pub, b"\x00" * 31)


@pytest.mark.parametrize(
    "bad",
    [b"\x01" * 31, b"\x01" * 33, (2**256 - 2**32 - 977).to_bytes(32, "big"), h(BIP340_OFF_CURVE)],
    ids=["short", "long", "x=p", "x-not-on-curve"],
)
def test_p2tr_rejects_bad_output_keys(bad: bytes) -> None:
    with pytest.raises(ValueError):
        bitcoin.p2tr_address(bad)


def test_segwit_address_rejects_bad_versions_and_lengths() -> None:
    with pytest.raises(ValueError):
        segwit_address("bc", 17, bytes(32))
    with pytest.raises(ValueError):
        segwit_address("bc", 1, bytes(41))
    with pytest.raises(ValueError):
        segwit_address("bc", 1, bytes(1))


def test_chain_output_for_a_taproot_key_checks_bip340() -> None:
    priv = coincurve.PrivateKey(b"\x31" * 32)
    digest = bytes(range(32))
    output = bitcoin.taproot_output_key(priv.public_key.format())
    # BIP-341 key-path signing by libsecp256k1: d' = even-y(d) + t, then BIP-340 (which makes d' even itself)
    t = hashlib.sha256(hashlib.sha256(b"TapTweak").digest() * 2 + priv.public_key.format()[1:]).digest()
    d = priv.to_int() if priv.public_key.format()[0] == 2 else N_ORDER - priv.to_int()
    sig = coincurve.PrivateKey.from_int(d).add(t).sign_schnorr(digest)
    out = chain_output("bitcoin", output, sig, 0, digest)
    assert out == {"chain": "bitcoin", "address": bitcoin.p2tr_address(output), "chain_signature": sig.hex()}
    with pytest.raises(ValueError, match="BIP-340"):
        chain_output("bitcoin", output, sig[:32] + bytes(32), 0, digest)
    with pytest.raises(ValueError, match="BIP-340"):
        chain_output("bitcoin", output, sig, 0, digest[::-1])
