"""FROST(secp256k1, SHA-256) interop with the PyPI frost-rs binding (ZcashFoundation frost-secp256k1).

Keys come from our DKG; in each signing one signer is ours (`core`) and one is frost-rs, and the shares
are aggregated by both implementations: the two signatures are identical and each verifies under the other
implementation's verifier. Each side also checks the other's signature share.
"""

import frost_rs
import pytest

from signer.protocols.frost import core
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256 as SUITE
from signer.protocols.frost.keys import FrostKeyShare
from signer.protocols.frost.session import FrostDkgSession
from tests.frost import frost_rs_codec as rs
from tests.support import driver

U = frost_rs.utility_secp256k1
G = SUITE.group


def our_dkg(t: int, n: int) -> dict[int, FrostKeyShare]:
    parties = tuple(range(1, n + 1))
    sessions = {i: FrostDkgSession("interop", i, t, parties, SUITE) for i in parties}
    driver.run_ok(sessions)
    return {i: FrostKeyShare.decode(s.result.key_share) for i, s in sessions.items()}


@pytest.mark.parametrize(
    ("t", "n", "ours", "theirs"), [(2, 2, 1, 2), (2, 2, 2, 1), (2, 3, 1, 3), (2, 3, 3, 2)], ids=str
)
def test_mixed_signing_aggregated_by_both(t: int, n: int, ours: int, theirs: int) -> None:
    keys = our_dkg(t, n)
    public = keys[ours].public
    message = b"interop: one signer ours, one frost-rs"

    # Round one.
    our_nonces = core.commit(SUITE, keys[ours].key_package.signing_share)
    their_kp = rs.key_package(G, keys[theirs].key_package)
    their_nonces, their_commitments = U.preprocess(their_kp)
    commitments = {ours: our_nonces.commitments, theirs: rs.decode_commitments(G, their_commitments)}
    rs_commitments = {rs.identifier(G, i): rs.commitments(G, c) for i, c in commitments.items()}

    # Round two.
    ctx = core.signing_context(SUITE, public.group_public_key, commitments, message, own=(ours, our_nonces))
    our_share = core.sign(SUITE, keys[ours].key_package, our_nonces, ctx)
    their_share = rs.decode_share(G, U.sign(message, rs_commitments, their_nonces, their_kp))
    assert core.verify_signature_share(SUITE, theirs, public.verifying_shares[theirs], their_share, ctx)
    assert not core.verify_signature_share(SUITE, theirs, public.verifying_shares[theirs], their_share + 1, ctx)

    # Aggregate with either implementation; verify with the other.
    shares = {ours: our_share, theirs: their_share}
    ours_sig = core.aggregate(SUITE, shares, ctx)
    package = rs.public_key_package(G, public.verifying_shares, public.group_public_key)
    rs_shares = {rs.identifier(G, i): rs.share(G, z) for i, z in shares.items()}
    theirs_sig = rs.unb64(U.aggregate(message, rs_commitments, rs_shares, package))
    assert theirs_sig == ours_sig
    assert SUITE.verify(public.group_public_key, message, theirs_sig)
    assert U.verify(message, package, rs.b64(ours_sig))
    assert not U.verify(message + b"!", package, rs.b64(ours_sig))
