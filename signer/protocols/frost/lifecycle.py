"""FROST key lifecycle as engine sessions: refresh the shares, or reshare to a new party set, same key.

The math is `signer.crypto.reshare`; this module is the rounds around it. Both operations run the
same three rounds among the participants (refresh: every holder of the key; reshare: the old quorum
and the new parties together):

  1 broadcast `LifecycleRound1`: the party's X25519 key for round 2 and, from each dealer, its Feldman
    commitments (refresh: C_1..C_{t-1}, C_0 is the identity and is not sent, as in frost-core's
    refresh.rs; reshare: all t' commitments) and its old public key package, which lets a party with no
    share yet check the reshare constants, and lets a holder see at once that a peer holds another
    version of the key (the session then stops before any share is dealt); the package carries the
    key version, so a party joining the key by a reshare learns it. Every party checks every
    dealing here and computes the new public key package from the commitments alone.
  2 point-to-point `LifecycleShare`: each dealer's share for each receiving party, sealed end to end
    (`signer.crypto.e2e`) and checked against the dealer's commitments on arrival. A reshare party that
    receives nothing (an old party leaving the key) skips this round and confirms at once.
  3 broadcast `LifecycleConfirm`: a digest of the parameters, every round-1 broadcast and the new public
    key package. The new version is `pending` from the moment this party confirms, and its `result` only
    once every other participant confirmed the same digest: the confirmation issue 17's commit rule
    waits for before anyone switches key versions (docs/lifecycle.md).

No proof of knowledge is needed for the constant terms: they are not chosen by the dealer but fixed
by public values (zero for a refresh, lambda_i X_i for a reshare), so there is no rogue-key freedom to
rule out; the e2e contexts and the confirmation digest bind everything to the session id.

The result is a `DkgResult` with the unchanged `public_key` and a `FrostKeyShare` encoding (`keys`) of the
new share, decodable by `FrostSignSession`. A reshare party outside the new set gets an empty
`key_share` (`RETIRED`): it must drop its share once the new version is committed.

The round bookkeeping is `signer.protocols.base.RoundMachine`; a reshare's round 2 waits only for the
dealers (`_expect(..., senders=...)`).
"""

from __future__ import annotations

import hashlib
import struct
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from signer.crypto import e2e, reshare, vss
from signer.crypto.codec import Reader, Writer
from signer.protocols.base import (
    BROADCAST,
    DecodeError,
    DkgResult,
    InboxKey,
    Outgoing,
    ProtocolError,
    RoundMachine,
    attribute,
)
from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, Ciphersuite
from signer.protocols.frost.core import KeyPackage, PublicKeyPackage
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.params import MAX_PARTIES, validate_indices

__all__ = ["RETIRED", "FrostRefreshSession", "FrostReshareSession", "LifecycleConfirm", "LifecycleRound1"]

VERSION = 1
# Version 2 of the round-1 broadcast: the old public key package starts with the key version (u32).
ROUND1_VERSION = 2
KIND_LIFECYCLE_ROUND1 = 0x14
KIND_LIFECYCLE_SHARE = 0x15
KIND_LIFECYCLE_CONFIRM = 0x16
SHARE_ROUND = 2
CONFIRM_ROUND = 3
CONFIRM_SIZE = 32
RETIRED = b""  # the key_share of a reshare party that holds no share in the new version


# --- wire messages ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OldPublicPackage:
    """The old key's public facts a dealer broadcasts: the key version (the store's counter, docs/lifecycle.md
    §5, which a party joining the key learns only from here), threshold, verifying shares, group key."""

    key_version: int
    threshold: int
    verifying_shares: Mapping[int, Any]
    group_public_key: Any

    @classmethod
    def of(cls, key: FrostKeyShare, key_version: int) -> OldPublicPackage:
        public = key.public
        return cls(key_version, key.key_package.threshold, dict(public.verifying_shares), public.group_public_key)


@dataclass(frozen=True)
class LifecycleRound1:
    """Round 1 broadcast: X25519 key, the dealer's commitments (empty for a non-dealer) and, in a
    reshare, the dealer's old public key package."""

    e2e_public: bytes
    commitments: tuple[Any, ...]
    old_public: OldPublicPackage | None

    def encode(self, suite: Ciphersuite) -> bytes:
        g = suite.group
        w = Writer(KIND_LIFECYCLE_ROUND1, ROUND1_VERSION).fixed(self.e2e_public).u16(len(self.commitments))
        for c in self.commitments:
            w.point(g, c)
        old = self.old_public
        if old is None:
            return w.u8(0).done()
        w.u8(1).u32(old.key_version).u16(old.threshold).u16(len(old.verifying_shares))
        for j, x in sorted(old.verifying_shares.items()):
            w.u16(j).point(g, x)
        return w.point(g, old.group_public_key).done()

    @classmethod
    def decode(cls, suite: Ciphersuite, data: bytes, commitments: int, with_old_public: bool) -> LifecycleRound1:
        """Decode, requiring exactly `commitments` commitments and an old package iff `with_old_public`."""
        g = suite.group
        r = Reader(data, KIND_LIFECYCLE_ROUND1, ROUND1_VERSION)
        e2e_public = r.fixed(e2e.PUBLIC_KEY_SIZE)
        count = r.u16()
        if count != commitments:
            raise DecodeError(f"expected {commitments} commitments, got {count}")
        points = tuple(r.point(g) for _ in range(count))
        if r.u8() != int(with_old_public):
            raise DecodeError("old public key package present where not expected, or missing")
        old = None
        if with_old_public:
            key_version, threshold, n = r.u32(), r.u16(), r.u16()
            if key_version < 1:
                raise DecodeError("old public key package: the key version must be at least 1")
            if not 2 <= threshold <= n <= MAX_PARTIES:
                raise DecodeError("old public key package has an invalid threshold or party count")
            shares: dict[int, Any] = {}
            for _ in range(n):
                j = r.u16()
                if j <= max(shares, default=0):
                    raise DecodeError("old public key package indices must be increasing and >= 1")
                shares[j] = r.point(g)
            old = OldPublicPackage(key_version, threshold, shares, r.point(g))
        r.end()
        return cls(e2e_public, points, old)


@dataclass(frozen=True)
class LifecycleShare:
    """Round 2 point-to-point: a dealer's share for the recipient, sealed end to end."""

    sealed_share: bytes

    def encode(self, suite: Ciphersuite) -> bytes:
        return Writer(KIND_LIFECYCLE_SHARE, VERSION).fixed(self.sealed_share).done()

    @classmethod
    def decode(cls, suite: Ciphersuite, data: bytes) -> LifecycleShare:
        r = Reader(data, KIND_LIFECYCLE_SHARE, VERSION)
        msg = cls(r.fixed(suite.group.scalar_size + e2e.OVERHEAD))
        r.end()
        return msg


@dataclass(frozen=True)
class LifecycleConfirm:
    """Round 3 broadcast: the transcript digest every participant must agree on."""

    digest: bytes

    def encode(self, suite: Ciphersuite) -> bytes:
        return Writer(KIND_LIFECYCLE_CONFIRM, VERSION).fixed(self.digest).done()

    @classmethod
    def decode(cls, suite: Ciphersuite, data: bytes) -> LifecycleConfirm:
        r = Reader(data, KIND_LIFECYCLE_CONFIRM, VERSION)
        msg = cls(r.fixed(CONFIRM_SIZE))
        r.end()
        return msg


# --- helpers -------------------------------------------------------------------------------------------


def _check_each(dealings: Mapping[int, tuple[Any, ...]], check: Callable[[int, tuple[Any, ...]], None]) -> None:
    """Run `check` on every dealer's commitments; one ProtocolError names every dealer that failed."""
    failures = []
    for j, commitments in sorted(dealings.items()):
        try:
            check(j, commitments)
        except reshare.DealingError as exc:
            failures.append(exc)
    if failures:
        raise ProtocolError("; ".join(map(str, failures)), [exc.dealer for exc in failures if exc.dealer is not None])


def _decode_key_share(key_share: bytes, party_index: int) -> FrostKeyShare:
    try:
        key = FrostKeyShare.decode(key_share)
    except DecodeError as exc:
        raise ValueError(f"invalid key share: {exc}") from exc
    if key.key_package.identifier != party_index:
        raise ValueError("party_index does not match the key share")
    return key


# --- the shared three rounds ---------------------------------------------------------------------------


class _LifecycleSession(RoundMachine):
    """The three rounds both operations share; subclasses say who deals what and how shares combine."""

    label: bytes  # names the operation in the e2e context and the confirmation digest

    def __init__(
        self,
        session_id: str,
        party_index: int,
        suite: Ciphersuite,
        key: FrostKeyShare | None,
        dealers: tuple[int, ...],
        receivers: tuple[int, ...],
        threshold: int,
        key_version: int,
        expected_key: Any = None,
    ) -> None:
        super().__init__(session_id, party_index, tuple(sorted(set(dealers) | set(receivers))))
        self.suite = suite
        self.dealers = dealers
        self.receivers = receivers
        self.threshold = threshold
        self._key = key
        self._key_version = key_version
        self._from_version = 0
        self._expected_key = expected_key
        self._e2e = e2e.E2EKeyPair.generate()
        self._polynomial: vss.Polynomial | None = None
        self._round1: dict[int, LifecycleRound1] = {}
        self._dealings: dict[int, tuple[Any, ...]] = {}
        self._verifying: dict[int, Any] = {}
        self._group_key: Any = None
        self._digest = b""
        self._share: int | None = None
        self._pending: DkgResult | None = None

    # what the operations differ in
    wire_commitments: int  # how many commitments a dealer sends

    @abstractmethod
    def _deal(self) -> tuple[vss.Polynomial, tuple[Any, ...]]:
        """This dealer's polynomial and the commitments it sends."""

    def _full_commitments(self, sent: tuple[Any, ...]) -> tuple[Any, ...]:
        """A dealer's whole commitment vector from what it sent."""
        return sent

    @abstractmethod
    def _check_dealing(self, dealer: int, commitments: tuple[Any, ...], old: OldPublicPackage) -> None: ...

    @abstractmethod
    def _new_verifying_shares(self, dealings: dict[int, tuple[Any, ...]], old: OldPublicPackage) -> dict[int, Any]: ...

    @abstractmethod
    def _new_share(self, received_sum: int) -> int:
        """This party's new signing share from the sum of the shares dealt to it."""

    # round 1
    def _start(self) -> list[Outgoing]:
        old_public = None
        commitments: tuple[Any, ...] = ()
        if self.party_index in self.dealers:
            assert self._key is not None  # every dealer holds a share (checked by the constructors)
            self._polynomial, commitments = self._deal()
            old_public = OldPublicPackage.of(self._key, self._key_version)
        msg = LifecycleRound1(self._e2e.public, commitments, old_public)
        self._round1[self.party_index] = msg
        self._expect(1, self._on_round1)
        return [Outgoing(BROADCAST, 1, msg.encode(self.suite))]

    def _context(self, sender: int, recipient: int) -> bytes:
        return e2e.context(self.suite.context_string + self.label, self.session_id, sender, recipient, SHARE_ROUND)

    def _decode_round1(self, sender: int, payload: bytes) -> LifecycleRound1:
        dealer = sender in self.dealers
        count = self.wire_commitments if dealer else 0
        return LifecycleRound1.decode(self.suite, payload, count, with_old_public=dealer)

    def _reference_package(self) -> OldPublicPackage:
        """The old public key package every check refers to: our own if we hold a share, else the one the
        dealers all sent, checked to be a consistent sharing of the expected key."""
        if self._key is not None:
            return OldPublicPackage.of(self._key, self._key_version)
        packages = [self._round1[j].old_public for j in self.dealers]
        first = packages[0]
        assert first is not None  # a dealer's round 1 always carries its package
        if any(p != first for p in packages):
            raise ProtocolError("the dealers sent different old public key packages (different key versions)")
        if self._expected_key is not None and first.group_public_key != self._expected_key:
            raise ProtocolError("the dealers' key is not the expected public key")
        try:
            reshare.check_quorum(self.dealers, list(first.verifying_shares), first.threshold)
        except ValueError as exc:
            raise ProtocolError(f"the old public key package does not fit old_parties: {exc}") from exc
        g = self.suite.group
        try:
            reshare.check_verifying_shares(g, first.verifying_shares, first.group_public_key, first.threshold)
        except reshare.DealingError as exc:
            raise ProtocolError(f"the dealers' old public key package is inconsistent: {exc}") from exc
        return first

    def _on_round1(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        received = self._receive(inbox, "round-1 broadcast", self._decode_round1)
        self._round1.update(received)
        old = self._reference_package()
        # A dealer with another package most likely holds another version of the key (a lost commit, a
        # restored backup): not provably malice, so no culprit; and its dealing is not judged against ours.
        stale = [j for j in self.dealers if self._round1[j].old_public != old]
        if stale:
            raise ProtocolError(f"parties {stale} started from a different version of the key")
        self._dealings = {j: self._full_commitments(self._round1[j].commitments) for j in self.dealers}
        _check_each(self._dealings, lambda j, c: self._check_dealing(j, c, old))
        self._verifying = self._new_verifying_shares(self._dealings, old)
        self._group_key = old.group_public_key
        self._from_version = old.key_version
        out = []
        if self._polynomial is not None:
            g = self.suite.group
            for j in self.receivers:
                if j == self.party_index:
                    continue
                plaintext = g.encode_scalar(vss.share_for(self._polynomial, j))
                try:
                    sealed = self._e2e.seal(self._round1[j].e2e_public, plaintext, self._context(self.party_index, j))
                except e2e.E2EError as exc:
                    raise ProtocolError(f"party {j}'s X25519 key is unusable", [j]) from exc
                out.append(Outgoing(j, SHARE_ROUND, LifecycleShare(sealed).encode(self.suite)))
        if self.party_index in self.receivers:
            self._expect(SHARE_ROUND, self._on_shares, broadcast=False, p2p=True, senders=self.dealers)
            return out
        self._polynomial = None
        return out + self._confirm()

    # round 2
    def _on_shares(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        g = self.suite.group
        me = self.party_index
        total = 0 if self._polynomial is None else vss.share_for(self._polynomial, me)
        self._polynomial = None
        received = self._receive(inbox, "share", lambda _, p: LifecycleShare.decode(self.suite, p), p2p=True)
        for j, msg in received.items():
            try:
                share = g.decode_scalar(
                    self._e2e.open(self._round1[j].e2e_public, msg.sealed_share, self._context(j, me))
                )
            except (e2e.E2EError, DecodeError) as exc:
                raise ProtocolError(f"party {j}'s share cannot be opened or decoded", [j]) from exc
            with attribute(j, "share"):
                reshare.check_received_share(g, j, self._dealings[j], me, share)
            total = (total + share) % g.order
        self._share = self._new_share(total)
        if g.base_mul(self._share) != self._verifying[me]:
            raise ProtocolError("the new signing share does not match the new verifying share")
        return self._confirm()

    # round 3
    def _confirm(self) -> list[Outgoing]:
        """Fix the new version as `pending` and send the confirmation of its transcript digest."""
        g = self.suite.group
        public_key = g.encode_point(self._group_key)
        if self._share is None:
            self._pending = DkgResult(public_key, RETIRED, self._from_version)
        else:
            me = self.party_index
            package = KeyPackage(me, self._share, self._verifying[me], self._group_key, self.threshold)
            key = FrostKeyShare(self.suite, package, PublicKeyPackage(dict(self._verifying), self._group_key))
            self._share = None
            self._pending = DkgResult(public_key, key.encode(), self._from_version)
        self._digest = self._transcript_digest()
        self._expect(CONFIRM_ROUND, self._on_confirm)
        return [Outgoing(BROADCAST, CONFIRM_ROUND, LifecycleConfirm(self._digest).encode(self.suite))]

    @property
    def pending(self) -> DkgResult | None:
        """The new version once this party has computed it, before anyone confirmed it (None until then).

        The engine stores it as the key's pending version before it releases this party's confirmation,
        and makes it current only with `result`, i.e. once every participant confirmed the same digest
        (the commit rule in docs/lifecycle.md)."""
        return self._pending

    @property
    def from_version(self) -> int:
        """The key version the operation starts from as the dealers' round-1 packages state it (0 until
        round 1 is in): a party joining the key learns it here, and its first version is this + 1."""
        return self._from_version

    @property
    def confirm_digest(self) -> bytes:
        """The digest this party confirms (empty before round 3): what a restarted engine compares the
        relayed confirmations with to commit a pending version without this session object."""
        return self._digest

    def _transcript_digest(self) -> bytes:
        """SHA-256 over the operation, session parameters, every round-1 broadcast and the new public key
        package: equal at every participant iff all saw the same broadcasts and derived the same key package."""
        g = self.suite.group
        sid = self.session_id.encode("utf-8")
        h = hashlib.sha256(self.suite.context_string + self.label + b"/confirm")
        h.update(struct.pack(">IHHH", len(sid), self.threshold, len(self.dealers), len(self.receivers)) + sid)
        h.update(b"".join(struct.pack(">H", j) for j in (*self.dealers, *self.receivers)))
        for j in self.parties:
            h.update(struct.pack(">H", j) + self._round1[j].encode(self.suite))
        for j in self.receivers:
            h.update(g.encode_point(self._verifying[j]))
        h.update(g.encode_point(self._group_key))
        return h.digest()

    def _on_confirm(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        confirms = self._receive(inbox, "confirmation", lambda _, p: LifecycleConfirm.decode(self.suite, p))
        differing = sorted(j for j, c in confirms.items() if c.digest != self._digest)
        if differing:
            # Those parties or the relay showed different broadcasts: not provable who, so no culprit.
            raise ProtocolError(f"parties {differing} confirmed a different {self.label.decode()} transcript")
        assert self._pending is not None
        self._finish(self._pending)
        return []


# --- refresh -------------------------------------------------------------------------------------------


class FrostRefreshSession(_LifecycleSession):
    """One party's share refresh: every holder of the key deals a sharing of zero; same parties,
    threshold and group key, all new shares (see `signer.crypto.reshare`)."""

    label = b"/refresh"

    def __init__(self, session_id: str, party_index: int, key_share: bytes, key_version: int = 1) -> None:
        key = _decode_key_share(key_share, party_index)
        parties = tuple(sorted(key.public.verifying_shares))
        threshold = key.key_package.threshold
        _check_key_version(key_version)
        super().__init__(session_id, party_index, key.suite, key, parties, parties, threshold, key_version)
        self.wire_commitments = self.threshold - 1

    def _deal(self) -> tuple[vss.Polynomial, tuple[Any, ...]]:
        poly = reshare.zero_sharing(self.suite.group, self.threshold)
        return poly, tuple(poly.commit(self.suite.group)[1:])

    def _full_commitments(self, sent: tuple[Any, ...]) -> tuple[Any, ...]:
        return (self.suite.group.identity(), *sent)

    def _check_dealing(self, dealer: int, commitments: tuple[Any, ...], old: OldPublicPackage) -> None:
        reshare.check_zero_dealing(self.suite.group, dealer, commitments, self.threshold)

    def _new_verifying_shares(self, dealings: dict[int, tuple[Any, ...]], old: OldPublicPackage) -> dict[int, Any]:
        g = self.suite.group
        return reshare.refreshed_verifying_shares(
            g, old.verifying_shares, dealings, old.group_public_key, self.threshold
        )

    def _new_share(self, received_sum: int) -> int:
        assert self._key is not None
        return (self._key.key_package.signing_share + received_sum) % self.suite.group.order


# --- reshare -------------------------------------------------------------------------------------------


class FrostReshareSession(_LifecycleSession):
    """One party's reshare from the old quorum `old_parties` to `new_parties` with `new_threshold`.

    `key_share` is this party's current share: required if it is in the old quorum (it deals), optional
    otherwise (an old holder outside the quorum checks the dealers against its own public package). A
    party with no share learns the old public key package from the dealers, who must all send the same
    one; `public_key`, if given, is the group key it expects (32-byte Ed25519 encoding). `key_version` is
    the version `key_share` is (the store's counter; ignored without a share): the dealers send it in their
    package, so a party joining the key learns it (`from_version`)."""

    label = b"/reshare"

    def __init__(
        self,
        session_id: str,
        party_index: int,
        key_share: bytes | None,
        old_parties: tuple[int, ...],
        new_threshold: int,
        new_parties: tuple[int, ...],
        public_key: bytes | None = None,
        suite: Ciphersuite = FROST_ED25519_SHA512,
        key_version: int = 1,
    ) -> None:
        quorum = validate_indices("old_parties", old_parties)
        new_parties = validate_indices("new_parties", new_parties)
        if party_index not in quorum and party_index not in new_parties:
            raise ValueError("party_index must be one of old_parties or new_parties")
        if (
            not isinstance(new_threshold, int)
            or isinstance(new_threshold, bool)
            or not 2 <= new_threshold <= len(new_parties)
        ):
            raise ValueError(f"new threshold must be between 2 and the number of new parties ({len(new_parties)})")
        key = None if key_share is None else _decode_key_share(key_share, party_index)
        if key is None and party_index in quorum:
            raise ValueError("a party of the old quorum must bring its key share")
        if key is not None:
            reshare.check_quorum(quorum, list(key.public.verifying_shares), key.key_package.threshold)
            _check_key_version(key_version)
            suite = key.suite
        expected = None if public_key is None else _decode_public_key(suite, public_key)
        version = key_version if key is not None else 0
        super().__init__(session_id, party_index, suite, key, quorum, new_parties, new_threshold, version, expected)
        self.wire_commitments = self.threshold

    def _deal(self) -> tuple[vss.Polynomial, tuple[Any, ...]]:
        assert self._key is not None
        g = self.suite.group
        share = self._key.key_package.signing_share
        poly = reshare.reshare_polynomial(g, share, self.party_index, self.dealers, self.threshold)
        return poly, tuple(poly.commit(g))

    def _check_dealing(self, dealer: int, commitments: tuple[Any, ...], old: OldPublicPackage) -> None:
        g = self.suite.group
        reshare.check_reshare_dealing(g, dealer, commitments, self.threshold, self.dealers, old.verifying_shares)

    def _new_verifying_shares(self, dealings: dict[int, tuple[Any, ...]], old: OldPublicPackage) -> dict[int, Any]:
        g = self.suite.group
        return reshare.reshared_verifying_shares(g, dealings, self.receivers, old.group_public_key, self.threshold)

    def _new_share(self, received_sum: int) -> int:
        return received_sum


def _check_key_version(key_version: int) -> None:
    if not isinstance(key_version, int) or isinstance(key_version, bool) or not 1 <= key_version < 2**32:
        raise ValueError("key_version must be an integer from 1 to 2**32 - 1 (it is sent as a u32)")


def _decode_public_key(suite: Ciphersuite, public_key: bytes) -> Any:
    try:
        return suite.group.decode_point(public_key)
    except DecodeError as exc:
        raise ValueError(f"invalid public_key: {exc}") from exc
