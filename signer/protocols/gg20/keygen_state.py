"""One party's GG20 key-generation state, shared by the round modules keygen_round1..3 and keygen_finish."""

from __future__ import annotations

import secrets

from signer.crypto.e2e import E2EKeyPair
from signer.crypto.paillier import PaillierPublicKey
from signer.crypto.preparams import PreParams
from signer.crypto.ringpedersen import RingPedersenParams
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.secp256k1 import Point
from signer.crypto.vss import Polynomial
from signer.crypto.zk.base import ProofContext
from signer.protocols.base import ProtocolError

from .keyshare import CHAIN_CODE_LEN

K_R1, K_R2B, K_R2P, K_R3 = 0x41, 0x42, 0x43, 0x44
VERSION = 1
COMMIT_PURPOSE = b"keygen/vss"
E2E_LABEL = b"gg20/keygen/share"
MAX_MODULUS = 1100
MAX_PROOF = 1 << 20


def vss_message(commitments: list[Point], chain: bytes) -> bytes:
    """What round 1 commits to: the chain-code contribution and the Feldman commitments."""
    return chain + b"".join(p.encode() for p in commitments)


class KeygenState:
    def __init__(self, session_id: str, i: int, threshold: int, parties: tuple[int, ...], preparams: PreParams) -> None:
        self.session_id = session_id
        self.i = i
        self.threshold = threshold
        self.parties = parties
        self.others = tuple(p for p in parties if p != i)
        self.pre = preparams
        self.e2e = E2EKeyPair.generate()
        self.poly = Polynomial.random(GROUP, GROUP.random_scalar(), threshold - 1)
        self.vss = self.poly.commit(GROUP)
        self.chain = secrets.token_bytes(CHAIN_CODE_LEN)
        self.peer_e2e: dict[int, bytes] = {}
        self.peer_commit: dict[int, bytes] = {}
        self.paillier: dict[int, PaillierPublicKey] = {i: preparams.paillier.public}
        self.rp: dict[int, RingPedersenParams] = {i: preparams.ring_pedersen.public}
        # Set by later rounds: round 1 (commitment, salt), round 3 (the rest).
        self.commitment: bytes
        self.salt: bytes
        self.public_key: Point
        self.public_shares: dict[int, Point]
        self.x: int
        self.chain_code: bytes

    def __repr__(self) -> str:
        return f"KeygenState(party={self.i}, parties={self.parties}, secret=<redacted>)"

    def ctx(self, prover: int, verifier: int = 0) -> ProofContext:
        """Every keygen proof is bound to the prover's X25519 key, so the key that shares are sealed to
        cannot be swapped without also replacing the prover's Paillier modulus and its proofs."""
        e2e_key = self.e2e.public if prover == self.i else self.peer_e2e[prover]
        return ProofContext(self.session_id.encode("utf-8"), prover, verifier, b"gg20/keygen/" + e2e_key)

    def check_distinct_keys(self, j: int) -> None:
        """A modulus or ring-Pedersen Ñ reused from another party is refused (it would be another's key)."""
        for k in self.paillier:
            if k != j and (self.paillier[k].n == self.paillier[j].n or self.rp[k].n == self.rp[j].n):
                raise ProtocolError(f"party {j} reuses another party's Paillier or ring-Pedersen modulus", [j])
