"""Bitcoin adapter checked by bip_utils (addresses), BIP-173 vectors, coincurve and python-ecdsa (DER)."""

import coincurve
import pytest
from bip_utils import CoinsConf, P2PKHAddrEncoder, P2WPKHAddrEncoder
from ecdsa.util import sigdecode_der

from signer.chain import bitcoin
from signer.chain.secp256k1 import HALF_N, N

# BIP-173 "Examples": the generator point G as a compressed key.
G_COMPRESSED = bytes.fromhex("0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798")


def test_bip173_example_addresses() -> None:
    assert bitcoin.p2wpkh_address(G_COMPRESSED) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    assert bitcoin.p2wpkh_address(G_COMPRESSED, "testnet") == "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
    # the well-known P2PKH address of private key 1 (compressed)
    assert bitcoin.p2pkh_address(G_COMPRESSED) == "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("network", ["mainnet", "testnet"])
def test_addresses_match_bip_utils(seed: int, network: str) -> None:
    pub = coincurve.PrivateKey(bytes([seed + 1]) * 32).public_key
    conf = CoinsConf.BitcoinMainNet if network == "mainnet" else CoinsConf.BitcoinTestNet
    expected_wpkh = P2WPKHAddrEncoder.EncodeKey(
        pub.format(), hrp=conf.ParamByKey("p2wpkh_hrp"), wit_ver=conf.ParamByKey("p2wpkh_wit_ver")
    )
    expected_pkh = P2PKHAddrEncoder.EncodeKey(pub.format(), net_ver=conf.ParamByKey("p2pkh_net_ver"))
    for form in (pub.format(compressed=True), pub.format(compressed=False)):
        # an uncompressed input still yields the compressed key's addresses
        assert bitcoin.p2wpkh_address(form, network) == expected_wpkh
        assert bitcoin.p2pkh_address(form, network) == expected_pkh


def test_compressed_public_key() -> None:
    pub = coincurve.PrivateKey(b"\x05" * 32).public_key
    assert bitcoin.compressed_public_key(pub.format(compressed=False)) == pub.format()
    with pytest.raises(ValueError):
        bitcoin.compressed_public_key(b"\x04" + bytes(64))


def test_unknown_network_rejected() -> None:
    with pytest.raises(ValueError, match="network"):
        bitcoin.p2wpkh_address(G_COMPRESSED, "regtest")  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(8))
def test_der_equals_libsecp256k1_and_verifies(seed: int) -> None:
    priv = coincurve.PrivateKey(bytes([seed + 7]) * 32)
    digest = bytes([seed]) * 32
    compact = priv.sign_recoverable(digest, hasher=None)[:64]
    der = bitcoin.der_signature(compact)
    # libsecp256k1's own DER of the same RFC 6979 signature
    assert der == priv.sign(digest, hasher=None)
    assert priv.public_key.verify(der, digest, hasher=None)
    r, s = sigdecode_der(der, N)
    assert (r, s) == (int.from_bytes(compact[:32], "big"), int.from_bytes(compact[32:], "big"))


def test_der_normalizes_high_s() -> None:
    priv = coincurve.PrivateKey(b"\x09" * 32)
    digest = b"\x42" * 32
    compact = priv.sign_recoverable(digest, hasher=None)[:64]
    s = int.from_bytes(compact[32:], "big")
    high = compact[:32] + (N - s).to_bytes(32, "big")
    der = bitcoin.der_signature(high)
    assert sigdecode_der(der, N)[1] == s <= HALF_N
    assert priv.public_key.verify(der, digest, hasher=None)


def test_der_small_values_and_padding() -> None:
    # r with the top bit set gets a 0x00 pad; small s is minimal
    sig = (N - 1).to_bytes(32, "big") + (1).to_bytes(32, "big")
    der = bitcoin.der_signature(sig)
    assert der == b"\x30\x26\x02\x21\x00" + (N - 1).to_bytes(32, "big") + b"\x02\x01\x01"
    assert sigdecode_der(der, N) == (N - 1, 1)


@pytest.mark.parametrize("bad", [bytes(64), b"\x01" * 63, N.to_bytes(32, "big") + b"\x01" * 32])
def test_der_rejects_bad_signatures(bad: bytes) -> None:
    with pytest.raises(ValueError):
        bitcoin.der_signature(bad)
