"""Identifiable abort: a party that cheats in any check is named as the culprit and nothing is output.

Each test lets party 2 (the cheater) misbehave in exactly one way, by rewriting its outgoing payload
(decode, perturb one field, re-encode) or by a session subclass that computes a wrong value
consistently; every honest party's session must fail with ProtocolError(culprits == (2,)).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest

from signer.crypto import e2e, mta
from signer.crypto.codec import Reader, Writer
from signer.crypto.ringpedersen import RingPedersenParams
from signer.crypto.secp256k1 import ORDER, SECP256K1, base_mul
from signer.crypto.vss import share_for
from signer.crypto.zk import affg, enc, fac, logstar, mod, prm, schnorr
from signer.protocols.base import Outgoing, ProtocolError
from signer.protocols.gg20 import Gg20KeygenSession, Gg20SignSession
from signer.protocols.gg20 import sigma as gg20_sigma
from tests.support.driver import run

from .conftest import FIXTURES, digest_of

CHEATER = 2
VAR = None  # a u32-length-prefixed field in a layout; ints are fixed-size fields


def split(payload: bytes, kind: int, layout: list[int | None]) -> list[bytes]:
    r = Reader(payload, kind, payload[1])  # the version byte: some messages are at version 2
    fields = [r.var(1 << 22) if size is None else r.fixed(size) for size in layout]
    r.end()
    return fields


def join(kind: int, layout: list[int | None], fields: list[bytes], version: int = 1) -> bytes:
    w = Writer(kind, version)
    for size, value in zip(layout, fields, strict=True):
        w.var(value) if size is None else w.fixed(value)
    return w.done()


def rewrite(kind: int, layout: list[int | None], index: int, change: Callable[[bytes], bytes], to: int | None = None):
    """A tamper hook: the cheater's message of `kind` (to `to`, or any recipient) gets field `index` changed."""

    def tamper(sender: int, recipient: int, out: Outgoing) -> bytes:
        if sender != CHEATER or out.payload[0] != kind or (to is not None and out.to_party != to):
            return out.payload
        fields = split(out.payload, kind, layout)
        fields[index] = change(fields[index])
        return join(kind, layout, fields, out.payload[1])

    return tamper


def bump(cls, field: str, amount: int = 1):
    """Re-encode a proof with one field perturbed."""

    def change(raw: bytes) -> bytes:
        proof = cls.from_bytes(raw)
        value = getattr(proof, field)
        value = (value[0] + amount,) + value[1:] if isinstance(value, tuple) else value + amount
        return dataclasses.replace(proof, **{field: value}).to_bytes()

    return change


def assert_cheater_named(sessions, errors: dict[int, ProtocolError], check: str | None = None) -> None:
    honest = [i for i in sessions if i != CHEATER]
    assert any(i in errors for i in honest), "no honest party detected the cheat"
    for i in honest:
        if i in errors:
            assert errors[i].culprits == (CHEATER,), f"party {i}: {errors[i]}"
            if check:
                assert check in str(errors[i])
        with pytest.raises(ProtocolError):
            sessions[i].result  # noqa: B018 - nothing is output


# --- keygen -----------------------------------------------------------------------------------------

KG_R1 = (0x41, [32, 32, VAR, VAR, VAR, VAR])
KG_R2B = (0x42, [32, 32, 1, 33, 33])  # 2-of-2: two Feldman commitments
KG_R2P = (0x43, [VAR, VAR])
KG_R3 = (0x44, [VAR])


def _keygen(preparams, tamper, session_cls=Gg20KeygenSession):
    sessions = {i: session_cls(f"kg-adv-{id(tamper)}", i, 2, (1, 2), preparams[i - 1]) for i in (1, 2)}
    return sessions, run(sessions, tamper)


def _small_factor_modulus() -> bytes:
    doc = json.loads((FIXTURES.parent / "attack_moduli.json").read_text())["small_factor"]
    n = int(doc["large_prime"])
    for p in doc["small_primes"]:
        n *= int(p)
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def _reseal_wrong_share(sessions):
    cheater = sessions[CHEATER]

    def change(_: bytes) -> bytes:
        ctx = e2e.context(b"gg20/keygen/share", cheater.session_id, CHEATER, 1, 2)
        state = cheater._r2  # the cheater's secret state after round 2
        wrong = SECP256K1.encode_scalar(share_for(state.round1.poly, 1) + 1)
        return state.round1.e2e.seal(state.peers[1].e2e_public, wrong, ctx)

    return change


@pytest.mark.parametrize(
    ("message", "index", "change", "check"),
    [
        (KG_R1, 4, bump(mod.ModProof, "z"), "Π^mod"),
        (KG_R1, 5, bump(prm.PrmProof, "z"), "Π^prm"),
        (KG_R1, 2, lambda _: _small_factor_modulus(), "Π^mod"),
        (KG_R1, 1, lambda key: bytes([key[0] ^ 1]) + key[1:], "Π^mod"),
        (KG_R2B, 0, lambda salt: bytes([salt[0] ^ 1]) + salt[1:], "decommitment"),
        (KG_R2P, 1, bump(fac.FacProof, "z1"), "Π^fac"),
        (KG_R2P, 0, lambda sealed: sealed[:-1] + bytes([sealed[-1] ^ 1]), "cannot be opened"),
        (KG_R3, 0, bump(schnorr.SchnorrProof, "z"), "Schnorr"),
    ],
    ids=["mod", "prm", "small-factor-modulus", "e2e-key-swapped", "decommitment", "fac", "e2e-tampered", "schnorr"],
)
def test_keygen_cheater_named(preparams, message, index, change, check) -> None:
    kind, layout = message
    sessions, errors = _keygen(preparams, rewrite(kind, layout, index, change))
    assert_cheater_named(sessions, errors, check)


def test_keygen_ring_pedersen_modulus_equal_to_another_partys_paillier_modulus_named(preparams) -> None:
    """Ñ_2 = N_1: a ring-Pedersen modulus whose factorisation party 1 knows is refused before Π^prm."""
    n_1 = int(preparams[0].paillier.public.n)
    copied = RingPedersenParams(n_1, 4, 9).to_bytes()
    sessions, errors = _keygen(preparams, rewrite(*KG_R1, 3, lambda _: copied))
    assert_cheater_named(sessions, errors, "reuses another party's")


def test_keygen_inconsistent_vss_share_named(preparams) -> None:
    holder: dict = {}

    def tamper(sender: int, recipient: int, out: Outgoing) -> bytes:
        return rewrite(*KG_R2P, 0, _reseal_wrong_share(holder["sessions"]))(sender, recipient, out)

    class Recording(Gg20KeygenSession):
        def __init__(self, *args):
            super().__init__(*args)
            holder.setdefault("sessions", {})[self.party_index] = self

    sessions, errors = _keygen(preparams, tamper, Recording)
    assert_cheater_named(sessions, errors, "VSS share is inconsistent")


# --- signing ----------------------------------------------------------------------------------------

PS_R1P = (0x52, [VAR])
PS_R2B_2 = (0x53, [32, 33, VAR, VAR])  # 2 signers: one (D, D̂) pair, each a length-prefixed int
PS_R2P = (0x54, [VAR, VAR])
PS_R3 = (0x55, [32, 33, VAR])
PS_R4B = (0x56, [33, 33, VAR])
PS_R4P = (0x57, [VAR])
ONLINE = (0x59, [32])


def _sign(keys, tamper, session_cls=Gg20SignSession, tn=(2, 2), signers=(1, 2)):
    shares = {i: s.result.key_share for i, s in keys[tn].items()}
    digest = digest_of("adversarial")
    sessions = {i: session_cls(f"sign-adv-{id(tamper)}", i, shares[i], digest, signers) for i in signers}
    return sessions, run(sessions, tamper)


def _in_request(change):
    def inner(raw: bytes) -> bytes:
        req = mta.MtaRequest.from_bytes(raw)
        return dataclasses.replace(req, proof=enc.EncProof.from_bytes(change(req.proof.to_bytes()))).to_bytes()

    return inner


def _in_response(change):
    def inner(raw: bytes) -> bytes:
        resp = mta.MtaResponse.from_bytes(raw)
        return dataclasses.replace(resp, proof=affg.AffGProof.from_bytes(change(resp.proof.to_bytes()))).to_bytes()

    return inner


def _scalar_plus_one(raw: bytes) -> bytes:
    return ((int.from_bytes(raw, "big") + 1) % ORDER).to_bytes(32, "big")


def _point_plus_g(raw: bytes) -> bytes:
    return (SECP256K1.decode_point(raw) + base_mul(1)).encode()


@pytest.mark.parametrize(
    ("message", "index", "change", "check"),
    [
        (PS_R1P, 0, _in_request(bump(enc.EncProof, "z1")), "Π^enc"),
        (PS_R2P, 0, _in_response(bump(affg.AffGProof, "z1")), "Π^aff-g"),
        (PS_R2P, 1, _in_response(bump(affg.AffGProof, "z2")), "Π^aff-g"),
        (PS_R2B_2, 1, _point_plus_g, "Γ_j does not open"),
        (PS_R2B_2, 2, lambda raw: raw[:-1] + bytes([raw[-1] ^ 2]), "differ from its broadcast"),
        (PS_R3, 1, _point_plus_g, "proof"),
        (PS_R4P, 0, bump(logstar.LogStarProof, "z1"), "Π^log*"),
        (PS_R4B, 0, _point_plus_g, "Π^log*"),
        (PS_R4B, 1, _point_plus_g, "s-t-consistency"),
        (ONLINE, 0, _scalar_plus_one, "bad signature shares"),
        (PS_R3, 0, lambda _: b"\xff" * 32, "scalar"),
        (PS_R4B, 0, lambda _: b"\x02" + b"\xff" * 32, "from party 2"),
    ],
    ids=[
        "enc",
        "affg-mta",
        "affg-mtawc",
        "gamma-decommitment",
        "broadcast-ciphertext",
        "T-proof",
        "logstar",
        "r-bar",
        "s-t-proof",
        "s_i",
        "delta-out-of-range",
        "point-off-curve",
    ],
)
def test_signing_cheater_named(keys, message, index, change, check) -> None:
    kind, layout = message
    sessions, errors = _sign(keys, rewrite(kind, layout, index, change))
    assert_cheater_named(sessions, errors, check)


class Round3Cheater(Gg20SignSession):
    """Party 2 adds 1 to δ_2 or σ_2 and keeps everything it sends afterwards consistent with the wrong value."""

    wrong: str = ""

    def _round3(self, inbox):
        super()._round3(inbox)
        state, i = self._r3, self.party_index
        if i == CHEATER and self.wrong == "delta":
            state = dataclasses.replace(state, delta=(state.delta + 1) % ORDER)
        if i == CHEATER and self.wrong == "sigma":
            sigma = (state.sigma + 1) % ORDER
            state = dataclasses.replace(state, sigma=sigma, T=gg20_sigma.pedersen(sigma, state.ell))
        self._r3 = state
        proof = gg20_sigma.prove_t(self.session_id, i, state.sigma, state.ell)
        fields = [SECP256K1.encode_scalar(state.delta), state.T.encode(), proof]
        return [Outgoing(0, 3, join(*PS_R3, fields))]


class DeltaCheater(Round3Cheater):
    wrong = "delta"


class SigmaCheater(Round3Cheater):
    wrong = "sigma"


@pytest.mark.parametrize("cheater", [DeltaCheater, SigmaCheater], ids=["delta", "sigma"])
def test_consistently_wrong_share_identified(keys, cheater) -> None:
    sessions, errors = _sign(keys, None, cheater)
    assert_cheater_named(sessions, errors, "wrong δ_j or S_j")


def test_wrong_delta_identified_among_three_signers(keys) -> None:
    sessions, errors = _sign(keys, None, DeltaCheater, tn=(2, 3), signers=(1, 2, 3))
    assert_cheater_named(sessions, errors, "wrong δ_j or S_j")
    assert set(errors) >= {1, 3}


REVEAL_2 = (0x58, [32, VAR, 32, VAR, VAR, VAR, VAR])  # k, ρ, γ, then (α, nonce) and (α̂, nonce)


@pytest.mark.parametrize(
    ("index", "change", "check"),
    [
        (0, _scalar_plus_one, "does not open K_j"),
        (2, _scalar_plus_one, "does not match Γ_j"),
        (3, lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]), "does not open its ciphertext"),
    ],
    ids=["k", "gamma", "alpha"],
)
def test_lying_in_the_identification_round_is_named(keys, index, change, check) -> None:
    sessions, errors = _sign(keys, rewrite(*REVEAL_2, index, change), DeltaCheater)
    assert_cheater_named(sessions, errors, check)
