"""Share refresh and resharing of a Shamir-shared group secret, checked with Feldman commitments.

Both operations keep the group secret x (so the group key Y = x * G) and replace every share:

Refresh (same parties, same threshold t). Every party j deals a random polynomial f_j of degree t-1
with f_j(0) = 0 and publishes its Feldman commitments, whose constant C_j0 must be the identity. Party
i's new share is x_i + sum_j f_j(i): a sum of zero-sharings is a sharing of zero, so the new shares
interpolate to the same x, while a mix of old and new shares interpolates to x plus a random value.
This is the proactive secret sharing of Herzberg, Jarecki, Krawczyk and Yung (CRYPTO 1995); the
ZcashFoundation frost crate's `frost-core/src/keys/refresh.rs` does the same with a trusted dealer and
likewise leaves the identity commitment off the wire, the receiver putting it back.

Reshare (old quorum Q with |Q| >= t, to a new party set P' with threshold t'). The secret is
x = sum_{i in Q} w_i with w_i = lambda_{i,Q} x_i. Each i in Q deals w_i with a polynomial of degree
t'-1; its constant commitment must equal lambda_{i,Q} X_i, X_i = x_i G being i's public verifying
share, so a dealer cannot shift the secret without being named. New party j's share is
sum_i f_i(j). This is Desmedt and Jajodia's redistribution (1997) as tss-lib's `ecdsa/resharing` runs it
(old parties deal their Lagrange-weighted w_i); frost-core's `resharing.rs` (Wong-Wang) deals the raw
x_i instead and lets the receivers apply the weights, which is the same sum.

Every new verifying share is public: the dealers' summed commitment vector evaluated at j (plus the old
X_j for a refresh), and `check_verifying_shares` proves the new ones still describe a degree t-1
sharing of the unchanged group key. Failures raise `DealingError` naming the dealer when it is provable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from signer.crypto import vss
from signer.crypto.errors import ProofError
from signer.crypto.group import Group

P = TypeVar("P")


class DealingError(ProofError):
    """A dealing, a share or a key package that fails a check: a Feldman statement that does not verify,
    hence a `ProofError`, which the protocol layer blames on the party that sent it (`attribute`).
    `dealer` is the party index the failure is provably due to (its commitments or its share), or None
    when no single dealer can be blamed (then it is raised outside any sender's block: a bug of ours)."""

    def __init__(self, message: str, dealer: int | None = None) -> None:
        super().__init__("Feldman dealing", message)
        self.dealer = dealer


# --- dealing -----------------------------------------------------------------------------------------


def zero_sharing(group: Group, threshold: int) -> vss.Polynomial:
    """A refresh dealer's polynomial: degree threshold-1, constant term zero."""
    return vss.Polynomial.random(group, 0, threshold - 1)


def reshare_polynomial(
    group: Group, share: int, dealer: int, quorum: Sequence[int], new_threshold: int
) -> vss.Polynomial:
    """A reshare dealer's polynomial: degree new_threshold-1, constant term lambda_{dealer,quorum} * share."""
    weight = vss.lagrange_at_zero(dealer, quorum, group.order)
    return vss.Polynomial.random(group, weight * share, new_threshold - 1)


def check_quorum(quorum: Sequence[int], holders: Sequence[int], threshold: int) -> None:
    """A reshare's dealing quorum must be holders of the old key, at least its threshold of them.
    Raises ValueError (an argument error, not a dealing a peer could be blamed for)."""
    unknown = sorted(set(quorum) - set(holders))
    if unknown:
        raise ValueError(f"old_parties {unknown} hold no share of this key")
    if len(quorum) < threshold:
        raise ValueError(f"old_parties must hold at least the key's threshold ({threshold}) of shares")


# --- checking one dealer -------------------------------------------------------------------------------


def _check_length(dealer: int, commitments: Sequence[P], threshold: int) -> None:
    if len(commitments) != threshold:
        raise DealingError(f"party {dealer} committed to {len(commitments)} coefficients, expected {threshold}", dealer)


def check_zero_dealing(group: Group[P], dealer: int, commitments: Sequence[P], threshold: int) -> None:
    """A refresh dealing must commit to a degree threshold-1 polynomial whose constant is zero (C_0 = identity)."""
    _check_length(dealer, commitments, threshold)
    if not group.is_identity(commitments[0]):
        raise DealingError(f"party {dealer}'s refresh dealing does not share zero", dealer)


def expected_constant(group: Group[P], dealer: int, quorum: Sequence[int], verifying_share: P) -> P:
    """lambda_{dealer,quorum} * X_dealer: what a reshare dealer's constant commitment must be."""
    return group.mul(vss.lagrange_at_zero(dealer, quorum, group.order), verifying_share)


def check_reshare_dealing(
    group: Group[P],
    dealer: int,
    commitments: Sequence[P],
    new_threshold: int,
    quorum: Sequence[int],
    old_verifying_shares: Mapping[int, P],
) -> None:
    """A reshare dealing must have new_threshold commitments and the constant lambda_{dealer,Q} * X_dealer
    taken from the old public key package."""
    _check_length(dealer, commitments, new_threshold)
    if dealer not in quorum or dealer not in old_verifying_shares:
        raise DealingError(f"party {dealer} holds no share of the old key", dealer)
    if commitments[0] != expected_constant(group, dealer, quorum, old_verifying_shares[dealer]):
        raise DealingError(f"party {dealer}'s reshare dealing has the wrong constant term", dealer)


def check_received_share(group: Group[P], dealer: int, commitments: Sequence[P], recipient: int, share: int) -> None:
    """The share `dealer` sent `recipient` must lie on the dealer's committed polynomial."""
    if not vss.verify_share(group, commitments, recipient, share):
        raise DealingError(f"party {dealer}'s share does not match its commitments", dealer)


# --- the new public key package ------------------------------------------------------------------------


def interpolate_at_zero(group: Group[P], points: Mapping[int, P]) -> P:
    """sum_j lambda_{j,S} * points[j] over S = the keys of `points`: interpolation at x = 0 in the exponent."""
    indices = sorted(points)
    return group.sum(group.mul(vss.lagrange_at_zero(j, indices, group.order), points[j]) for j in indices)


def check_verifying_shares(group: Group[P], verifying: Mapping[int, P], group_key: P, threshold: int) -> None:
    """Check that the verifying shares are a degree threshold-1 sharing of `group_key`.

    The polynomial through (0, Y) and the lowest threshold-1 parties' points is unique; every other party's
    point lies on it iff interpolating at zero over those threshold-1 parties plus that party gives Y.
    So this checks exactly the n - threshold + 1 such subsets (each a Lagrange-weighted sum = Y)."""
    indices = sorted(verifying)
    if len(indices) < threshold:
        raise DealingError(f"{len(indices)} verifying shares cannot carry a threshold of {threshold}")
    base = indices[: threshold - 1]
    for j in indices[threshold - 1 :]:
        if interpolate_at_zero(group, {k: verifying[k] for k in [*base, j]}) != group_key:
            raise DealingError("the verifying shares do not interpolate to the group key")


def refreshed_verifying_shares(
    group: Group[P],
    old_verifying: Mapping[int, P],
    dealings: Mapping[int, Sequence[P]],
    group_key: P,
    threshold: int,
) -> dict[int, P]:
    """X_j' = X_j + sum_i F_i(j) for every party j, F_i being dealer i's committed zero-sharing; checked
    against the unchanged group key. Every dealing must already have passed `check_zero_dealing`."""
    summed = vss.sum_commitments(group, list(dealings.values()))
    new = {j: group.add(x, vss.evaluate_commitments(group, summed, j)) for j, x in old_verifying.items()}
    check_verifying_shares(group, new, group_key, threshold)
    return new


def reshared_verifying_shares(
    group: Group[P],
    dealings: Mapping[int, Sequence[P]],
    new_parties: Sequence[int],
    group_key: P,
    new_threshold: int,
) -> dict[int, P]:
    """X_j' = sum_i F_i(j) for every new party j; the dealers' constants must add up to the old group key.
    Every dealing must already have passed `check_reshare_dealing`."""
    summed = vss.sum_commitments(group, list(dealings.values()))
    if summed[0] != group_key:
        raise DealingError("the reshare dealings do not add up to the group key (inconsistent old key package)")
    new = {j: vss.evaluate_commitments(group, summed, j) for j in new_parties}
    check_verifying_shares(group, new, group_key, new_threshold)
    return new
