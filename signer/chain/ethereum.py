"""Ethereum: EIP-55 addresses, `v` values, EIP-191 personal-message digests and EIP-1559 transactions.

The node signs 32-byte digests (SPEC §2), so this module's job is the two directions around that:
produce the digest a wallet would sign (personal message, type-2 transaction), and turn the node's
r||s + recovery_id into what Ethereum accepts (`v`, a serialized signed transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from signer.chain.keccak import keccak256
from signer.chain.rlp import RlpItem, rlp_encode, rlp_int
from signer.chain.secp256k1 import HALF_N, check_recovery_id, parse_public_key, split_signature

_UINT256_MAX = (1 << 256) - 1
_EIP1559_TYPE = b"\x02"


def to_checksum_address(raw: bytes) -> str:
    """EIP-55: hex address where letter i is upper case when nibble i of keccak256(lowercase hex) is >= 8."""
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != 20:
        raise ValueError("an Ethereum address is 20 bytes")
    hex_addr = bytes(raw).hex()
    hashed = keccak256(hex_addr.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(hex_addr, hashed[:40], strict=True))


def address(public_key: bytes) -> str:
    """Checksummed address of a secp256k1 key: last 20 bytes of keccak256(uncompressed X||Y)."""
    point = parse_public_key(public_key).format(compressed=False)
    return to_checksum_address(keccak256(point[1:])[12:])


def v_from_recovery_id(recovery_id: int, chain_id: int | None = None) -> int:
    """`v`: legacy / personal_sign 27 + rid, or with chain_id EIP-155 chain_id*2 + 35 + rid."""
    rid = check_recovery_id(recovery_id)
    if chain_id is None:
        return 27 + rid
    _check_uint("chain_id", chain_id)
    if chain_id == 0:
        raise ValueError("chain_id must be positive")
    return chain_id * 2 + 35 + rid


def personal_message_digest(message: bytes) -> bytes:
    """EIP-191 version 0x45: keccak256("\\x19Ethereum Signed Message:\\n" + len(message) + message)."""
    if not isinstance(message, (bytes, bytearray)):
        raise ValueError("message must be bytes")
    prefix = b"\x19Ethereum Signed Message:\n" + str(len(message)).encode("ascii")
    return keccak256(prefix + bytes(message))


def signature_rsv(signature: bytes, recovery_id: int, chain_id: int | None = None) -> bytes:
    """The 65-byte r||s||v that personal_sign / ecrecover tooling expects (v must fit one byte)."""
    _check_low_s(signature)
    v = v_from_recovery_id(recovery_id, chain_id)
    if v > 0xFF:
        raise ValueError("v does not fit one byte for this chain_id; use the transaction encoding instead")
    return bytes(signature) + bytes([v])


@dataclass(frozen=True)
class AccessListEntry:
    """One EIP-2930 access-list entry: a 20-byte address and the 32-byte storage keys it touches."""

    address: bytes
    storage_keys: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.address, bytes) or len(self.address) != 20:
            raise ValueError("access list address must be 20 bytes")
        if any(not isinstance(k, bytes) or len(k) != 32 for k in self.storage_keys):
            raise ValueError("access list storage keys must be 32 bytes each")


@dataclass(frozen=True)
class Eip1559Transaction:
    """An EIP-1559 (type 2) transaction's fields; `to=None` creates a contract."""

    chain_id: int
    nonce: int
    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    gas_limit: int
    to: bytes | None
    value: int
    data: bytes = b""
    access_list: Sequence[AccessListEntry] = field(default=())

    def __post_init__(self) -> None:
        for name in (
            "chain_id",
            "nonce",
            "max_priority_fee_per_gas",
            "max_fee_per_gas",
            "gas_limit",
            "value",
        ):
            _check_uint(name, getattr(self, name))
        if self.chain_id == 0:
            raise ValueError("chain_id must be positive")
        if self.nonce >= 1 << 64:
            raise ValueError("nonce must be below 2**64 (EIP-2681)")
        if self.to is not None and (not isinstance(self.to, bytes) or len(self.to) != 20):
            raise ValueError("to must be a 20-byte address or None")
        if not isinstance(self.data, bytes):
            raise ValueError("data must be bytes")
        if any(not isinstance(e, AccessListEntry) for e in self.access_list):
            raise ValueError("access_list entries must be AccessListEntry")

    def _payload_fields(self) -> list[RlpItem]:
        # EIP-1559: [chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas, gas_limit,
        #            destination, amount, data, access_list]
        access: list[RlpItem] = [[e.address, list(e.storage_keys)] for e in self.access_list]
        return [
            rlp_int(self.chain_id),
            rlp_int(self.nonce),
            rlp_int(self.max_priority_fee_per_gas),
            rlp_int(self.max_fee_per_gas),
            rlp_int(self.gas_limit),
            self.to or b"",
            rlp_int(self.value),
            self.data,
            access,
        ]

    def signing_digest(self) -> bytes:
        """keccak256(0x02 || rlp(payload fields)): the 32-byte digest the node signs."""
        return keccak256(_EIP1559_TYPE + rlp_encode(self._payload_fields()))

    def serialize_signed(self, signature: bytes, recovery_id: int) -> bytes:
        """0x02 || rlp(payload fields + [y_parity, r, s]): ready for eth_sendRawTransaction."""
        r, s = _check_low_s(signature)
        y_parity = check_recovery_id(recovery_id)
        fields = self._payload_fields() + [rlp_int(y_parity), rlp_int(r), rlp_int(s)]
        return _EIP1559_TYPE + rlp_encode(fields)

    def signed_hash(self, signature: bytes, recovery_id: int) -> bytes:
        """The transaction hash block explorers show: keccak256 of the serialized signed transaction."""
        return keccak256(self.serialize_signed(signature, recovery_id))


def _check_uint(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _UINT256_MAX:
        raise ValueError(f"{name} must be an integer in [0, 2**256)")


def _check_low_s(signature: bytes) -> tuple[int, int]:
    r, s = split_signature(signature)
    if s > HALF_N:
        raise ValueError("signature s is above n/2; Ethereum (EIP-2) accepts only low-s signatures")
    return r, s
