"""The identification round cannot be turned against an honest party (issue 15, item 1).

A Paillier ciphertext under N_1 is opened by α and by α + N_1, which differ mod q. Party 1 (the liar)
adds N_1 mod q to its broadcast δ_1, so the presignature check fails, and in the identification round
reveals α_{1,b} + N_1 for the MtA it ran with an honest Bob b: its own δ_1 then checks out and b's does
not. Only the canonical plaintext may be accepted, so the liar is named and never b.
"""

from __future__ import annotations

import dataclasses

import pytest

from signer.crypto.secp256k1 import ORDER
from signer.protocols.base import Outgoing, ProtocolError
from signer.protocols.gg20 import Gg20SignSession
from signer.protocols.gg20.keyshare import Gg20KeyShare
from signer.protocols.gg20.messages import KIND_REVEAL, DeltaShare, Reveal
from tests.support.driver import run

from .conftest import digest_of

LIAR = 1


def _framing_session(n_liar: int):
    """Party 1's session: δ_1 + N_1 (mod q) broadcast in round 3, everything else honest."""

    class Framing(Gg20SignSession):
        def _round3(self, inbox):
            out = super()._round3(inbox)
            if self.party_index != LIAR:
                return out
            self._r3 = dataclasses.replace(self._r3, delta=(self._r3.delta + n_liar) % ORDER)
            share = DeltaShare.decode(out[0].payload)
            return [Outgoing(0, 3, dataclasses.replace(share, delta=self._r3.delta).encode())]

    return Framing


def _shifted_reveal(n_liar: int, victim: int, signers: tuple[int, ...]):
    """A relay hook: party 1's reveal claims α_{1,victim} + N_1, which opens the same ciphertext."""

    def tamper(sender: int, recipient: int, out: Outgoing) -> bytes:
        if sender != LIAR or out.payload[0] != KIND_REVEAL:
            return out.payload
        rev = Reveal.decode(out.payload, [b for b in signers if b != LIAR])
        (alpha, nonce), hat = rev.openings[victim]
        openings = dict(rev.openings) | {victim: ((alpha + n_liar, nonce), hat)}
        return dataclasses.replace(rev, openings=openings).encode()

    return tamper


@pytest.mark.parametrize(
    ("tn", "signers", "victim"),
    [((2, 2), (1, 2), 2), ((2, 3), (1, 2, 3), 3)],
    ids=["2-of-2-frames-the-node", "2-of-3-frames-party-3"],
)
def test_shifted_mta_opening_names_the_liar(keys, tn, signers, victim) -> None:
    shares = {i: s.result.key_share for i, s in keys[tn].items()}
    n_liar = int(Gg20KeyShare.decode(shares[LIAR]).paillier[LIAR].n)
    session_cls = _framing_session(n_liar)
    sessions = {i: session_cls(f"frame-{tn}", i, shares[i], digest_of("frame"), signers) for i in signers}
    errors = run(sessions, _shifted_reveal(n_liar, victim, signers))
    honest = [i for i in signers if i != LIAR]
    for i in honest:
        assert isinstance(errors.get(i), ProtocolError), f"party {i} did not fail: {errors.get(i)!r}"
        assert errors[i].culprits == (LIAR,), f"party {i} named {errors[i].culprits}: {errors[i]}"
        assert "does not open its ciphertext" in str(errors[i])
        with pytest.raises(ProtocolError):
            sessions[i].result  # noqa: B018 - nothing is output
