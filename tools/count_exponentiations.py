"""Count the modular exponentiations each GG20 presigning step of one party does (issue #19's floor table).

    .venv/bin/python -m tools.count_exponentiations

Runs party 1's steps of a 2-of-2 presigning once each (the inputs `benchmarks.bench_gg20` records for its
`gg20.presign.step.*` entries) with GMP's exponentiations counted by modulus size, so the count does not
depend on the machine: with GMP an exponentiation of a given size costs what it costs, and their sum is the
floor of a step. The precompute pools are empty here (every Paillier nonce r^N and ring-Pedersen mask is
made inline); `presign.precompute_needs` says which of them a full stock takes off a step. Fixed-base
tables (`bigint.fixed_base_powers`) multiply rather than exponentiate and are not counted.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

import gmpy2

Counts = collections.Counter[str]


def _bucket(mod: Any) -> str:
    """The modulus size class (what an exponentiation costs): N² of a peer's key (4096 bits); N, Ñ or the p²
    of a CRT half (2048); a prime p of a CRT half (1024); anything smaller (the curve)."""
    bits = int(gmpy2.mpz(mod)).bit_length()
    if bits > 3000:
        return "4096-bit"
    if bits > 1500:
        return "2048-bit"
    if bits > 600:
        return "1024-bit"
    return "small"


def count(step: Callable[[], object]) -> Counts:
    """The exponentiations `step` does, by modulus size and by public or secret (constant-time) exponent."""
    seen: Counts = collections.Counter()
    plain, secret = gmpy2.powmod, gmpy2.powmod_sec

    def counted(kind: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(base: Any, exp: Any, mod: Any) -> Any:
            seen[f"{_bucket(mod)} {kind}"] += 1
            return real(base, exp, mod)

        return call

    gmpy2.powmod, gmpy2.powmod_sec = counted("public", plain), counted("secret", secret)
    try:
        step()
    finally:
        gmpy2.powmod, gmpy2.powmod_sec = plain, secret
    return seen


def main() -> None:
    from benchmarks.bench_gg20 import PRESIGN_STEP_NOTES, _presign_steps

    steps = _presign_steps()
    rows = {name: count(steps[name]) for name in PRESIGN_STEP_NOTES}
    columns = sorted({c for r in rows.values() for c in r if not c.startswith("small")})
    print("| step | " + " | ".join(columns) + " | small |")
    print("|---" * (len(columns) + 2) + "|")
    for name, r in rows.items():
        small = sum(v for k, v in r.items() if k.startswith("small"))
        print(f"| {name} | " + " | ".join(str(r.get(c, 0)) for c in columns) + f" | {small} |")


if __name__ == "__main__":
    main()
