"""The two conversions of presigning are proved under distinct labels (issue 15, item 5).

Bob answers one request K_j twice: k_j·γ_i (MtA) and k_j·w_i (MtAwc). Each Π^aff-g is bound to its own
label, so the MtAwc answer does not verify as the MtA answer (or the reverse) even where the expected
public point would allow it.
"""

from __future__ import annotations

import pytest

from signer.crypto import mta
from signer.crypto.zk.base import ProofError
from signer.protocols.gg20.keyshare import Gg20KeyShare
from signer.protocols.gg20.presign import MTA_GAMMA_LABEL, MTA_W_LABEL, PresignSetup, round1, round2


def test_each_answer_verifies_only_under_its_own_label(keys) -> None:
    shares = {i: Gg20KeyShare.decode(s.result.key_share) for i, s in keys[(2, 2)].items()}
    setups = {i: PresignSetup.create("labels", shares[i], (1, 2)) for i in (1, 2)}
    first = {i: round1(setups[i]) for i in (1, 2)}
    _, _, responses = round2(first[2][0], {1: first[1][1]}, {1: first[1][2][2]})
    alice = shares[1]
    resp = responses[1]
    args = (alice.paillier_secret, alice.ring_pedersen_secret, alice.paillier[2], first[1][0].K)
    mta.finish(setups[1].sid, 1, 2, MTA_GAMMA_LABEL, *args, resp.gamma)
    mta.finish(setups[1].sid, 1, 2, MTA_W_LABEL, *args, resp.w)
    for label, answer in ((MTA_GAMMA_LABEL, resp.w), (MTA_W_LABEL, resp.gamma)):
        with pytest.raises(ProofError):
            mta.finish(setups[1].sid, 1, 2, label, *args, answer)
