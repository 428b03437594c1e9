"""Ethereum adapter checked by eth-account / eth-keys: addresses, v, personal messages, EIP-1559 transactions.

Signatures are made with coincurve (libsecp256k1, RFC 6979 nonces, low-s) over the digests this module
computes; eth-account then recovers the signer from what this module serialized.
"""

import coincurve
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys import keys as eth_keys
from eth_utils import to_checksum_address

from signer.chain import ethereum
from signer.chain.ethereum import AccessListEntry, Eip1559Transaction
from signer.chain.keccak import keccak256
from signer.chain.rlp import rlp_encode, rlp_int
from signer.chain.secp256k1 import N

# EIP-55 "Test Cases" (all caps, all lower, normal).
EIP55_VECTORS = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]

PRIVATE_KEYS = [bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"), b"\x01" * 32]


def _sign(priv: bytes, digest: bytes) -> tuple[bytes, int]:
    rec = coincurve.PrivateKey(priv).sign_recoverable(digest, hasher=None)
    return rec[:64], rec[64]


@pytest.mark.parametrize("expected", EIP55_VECTORS)
def test_eip55_vectors(expected: str) -> None:
    assert ethereum.to_checksum_address(bytes.fromhex(expected[2:])) == expected


@pytest.mark.parametrize("priv", PRIVATE_KEYS)
def test_address_matches_eth_keys_for_both_key_forms(priv: bytes) -> None:
    pub = coincurve.PrivateKey(priv).public_key
    expected = eth_keys.PrivateKey(priv).public_key.to_checksum_address()
    assert ethereum.address(pub.format(compressed=True)) == expected
    assert ethereum.address(pub.format(compressed=False)) == expected


@pytest.mark.parametrize(
    ("priv_hex", "expected"),
    [
        # the key of eth-account's / web3.py's documentation examples
        (
            "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
            "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23",
        ),
        # ganache's deterministic account 0
        (
            "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d",
            "0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1",
        ),
    ],
)
def test_published_key_addresses(priv_hex: str, expected: str) -> None:
    pub = coincurve.PrivateKey(bytes.fromhex(priv_hex)).public_key.format()
    assert ethereum.address(pub) == expected


@pytest.mark.parametrize("bad", [b"", bytes(33), b"\x02" + b"\xff" * 32, bytes(64)])
def test_address_rejects_bad_keys(bad: bytes) -> None:
    with pytest.raises(ValueError):
        ethereum.address(bad)


def test_v_values() -> None:
    assert ethereum.v_from_recovery_id(0) == 27
    assert ethereum.v_from_recovery_id(1) == 28
    assert ethereum.v_from_recovery_id(0, chain_id=1) == 37  # EIP-155 example: chain 1, v in {37, 38}
    assert ethereum.v_from_recovery_id(1, chain_id=1) == 38
    assert ethereum.v_from_recovery_id(1, chain_id=11155111) == 11155111 * 2 + 36
    for bad in (2, -1, True):
        with pytest.raises(ValueError):
            ethereum.v_from_recovery_id(bad)
    with pytest.raises(ValueError):
        ethereum.v_from_recovery_id(0, chain_id=0)


def test_eip155_v_matches_eth_account_legacy_transaction() -> None:
    """EIP-155: sign keccak256(rlp([nonce, gasprice, startgas, to, value, data, chain_id, 0, 0])) ourselves;
    v from our recovery id must equal the v eth-account puts in the same (RFC 6979) signed transaction."""
    priv = PRIVATE_KEYS[0]
    to = b"\x35" * 20
    fields = [rlp_int(9), rlp_int(20 * 10**9), rlp_int(21000), to, rlp_int(10**18), b""]
    for chain_id in (1, 137, 11155111):
        digest = keccak256(rlp_encode([*fields, rlp_int(chain_id), b"", b""]))
        sig, rid = _sign(priv, digest)
        tx = {"nonce": 9, "gasPrice": 20 * 10**9, "gas": 21000, "to": to_checksum_address(to), "value": 10**18}
        signed = Account.sign_transaction({**tx, "data": b"", "chainId": chain_id}, priv)
        assert (signed.r, signed.s) == (int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        assert ethereum.v_from_recovery_id(rid, chain_id=chain_id) == signed.v


@pytest.mark.parametrize("message", [b"hello", b"", "Ünïcode ✓".encode(), bytes(range(256))])
def test_personal_message_recovered_by_eth_account(message: bytes) -> None:
    priv = PRIVATE_KEYS[0]
    digest = ethereum.personal_message_digest(message)
    sig, rid = _sign(priv, digest)
    rsv = ethereum.signature_rsv(sig, rid)
    pub = coincurve.PrivateKey(priv).public_key.format()
    recovered = Account.recover_message(encode_defunct(primitive=message), signature=rsv)
    assert recovered == ethereum.address(pub)
    # and the digest is the one eth-account computes for the same message
    assert digest == Account.sign_message(encode_defunct(primitive=message), priv).message_hash


def _tx_pairs():
    to = bytes.fromhex("d8da6bf26964af9d7eed9e03e53415d37aa96045")
    yield (
        Eip1559Transaction(1, 0, 2 * 10**9, 100 * 10**9, 21000, to, 10**16),
        {"to": to_checksum_address(to), "data": b""},
    )
    slot = bytes(31) + b"\x07"
    yield (
        Eip1559Transaction(
            chain_id=11155111,
            nonce=300,
            max_priority_fee_per_gas=1,
            max_fee_per_gas=2**40,
            gas_limit=100_000,
            to=to,
            value=0,
            data=bytes.fromhex("a9059cbb") + bytes(64),
            access_list=(AccessListEntry(to, (slot, bytes(32))), AccessListEntry(b"\x11" * 20)),
        ),
        {
            "to": to_checksum_address(to),
            "data": bytes.fromhex("a9059cbb") + bytes(64),
            "accessList": [
                {"address": to_checksum_address(to), "storageKeys": ["0x" + slot.hex(), "0x" + bytes(32).hex()]},
                {"address": to_checksum_address(b"\x11" * 20), "storageKeys": []},
            ],
        },
    )
    yield (  # contract creation
        Eip1559Transaction(5, 1, 0, 1, 53_000, None, 0, data=b"\x60\x00" * 100),
        {"to": b"", "data": b"\x60\x00" * 100},
    )


@pytest.mark.parametrize(("tx", "extra"), list(_tx_pairs()))
def test_eip1559_serialized_transaction_recovers_and_equals_eth_account(tx: Eip1559Transaction, extra) -> None:
    priv = PRIVATE_KEYS[0]
    sig, rid = _sign(priv, tx.signing_digest())
    raw = tx.serialize_signed(sig, rid)
    pub = coincurve.PrivateKey(priv).public_key.format()
    assert raw[0] == 2
    assert Account.recover_transaction(raw) == ethereum.address(pub)

    tx_dict = {
        "type": 2,
        "chainId": tx.chain_id,
        "nonce": tx.nonce,
        "maxPriorityFeePerGas": tx.max_priority_fee_per_gas,
        "maxFeePerGas": tx.max_fee_per_gas,
        "gas": tx.gas_limit,
        "value": tx.value,
        **extra,
    }
    if tx.to is None:
        del tx_dict["to"]
    signed = Account.sign_transaction(tx_dict, priv)
    # both sides use RFC 6979 nonces: identical transactions byte for byte
    assert bytes(signed.raw_transaction) == raw
    assert bytes(signed.hash) == tx.signed_hash(sig, rid)


def test_eip1559_rejects_high_s_and_bad_fields() -> None:
    tx = Eip1559Transaction(1, 0, 1, 1, 21000, b"\x01" * 20, 0)
    sig, rid = _sign(PRIVATE_KEYS[0], tx.signing_digest())
    s = int.from_bytes(sig[32:], "big")
    high = sig[:32] + (N - s).to_bytes(32, "big")
    with pytest.raises(ValueError, match="low-s"):
        tx.serialize_signed(high, 1 - rid)
    with pytest.raises(ValueError, match="low-s"):
        ethereum.signature_rsv(high, 1 - rid)
    with pytest.raises(ValueError, match="64 bytes"):
        tx.serialize_signed(sig[:63], rid)
    with pytest.raises(ValueError, match="out of range"):
        tx.serialize_signed(bytes(64), rid)
    with pytest.raises(ValueError, match="to"):
        Eip1559Transaction(1, 0, 1, 1, 21000, b"\x01" * 19, 0)
    with pytest.raises(ValueError, match="nonce"):
        Eip1559Transaction(1, 2**64, 1, 1, 21000, None, 0)
    with pytest.raises(ValueError, match="value"):
        Eip1559Transaction(1, 0, 1, 1, 21000, None, -1)
    with pytest.raises(ValueError, match="storage"):
        AccessListEntry(b"\x01" * 20, (b"\x00",))
