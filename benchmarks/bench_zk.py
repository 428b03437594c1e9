"""CGGMP21 proof benchmarks: prove and verify for every proof, N = Ñ = 2048 bits, from the fixtures.

Each `zk.<proof>.prove` times one proof including its Fiat–Shamir transcript; `zk.<proof>.verify` one
verification of a fixed valid proof. Π^mod and Π^prm run m = REPETITIONS = 128 repetitions (zk/base.py).
Verifications of enc, logstar, affg and fac run as a real verifier does: with its own ring-Pedersen
secret (and, for aff-g, its own Paillier key), i.e. by CRT; Π^prm's prover uses its secret the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import entry
from signer.crypto.bigint import random_unit
from signer.crypto.preparams import load_fixture_preparams
from signer.crypto.secp256k1 import base_mul, random_scalar
from signer.crypto.zk import affg, enc, fac, logstar, mod, prm, schnorr
from signer.crypto.zk.base import ELL_PRIME, REPETITIONS, ProofContext

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "paillier" / "fixtures" / "preparams.json"
CTX = ProofContext(b"bench-zk", 1, 2)


def _setups() -> dict[str, tuple[Callable[[], object], Callable[[object], None]]]:
    """proof name -> (prove op, verify(proof) op) for one fixed statement."""
    alice, bob = load_fixture_preparams(FIXTURES)[:2]
    a_sk, a_pk, a_rp = alice.paillier, alice.paillier.public, alice.ring_pedersen.public
    b_sk, b_pk, b_rp = bob.paillier, bob.paillier.public, bob.ring_pedersen.public
    x = random_scalar()
    X = base_mul(x)
    k = random_scalar()
    K, rho = a_sk.encrypt(k)
    C, rho_c = a_sk.encrypt(x)
    y = -(random_scalar() << (ELL_PRIME - 256))
    rho_d = random_unit(a_pk.n)
    D = a_pk.mul_const(K, x) * a_pk.encrypt_with(y % a_pk.n, rho_d) % a_pk.n2
    Y, rho_y = b_sk.encrypt(y % b_pk.n)
    return {
        "mod": (lambda: mod.prove(CTX, a_sk), lambda p: mod.verify(CTX, a_pk, p)),
        "fac": (lambda: fac.prove(CTX, a_sk, b_rp), lambda p: fac.verify(CTX, a_pk, bob.ring_pedersen, p)),
        "prm": (lambda: prm.prove(CTX, alice.ring_pedersen), lambda p: prm.verify(CTX, a_rp, p)),
        "enc": (
            lambda: enc.prove(CTX, a_sk, b_rp, K, k, rho),
            lambda p: enc.verify(CTX, a_pk, bob.ring_pedersen, K, p),
        ),
        "affg": (
            lambda: affg.prove(CTX, a_pk, b_sk, a_rp, K, D, Y, X, x, y, rho_d, rho_y),
            lambda p: affg.verify(CTX, a_sk, b_pk, alice.ring_pedersen, K, D, Y, X, p),
        ),
        "logstar": (
            lambda: logstar.prove(CTX, a_sk, b_rp, C, X, x, rho_c),
            lambda p: logstar.verify(CTX, a_pk, bob.ring_pedersen, C, X, p),
        ),
        "schnorr": (lambda: schnorr.prove(CTX, x, X), lambda p: schnorr.verify(CTX, X, p)),
    }


NOTES = {
    "mod": f"Π^mod Paillier-Blum modulus, m={REPETITIONS}, N=2048",
    "fac": "Π^fac no small factor, N0=2048, verifier's Ñ=2048",
    "prm": f"Π^prm ring-Pedersen, m={REPETITIONS}, Ñ=2048",
    "enc": "Π^enc range ±2^256, N0=2048 (prover's CRT), Ñ=2048",
    "affg": "Π^aff-g, N0=N1=Ñ=2048, ℓ=256 ℓ'=1280 ε=512",
    "logstar": "Π^log*, N0=Ñ=2048, secp256k1",
    "schnorr": "Schnorr PoK on secp256k1 (coincurve)",
}


def _register(name: str) -> None:
    @entry(f"zk.{name}.prove", note=NOTES[name])
    def _prove():
        prove, _ = _setups()[name]
        return prove

    @entry(f"zk.{name}.verify", note=NOTES[name])
    def _verify():
        prove, verify = _setups()[name]
        proof = prove()
        return lambda: verify(proof)


for _name in NOTES:
    _register(_name)
