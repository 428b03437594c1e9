"""Solana adapter checked with the base58 package and PyNaCl signatures."""

import base58
import nacl.signing
import pytest

from signer.chain import solana


@pytest.mark.parametrize("seed", range(5))
def test_address_is_base58_of_key(seed: int) -> None:
    key = nacl.signing.SigningKey(bytes([seed]) * 32).verify_key.encode()
    assert solana.address(key) == base58.b58encode(key).decode()
    assert base58.b58decode(solana.address(key)) == key


def test_rfc8032_test1_key_address() -> None:
    # RFC 8032 section 7.1 TEST 1 public key
    key = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert solana.address(key) == base58.b58encode(key).decode()


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33), bytes(32)])
def test_address_rejects_bad_keys(bad: bytes) -> None:
    # 32 zero bytes decode to a small-order point: never the key of a signer
    with pytest.raises(ValueError):
        solana.address(bad)


def test_signature_passthrough_verified() -> None:
    sk = nacl.signing.SigningKey(b"\x03" * 32)
    msg = b"transfer 1 SOL"
    sig = sk.sign(msg).signature
    assert solana.chain_signature(sk.verify_key.encode(), sig, msg) == sig
    with pytest.raises(ValueError, match="does not verify"):
        solana.chain_signature(sk.verify_key.encode(), sig, msg + b"!")
    with pytest.raises(ValueError, match="64 bytes"):
        solana.chain_signature(sk.verify_key.encode(), sig[:63], msg)
