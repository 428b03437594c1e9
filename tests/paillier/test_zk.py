"""Every CGGMP21 proof: completeness, encoding round trip, any single perturbed field rejected,
a modified statement rejected, and no verification under another session, party, verifier or label."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from signer.crypto.bigint import mpz, random_unit
from signer.crypto.errors import DecodeError
from signer.crypto.secp256k1 import GENERATOR, Point, base_mul, random_scalar
from signer.crypto.zk import affg, enc, fac, logstar, mod, prm, schnorr
from signer.crypto.zk.base import ELL_PRIME, ProofContext, ProofError

CTX = ProofContext(b"session-1", 1, 2, b"label")
OTHER_CONTEXTS = [
    ProofContext(b"session-2", 1, 2, b"label"),
    ProofContext(b"session-1", 3, 2, b"label"),
    ProofContext(b"session-1", 1, 3, b"label"),
    ProofContext(b"session-1", 1, 2, b"other"),
]


@dataclass
class Case:
    proof: object
    cls: type
    verify: Callable[[ProofContext, object], None]  # verify(ctx, proof) for the true statement
    wrong_statements: list[Callable[[object], None]]  # each verifies the proof against a modified statement
    verify_owner: Callable[[ProofContext, object], None] | None = None  # the verifier's CRT path (own secrets)


def build_cases(alice, bob, carol) -> dict[str, Case]:
    a_sk, a_pk = alice.paillier, alice.paillier.public
    b_sk, b_pk = bob.paillier, bob.paillier.public
    a_rp, b_rp, c_rp = alice.ring_pedersen.public, bob.ring_pedersen.public, carol.ring_pedersen.public
    cases: dict[str, Case] = {}

    x = random_scalar()
    X = base_mul(x)
    cases["schnorr"] = Case(
        schnorr.prove(CTX, x),
        schnorr.SchnorrProof,
        lambda c, p: schnorr.verify(c, X, p),
        [lambda p: schnorr.verify(CTX, X + GENERATOR, p)],
    )

    k = random_scalar()
    K, rho = a_sk.encrypt(k)
    K1 = K * (1 + a_pk.n) % a_pk.n2  # encrypts k + 1
    cases["enc"] = Case(
        enc.prove(CTX, a_sk, b_rp, K, k, rho),
        enc.EncProof,
        lambda c, p: enc.verify(c, a_pk, b_rp, K, p),
        [
            lambda p: enc.verify(CTX, a_pk, b_rp, K1, p),
            lambda p: enc.verify(CTX, a_pk, c_rp, K, p),
            lambda p: enc.verify(CTX, b_pk, b_rp, K, p),
        ],
        lambda c, p: enc.verify(c, a_pk, bob.ring_pedersen, K, p),
    )

    C, rho_c = a_sk.encrypt(x)
    C1 = C * (1 + a_pk.n) % a_pk.n2
    g2 = base_mul(2)
    cases["logstar"] = Case(
        logstar.prove(CTX, a_sk, b_rp, C, X, x, rho_c),
        logstar.LogStarProof,
        lambda c, p: logstar.verify(c, a_pk, b_rp, C, X, p),
        [
            lambda p: logstar.verify(CTX, a_pk, b_rp, C1, X, p),
            lambda p: logstar.verify(CTX, a_pk, b_rp, C, X + GENERATOR, p),
            lambda p: logstar.verify(CTX, a_pk, b_rp, C, X, p, g=g2),
            lambda p: logstar.verify(CTX, a_pk, c_rp, C, X, p),
        ],
        lambda c, p: logstar.verify(c, a_pk, bob.ring_pedersen, C, X, p),
    )
    # g other than G: X2 = x·g2
    X2 = g2 * x
    cases["logstar_base"] = Case(
        logstar.prove(CTX, a_sk, b_rp, C, X2, x, rho_c, g=g2),
        logstar.LogStarProof,
        lambda c, p: logstar.verify(c, a_pk, b_rp, C, X2, p, g=g2),
        [lambda p: logstar.verify(CTX, a_pk, b_rp, C, X2, p)],
    )

    # aff-g: Bob (prover, N1) answers Alice's K (N0 = Alice) with x and y, under Alice's ring-Pedersen
    y = -(random_scalar() << (ELL_PRIME - 256))
    rho_d = random_unit(a_pk.n)
    D = a_pk.mul_const(K, x) * a_pk.encrypt_with(y % a_pk.n, rho_d) % a_pk.n2
    Y, rho_y = b_sk.encrypt(y % b_pk.n)
    D1 = D * (1 + a_pk.n) % a_pk.n2
    Y1 = Y * (1 + b_pk.n) % b_pk.n2
    cases["affg"] = Case(
        affg.prove(CTX, a_pk, b_sk, a_rp, K, D, Y, X, x, y, rho_d, rho_y),
        affg.AffGProof,
        lambda c, p: affg.verify(c, a_pk, b_pk, a_rp, K, D, Y, X, p),
        [
            lambda p: affg.verify(CTX, a_pk, b_pk, a_rp, K1, D, Y, X, p),
            lambda p: affg.verify(CTX, a_pk, b_pk, a_rp, K, D1, Y, X, p),
            lambda p: affg.verify(CTX, a_pk, b_pk, a_rp, K, D, Y1, X, p),
            lambda p: affg.verify(CTX, a_pk, b_pk, a_rp, K, D, Y, X + GENERATOR, p),
            lambda p: affg.verify(CTX, a_pk, b_pk, c_rp, K, D, Y, X, p),
        ],
        lambda c, p: affg.verify(c, a_sk, b_pk, alice.ring_pedersen, K, D, Y, X, p),
    )

    cases["mod"] = Case(
        mod.prove(CTX, a_sk),
        mod.ModProof,
        lambda c, p: mod.verify(c, a_pk, p),
        [lambda p: mod.verify(CTX, b_pk, p)],
    )
    cases["prm"] = Case(
        prm.prove(CTX, alice.ring_pedersen),
        prm.PrmProof,
        lambda c, p: prm.verify(c, a_rp, p),
        [lambda p: prm.verify(CTX, b_rp, p)],
    )
    cases["fac"] = Case(
        fac.prove(CTX, a_sk, b_rp),
        fac.FacProof,
        lambda c, p: fac.verify(c, a_pk, b_rp, p),
        [lambda p: fac.verify(CTX, b_pk, b_rp, p), lambda p: fac.verify(CTX, a_pk, c_rp, p)],
        lambda c, p: fac.verify(c, a_pk, bob.ring_pedersen, p),
    )
    return cases


@pytest.fixture(scope="module")
def cases(preparams):
    return build_cases(preparams[0], preparams[1], preparams[2])


NAMES = ["schnorr", "enc", "logstar", "logstar_base", "affg", "mod", "prm", "fac"]


def _perturb(v):
    if isinstance(v, Point):
        return v + GENERATOR
    if isinstance(v, tuple):
        return (_perturb(v[0]), *v[1:])
    if isinstance(v, int) and v in (0, 1) and not isinstance(v, mpz):
        return 1 - v  # Π^mod's a_i / b_i bits
    return v + 1


def perturbations(proof) -> list[tuple[str, object]]:
    return [
        (f.name, dataclasses.replace(proof, **{f.name: _perturb(getattr(proof, f.name))}))
        for f in dataclasses.fields(proof)
    ]


@pytest.mark.parametrize("name", NAMES)
def test_completeness_and_encoding(cases, name):
    case = cases[name]
    case.verify(CTX, case.proof)
    data = case.proof.to_bytes()
    decoded = case.cls.from_bytes(data)
    assert decoded == case.proof
    case.verify(CTX, decoded)


@pytest.mark.parametrize("name", NAMES)
def test_every_single_field_perturbed_is_rejected(cases, name):
    case = cases[name]
    for field, bad in perturbations(case.proof):
        with pytest.raises(ProofError):
            case.verify(CTX, bad)
            pytest.fail(f"{name}: perturbed field {field} verified")


@pytest.mark.parametrize("name", ["enc", "logstar", "affg", "fac"])
def test_owner_crt_verification_agrees(cases, name):
    """The verifier's CRT path (its own Paillier / ring-Pedersen secrets) accepts and rejects exactly alike."""
    case = cases[name]
    assert case.verify_owner is not None
    case.verify_owner(CTX, case.proof)
    for field, bad in perturbations(case.proof):
        with pytest.raises(ProofError):
            case.verify_owner(CTX, bad)
            pytest.fail(f"{name}: perturbed field {field} verified on the owner path")
    for other in OTHER_CONTEXTS:
        with pytest.raises(ProofError):
            case.verify_owner(other, case.proof)


def test_owner_shortcuts_equal_public_arithmetic(alice):
    rs, rp = alice.ring_pedersen, alice.ring_pedersen.public
    sk = alice.paillier
    for x, y in [(3, 4), (-(2**700), 2**2600), (0, -5)]:
        assert rs.commit(x, y) == rp.commit(x, y)
    base = rp.t * 7 % rp.n
    for e in (5, -3, 2**3000 + 1):
        assert rs.pow(base, e) == rp.pow(base, e)
        c, _ = sk.public.encrypt(12345)
        assert sk.pow_n2(c, e) == sk.public.pow_n2(c, e)


@pytest.mark.parametrize("name", NAMES)
def test_modified_statement_is_rejected(cases, name):
    for wrong in cases[name].wrong_statements:
        with pytest.raises(ProofError):
            wrong(cases[name].proof)


@pytest.mark.parametrize("name", NAMES)
def test_bound_to_session_party_verifier_label(cases, name):
    case = cases[name]
    for other in OTHER_CONTEXTS:
        with pytest.raises(ProofError):
            case.verify(other, case.proof)


@pytest.mark.parametrize("name", NAMES)
def test_decoder_rejects_malformed(cases, name):
    case = cases[name]
    data = case.proof.to_bytes()
    for bad in (data[:-1], data + b"\x00", bytes([data[0] ^ 0x0F]) + data[1:], data[:1] + b"\x02" + data[2:], b""):
        with pytest.raises(DecodeError):
            case.cls.from_bytes(bad)


def test_decoder_rejects_non_minimal_integers(cases):
    data = cases["enc"].proof.to_bytes()
    # first field: u32 length, sign byte, magnitude -> insert a leading zero byte into the magnitude
    ln = int.from_bytes(data[2:6], "big")
    bad = data[:2] + (ln + 1).to_bytes(4, "big") + data[6:7] + b"\x00" + data[7:]
    with pytest.raises(DecodeError):
        enc.EncProof.from_bytes(bad)


def test_repetition_count_is_fixed(cases, alice):
    p = cases["prm"].proof
    short = prm.PrmProof(p.A[:79], p.z[:79])
    with pytest.raises(DecodeError):
        prm.PrmProof.from_bytes(short.to_bytes())
    with pytest.raises(ProofError, match="wrong count"):
        prm.verify(CTX, alice.ring_pedersen.public, short)
    m = cases["mod"].proof
    short_mod = mod.ModProof(m.w, m.x[:79], m.a[:79], m.b[:79], m.z[:79])
    with pytest.raises(DecodeError):
        mod.ModProof.from_bytes(short_mod.to_bytes())
    with pytest.raises(ProofError, match="wrong count"):
        mod.verify(CTX, alice.paillier.public, short_mod)


def test_proof_of_wrong_type_is_rejected(cases, alice):
    with pytest.raises(ProofError):
        prm.verify(CTX, alice.ring_pedersen.public, cases["mod"].proof)  # type: ignore[arg-type]


def test_parameters_are_the_papers():
    """CGGMP21 §C.1: ℓ = 256, ε = 512, ℓ' = 1280; m = 128 (above the paper's 80, base.py says why);
    Paillier and Ñ moduli of exactly 2048 bits."""
    from signer.crypto import zk
    from signer.crypto.paillier import MODULUS_BITS
    from signer.crypto.zk import base

    assert (base.ELL, base.EPSILON, base.ELL_PRIME, base.REPETITIONS) == (256, 512, 1280, 128)
    assert (zk.ELL, zk.EPSILON, zk.ELL_PRIME, zk.REPETITIONS) == (256, 512, 1280, 128)
    assert MODULUS_BITS == 2048
    assert base.Q.bit_length() == 256
