"""FROST as engine sessions (`SessionProtocol`): a three-round DKG and a two-round signing.

DKG rounds: 1 broadcast `DkgRound1` (commitments, proof of knowledge, X25519 key); 2 point-to-point
`DkgRound2` (the share, sealed end to end); 3 broadcast `DkgConfirm` (transcript digest, so an
equivocating relay is caught before a key is kept). The result's `key_share` is `FrostKeyShare.encode()`.

Signing rounds: 1 broadcast `SignRound1` (nonce commitments); 2 broadcast `SignRound2` (signature
share). Every party then verifies every other share (naming the culprit), aggregates and verifies the
final signature, so each party ends with the same RFC 8032 signature.

The nonces live only inside the session object and are consumed by round 2 (see `core`): a session
restored after a crash cannot exist, the engine fails the session and the signing starts over.
"""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto import bip340
from signer.protocols.base import (
    DecodeError,
    DkgResult,
    InboxKey,
    Outgoing,
    ProtocolError,
    RoundMachine,
    SignResult,
)
from signer.protocols.frost import core, dkg
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, Ciphersuite
from signer.protocols.frost.keys import FrostKeyInfo, FrostKeyShare, key_share_info, public_key_of
from signer.protocols.frost.messages import DkgConfirm, DkgRound1, DkgRound2, SignRound1, SignRound2
from signer.protocols.frost.taproot import TaprootOutput, output_key_share
from signer.protocols.frost.tweak import derived_key_share
from signer.protocols.params import validate_keygen_args, validate_signers

__all__ = ["FrostDkgSession", "FrostKeyInfo", "FrostSignSession", "key_share_info", "public_key_of"]


class FrostDkgSession(RoundMachine):
    """One party's FROST DKG (`dkg.part1/2/3` plus a confirmation round)."""

    def __init__(
        self,
        session_id: str,
        party_index: int,
        threshold: int,
        parties: tuple[int, ...],
        suite: Ciphersuite = FROST_ED25519_SHA512,
    ) -> None:
        parties = validate_keygen_args(party_index, threshold, parties)
        super().__init__(session_id, party_index, parties)
        self.suite = suite
        self.params = dkg.DkgParams(session_id, threshold, self.parties)
        self._secret1: dkg.Round1Secret | None = None
        self._secret2: dkg.Round2Secret | None = None
        self._digest = b""
        self._key: FrostKeyShare | None = None

    def _start(self) -> list[Outgoing]:
        self._secret1 = dkg.part1(self.suite, self.params, self.party_index)
        self._expect(1, self._part2)
        return [self.broadcast(1, self._secret1.package.encode(self.suite))]

    def _part2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._secret1 is not None
        threshold = self.params.threshold
        received = self._receive(inbox, "DKG round-1 package", lambda _, p: DkgRound1.decode(self.suite, p, threshold))
        self._secret2, shares = dkg.part2(self.suite, self._secret1, received)
        self._secret1 = None
        self._expect(2, self._part3, broadcast=False, p2p=True)
        return [Outgoing(j, 2, msg.encode(self.suite)) for j, msg in sorted(shares.items())]

    def _part3(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._secret2 is not None
        received = self._receive(inbox, "DKG round-2 share", lambda _, p: DkgRound2.decode(self.suite, p), p2p=True)
        key_package, public = dkg.part3(self.suite, self._secret2, received)
        self._digest = dkg.transcript_digest(self.suite, self.params, self._secret2, public)
        self._secret2 = None
        self._key = FrostKeyShare(self.suite, key_package, public)
        self._expect(3, self._confirm)
        return [self.broadcast(3, DkgConfirm(self._digest).encode(self.suite))]

    def _confirm(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._key is not None
        confirms = self._receive(inbox, "DKG confirmation", lambda _, p: DkgConfirm.decode(self.suite, p))
        differing = sorted(j for j, c in confirms.items() if c.digest != self._digest)
        if differing:
            # Either those parties or the relay showed different round-1 broadcasts: not provable who.
            raise ProtocolError(f"parties {differing} saw a different DKG transcript")
        self._finish(DkgResult(public_key=self._key.info.public_key, key_share=self._key.encode()))
        return []


class FrostSignSession(RoundMachine):
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
        (`tweak`), and with `taproot` BIP-340 for the BIP-341 output key of that key (`taproot`). The
        result's public_key is the (derived) key; for Taproot that is the internal key, and the result's
        output_key is the 32-byte x-only output key the signature verifies under."""
        try:
            key = FrostKeyShare.decode(key_share)
        except DecodeError as exc:
            raise ValueError(f"invalid key share: {exc}") from exc
        info = key.info
        if party_index != info.party_index:
            raise ValueError("party_index does not match the key share")
        signers = validate_signers(party_index, signers, info.parties, info.threshold)
        if not isinstance(message, bytes):
            raise ValueError("message must be bytes")
        super().__init__(session_id, party_index, signers)
        key = derived_key_share(key, derivation_path)
        self._public_key = key.suite.group.encode_point(key.public.group_public_key)
        self._taproot = taproot is not None
        if taproot is not None:
            key = output_key_share(key, taproot)
        self.suite = key.suite
        self._key = key
        self._message = message
        self._nonces: core.SigningNonces | None = None
        self._ctx: core.SigningContext | None = None
        self._own_share = 0

    def _start(self) -> list[Outgoing]:
        """RFC 9591 round one: commit to fresh nonces."""
        self._nonces = core.commit(self.suite, self._key.key_package.signing_share)
        self._expect(1, self._round2)
        return [self.broadcast(1, SignRound1(self._nonces.commitments).encode(self.suite))]

    def _round2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        """RFC 9591 round two: the signing context from every commitment, then this signer's share."""
        assert self._nonces is not None
        received = self._receive(inbox, "nonce commitments", lambda _, p: SignRound1.decode(self.suite, p))
        commitments = {j: msg.commitments for j, msg in received.items()}
        commitments[self.party_index] = self._nonces.commitments
        self._ctx = core.signing_context(
            self.suite,
            self._key.public.group_public_key,
            commitments,
            self._message,
            own=(self.party_index, self._nonces),
        )
        nonces, self._nonces = self._nonces, None
        self._own_share = core.sign(self.suite, self._key.key_package, nonces, self._ctx)
        self._expect(2, self._aggregate)
        return [self.broadcast(2, SignRound2(self._own_share).encode(self.suite))]

    def _aggregate(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        """RFC 9591 5.4 then 5.3: verify every share (naming the culprits), aggregate, verify the result."""
        ctx = self._ctx
        assert ctx is not None
        received = self._receive(inbox, "signature share", lambda _, p: SignRound2.decode(self.suite, p))
        shares = {j: msg.share for j, msg in received.items()}
        verifying = self._key.public.verifying_shares
        bad = [
            j for j, z in sorted(shares.items()) if not core.verify_signature_share(self.suite, j, verifying[j], z, ctx)
        ]
        if bad:
            raise core.InvalidSignature(f"invalid signature share from parties {bad}", bad)
        shares[self.party_index] = self._own_share
        signature = core.aggregate(self.suite, shares, ctx)
        if not self.suite.verify(ctx.group_public_key, self._message, signature):
            raise core.InvalidSignature("aggregate signature does not verify")
        output_key = bip340.xonly(ctx.group_public_key) if self._taproot else b""
        self._finish(SignResult(signature=signature, public_key=self._public_key, output_key=output_key))
        return []
