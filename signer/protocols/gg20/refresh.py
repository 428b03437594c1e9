"""GG20 key refresh: same parties, threshold, public key and chain code; new shares and new auxiliary keys.

A refresh must replace the Paillier and ring-Pedersen keys as well as x_i, or a leaked Paillier secret
key would still decrypt every MtA ciphertext sent to its party: this is CGGMP21's key refresh with
auxiliary information (eprint 2021/060, Fig. 6/7) in keygen's three rounds, reusing keygen's steps
(`signer.protocols.gg20.keygen`), with a sharing of zero instead of a fresh secret (`signer.crypto.reshare`):

  1. broadcast `RefreshCommit`: the fingerprint of the key version the party starts from, and a keygen
     round-1 message whose hash commitment covers the zero-sharing's Feldman commitments C_1..C_{t-1}
     (C_0 is the identity) and which announces the new Paillier key (Π^mod), the new ring-Pedersen
     parameters (Π^prm) and an X25519 key. The new pre-parameters come from outside, as for keygen.
  2. Every party must start from the same key version (else the session stops before any share moves,
     with no culprit: a stale version is not provable malice). Verify every Π^mod and Π^prm; a modulus
     the key already uses is refused. Broadcast `RefreshOpening` and send each P_j the zero-share f_i(j)
     sealed end to end with Π^fac for the new N_i under P_j's *new* ring-Pedersen parameters (`KeygenShare`).
  3. Check openings, shares and Π^fac; x_i' = x_i + Σ_j f_j(i) and X_j' = X_j + Σ_k F_k(j), which must
     still interpolate to Y. The new key share is `pending`; broadcast `RefreshConfirm`: a Schnorr proof
     of x_i' and the digest of the transcript and the new public key package.
  Finish: every party confirmed the same digest and proved knowledge of its new share: `result`.

The `pending` / `result` split is the commit rule of docs/lifecycle.md §4, as in the FROST refresh.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from signer.crypto import reshare
from signer.crypto.preparams import PreParams
from signer.crypto.secp256k1 import ORDER, Point, base_mul
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.vss import Polynomial, share_for
from signer.protocols.base import DecodeError, DkgResult, InboxKey, Outgoing, ProtocolError, RoundMachine, SecretState

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
from .messages import KeygenShare, RefreshCommit, RefreshConfirm, RefreshOpening

PROTOCOL = b"refresh"


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


def _moduli(key: Gg20KeyShare) -> frozenset[int]:
    """Every Paillier N_j and ring-Pedersen Ñ_j the key uses now: none may be announced again."""
    return frozenset(int(key.paillier[j].n) for j in key.parties) | frozenset(
        int(key.ring_pedersen[j].n) for j in key.parties
    )


@dataclass(frozen=True, repr=False)
class RefreshRound1(SecretState):
    """After round 1: the old key share, keygen's round-1 secret over the zero-sharing, and this party's
    round-1 message (it enters the confirmation digest)."""

    old: Gg20KeyShare
    keygen: Round1Secret
    message: RefreshCommit


@dataclass(frozen=True, repr=False)
class RefreshRound2(SecretState):
    """After round 2: keygen's round-2 secret (peers' auxiliary keys verified), every party's round-1
    message, and this party's opening."""

    round1: RefreshRound1
    keygen: Round2Secret
    commits: Mapping[int, RefreshCommit]
    opening: RefreshOpening


@dataclass(frozen=True, repr=False)
class RefreshRound3(SecretState):
    """After round 3: the new key (as keygen's round-3 outcome), its packaged share and the digest."""

    keygen: Round3Secret
    pending: DkgResult
    digest: bytes


def round1(
    params: KeygenParams, old: Gg20KeyShare, preparams: PreParams, poly: Polynomial
) -> tuple[RefreshRound1, RefreshCommit]:
    """Commit to the zero-sharing `poly`'s C_1..C_{t-1} and announce the new auxiliary keys (`announce`)."""
    secret, commit = announce(params, preparams, poly, tuple(poly.commit(GROUP)[1:]), b"")
    msg = RefreshCommit(fingerprint(old), commit)
    return RefreshRound1(old, secret, msg), msg


def round2(
    secret: RefreshRound1, received: Mapping[int, RefreshCommit]
) -> tuple[RefreshRound2, RefreshOpening, dict[int, KeygenShare]]:
    """Same key version everywhere; verify the new auxiliary keys; open and deal the zero-shares."""
    stale = sorted(j for j, m in received.items() if m.fingerprint != secret.message.fingerprint)
    if stale:
        raise ProtocolError(f"parties {stale} started from a different version of the key")
    peers = {j: m.keygen for j, m in received.items()}
    state, shares = verify_aux_and_deal(secret.keygen, peers, refused=_moduli(secret.old))
    opening = RefreshOpening(secret.keygen.salt, secret.keygen.vss)
    commits = dict(received) | {secret.keygen.params.party_index: secret.message}
    return RefreshRound2(secret, state, commits, opening), opening, shares


def round3(
    secret: RefreshRound2, openings: Mapping[int, RefreshOpening], shares: Mapping[int, KeygenShare]
) -> tuple[RefreshRound3, RefreshConfirm]:
    """Check openings, shares and Π^fac; the new share and public key package; Schnorr proof and digest."""
    r1, old = secret.keygen.round1, secret.round1.old
    params, i = r1.params, r1.params.party_index
    identity = GROUP.identity()
    dealings = {i: (identity, *r1.vss)}
    x = (old.secret_share + share_for(r1.poly, i)) % ORDER
    for j in params.others:
        check_opening(secret.keygen, j, openings[j].salt, openings[j].commitments, b"")
        dealings[j] = (identity, *openings[j].commitments)
        x = (x + receive_share(secret.keygen, j, dealings[j], shares[j])) % ORDER
    public_shares = reshare.refreshed_verifying_shares(
        GROUP, old.public_shares, dealings, old.public_key, params.threshold
    )
    if base_mul(x) != public_shares[i]:  # every share was checked against its dealing: a bug of ours
        raise RuntimeError("the refreshed share does not match its public share")
    state = Round3Secret(secret.keygen, x, old.public_key, public_shares, old.chain_code)
    all_openings = dict(openings) | {i: secret.opening}
    digest = _transcript_digest(params, secret.commits, all_openings, public_shares, old.public_key)
    return RefreshRound3(state, package(state), digest), RefreshConfirm(prove_knowledge(state), digest)


def finish(secret: RefreshRound3, confirms: Mapping[int, RefreshConfirm]) -> DkgResult:
    """Every party confirmed the same digest and proved knowledge of its new share."""
    differing = sorted(j for j, c in confirms.items() if c.digest != secret.digest)
    if differing:
        # Those parties or the relay showed different broadcasts: not provable who, so no culprit.
        raise ProtocolError(f"parties {differing} confirmed a different refresh transcript")
    verify_knowledge(secret.keygen, {j: c.proof for j, c in confirms.items()})
    return secret.pending


def _transcript_digest(
    params: KeygenParams,
    commits: Mapping[int, RefreshCommit],
    openings: Mapping[int, RefreshOpening],
    public_shares: Mapping[int, Point],
    public_key: Point,
) -> bytes:
    """SHA-256 over the session, every round-1 and round-2 broadcast and the new public key package: equal
    at every party iff all saw the same broadcasts and derived the same package."""
    sid = params.session_id.encode("utf-8")
    h = hashlib.sha256(b"mpc-signer/gg20/refresh/confirm/v1" + struct.pack(">IB", len(sid), params.threshold) + sid)
    for j in params.parties:
        for part in (commits[j].encode(), openings[j].encode(), public_shares[j].encode()):
            h.update(struct.pack(">HI", j, len(part)) + part)
    h.update(public_key.encode())
    return h.digest()


class Gg20RefreshSession(RoundMachine):
    """One party's GG20 key refresh. `key_share` is its current share; `preparams` a fresh pre-parameter
    set (its Paillier and ring-Pedersen keys replace the current ones). The result is a DkgResult with
    the unchanged public key and the new encoded `Gg20KeyShare`; `pending` holds it from round 3 on."""

    def __init__(self, session_id: str, party_index: int, key_share: bytes, preparams: PreParams) -> None:
        try:
            old = Gg20KeyShare.decode(key_share)
            _ = old.aux  # the auxiliary keys are validated now, not in the middle of a round
        except DecodeError as exc:
            raise ValueError(f"invalid key share: {exc}") from None
        if old.party_index != party_index:
            raise ValueError("party_index does not match the key share")
        if not isinstance(preparams, PreParams):
            raise ValueError("preparams must be a signer.crypto.preparams.PreParams")
        fresh = {int(preparams.paillier.public.n), int(preparams.ring_pedersen.public.n)}
        if fresh & _moduli(old):
            raise ValueError("preparams must be fresh: the key already uses this Paillier or ring-Pedersen modulus")
        super().__init__(session_id, party_index, old.parties)
        self.threshold = old.threshold
        self._params = KeygenParams(session_id, party_index, old.threshold, old.parties, PROTOCOL)
        self._old = old
        self._preparams = preparams
        self._r1: RefreshRound1 | None = None
        self._r2: RefreshRound2 | None = None
        self._r3: RefreshRound3 | None = None
        self._pending: DkgResult | None = None
        self._digest = b""

    def _zero_sharing(self) -> Polynomial:
        """This party's dealing: a random polynomial of degree t-1 with constant term zero."""
        return reshare.zero_sharing(GROUP, self.threshold)

    def _start(self) -> list[Outgoing]:
        self._r1, msg = round1(self._params, self._old, self._preparams, self._zero_sharing())
        self._expect(1, self._round2)
        return [self.broadcast(1, msg.encode())]

    def _round2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r1 is not None
        received = self._receive(inbox, "refresh round-1 message", lambda _, p: RefreshCommit.decode(p))
        self._r2, opening, shares = round2(self._r1, received)
        self._r1 = None
        self._expect(2, self._round3, p2p=True)
        return [self.broadcast(2, opening.encode())] + [Outgoing(j, 2, m.encode()) for j, m in shares.items()]

    def _round3(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r2 is not None
        t = self.threshold
        openings = self._receive(inbox, "refresh round-2 broadcast", lambda _, p: RefreshOpening.decode(p, t))
        shares = self._receive(inbox, "refresh round-2 share", lambda _, p: KeygenShare.decode(p), p2p=True)
        self._r3, confirm = round3(self._r2, openings, shares)
        self._r2 = None
        self._pending, self._digest = self._r3.pending, self._r3.digest
        self._expect(3, self._finish_refresh)
        return [self.broadcast(3, confirm.encode())]

    def _finish_refresh(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        assert self._r3 is not None
        confirms = self._receive(inbox, "refresh round-3 message", lambda _, p: RefreshConfirm.decode(p))
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
