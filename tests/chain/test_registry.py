"""`chain_output` as `signer demo --chain` uses it, checked by independent libraries per chain."""

import base58
import coincurve
import nacl.signing
import pytest
from eth_keys import keys as eth_keys
from eth_keys.datatypes import Signature

from signer.chain import CHAINS, chain_output
from signer.chain.secp256k1 import N

PRIV = coincurve.PrivateKey(b"\x21" * 32)
PUB = PRIV.public_key.format()
DIGEST = bytes(range(32))
_REC = PRIV.sign_recoverable(DIGEST, hasher=None)
SIG, RID = _REC[:64], _REC[64]
ED = nacl.signing.SigningKey(b"\x22" * 32)
ED_PUB = ED.verify_key.encode()


def test_chains_listed() -> None:
    assert CHAINS == ("ethereum", "bitcoin", "solana")


def test_ethereum_output_recovers_with_eth_keys() -> None:
    out = chain_output("ethereum", PUB, SIG, RID, DIGEST)
    assert set(out) == {"chain", "address", "chain_signature"}
    assert out["chain"] == "ethereum"
    rsv = bytes.fromhex(out["chain_signature"].removeprefix("0x"))
    assert rsv[64] == 27 + RID
    recovered = Signature(rsv[:64] + bytes([rsv[64] - 27])).recover_public_key_from_msg_hash(DIGEST)
    assert recovered.to_checksum_address() == out["address"]
    assert out["address"] == eth_keys.PrivateKey(PRIV.secret).public_key.to_checksum_address()


def test_ethereum_wrong_recovery_id_rejected() -> None:
    with pytest.raises(ValueError, match="recover"):
        chain_output("ethereum", PUB, SIG, 1 - RID, DIGEST)


def test_bitcoin_output() -> None:
    out = chain_output("bitcoin", PUB, SIG, RID, DIGEST)
    assert out["chain"] == "bitcoin"
    assert out["address"].startswith("bc1q")
    assert bytes.fromhex(out["chain_signature"]) == PRIV.sign(DIGEST, hasher=None)


def test_bitcoin_wrong_digest_rejected() -> None:
    with pytest.raises(ValueError, match="verify"):
        chain_output("bitcoin", PUB, SIG, RID, bytes(32))


def test_solana_output() -> None:
    msg = b"any length message"
    sig = ED.sign(msg).signature
    out = chain_output("solana", ED_PUB, sig, 0, msg)
    assert out == {
        "chain": "solana",
        "address": base58.b58encode(ED_PUB).decode(),
        "chain_signature": base58.b58encode(sig).decode(),
    }


@pytest.mark.parametrize(
    ("chain", "key", "sig", "msg", "match"),
    [
        ("ethereum", ED_PUB, SIG, DIGEST, "33-byte compressed secp256k1"),
        ("bitcoin", PRIV.public_key.format(compressed=False), SIG, DIGEST, "33-byte compressed secp256k1"),
        ("ethereum", PUB, SIG, b"short", "32-byte digest"),
        ("solana", PUB, SIG, DIGEST, "32-byte Ed25519"),
        ("dogecoin", PUB, SIG, DIGEST, "unknown chain"),
        ("ethereum", PUB, SIG[:32] + (N - int.from_bytes(SIG[32:], "big")).to_bytes(32, "big"), DIGEST, "low-s"),
    ],
)
def test_wrong_inputs_have_clear_errors(chain, key, sig, msg, match) -> None:
    with pytest.raises(ValueError, match=match):
        chain_output(chain, key, sig, RID, msg)
