"""BIP-32 public derivation of threshold keys matches an independent implementation (bip_utils)."""

from __future__ import annotations

import secrets

import pytest
from bip_utils import Bip32KeyData, Bip32Secp256k1

from signer.crypto.hd import DerivationError, derive_public
from signer.crypto.secp256k1 import ORDER, base_mul


def _reference(public_key: bytes, chain_code: bytes, path: tuple[int, ...]) -> tuple[bytes, bytes]:
    node = Bip32Secp256k1.FromPublicKey(public_key, Bip32KeyData(chain_code=chain_code))
    for index in path:
        node = node.ChildKey(index)
    return node.PublicKey().RawCompressed().ToBytes(), node.ChainCode().ToBytes()


@pytest.mark.parametrize("path", [(), (0,), (7, 2**31 - 1), (44, 60, 0, 0, 5)])
def test_matches_bip_utils(path: tuple[int, ...]) -> None:
    secret = 1 + secrets.randbelow(ORDER - 1)
    public = base_mul(secret).encode()
    chain = secrets.token_bytes(32)
    derived = derive_public(public, chain, path)
    assert (derived.public_key, derived.chain_code) == _reference(public, chain, path)
    # the tweak is additive on the private key: x + tweak is the child's private key
    assert base_mul(secret + derived.tweak).encode() == derived.public_key


def test_hardened_and_bad_chain_code_rejected() -> None:
    public = base_mul(5).encode()
    with pytest.raises(DerivationError, match="hardened"):
        derive_public(public, bytes(32), (2**31,))
    with pytest.raises(DerivationError, match="chain code"):
        derive_public(public, bytes(31), (1,))
