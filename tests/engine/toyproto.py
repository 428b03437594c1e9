"""A tiny honest commit-reveal protocol, used only to test engine mechanics (deadlines, buffering,
duplicates, limits) without the cost of real cryptography. Tests that claim a real protocol works use FROST.

Round 1: every party broadcasts c_i = H(i || r_i).
Round 2: every party broadcasts r_i and sends each other party j the point-to-point a_ij = H(c_j || r_i).
Finish: every reveal must match its commitment and every a_ji must match; the "public key" is
H(r_1 || ... || r_n), equal at every party. A mismatch is a ProtocolError naming the sender.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from signer.engine.model import ED25519, DkgRequest, SignRequest
from signer.engine.registry import ProtocolBinding
from signer.protocols.base import (
    BROADCAST,
    DkgResult,
    InboxKey,
    Outgoing,
    ProtocolError,
    RoundSpec,
    SessionProtocol,
    SignResult,
)


def _h(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


class CommitReveal(SessionProtocol):
    def __init__(self, session_id: str, party_index: int, parties: tuple[int, ...], sign: bool = False) -> None:
        self.session_id = session_id
        self.party_index = party_index
        self.parties = parties
        self._others = frozenset(parties) - {party_index}
        self._sign = sign
        self._nonce = os.urandom(32)
        self._commit = _h(party_index.to_bytes(4, "big"), self._nonce)
        self._commits: dict[int, bytes] = {}
        self._round = 1
        self._result: DkgResult | SignResult | None = None

    def start(self) -> list[Outgoing]:
        return [Outgoing(BROADCAST, 1, self._commit)]

    def expected(self) -> RoundSpec | None:
        if self._round == 1:
            return RoundSpec(1, broadcast_from=self._others)
        if self._round == 2:
            return RoundSpec(2, broadcast_from=self._others, p2p_from=self._others)
        return None

    def advance(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        if self._round == 1:
            self._commits = {p: inbox[InboxKey(p, True)] for p in self._others}
            self._round = 2
            out = [Outgoing(BROADCAST, 2, self._nonce)]
            out += [Outgoing(p, 2, _h(self._commits[p], self._nonce)) for p in sorted(self._others)]
            return out
        nonces = {self.party_index: self._nonce}
        for p in sorted(self._others):
            nonce = inbox[InboxKey(p, True)]
            if _h(p.to_bytes(4, "big"), nonce) != self._commits[p]:
                raise ProtocolError(f"party {p} revealed a value that does not match its commitment", [p])
            if inbox[InboxKey(p, False)] != _h(self._commit, nonce):
                raise ProtocolError(f"party {p} acknowledged another commitment", [p])
            nonces[p] = nonce
        key = _h(*(nonces[p] for p in sorted(nonces)))
        self._round = 3
        if self._sign:
            self._result = SignResult(signature=key + key, public_key=key)
        else:
            self._result = DkgResult(public_key=key, key_share=self._nonce)
        return []

    @property
    def result(self) -> DkgResult | SignResult:
        assert self._result is not None
        return self._result


#: The toy protocol's registry key: protocol "toy", curve label ed25519.
TOY = ("toy", ED25519)


def toy_protocols(**overrides: object) -> dict[tuple[str, str], ProtocolBinding]:
    """An engine registry holding only the toy protocol (`overrides` as for `toy_binding`)."""
    return {TOY: toy_binding(**overrides)}


def toy_binding(**overrides: object) -> ProtocolBinding:
    """The commit-reveal protocol as an engine protocol (registry key `TOY`)."""

    def new_dkg(req: DkgRequest, preparams: bytes | None) -> SessionProtocol:
        return CommitReveal(req.session_id, req.party_index, tuple(range(1, req.total_parties + 1)))

    def new_sign(req: SignRequest, party_index: int, key_share: bytes, presignature: bytes | None) -> SessionProtocol:
        return CommitReveal(req.session_id, party_index, req.signers, sign=True)

    return ProtocolBinding(new_dkg=new_dkg, new_sign=new_sign, **overrides)  # type: ignore[arg-type]
