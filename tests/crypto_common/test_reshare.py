"""The refresh and reshare math over both curves: same secret, new shares, mixed shares useless, and each
check names the dealer it catches."""

from typing import Any

import pytest

from signer.crypto import reshare, vss
from signer.crypto.ed25519 import ED25519
from signer.crypto.group import Group
from signer.crypto.secp256k1 import SECP256K1

GROUPS = [pytest.param(ED25519, id="ed25519"), pytest.param(SECP256K1, id="secp256k1")]


def shamir(group: Group, t: int, parties: tuple[int, ...]) -> tuple[int, dict[int, int], dict[int, Any]]:
    """A dealt secret, its shares and verifying shares (the state a DKG leaves)."""
    poly = vss.Polynomial.random(group, group.random_scalar(), t - 1)
    shares = {j: poly(j) for j in parties}
    return poly.constant, shares, {j: group.base_mul(s) for j, s in shares.items()}


def interpolate(group: Group, shares: dict[int, int]) -> int:
    return sum(vss.lagrange_at_zero(j, sorted(shares), group.order) * s for j, s in shares.items()) % group.order


@pytest.mark.parametrize("group", GROUPS)
def test_refresh_keeps_the_secret_and_breaks_mixed_shares(group: Group) -> None:
    t, parties = 2, (1, 2, 3)
    secret, shares, verifying = shamir(group, t, parties)
    key = group.base_mul(secret)
    polys = {j: reshare.zero_sharing(group, t) for j in parties}
    dealings = {j: p.commit(group) for j, p in polys.items()}
    for j, c in dealings.items():
        reshare.check_zero_dealing(group, j, c, t)
        for i in parties:
            reshare.check_received_share(group, j, c, i, polys[j](i))
    new = {i: (shares[i] + sum(p(i) for p in polys.values())) % group.order for i in parties}
    new_verifying = reshare.refreshed_verifying_shares(group, verifying, dealings, key, t)
    assert new_verifying == {i: group.base_mul(s) for i, s in new.items()}
    assert interpolate(group, {1: new[1], 3: new[3]}) == secret
    assert interpolate(group, {1: shares[1], 3: new[3]}) != secret


@pytest.mark.parametrize("group", GROUPS)
def test_reshare_to_a_new_set_and_threshold(group: Group) -> None:
    secret, shares, verifying = shamir(group, 2, (1, 2, 3))
    key = group.base_mul(secret)
    quorum, new_parties, t2 = (1, 3), (1, 2, 3, 4), 3
    polys = {i: reshare.reshare_polynomial(group, shares[i], i, quorum, t2) for i in quorum}
    dealings = {i: p.commit(group) for i, p in polys.items()}
    for i, c in dealings.items():
        reshare.check_reshare_dealing(group, i, c, t2, quorum, verifying)
    new = {j: sum(p(j) for p in polys.values()) % group.order for j in new_parties}
    new_verifying = reshare.reshared_verifying_shares(group, dealings, new_parties, key, t2)
    assert new_verifying == {j: group.base_mul(s) for j, s in new.items()}
    assert interpolate(group, {j: new[j] for j in (2, 3, 4)}) == secret
    assert interpolate(group, {j: new[j] for j in (1, 2)}) != secret  # below the new threshold


@pytest.mark.parametrize("group", GROUPS)
def test_each_check_names_the_dealer(group: Group) -> None:
    _, shares, verifying = shamir(group, 2, (1, 2))
    nonzero = vss.Polynomial.random(group, 5, 1).commit(group)
    with pytest.raises(reshare.DealingError, match="does not share zero") as info:
        reshare.check_zero_dealing(group, 4, nonzero, 2)
    assert info.value.dealer == 4
    with pytest.raises(reshare.DealingError, match="coefficients") as info:
        reshare.check_zero_dealing(group, 3, [group.identity()], 2)
    assert info.value.dealer == 3
    poly = reshare.reshare_polynomial(group, shares[1] + 1, 1, (1, 2), 2)  # not its real share
    with pytest.raises(reshare.DealingError, match="wrong constant term") as info:
        reshare.check_reshare_dealing(group, 1, poly.commit(group), 2, (1, 2), verifying)
    assert info.value.dealer == 1
    with pytest.raises(reshare.DealingError, match="holds no share") as info:
        reshare.check_reshare_dealing(group, 5, poly.commit(group), 2, (1, 5), verifying)
    assert info.value.dealer == 5
    with pytest.raises(reshare.DealingError, match="does not match its commitments") as info:
        reshare.check_received_share(group, 2, poly.commit(group), 3, poly(3) + 1)
    assert info.value.dealer == 2


@pytest.mark.parametrize("group", GROUPS)
def test_verifying_shares_off_the_polynomial_are_refused(group: Group) -> None:
    secret, _, verifying = shamir(group, 2, (1, 2, 3, 4))
    key = group.base_mul(secret)
    reshare.check_verifying_shares(group, verifying, key, 2)
    for j in verifying:  # any single point moved off the line is caught
        moved = dict(verifying) | {j: group.add(verifying[j], group.base_mul(1))}
        with pytest.raises(reshare.DealingError, match="interpolate") as info:
            reshare.check_verifying_shares(group, moved, key, 2)
        assert info.value.dealer is None  # a package, not one dealer's dealing
    with pytest.raises(reshare.DealingError, match="cannot carry"):
        reshare.check_verifying_shares(group, verifying, key, 5)
    # Dealings whose constants do not add up to the key (an inconsistent old package) are refused.
    dealings = {1: vss.Polynomial.random(group, 1, 1).commit(group)}
    with pytest.raises(reshare.DealingError, match="do not add up"):
        reshare.reshared_verifying_shares(group, dealings, (1, 2), key, 2)
