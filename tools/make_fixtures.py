"""Regenerate the committed Paillier / ring-Pedersen test fixtures in tests/paillier/fixtures/.

Why: tests must never generate 1024-bit safe primes (seconds each); they load these instead.
  preparams.json      {"version": 1, "preparams": [PreParams.to_bytes().hex(), ...]}  (8 sets)
  attack_moduli.json  moduli for the attack tests, with their factors:
      "small_factor": 16 distinct 16-bit primes and one large prime, product of 2048 bits (BitForge)
      "three_primes": three primes = 3 mod 4 of ~683 bits, product of 2048 bits (not Paillier-Blum)

Run: .venv/bin/python tools/make_fixtures.py [--sets N]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

import gmpy2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from signer.crypto.preparams import generate_preparams  # noqa: E402

OUT = ROOT / "tests" / "paillier" / "fixtures"


def _prime(bits: int, mod4: int | None = None) -> int:
    while True:
        p = int(gmpy2.next_prime(secrets.randbits(bits) | (1 << (bits - 1))))
        if p.bit_length() == bits and (mod4 is None or p % 4 == mod4):
            return p


def _small_factor_modulus() -> dict[str, object]:
    small: list[int] = []
    while len(small) < 16:
        p = _prime(16)
        if p not in small:
            small.append(p)
    s = 1
    for p in small:
        s *= p
    while True:
        big = _prime(2048 - s.bit_length() + 1)
        if (s * big).bit_length() == 2048:  # the node accepts exactly 2048-bit moduli
            return {"small_primes": small, "large_prime": big}


def _three_primes() -> list[int]:
    while True:
        ps = [_prime(683, 3), _prime(683, 3), _prime(683, 3)]
        if len(set(ps)) == 3 and (ps[0] * ps[1] * ps[2]).bit_length() == 2048:
            return ps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sets", type=int, default=8)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sets = []
    for i in range(args.sets):
        sets.append(generate_preparams().to_bytes().hex())
        print(f"pre-parameter set {i + 1}/{args.sets}", file=sys.stderr)
    (OUT / "preparams.json").write_text(json.dumps({"version": 1, "preparams": sets}, indent=1) + "\n")
    attack = {"small_factor": _small_factor_modulus(), "three_primes": _three_primes()}
    (OUT / "attack_moduli.json").write_text(json.dumps(attack, indent=1) + "\n")


if __name__ == "__main__":
    main()
