"""FROST distributed key generation (the FROST paper's Pedersen DKG, figure 1, as the ZcashFoundation
crates structure it): `part1` -> broadcast, `part2` -> point-to-point shares, `part3` -> key packages.

RFC 9591 leaves key generation out. Here:
  part1: party i picks a random polynomial f_i of degree t-1, broadcasts Feldman commitments
         C_i = (a_i0 G, ..., a_i(t-1) G), a Schnorr proof of knowledge of a_i0 whose challenge binds the
         session id, identifier, commitments and the party's X25519 key, and that X25519 key.
  part2: verify every other party's proof; send party l the share f_i(l), sealed end to end to l's key.
  part3: open and check each received share against its sender's commitments; s_i = sum_l f_l(i);
         the group key is sum_l C_l0 and party j's verifying share is F(j) for F = sum_l C_l.
A failure that can be pinned on a party raises `ProtocolError` naming it.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from signer.crypto import e2e, vss
from signer.protocols.base import DecodeError, ProtocolError
from signer.protocols.frost.ciphersuite import Ciphersuite
from signer.protocols.frost.core import KeyPackage, PublicKeyPackage
from signer.protocols.frost.messages import DkgRound1, DkgRound2

SHARE_ROUND = 2


@dataclass(frozen=True)
class DkgParams:
    """The public parameters every party of one DKG agrees on."""

    session_id: str
    threshold: int
    parties: tuple[int, ...]

    def __post_init__(self) -> None:
        n = len(self.parties)
        if len(set(self.parties)) != n or any(not isinstance(j, int) or j < 1 for j in self.parties):
            raise ValueError("parties must be distinct 1-based indices")
        if not 2 <= self.threshold <= n:
            raise ValueError(f"threshold must be between 2 and the number of parties ({n})")


@dataclass(frozen=True)
class Round1Secret:
    """Party i's secret state after part1 (polynomial and X25519 key are redacted in repr)."""

    params: DkgParams
    identifier: int
    polynomial: vss.Polynomial = field(repr=False)
    e2e_keys: e2e.E2EKeyPair = field(repr=False)
    package: DkgRound1


@dataclass(frozen=True)
class Round2Secret:
    """Party i's secret state after part2: its round-1 state and every verified round-1 package."""

    round1: Round1Secret = field(repr=False)
    packages: Mapping[int, DkgRound1]


def _proof_challenge(
    suite: Ciphersuite,
    session_id: str,
    identifier: int,
    pkg_commitments: Sequence[Any],
    e2e_public: bytes,
    proof_r: Any,
) -> int:
    g = suite.group
    sid = session_id.encode("utf-8")
    data = (
        struct.pack(">I", len(sid))
        + sid
        + g.encode_scalar(identifier)
        + struct.pack(">H", len(pkg_commitments))
        + b"".join(g.encode_point(c) for c in pkg_commitments)
        + e2e_public
        + g.encode_point(proof_r)
    )
    return suite.HDKG(data)


def share_context(suite: Ciphersuite, session_id: str, sender: int, recipient: int) -> bytes:
    """The e2e context of a round-2 share (also the AEAD's associated data)."""
    return e2e.context(suite.context_string + b"/dkg-share", session_id, sender, recipient, SHARE_ROUND)


def part1(suite: Ciphersuite, params: DkgParams, identifier: int) -> Round1Secret:
    if identifier not in params.parties:
        raise ValueError("this party is not one of the DKG parties")
    g = suite.group
    poly = vss.Polynomial.random(g, g.random_scalar(), params.threshold - 1)
    keys = e2e.E2EKeyPair.generate()
    return Round1Secret(params, identifier, poly, keys, round1_package(suite, params, identifier, poly, keys))


def round1_package(
    suite: Ciphersuite, params: DkgParams, identifier: int, poly: vss.Polynomial, keys: e2e.E2EKeyPair
) -> DkgRound1:
    """Commitments to `poly` and a Schnorr proof of knowledge of its constant term a_0:
    k random, R = k G, c = HDKG(session, identifier, commitments, X25519 key, R), mu = k + a_0 c."""
    g = suite.group
    commitments = tuple(poly.commit(g))
    k = g.random_scalar()
    proof_r = g.base_mul(k)
    c = _proof_challenge(suite, params.session_id, identifier, commitments, keys.public, proof_r)
    return DkgRound1(commitments, proof_r, (k + poly.constant * c) % g.order, keys.public)


def verify_round1(suite: Ciphersuite, params: DkgParams, sender: int, pkg: DkgRound1) -> None:
    """Check a received round-1 package; raises ProtocolError naming the sender."""
    g = suite.group
    if len(pkg.commitments) != params.threshold:
        raise ProtocolError(f"party {sender} sent {len(pkg.commitments)} commitments", [sender])
    c = _proof_challenge(suite, params.session_id, sender, pkg.commitments, pkg.e2e_public, pkg.proof_r)
    # R == mu G - c C_0
    if g.sub(g.base_mul(pkg.proof_mu), g.mul(c, pkg.commitments[0])) != pkg.proof_r:
        raise ProtocolError(f"party {sender}'s proof of knowledge does not verify", [sender])


def part2(
    suite: Ciphersuite, secret: Round1Secret, received: Mapping[int, DkgRound1]
) -> tuple[Round2Secret, dict[int, DkgRound2]]:
    params, me = secret.params, secret.identifier
    others = [j for j in params.parties if j != me]
    if set(received) != set(others):
        raise ValueError("need exactly one round-1 package from every other party")
    culprits = []
    for j in others:
        try:
            verify_round1(suite, params, j, received[j])
        except ProtocolError:
            culprits.append(j)
    if culprits:
        raise ProtocolError("invalid round-1 proof of knowledge", culprits)
    out = {}
    for j in others:
        plaintext = suite.group.encode_scalar(vss.share_for(secret.polynomial, j))
        ctx = share_context(suite, params.session_id, me, j)
        try:
            out[j] = DkgRound2(secret.e2e_keys.seal(received[j].e2e_public, plaintext, ctx))
        except e2e.E2EError as exc:  # e.g. a low-order X25519 key
            raise ProtocolError(f"party {j}'s X25519 key is unusable", [j]) from exc
    packages = dict(received) | {me: secret.package}
    return Round2Secret(secret, packages), out


def part3(
    suite: Ciphersuite, secret: Round2Secret, received: Mapping[int, DkgRound2]
) -> tuple[KeyPackage, PublicKeyPackage]:
    g = suite.group
    r1 = secret.round1
    params, me = r1.params, r1.identifier
    others = [j for j in params.parties if j != me]
    if set(received) != set(others):
        raise ValueError("need exactly one round-2 share from every other party")
    total = vss.share_for(r1.polynomial, me)
    for j in others:
        ctx = share_context(suite, params.session_id, j, me)
        try:
            share = g.decode_scalar(r1.e2e_keys.open(secret.packages[j].e2e_public, received[j].sealed_share, ctx))
        except (e2e.E2EError, DecodeError) as exc:
            raise ProtocolError(f"party {j}'s share cannot be opened or decoded", [j]) from exc
        if not vss.verify_share(g, secret.packages[j].commitments, me, share):
            raise ProtocolError(f"party {j}'s share does not match its commitments", [j])
        total = (total + share) % g.order
    summed = vss.sum_commitments(g, [secret.packages[j].commitments for j in params.parties])
    group_public_key = summed[0]
    if g.is_identity(group_public_key):
        raise ProtocolError("the group public key is the identity")
    verifying = {j: vss.evaluate_commitments(g, summed, j) for j in params.parties}
    if g.base_mul(total) != verifying[me]:
        raise ProtocolError("signing share does not match the summed commitments")
    key_package = KeyPackage(me, total, verifying[me], group_public_key, params.threshold)
    return key_package, PublicKeyPackage(verifying, group_public_key)


def transcript_digest(suite: Ciphersuite, params: DkgParams, secret: Round2Secret, public: PublicKeyPackage) -> bytes:
    """SHA-256 over the session parameters, every round-1 broadcast and the public key package: equal at
    every party iff all saw the same broadcasts (the round-3 confirmation)."""
    g = suite.group
    sid = params.session_id.encode("utf-8")
    h = hashlib.sha256(suite.context_string + b"/dkg-confirm")
    h.update(struct.pack(">IHH", len(sid), params.threshold, len(params.parties)) + sid)
    for j in sorted(params.parties):
        h.update(struct.pack(">H", j) + secret.packages[j].encode(suite))
        h.update(g.encode_point(public.verifying_shares[j]))
    h.update(g.encode_point(public.group_public_key))
    return h.digest()
