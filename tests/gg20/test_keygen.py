"""GG20 key generation for (2,2), (2,3), (3,4): every party agrees, shares interpolate to the key."""

from __future__ import annotations

import itertools

import pytest

from signer.crypto.secp256k1 import ORDER, base_mul
from signer.crypto.vss import lagrange_at_zero
from signer.protocols.base import DecodeError
from signer.protocols.gg20 import Gg20KeygenSession, key_share_info
from signer.protocols.gg20.keyshare import Gg20KeyShare


@pytest.mark.parametrize("tn", [(2, 2), (2, 3), (3, 4)])
def test_keygen_agrees_and_shares_reconstruct(keys, tn) -> None:
    t, n = tn
    sessions = keys[tn]
    results = {i: s.result for i, s in sessions.items()}
    public_keys = {r.public_key for r in results.values()}
    assert len(public_keys) == 1
    (public_key,) = public_keys
    assert len(public_key) == 33
    shares = {i: Gg20KeyShare.decode(r.key_share) for i, r in results.items()}
    infos = {i: key_share_info(r.key_share) for i, r in results.items()}
    assert {(x.threshold, x.parties, x.public_key, x.chain_code) for x in infos.values()} == {
        (t, tuple(range(1, n + 1)), public_key, infos[1].chain_code)
    }
    assert [infos[i].party_index for i in sorted(infos)] == list(range(1, n + 1))
    # any t shares reconstruct the secret key of the group public key; every public share is x_j·G
    for subset in itertools.combinations(range(1, n + 1), t):
        x = sum(shares[j].secret_share * lagrange_at_zero(j, subset, ORDER) for j in subset) % ORDER
        assert base_mul(x).encode() == public_key
    for i, share in shares.items():
        assert share.public_shares[i] == base_mul(share.secret_share)
        assert all(share.public_shares == other.public_shares for other in shares.values())
        assert "secret" not in repr(share).replace("secret=<redacted>", "")


def test_key_share_encoding_round_trips_and_rejects_corruption(keys) -> None:
    blob = keys[(2, 3)][2].result.key_share
    assert Gg20KeyShare.decode(blob).encode() == blob
    with pytest.raises(DecodeError):
        Gg20KeyShare.decode(blob[:-1])
    with pytest.raises(DecodeError):
        Gg20KeyShare.decode(blob + b"\x00")
    corrupted = bytearray(blob)
    corrupted[10] ^= 1  # inside the secret share: no longer matches X_i
    with pytest.raises(DecodeError):
        Gg20KeyShare.decode(bytes(corrupted))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2, 1, (1, 2)), "threshold"),
        ((2, 3, (1, 2)), "threshold"),
        ((3, 2, (1, 2)), "party_index"),
        ((1, 2, (1, 1)), "distinct"),
        ((0, 2, (0, 1)), "1.."),
    ],
)
def test_keygen_arguments_validated(preparams, args, message) -> None:
    party, t, parties = args
    with pytest.raises(ValueError, match=message):
        Gg20KeygenSession("sid", party, t, parties, preparams[0])
