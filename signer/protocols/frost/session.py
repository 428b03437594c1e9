"""FROST as engine sessions (`SessionProtocol`): a three-round DKG and a two-round signing.

DKG rounds: 1 broadcast `DkgRound1` (commitments, proof of knowledge, X25519 key); 2 point-to-point
`DkgRound2` (the share, sealed end to end); 3 broadcast `DkgConfirm` (transcript digest, so an
equivocating relay is caught before a key is kept). The result's `key_share` is `KeyShare.encode()`.

Signing rounds: 1 broadcast `SignRound1` (nonce commitments); 2 broadcast `SignRound2` (signature
share). Every party then verifies every other share (naming the culprit), aggregates and verifies the
final signature, so each party ends with the same RFC 8032 signature.

The nonces live only inside the session object and are consumed by round 2 (see `core`): a session
restored after a crash cannot exist, the engine fails the session and the signing starts over.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from signer.protocols.base import (
    BROADCAST,
    DecodeError,
    DkgResult,
    InboxKey,
    Outgoing,
    ProtocolError,
    RoundSpec,
    SessionProtocol,
    SignResult,
)
from signer.protocols.frost import core, dkg
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, Ciphersuite
from signer.protocols.frost.keys import KeyShare, KeyShareInfo, key_share_info, public_key_of
from signer.protocols.frost.messages import DkgConfirm, DkgRound1, DkgRound2, SignRound1, SignRound2
from signer.protocols.frost.taproot import TaprootOutput, output_key_share
from signer.protocols.frost.tweak import derived_key_share
from signer.protocols.params import validate_keygen_args, validate_session_id, validate_signers

__all__ = ["FrostDkgSession", "FrostSignSession", "KeyShareInfo", "key_share_info", "public_key_of"]


def _decode_from(sender: int, decode: Any, *args: Any) -> Any:
    """Decode one party's payload; a malformed payload is that party's fault."""
    try:
        return decode(*args)
    except DecodeError as exc:
        raise DecodeError(f"malformed payload from party {sender}: {exc}", [sender]) from exc


class _Rounds(SessionProtocol):
    """Round bookkeeping shared by both sessions: which inbox each round expects, dead after a failure."""

    def __init__(self, party_index: int, parties: tuple[int, ...]) -> None:
        self.party_index = party_index
        self.parties = parties
        self.others = frozenset(parties) - {party_index}
        self._round = 0  # 0 = not started; _last_round() + 1 = finished
        self._failed = False
        self._result: Any = None

    @abstractmethod
    def _spec(self, round: int) -> RoundSpec: ...

    @abstractmethod
    def _last_round(self) -> int: ...

    def expected(self) -> RoundSpec | None:
        if self._failed or self._round == 0 or self._round > self._last_round():
            return None
        return self._spec(self._round)

    def _take(self, inbox: Mapping[InboxKey, bytes]) -> tuple[int, dict[int, bytes]]:
        spec = self.expected()
        if spec is None:
            raise ProtocolError("session is not waiting for messages")
        if frozenset(inbox) != spec.keys():
            raise ValueError("inbox must hold exactly the messages expected() names")
        return spec.round, {k.from_party: v for k, v in inbox.items()}

    def _run(self, step: Any, *args: Any) -> list[Outgoing]:
        """Run a round step; any failure makes the session dead."""
        try:
            out = step(*args)
        except BaseException:
            self._failed = True
            raise
        self._round += 1
        return out

    def start(self) -> list[Outgoing]:
        if self._round != 0 or self._failed:
            raise ProtocolError("session already started")
        return self._run(self._start)

    def advance(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        round, payloads = self._take(inbox)
        return self._run(self._advance, round, payloads)

    @property
    def result(self) -> Any:
        if self._result is None:
            raise ProtocolError("session has no result")
        return self._result

    @abstractmethod
    def _start(self) -> list[Outgoing]: ...

    @abstractmethod
    def _advance(self, round: int, payloads: dict[int, bytes]) -> list[Outgoing]: ...


class FrostDkgSession(_Rounds):
    """One party's FROST DKG (`dkg.part1/2/3` plus a confirmation round)."""

    def __init__(
        self,
        session_id: str,
        party_index: int,
        threshold: int,
        parties: tuple[int, ...],
        suite: Ciphersuite = FROST_ED25519_SHA512,
    ) -> None:
        validate_session_id(session_id)
        parties = validate_keygen_args(party_index, threshold, parties)
        super().__init__(party_index, parties)
        self.suite = suite
        self.params = dkg.DkgParams(session_id, threshold, self.parties)
        self._secret1: dkg.Round1Secret | None = None
        self._secret2: dkg.Round2Secret | None = None
        self._digest = b""
        self._key: KeyShare | None = None

    def _last_round(self) -> int:
        return 3

    def _spec(self, round: int) -> RoundSpec:
        if round == 2:
            return RoundSpec(2, p2p_from=self.others)
        return RoundSpec(round, broadcast_from=self.others)

    def _start(self) -> list[Outgoing]:
        self._secret1 = dkg.part1(self.suite, self.params, self.party_index)
        return [Outgoing(BROADCAST, 1, self._secret1.package.encode(self.suite))]

    def _advance(self, round: int, payloads: dict[int, bytes]) -> list[Outgoing]:
        suite = self.suite
        if round == 1:
            assert self._secret1 is not None
            received = {
                j: _decode_from(j, DkgRound1.decode, suite, p, self.params.threshold) for j, p in payloads.items()
            }
            self._secret2, shares = dkg.part2(suite, self._secret1, received)
            self._secret1 = None
            return [Outgoing(j, 2, msg.encode(suite)) for j, msg in sorted(shares.items())]
        if round == 2:
            assert self._secret2 is not None
            received2 = {j: _decode_from(j, DkgRound2.decode, suite, p) for j, p in payloads.items()}
            key_package, public = dkg.part3(suite, self._secret2, received2)
            self._digest = dkg.transcript_digest(suite, self.params, self._secret2, public)
            self._secret2 = None
            self._key = KeyShare(suite, key_package, public)
            return [Outgoing(BROADCAST, 3, DkgConfirm(self._digest).encode(suite))]
        confirms = {j: _decode_from(j, DkgConfirm.decode, suite, p) for j, p in payloads.items()}
        assert self._key is not None
        differing = sorted(j for j, c in confirms.items() if c.digest != self._digest)
        if differing:
            # Either those parties or the relay showed different round-1 broadcasts: not provable who.
            raise ProtocolError(f"parties {differing} saw a different DKG transcript")
        self._result = DkgResult(public_key=self._key.info.public_key, key_share=self._key.encode())
        return []


class FrostSignSession(_Rounds):
    """One signer's FROST signing (RFC 9591 rounds one and two, then share verification and aggregation)."""

    def __init__(
        self,
        session_id: str,
        party_index: int,
        key_share: bytes,
        message: bytes,
        signers: tuple[int, ...],
        taproot: TaprootOutput | None = None,
        derivation_path: tuple[int, ...] = (),
    ) -> None:
        """A FROST(secp256k1) key may sign for its BIP-32 child at a non-hardened `derivation_path`
        (`tweak`), and with `taproot` BIP-340 for the BIP-341 output key of that key (`taproot`); the
        result's public_key is the key the signature verifies under (0x02 || x-only key for Taproot)."""
        validate_session_id(session_id)
        try:
            key = KeyShare.decode(key_share)
        except DecodeError as exc:
            raise ValueError(f"invalid key share: {exc}") from exc
        info = key.info
        if party_index != info.party_index:
            raise ValueError("party_index does not match the key share")
        signers = validate_signers(party_index, signers, info.parties, info.threshold)
        if not isinstance(message, bytes):
            raise ValueError("message must be bytes")
        super().__init__(party_index, signers)
        self.session_id = session_id
        key = derived_key_share(key, derivation_path)
        if taproot is not None:
            key = output_key_share(key, taproot)
        self.suite = key.suite
        self._key = key
        self._message = message
        self._nonces: core.SigningNonces | None = None
        self._ctx: core.SigningContext | None = None
        self._own_share = 0

    def _last_round(self) -> int:
        return 2

    def _spec(self, round: int) -> RoundSpec:
        return RoundSpec(round, broadcast_from=self.others)

    def _start(self) -> list[Outgoing]:
        self._nonces = core.commit(self.suite, self._key.key_package.signing_share)
        return [Outgoing(BROADCAST, 1, SignRound1(self._nonces.commitments).encode(self.suite))]

    def _advance(self, round: int, payloads: dict[int, bytes]) -> list[Outgoing]:
        suite = self.suite
        if round == 1:
            assert self._nonces is not None
            commitments = {j: _decode_from(j, SignRound1.decode, suite, p).commitments for j, p in payloads.items()}
            commitments[self.party_index] = self._nonces.commitments
            self._ctx = core.signing_context(
                suite,
                self._key.public.group_public_key,
                commitments,
                self._message,
                own=(self.party_index, self._nonces),
            )
            nonces, self._nonces = self._nonces, None
            self._own_share = core.sign(suite, self._key.key_package, nonces, self._ctx)
            return [Outgoing(BROADCAST, 2, SignRound2(self._own_share).encode(suite))]
        assert self._ctx is not None
        shares = {j: _decode_from(j, SignRound2.decode, suite, p).share for j, p in payloads.items()}
        verifying = self._key.public.verifying_shares
        bad = [
            j
            for j, z in sorted(shares.items())
            if not core.verify_signature_share(suite, j, verifying[j], z, self._ctx)
        ]
        if bad:
            raise core.InvalidSignature(f"invalid signature share from parties {bad}", bad)
        shares[self.party_index] = self._own_share
        signature = core.aggregate(suite, shares, self._ctx)
        public_key = suite.group.encode_point(self._ctx.group_public_key)
        if not suite.verify(self._ctx.group_public_key, self._message, signature):
            raise core.InvalidSignature("aggregate signature does not verify")
        self._result = SignResult(signature=signature, public_key=public_key, recovery_id=0)
        return []
