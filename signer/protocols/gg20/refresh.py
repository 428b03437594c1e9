"""GG20 key refresh and reshare: the same public key and chain code, new shares and new auxiliary keys.

Both must replace the Paillier and ring-Pedersen keys as well as the shares, or a leaked Paillier secret
key would still decrypt every MtA ciphertext sent to its party: this is CGGMP21's key refresh with
auxiliary information (eprint 2021/060, Fig. 6/7) run in keygen's three rounds with keygen's own steps
(`signer.protocols.gg20.keygen`). Every participant deals a Feldman sharing of degree t'-1 whose constant
is fixed by public values (`signer.crypto.reshare`), so no dealer can move the secret:

  refresh   every holder deals a sharing of zero (C_0 = identity); x_i' = x_i + Σ_j f_j(i),
            X_j' = X_j + Σ_k F_k(j); same parties and threshold.
  reshare   each party i of the old quorum Q deals λ_{i,Q}·x_i (C_0 = λ_{i,Q}·X_i from the old key package),
            every other new party a sharing of zero; x_j' = Σ_i f_i(j). Every party of Q must be in the new
            set (adding parties, changing the threshold); a dealer that leaves is not supported here.

  1. broadcast `RefreshCommit` (refresh: the fingerprint of the key version the party starts from) or
     `ReshareCommit` (reshare: the old key package with its key version, from each party of Q), around a
     keygen round-1 message: a hash commitment to C_1..C_{t'-1} (C_0 is public and never sent), the new
     Paillier key (Π^mod), the new ring-Pedersen parameters (Π^prm) and an X25519 key. The pre-parameters
     come from outside.
  2. Every participant must start from the same key version, else the session stops before any share
     moves, with no culprit (a stale version is not provable malice). Verify every Π^mod and Π^prm; a
     modulus the key already uses is refused. Broadcast `RefreshOpening` and send each P_j its share
     sealed end to end with Π^fac for the new N_i under P_j's *new* ring-Pedersen parameters (`KeygenShare`).
  3. Check openings, shares against (C_0, C_1, ...) and Π^fac; the new share and public shares, which
     must interpolate to the unchanged Y. The new key share is `pending`; broadcast `RefreshConfirm`: a
     Schnorr proof of x_i' and the digest of the transcript and the new public key package.
  Finish: every party confirmed the same digest and proved knowledge of its new share: `result`.

The `pending` / `result` split is the commit rule of docs/lifecycle.md §4, as in the FROST sessions.
"""

from __future__ import annotations

import hashlib
import struct
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace

from signer.crypto import reshare
from signer.crypto.preparams import PreParams
from signer.crypto.secp256k1 import ORDER, Point, base_mul
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.vss import Polynomial, evaluate_commitments, lagrange_at_zero, share_for, sum_commitments
from signer.protocols.base import DecodeError, DkgResult, InboxKey, Outgoing, ProtocolError, RoundMachine, SecretState
from signer.protocols.params import validate_indices, validate_keygen_args

from .keygen import (
    KeygenParams,
    Round1Secret,
    Round2Secret,
    Round3Secret,
    announce,
    check_opening,
    package,
    prove_knowledge,
    receive_share,
    verify_aux_and_deal,
    verify_knowledge,
)
from .keyshare import Gg20KeyShare
from .messages import (
    KeygenCommit,
    KeygenShare,
    OldKeyPackage,
    RefreshCommit,
    RefreshConfirm,
    RefreshOpening,
    ReshareCommit,
)


def fingerprint(key: Gg20KeyShare) -> bytes:
    """SHA-256 of a key version's public facts: threshold, parties, Y, chain code, and every party's X_j,
    Paillier N_j and ring-Pedersen parameters. Equal at two parties iff they hold the same version."""
    h = hashlib.sha256(b"mpc-signer/gg20/key-version/v1")
    h.update(struct.pack(">BB", key.threshold, len(key.parties)) + bytes(key.parties))
    h.update(key.public_key.encode() + key.chain_code)
    for j in key.parties:
        for part in (key.public_shares[j].encode(), key.paillier[j].to_bytes(), key.ring_pedersen[j].to_bytes()):
            h.update(struct.pack(">I", len(part)) + part)
    return h.digest()


def old_package(key: Gg20KeyShare, key_version: int) -> OldKeyPackage:
    return OldKeyPackage(
        key_version, key.threshold, key.parties, key.public_key, key.chain_code, dict(key.public_shares)
    )


def _moduli(key: Gg20KeyShare | None) -> frozenset[int]:
    """Every Paillier N_j and ring-Pedersen Ñ_j the key uses now: none may be announced again."""
    if key is None:
        return frozenset()
    return frozenset(int(key.paillier[j].n) for j in key.parties) | frozenset(
        int(key.ring_pedersen[j].n) for j in key.parties
    )


def _decode_key_share(key_share: bytes, party_index: int) -> Gg20KeyShare:
    try:
        key = Gg20KeyShare.decode(key_share)
        _ = key.aux  # the auxiliary keys are validated now, not in the middle of a round
    except DecodeError as exc:
        raise ValueError(f"invalid key share: {exc}") from None
    if key.party_index != party_index:
        raise ValueError("party_index does not match the key share")
    return key


@dataclass(frozen=True)
class Plan:
    """The public facts a refresh or reshare works from, equal at every participant once round 1 is in."""

    public_key: Point
    chain_code: bytes
    constants: Mapping[int, Point]  # C_j0 of participant j's dealing (the identity: a sharing of zero)
    base_shares: Mapping[int, Point]  # X_j' = base_shares[j] + Σ_k F_k(j) (refresh: the old X_j)
    refused: frozenset[int]  # moduli no one may announce (the key's current ones)
    from_version: int = 0  # a reshare: the key version the quorum stated (a refresh is not told it: 0)


@dataclass(frozen=True, repr=False)
class ChangeRound2(SecretState):
    """After round 2: keygen's round-2 secret (peers' auxiliary keys verified), the plan, this party's
    secret starting point (refresh: x_i; reshare: 0), every round-1 payload and this party's opening."""

    keygen: Round2Secret
    plan: Plan
    base: int
    round1: Mapping[int, bytes]
    opening: RefreshOpening


@dataclass(frozen=True, repr=False)
class ChangeRound3(SecretState):
    """After round 3: the new key (as keygen's round-3 outcome), its packaged share and the digest."""

    keygen: Round3Secret
    pending: DkgResult
    digest: bytes


def round2(
    secret: Round1Secret, peers: Mapping[int, KeygenCommit], plan: Plan, base: int, round1: Mapping[int, bytes]
) -> tuple[ChangeRound2, RefreshOpening, dict[int, KeygenShare]]:
    """Verify the new auxiliary keys (none the key uses now); open C_1.. and deal the shares."""
    state, shares = verify_aux_and_deal(secret, peers, plan.refused)
    opening = RefreshOpening(secret.salt, secret.vss)
    return ChangeRound2(state, plan, base, dict(round1), opening), opening, shares


def round3(
    secret: ChangeRound2, openings: Mapping[int, RefreshOpening], shares: Mapping[int, KeygenShare]
) -> tuple[ChangeRound3, RefreshConfirm]:
    """Check openings, shares and Π^fac; the new share and public key package; Schnorr proof and digest."""
    r1, plan = secret.keygen.round1, secret.plan
    params, i = r1.params, r1.params.party_index
    dealings = {i: (plan.constants[i], *r1.vss)}
    x = (secret.base + share_for(r1.poly, i)) % ORDER
    for j in params.others:
        check_opening(secret.keygen, j, openings[j].salt, openings[j].commitments, b"")
        dealings[j] = (plan.constants[j], *openings[j].commitments)
        x = (x + receive_share(secret.keygen, j, dealings[j], shares[j])) % ORDER
    summed = sum_commitments(GROUP, [dealings[j] for j in params.parties])
    public_shares = {j: plan.base_shares[j] + evaluate_commitments(GROUP, summed, j) for j in params.parties}
    # Every constant is public and the plan consistent, so this fails only on a bug of ours.
    reshare.check_verifying_shares(GROUP, public_shares, plan.public_key, params.threshold)
    if base_mul(x) != public_shares[i]:
        raise RuntimeError("the new share does not match its public share")
    state = Round3Secret(secret.keygen, x, plan.public_key, public_shares, plan.chain_code)
    all_openings = dict(openings) | {i: secret.opening}
    digest = _transcript_digest(params, secret.round1, all_openings, public_shares, plan.public_key)
    pending = replace(package(state), from_version=plan.from_version)
    return ChangeRound3(state, pending, digest), RefreshConfirm(prove_knowledge(state), digest)


def finish(secret: ChangeRound3, confirms: Mapping[int, RefreshConfirm]) -> DkgResult:
    """Every party confirmed the same digest and proved knowledge of its new share."""
    differing = sorted(j for j, c in confirms.items() if c.digest != secret.digest)
    if differing:
        # Those parties or the relay showed different broadcasts: not provable who, so no culprit.
        raise ProtocolError(f"parties {differing} confirmed a different transcript")
    verify_knowledge(secret.keygen, {j: c.proof for j, c in confirms.items()})
    return secret.pending


def _transcript_digest(
    params: KeygenParams,
    round1: Mapping[int, bytes],
    openings: Mapping[int, RefreshOpening],
    public_shares: Mapping[int, Point],
    public_key: Point,
) -> bytes:
    """SHA-256 over the operation, the session, every round-1 and round-2 broadcast and the new public key
    package: equal at every party iff all saw the same broadcasts and derived the same package."""
    sid = params.session_id.encode("utf-8")
    h = hashlib.sha256(b"mpc-signer/gg20/" + params.protocol + b"/confirm/v1")
    h.update(struct.pack(">IB", len(sid), params.threshold) + sid)
    for j in params.parties:
        for part in (round1[j], openings[j].encode(), public_shares[j].encode()):
            h.update(struct.pack(">HI", j, len(part)) + part)
    h.update(public_key.encode())
    return h.digest()


class _KeyChangeSession(RoundMachine):
    """The three rounds refresh and reshare share; subclasses say what round 1 carries and the plan."""

    protocol: bytes

    def __init__(
        self,
        session_id: str,
        party_index: int,
        threshold: int,
        parties: tuple[int, ...],
        key: Gg20KeyShare | None,
        preparams: PreParams,
    ) -> None:
        if not isinstance(preparams, PreParams):
            raise ValueError("preparams must be a signer.crypto.preparams.PreParams")
        fresh = {int(preparams.paillier.public.n), int(preparams.ring_pedersen.public.n)}
        if fresh & _moduli(key):
            raise ValueError("preparams must be fresh: the key already uses this Paillier or ring-Pedersen modulus")
        super().__init__(session_id, party_index, parties)
        self.threshold = threshold
        self._params = KeygenParams(session_id, party_index, threshold, parties, self.protocol)
        self._key = key
        self._preparams = preparams
        self._r1: Round1Secret | None = None
        self._r2: ChangeRound2 | None = None
        self._r3: ChangeRound3 | None = None
        self._round1: dict[int, bytes] = {}
        self._pending: DkgResult | None = None
        self._digest = b""

    @abstractmethod
    def _constant(self) -> int:
        """The secret this party's dealing shares (0, or λ_i·x_i for a reshare dealer)."""

    def _polynomial(self) -> Polynomial:
        """This party's dealing: a random polynomial of degree t'-1 with constant `_constant()`."""
        return Polynomial.random(GROUP, self._constant(), self.threshold - 1)

    @abstractmethod
    def _round1_message(self, commit: KeygenCommit) -> bytes: ...

    @abstractmethod
    def _decode_round1(self, sender: int, payload: bytes) -> KeygenCommit:
        """Decode a peer's round-1 message, keep what the plan needs, return its keygen part."""

    @abstractmethod
    def _plan(self) -> tuple[Plan, int]:
        """The plan and this party's secret starting point, once every round-1 message is in."""

    def _start(self) -> list[Outgoing]:
        poly = self._polynomial()
        self._r1, commit = announce(self._params, self._preparams, poly, tuple(poly.commit(GROUP)[1:]), b"")
        self._round1[self.party_index] = payload = self._round1_message(commit)
        self._expect(1, self._round2)
        return [self.broadcast(1, payload)]

    def _round2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r1 is not None
        what = f"{self.protocol.decode()} round-1 message"
        peers = self._receive(inbox, what, self._decode_round1)
        self._round1.update({j: inbox[InboxKey(j, True)] for j in self.others})
        plan, base = self._plan()
        self._r2, opening, shares = round2(self._r1, peers, plan, base, self._round1)
        self._r1 = None
        self._expect(2, self._round3, p2p=True)
        return [self.broadcast(2, opening.encode())] + [Outgoing(j, 2, m.encode()) for j, m in shares.items()]

    def _round3(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r2 is not None
        t, name = self.threshold, self.protocol.decode()
        openings = self._receive(inbox, f"{name} round-2 broadcast", lambda _, p: RefreshOpening.decode(p, t))
        shares = self._receive(inbox, f"{name} round-2 share", lambda _, p: KeygenShare.decode(p), p2p=True)
        self._r3, confirm = round3(self._r2, openings, shares)
        self._r2 = None
        self._pending, self._digest = self._r3.pending, self._r3.digest
        self._expect(3, self._finish_change)
        return [self.broadcast(3, confirm.encode())]

    def _finish_change(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r3 is not None
        what = f"{self.protocol.decode()} round-3 message"
        confirms = self._receive(inbox, what, lambda _, p: RefreshConfirm.decode(p))
        self._finish(finish(self._r3, confirms))
        self._r3 = None
        return []

    @property
    def pending(self) -> DkgResult | None:
        """The new key share once this party has computed it (round 3), before every party confirmed it:
        the engine stores it as the pending version before it releases the confirmation."""
        return self._pending

    @property
    def confirm_digest(self) -> bytes:
        """The digest this party confirms (empty before round 3)."""
        return self._digest


class Gg20RefreshSession(_KeyChangeSession):
    """One party's GG20 key refresh. `key_share` is its current share; `preparams` a fresh pre-parameter
    set (its Paillier and ring-Pedersen keys replace the current ones). The result is a DkgResult with
    the unchanged public key and the new encoded `Gg20KeyShare`; `pending` holds it from round 3 on."""

    protocol = b"refresh"

    def __init__(self, session_id: str, party_index: int, key_share: bytes, preparams: PreParams) -> None:
        key = _decode_key_share(key_share, party_index)
        super().__init__(session_id, party_index, key.threshold, key.parties, key, preparams)
        self._old = key
        self._fingerprints: dict[int, bytes] = {party_index: fingerprint(key)}

    def _constant(self) -> int:
        return 0

    def _round1_message(self, commit: KeygenCommit) -> bytes:
        return RefreshCommit(self._fingerprints[self.party_index], commit).encode()

    def _decode_round1(self, sender: int, payload: bytes) -> KeygenCommit:
        msg = RefreshCommit.decode(payload)
        self._fingerprints[sender] = msg.fingerprint
        return msg.keygen

    def _plan(self) -> tuple[Plan, int]:
        own = self._fingerprints[self.party_index]
        stale = sorted(j for j, f in self._fingerprints.items() if f != own)
        if stale:
            raise ProtocolError(f"parties {stale} started from a different version of the key")
        old = self._old
        constants = dict.fromkeys(old.parties, GROUP.identity())
        plan = Plan(old.public_key, old.chain_code, constants, dict(old.public_shares), _moduli(old))
        return plan, old.secret_share


class Gg20ReshareSession(_KeyChangeSession):
    """One party's GG20 reshare from the old quorum `old_parties` to `new_parties` with `new_threshold`.

    Every party of `old_parties` must be one of `new_parties` and bring its `key_share`; a new party has
    none (None) and learns the old key package from the quorum, which must all send the same one;
    `public_key` (33-byte SEC1), if given, is the key it expects. Every participant brings a fresh
    `preparams`. `key_version` is the version `key_share` is (the store's counter; ignored without a share):
    the quorum sends it in its package, so a new party learns it (`from_version`). A holder of the key
    outside the quorum may bring its share: it then checks the quorum's package against its own (its old
    share is replaced like everyone's)."""

    protocol = b"reshare"

    def __init__(
        self,
        session_id: str,
        party_index: int,
        key_share: bytes | None,
        old_parties: tuple[int, ...],
        new_threshold: int,
        new_parties: tuple[int, ...],
        preparams: PreParams,
        public_key: bytes | None = None,
        key_version: int = 1,
    ) -> None:
        quorum = validate_indices("old_parties", old_parties)
        new_parties = validate_keygen_args(party_index, new_threshold, new_parties)
        if not set(quorum) <= set(new_parties):
            raise ValueError(
                "every party of old_parties must be one of new_parties (a leaving dealer is not supported)"
            )
        key = None if key_share is None else _decode_key_share(key_share, party_index)
        if key is None and party_index in quorum:
            raise ValueError("a party of the old quorum must bring its key share")
        if key is not None:
            reshare.check_quorum(quorum, key.parties, key.threshold)
            if not isinstance(key_version, int) or isinstance(key_version, bool) or not 1 <= key_version < 2**32:
                raise ValueError("key_version must be an integer from 1 to 2**32 - 1 (it is sent as a u32)")
        try:
            expected = None if public_key is None else GROUP.decode_point(public_key)
        except (DecodeError, ValueError) as exc:
            raise ValueError(f"invalid public_key: {exc}") from None
        super().__init__(session_id, party_index, new_threshold, new_parties, key, preparams)
        self.old_parties = quorum
        self._expected_key = expected
        self._key_version = key_version
        self._from_version = 0
        self._packages: dict[int, OldKeyPackage] = {}
        if key is not None and party_index in quorum:
            self._packages[party_index] = old_package(key, key_version)

    def _constant(self) -> int:
        if self._key is None or self.party_index not in self.old_parties:
            return 0
        return lagrange_at_zero(self.party_index, self.old_parties, ORDER) * self._key.secret_share % ORDER

    def _round1_message(self, commit: KeygenCommit) -> bytes:
        return ReshareCommit(self._packages.get(self.party_index), commit).encode()

    def _decode_round1(self, sender: int, payload: bytes) -> KeygenCommit:
        msg = ReshareCommit.decode(payload)
        if (msg.old is not None) != (sender in self.old_parties):
            raise DecodeError("the old key package must come from exactly the parties of old_parties")
        if msg.old is not None:
            self._packages[sender] = msg.old
        return msg.keygen

    def _reference_package(self) -> OldKeyPackage:
        """Our own package if we hold the key, else the one every party of the quorum sent, checked to be
        a consistent sharing of the expected key."""
        if self._key is not None:
            return old_package(self._key, self._key_version)
        first = self._packages[self.old_parties[0]]
        if any(p != first for p in self._packages.values()):
            raise ProtocolError("the old quorum sent different old key packages (different key versions)")
        if self._expected_key is not None and first.public_key != self._expected_key:
            raise ProtocolError("the old quorum's key is not the expected public key")
        try:
            reshare.check_quorum(self.old_parties, first.parties, first.threshold)
            reshare.check_verifying_shares(GROUP, first.public_shares, first.public_key, first.threshold)
        except ValueError as exc:  # DealingError included
            raise ProtocolError(f"the old key package is unusable: {exc}") from None
        return first

    def _plan(self) -> tuple[Plan, int]:
        old = self._reference_package()
        stale = sorted(j for j, p in self._packages.items() if p != old)
        if stale:
            raise ProtocolError(f"parties {stale} started from a different version of the key")
        identity = GROUP.identity()
        constants = {
            j: reshare.expected_constant(GROUP, j, self.old_parties, old.public_shares[j])
            if j in self.old_parties
            else identity
            for j in self.parties
        }
        base_shares = dict.fromkeys(self.parties, identity)
        plan = Plan(old.public_key, old.chain_code, constants, base_shares, _moduli(self._key), old.key_version)
        self._from_version = old.key_version
        return plan, 0

    @property
    def from_version(self) -> int:
        """The key version the reshare starts from as the quorum's round-1 packages state it (0 until round 1
        is in): a party joining the key learns it here, and its first version is this + 1."""
        return self._from_version
