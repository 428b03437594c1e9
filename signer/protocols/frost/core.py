"""RFC 9591 FROST signing, generic over a `Ciphersuite`: round one commit, round two sign, aggregate.

Step names and formulas follow RFC 9591 sections 4 and 5. Identifiers are the 1-based party indices,
used as scalars. Points and scalars are the suite group's values; encodings are the group's.

Nonces are single-use by construction: `commit` returns a `SigningNonces` that `sign` consumes (its
scalars are dropped on first use and a second use raises `NonceReuseError`), and it has no encoding, so
a nonce can never be written out and read back (pickling refuses too). What the engine must persist so
a crash can never bring a nonce back: nothing about the nonce. Nonces exist only in the live session
object; a crash destroys them, and the engine must report such a session as failed rather than rebuild
it from saved messages (a retried signing is a new session with fresh `commit` output). The engine must
not persist session objects or their state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from signer.crypto.group import Group
from signer.crypto.vss import lagrange_at_zero
from signer.protocols.base import ProtocolError
from signer.protocols.frost.ciphersuite import Ciphersuite


class NonceReuseError(RuntimeError):
    """A `SigningNonces` was used a second time."""


class InvalidSignature(ProtocolError):
    """An aggregate signature or signature share that does not verify."""


@dataclass(frozen=True)
class SigningCommitments:
    """A signer's public round-one output (hiding and binding nonce commitments)."""

    hiding: Any
    binding: Any


class SigningNonces:
    """A signer's secret round-one nonces; consumed by `sign`, never serialized."""

    __slots__ = ("_nonces", "commitments")

    def __init__(self, hiding: int, binding: int, commitments: SigningCommitments) -> None:
        self._nonces: tuple[int, int] | None = (hiding, binding)
        self.commitments = commitments

    def take(self) -> tuple[int, int]:
        """Return the (hiding, binding) nonces and forget them; a second call raises NonceReuseError."""
        nonces, self._nonces = self._nonces, None
        if nonces is None:
            raise NonceReuseError("signing nonces already used")
        return nonces

    def commitment_share(self, group: Group, rho: int, expected: SigningCommitments) -> Any:
        """(hiding + binding * rho) * G without consuming the nonces; they must match `expected`."""
        if self._nonces is None:
            raise NonceReuseError("signing nonces already used")
        if expected != self.commitments:
            raise ValueError("the signing package does not carry these nonces' commitments")
        hiding, binding = self._nonces
        return group.base_mul(hiding + binding * rho)

    @property
    def used(self) -> bool:
        return self._nonces is None

    def __repr__(self) -> str:
        return f"SigningNonces(used={self.used}, nonces=<redacted>)"

    def __reduce__(self) -> Any:
        raise TypeError("signing nonces cannot be pickled")


@dataclass(frozen=True)
class KeyPackage:
    """One participant's long-lived signing key material (RFC 9591 section 5's inputs)."""

    identifier: int
    signing_share: int = field(repr=False)
    verifying_share: Any
    group_public_key: Any
    threshold: int


@dataclass(frozen=True)
class PublicKeyPackage:
    """Every participant's verifying share and the group public key; public."""

    verifying_shares: Mapping[int, Any]
    group_public_key: Any


# --- RFC 9591 4.1 nonce generation and 5.1 round one ---------------------------------------------------


def nonce_generate(suite: Ciphersuite, secret: int, random_bytes: bytes | None = None) -> int:
    """RFC 9591 4.1: `H3(random_bytes || G.SerializeScalar(secret))` with 32 fresh random bytes."""
    if random_bytes is None:
        random_bytes = os.urandom(32)
    if len(random_bytes) != 32:
        raise ValueError("nonce randomness must be 32 bytes")
    return suite.H3(random_bytes + suite.group.encode_scalar(secret))


def commit(suite: Ciphersuite, signing_share: int) -> SigningNonces:
    """RFC 9591 5.1 commit(sk_i), with fresh OS randomness for both nonces."""
    return commit_with_randomness(suite, signing_share, os.urandom(32), os.urandom(32))


def commit_with_randomness(
    suite: Ciphersuite, signing_share: int, hiding_randomness: bytes, binding_randomness: bytes
) -> SigningNonces:
    """TEST VECTORS ONLY: `commit` with the caller's 32-byte randomness, to reproduce RFC 9591 appendix E.
    Node code calls `commit`: randomness a caller can repeat gives the same nonces twice, and two
    signatures with one nonce pair reveal the signing share."""
    g = suite.group
    hiding = nonce_generate(suite, signing_share, hiding_randomness)
    binding = nonce_generate(suite, signing_share, binding_randomness)
    return SigningNonces(hiding, binding, SigningCommitments(g.base_mul(hiding), g.base_mul(binding)))


# --- RFC 9591 4.3 - 4.6: the values every signer and the aggregator derive from the commitments ------


def encode_group_commitment_list(suite: Ciphersuite, commitments: Mapping[int, SigningCommitments]) -> bytes:
    """RFC 9591 4.3: identifier || hiding || binding for each participant, sorted by identifier."""
    g = suite.group
    return b"".join(
        g.encode_scalar(i) + g.encode_point(c.hiding) + g.encode_point(c.binding)
        for i, c in sorted(commitments.items())
    )


def binding_factor_inputs(
    suite: Ciphersuite, group_public_key: Any, commitments: Mapping[int, SigningCommitments], message: bytes
) -> dict[int, bytes]:
    """RFC 9591 4.4's rho_input per participant: PK || H4(msg) || H5(commitment list) || identifier."""
    g = suite.group
    prefix = (
        g.encode_point(group_public_key)
        + suite.H4(message)
        + suite.H5(encode_group_commitment_list(suite, commitments))
    )
    return {i: prefix + g.encode_scalar(i) for i in sorted(commitments)}


@dataclass(frozen=True)
class SigningContext:
    """Everything RFC 9591 derives from (PK, commitment list, msg): computed once, used by sign, verify
    and aggregate. `commitment_shares[i]` = hiding_i + binding_i * rho_i (section 5.4's comm_share), both
    it and `group_commitment` negated when `nonce_sign` is -1 (`Ciphersuite.negates_nonces`)."""

    message: bytes
    group_public_key: Any
    commitments: Mapping[int, SigningCommitments]
    participants: tuple[int, ...]
    binding_factors: Mapping[int, int]
    commitment_shares: Mapping[int, Any]
    group_commitment: Any
    challenge: int
    lagrange: Mapping[int, int]
    nonce_sign: int = 1  # -1 when the suite negated R (and so every commitment share and nonce)


def signing_context(
    suite: Ciphersuite,
    group_public_key: Any,
    commitments: Mapping[int, SigningCommitments],
    message: bytes,
    own: tuple[int, SigningNonces] | None = None,
) -> SigningContext:
    """Derive the signing context. A signer may pass `own` = (its identifier, its unused nonces): its
    commitment share is then one base multiplication (hiding + binding * rho) * G instead of a variable-
    base one; the result is the same point."""
    g = suite.group
    participants = tuple(sorted(commitments))
    if len(participants) < 1 or participants[0] < 1:
        raise ValueError("participants are identifiers >= 1")
    rho = {i: suite.H1(x) for i, x in binding_factor_inputs(suite, group_public_key, commitments, message).items()}
    # RFC 9591 4.5 compute_group_commitment: sum of hiding + binding * binding_factor.
    shares = {}
    for i in participants:
        if own is not None and own[0] == i:
            shares[i] = own[1].commitment_share(g, rho[i], commitments[i])
        else:
            shares[i] = g.add(commitments[i].hiding, g.mul(rho[i], commitments[i].binding))
    group_commitment = g.sum(shares.values())
    if g.is_identity(group_commitment):
        raise ProtocolError("group commitment is the identity")
    nonce_sign = 1
    if suite.negates_nonces(group_commitment):  # BIP-340: the signature's R must have even y
        nonce_sign = -1
        group_commitment = g.neg(group_commitment)
        shares = {i: g.neg(s) for i, s in shares.items()}
    challenge = suite.challenge(group_commitment, group_public_key, message)
    lagrange = {i: lagrange_at_zero(i, participants, g.order) for i in participants}
    return SigningContext(
        message,
        group_public_key,
        dict(commitments),
        participants,
        rho,
        shares,
        group_commitment,
        challenge,
        lagrange,
        nonce_sign,
    )


# --- RFC 9591 5.2 round two, 5.3 aggregate, 5.4 share verification ------------------------------------


def sign(suite: Ciphersuite, key_package: KeyPackage, nonces: SigningNonces, ctx: SigningContext) -> int:
    """RFC 9591 5.2: z_i = hiding + binding * rho_i + lambda_i * sk_i * c (the nonce part negated when
    the suite negated R). Consumes the nonces.

    Refuses a signing set smaller than the threshold (RFC 9591 section 5: MIN_PARTICIPANTS <=
    NUM_PARTICIPANTS) before touching the nonces: the Lagrange coefficients of too few participants do
    not interpolate the group key, so the share would be useless and the nonces wasted."""
    i = key_package.identifier
    if len(ctx.participants) < key_package.threshold:
        raise ValueError(
            f"{len(ctx.participants)} signing participants, fewer than the threshold {key_package.threshold}"
        )
    if i not in ctx.binding_factors:
        raise ValueError("this participant is not in the signing set")
    if key_package.group_public_key != ctx.group_public_key:
        raise ValueError("key package is for another group key")
    hiding, binding = nonces.take()
    if ctx.commitments.get(i) != nonces.commitments:
        raise ValueError("the signing package does not carry this participant's commitments")
    g = suite.group  # secret scalars: the group's constant-time scalar_muladd (side channels: crypto/vss.py)
    weighted_share = g.scalar_muladd(ctx.lagrange[i], key_package.signing_share, 0)
    nonce = g.scalar_muladd(ctx.nonce_sign % g.order, g.scalar_muladd(binding, ctx.binding_factors[i], hiding), 0)
    return g.scalar_muladd(weighted_share, ctx.challenge, nonce)


def verify_signature_share(
    suite: Ciphersuite, identifier: int, verifying_share: Any, share: int, ctx: SigningContext
) -> bool:
    """RFC 9591 5.4: G.ScalarBaseMult(sig_share) == comm_share + PK_i * (challenge * lambda_i)."""
    g = suite.group
    rhs = g.add(
        ctx.commitment_shares[identifier],
        g.mul(ctx.challenge * ctx.lagrange[identifier], verifying_share),
    )
    return g.base_mul(share) == rhs


def aggregate(suite: Ciphersuite, shares: Mapping[int, int], ctx: SigningContext) -> bytes:
    """RFC 9591 5.3: z = sum of shares; the suite encodes (R, z) (RFC 9591: SerializeElement(R) || z)."""
    if set(shares) != set(ctx.participants):
        raise ValueError("need exactly one signature share per participant")
    return suite.encode_signature(ctx.group_commitment, sum(shares.values()) % suite.group.order)
