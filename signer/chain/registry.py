"""One entry point for `signer demo --chain`: what a chain needs from a group key and a node signature.

Every output is checked before it is returned (the ECDSA signature recovers or verifies to the key over the
signed digest; the Ed25519 and BIP-340 signatures verify over the message), so a chain-ready encoding is never printed
for a signature that chain would reject.
"""

from __future__ import annotations

import coincurve

from signer.chain import bitcoin, ethereum, solana
from signer.chain.encoding import b58encode
from signer.chain.secp256k1 import check_recovery_id
from signer.crypto import bip340

CHAINS = ("ethereum", "bitcoin", "solana")


def chain_output(chain: str, public_key: bytes, signature: bytes, recovery_id: int, message: bytes) -> dict:
    """{"chain", "address", "chain_signature"} for `chain`, all strings.

    ECDSA chains (ethereum, bitcoin) take the 33-byte compressed secp256k1 group key and the 32-byte digest
    the node signed; ethereum gives the EIP-55 address and 0x-hex r||s||v (v = 27 + recovery_id), bitcoin the
    mainnet P2WPKH address and the hex DER signature; given a 32-byte x-only Taproot output key instead (FROST
    secp256k1 in Taproot mode), bitcoin checks the 64-byte BIP-340 signature and gives the P2TR address.
    Solana takes the 32-byte Ed25519 key and the message itself and gives Base58 address and signature.
    `recovery_id` is checked for ethereum, ignored otherwise.
    ValueError with a readable message for a wrong chain, key, signature or message.
    """
    if chain == "ethereum":
        _check_ecdsa_inputs(chain, public_key, message)
        rsv = ethereum.signature_rsv(signature, recovery_id)
        _check_recovers(public_key, bytes(signature) + bytes([check_recovery_id(recovery_id)]), message)
        return {"chain": chain, "address": ethereum.address(public_key), "chain_signature": "0x" + rsv.hex()}
    if chain == "bitcoin" and isinstance(public_key, bytes | bytearray) and len(public_key) == bip340.XONLY_LEN:
        # A 32-byte x-only key is a Taproot output key: the signature is BIP-340, the address P2TR.
        if not bip340.verify(bytes(public_key), bytes(message), bytes(signature)):
            raise ValueError("BIP-340 signature does not verify for this output key and digest")
        return {"chain": chain, "address": bitcoin.p2tr_address(public_key), "chain_signature": bytes(signature).hex()}
    if chain == "bitcoin":
        _check_ecdsa_inputs(chain, public_key, message)
        der = bitcoin.der_signature(signature)
        if not coincurve.PublicKey(bytes(public_key)).verify(der, bytes(message), hasher=None):
            raise ValueError("signature does not verify for this key and digest")
        return {"chain": chain, "address": bitcoin.p2wpkh_address(public_key), "chain_signature": der.hex()}
    if chain == "solana":
        if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != 32:
            raise ValueError("solana needs a 32-byte Ed25519 public key (use the FROST protocol)")
        sig = solana.chain_signature(public_key, signature, message)
        return {"chain": chain, "address": solana.address(public_key), "chain_signature": b58encode(sig)}
    raise ValueError(f"unknown chain {chain!r}; expected one of {', '.join(CHAINS)}")


def _check_ecdsa_inputs(chain: str, public_key: bytes, message: bytes) -> None:
    if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != 33:
        raise ValueError(f"{chain} needs a 33-byte compressed secp256k1 public key (use the GG20 protocol)")
    if not isinstance(message, (bytes, bytearray)) or len(message) != 32:
        raise ValueError(f"{chain} signs a 32-byte digest; got a {len(message)}-byte message")


def _check_recovers(public_key: bytes, recoverable: bytes, digest: bytes) -> None:
    try:
        recovered = coincurve.PublicKey.from_signature_and_message(recoverable, bytes(digest), hasher=None)
    except Exception as exc:  # libsecp256k1 raises plain Exception when no key recovers
        raise ValueError("signature and recovery_id do not recover a public key") from exc
    if recovered.format(compressed=True) != bytes(public_key):
        raise ValueError("signature and recovery_id recover a different public key")
