"""GG20 key generation (Gennaro–Goldfeder 2020 §3 / GG18 §4.1) with CGGMP21's auxiliary-key proofs.

Rounds (each party P_i, all parties in `parties`):
  1. "Each player P_i selects u_i; computes [KGC_i, KGD_i] = Com(g^{u_i}) and broadcast KGC_i and E_i
     (its Paillier public key)". Here the commitment covers the whole Feldman commitment vector of
     u_i's polynomial and a chain-code contribution; P_i also broadcasts its ring-Pedersen parameters
     with Π^prm, Π^mod for its Paillier modulus, and a fresh X25519 key for the p2p channel.
  2. Verify every Π^mod / Π^prm; "broadcast KGD_i" (the opening) and "perform a (t, n) Feldman-VSS of
     u_i": the share f_i(j) goes to P_j end-to-end encrypted, with Π^fac for N_i under P_j's ring-Pedersen.
  3. Check openings, shares and Π^fac; x_i = Σ_j f_j(i); "prove in ZK that they know x_i using Schnorr".
  Finish: verify the Schnorr proofs against X_j computed from the summed commitments.
Pre-parameters (Paillier key, ring-Pedersen) come from outside: keygen never generates safe primes.
"""

from __future__ import annotations

from collections.abc import Mapping

from signer.crypto.preparams import PreParams
from signer.protocols.base import InboxKey, Outgoing
from signer.protocols.params import validate_keygen_args

from . import keygen_finish, keygen_round1, keygen_round2, keygen_round3
from .common import RoundMachine
from .keygen_state import KeygenState


class Gg20KeygenSession(RoundMachine):
    """One party's GG20 key generation; the result is a DkgResult with an encoded `KeyShare`."""

    def __init__(
        self, session_id: str, party_index: int, threshold: int, parties: tuple[int, ...], preparams: PreParams
    ) -> None:
        parties = validate_keygen_args(party_index, threshold, parties)
        if not isinstance(preparams, PreParams):
            raise ValueError("preparams must be a signer.crypto.preparams.PreParams")
        super().__init__(session_id, party_index, parties)
        self.threshold = threshold
        self._state = KeygenState(session_id, party_index, threshold, parties, preparams)

    def __repr__(self) -> str:
        return f"Gg20KeygenSession(session={self.session_id!r}, party={self.party_index}, secret=<redacted>)"

    def start(self) -> list[Outgoing]:
        self._begin()
        self._next(1, self._r2)
        return keygen_round1.round1(self._state)

    def _r2(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        out = keygen_round2.round2(self._state, inbox)
        self._next(2, self._r3, p2p=True)
        return out

    def _r3(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        out = keygen_round3.round3(self._state, inbox)
        self._next(3, self._finish_keygen)
        return out

    def _finish_keygen(self, inbox: Mapping[InboxKey, bytes]) -> list[Outgoing]:
        self._finish(keygen_finish.finish(self._state, inbox))
        return []
