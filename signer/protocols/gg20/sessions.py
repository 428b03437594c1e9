"""The GG20 presigning and signing sessions: SessionProtocol state machines over presign_round1..4 / online.py.

Gg20PresignSession: rounds 1–4 of presigning; result: a single-use `Presignature`.
Gg20SignSession:    with presignature=None, presigning rounds 1–4 then the online round 5 in one
                    session; with a presignature, only the online round 1.
Either way, a failed phase-5/6 check runs the identification round (5) and fails naming the culprit,
and the signature is verified before it is released.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping

from signer.crypto.codec import Reader, Writer
from signer.crypto.hd import derive_public
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.secp256k1 import Point
from signer.protocols.base import DecodeError, InboxKey, Outgoing
from signer.protocols.params import validate_signers

from . import identify, online, presign_finish, presign_round1, presign_round2, presign_round3, presign_round4
from .common import RoundMachine, blame
from .keyshare import KeyShare
from .presign_state import PresignState
from .presignature import Presignature, PresignatureData

P_ONLINE = 0x59
VERSION = 1


def _load_key(key_share: bytes) -> KeyShare:
    if not isinstance(key_share, bytes | bytearray):
        raise ValueError("key_share must be bytes")
    try:
        return KeyShare.decode(bytes(key_share))
    except DecodeError as exc:
        raise ValueError(f"invalid key share: {exc}") from None


class _PresignRounds(RoundMachine):
    """Rounds 1–4 of presigning and the identification round, shared by both sessions."""

    def __init__(
        self, session_id: str, party_index: int, key_share: bytes, signers: tuple[int, ...], presigning: bool = True
    ) -> None:
        key = _load_key(key_share)
        if party_index != key.party_index:
            raise ValueError(f"key share belongs to party {key.party_index}, not {party_index}")
        signers = validate_signers(party_index, signers, key.parties, key.threshold)
        super().__init__(session_id, party_index, signers)
        self.key = key
        self.signers = signers
        if presigning:
            try:
                key.aux  # noqa: B018 - decode and validate the Paillier / ring-Pedersen material now
            except DecodeError as exc:
                raise ValueError(f"invalid key share: {exc}") from None
        self._core: PresignState | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(session={self.session_id!r}, party={self.party_index}, secret=<redacted>)"

    def _start_presign(self) -> list[Outgoing]:
        self._core = PresignState(self.session_id, self.key, self.signers)
        self._next(1, self._r2, p2p=True)
        return presign_round1.round1(self._core, 1)

    def _r2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._core is not None
        out = presign_round2.round2(self._core, inbox, 2)
        self._next(2, self._r3, p2p=True)
        return out

    def _r3(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._core is not None
        out = presign_round3.round3(self._core, inbox, 3)
        self._next(3, self._r4)
        return out

    def _r4(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._core is not None
        out = presign_round4.round4(self._core, inbox, 4)
        self._next(4, self._r_finish, p2p=True)
        return out

    def _r_finish(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._core is not None
        pre = presign_finish.finish(self._core, inbox)
        if pre is None:
            self._next(5, self._r_identify)
            return [self.broadcast(5, identify.encode_reveal(self._core))]
        self._core = None  # k_i, γ_i and the MtA state are no longer needed
        return self._presigned(pre)

    def _r_identify(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._core is not None
        raise identify.identify(self._core, inbox)

    @abstractmethod
    def _presigned(self, pre: PresignatureData) -> list[Outgoing]:
        """What the session does with a finished presignature."""


class Gg20PresignSession(_PresignRounds):
    """GG20 presigning among `signers`; `result` is a single-use `Presignature`."""

    def start(self) -> list[Outgoing]:
        self._begin()
        return self._start_presign()

    def _presigned(self, pre: PresignatureData) -> list[Outgoing]:
        self._finish(Presignature(pre))
        return []


class Gg20SignSession(_PresignRounds):
    """GG20 signing of a 32-byte digest, optionally with a BIP-32 non-hardened derivation path."""

    def __init__(
        self,
        session_id: str,
        party_index: int,
        key_share: bytes,
        digest: bytes,
        signers: tuple[int, ...],
        derivation_path: tuple[int, ...] = (),
        presignature: bytes | Presignature | None = None,
    ) -> None:
        super().__init__(session_id, party_index, key_share, signers, presigning=presignature is None)
        if not isinstance(digest, bytes | bytearray) or len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        self.digest = bytes(digest)
        if not isinstance(derivation_path, tuple | list) or any(
            not isinstance(i, int) or isinstance(i, bool) for i in derivation_path
        ):
            raise ValueError("derivation_path must be a tuple of integers")
        derived = derive_public(self.key.public_key.encode(), self.key.chain_code, tuple(derivation_path))
        self._tweak, self._child = derived.tweak, Point.decode(derived.public_key)
        self._pre: PresignatureData | None = None
        if presignature is not None:
            self._pre = self._load_presignature(presignature)

    def _load_presignature(self, presignature: bytes | Presignature) -> PresignatureData:
        data = presignature.consume() if isinstance(presignature, Presignature) else presignature
        if not isinstance(data, bytes | bytearray):
            raise ValueError("presignature must be bytes or a Presignature")
        try:
            pre = PresignatureData.decode(bytes(data))
        except DecodeError as exc:
            raise ValueError(f"invalid presignature: {exc}") from None
        if pre.party_index != self.party_index or pre.public_key != self.key.public_key:
            raise ValueError("presignature belongs to another party or key")
        if pre.signers != self.signers:
            raise ValueError("presignature was made for a different signer set")
        return pre

    def start(self) -> list[Outgoing]:
        self._begin()
        if self._pre is None:
            return self._start_presign()
        return self._presigned(self._pre, round_no=1)

    def _presigned(self, pre: PresignatureData, round_no: int = 5) -> list[Outgoing]:
        self._pre = pre
        self._ctx = online.online_context(pre, self.digest, self._tweak, self._child)
        s_i = online.share(pre, self._ctx)
        self._next(round_no, self._combine)
        return [self.broadcast(round_no, Writer(P_ONLINE, VERSION).scalar(GROUP, s_i).done())]

    def _combine(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        pre = self._pre
        assert pre is not None
        shares = {self.party_index: online.share(pre, self._ctx)}
        for j in self.others:
            with blame(j, "signature share"):
                r = Reader(inbox[InboxKey(j, True)], P_ONLINE, VERSION)
                shares[j] = r.scalar(GROUP)
                r.end()
        self._pre = None
        self._finish(online.combine(pre, self._ctx, shares))
        return []
