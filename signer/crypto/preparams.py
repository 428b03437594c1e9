"""GG20 pre-parameters: a Paillier key and ring-Pedersen parameters from four fresh safe primes.

Why: four 1024-bit safe primes take a second or more, so the engine keeps a pool of these ready
(generated in worker processes, stored with `to_bytes`) instead of making a key generation wait.
The Paillier modulus and Ñ come from different safe primes, as CGGMP21 asks; both are 2048 bits
(paillier.MODULUS_BITS), and the top two bits of every prime are set so the products are exactly 2048 bits.

Serialized form (versioned): b"MPCPP" || version (1 byte) || six u16-length-prefixed big-endian ints:
Paillier p, q; ring-Pedersen p̂, q̂, λ, t. `from_bytes` validates structure, sizes, the Blum/safe-prime
shape and (probable) primality before building the keys.

Test fixtures: tests/paillier/fixtures/preparams.json holds pre-generated sets (made by
tools/make_fixtures.py). Load them with `load_fixture_preparams(path)`; tests must use these instead of
generating safe primes.

Public API:
    PRIME_BITS = 1024, MODULUS_BITS = 2048 (paillier.MODULUS_BITS, the one definition)
    PreParamsError (ValueError)
    PreParams(paillier: PaillierSecretKey, ring_pedersen: RingPedersenSecret)    (repr redacted)
        .to_bytes() -> bytes ; PreParams.from_bytes(data) -> PreParams
    generate_preparams(should_stop=None) -> PreParams        (picklable; for a worker process)
    load_fixture_preparams(path) -> list[PreParams]          (JSON: {"version": 1, "preparams": [hex, ...]})
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .bigint import int_from_bytes, int_to_bytes, is_prime
from .paillier import MODULUS_BITS, PaillierError, PaillierSecretKey
from .primes import generate_safe_prime
from .ringpedersen import RingPedersenError, RingPedersenSecret, generate_ring_pedersen

PRIME_BITS = MODULUS_BITS // 2
_MAGIC = b"MPCPP"
_VERSION = 1
_PRIMALITY_REPS = 16


class PreParamsError(ValueError):
    """A malformed or invalid pre-parameter encoding (no secret values in messages)."""


@dataclass(frozen=True)
class PreParams:
    """One party's Paillier secret key and ring-Pedersen secret, ready for a GG20 key generation."""

    paillier: PaillierSecretKey
    ring_pedersen: RingPedersenSecret

    def __repr__(self) -> str:
        return "PreParams(<redacted>)"

    __str__ = __repr__

    def to_bytes(self) -> bytes:
        rp = self.ring_pedersen
        parts = [_MAGIC, bytes([_VERSION])]
        for v in (self.paillier.p, self.paillier.q, rp.p, rp.q, rp.lam, rp.t):
            b = int_to_bytes(v)
            parts.append(struct.pack(">H", len(b)) + b)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> PreParams:
        if not isinstance(data, bytes | bytearray) or data[:5] != _MAGIC or len(data) < 6:
            raise PreParamsError("not a pre-parameter encoding")
        if data[5] != _VERSION:
            raise PreParamsError(f"unsupported pre-parameter version {data[5]}")
        pos, vals = 6, []
        for _ in range(6):
            if pos + 2 > len(data):
                raise PreParamsError("truncated")
            (ln,) = struct.unpack(">H", data[pos : pos + 2])
            pos += 2
            if ln == 0 or ln > 512 or pos + ln > len(data) or data[pos] == 0:
                raise PreParamsError("bad field length or non-minimal integer")
            vals.append(int(int_from_bytes(data[pos : pos + ln])))
            pos += ln
        if pos != len(data):
            raise PreParamsError("trailing bytes")
        p, q, rp_p, rp_q, lam, t = vals
        primes = (p, q, rp_p, rp_q)
        if len(set(primes)) != 4:
            raise PreParamsError("the four primes must be distinct")
        for x in primes:
            if x.bit_length() != PRIME_BITS or x % 4 != 3:
                raise PreParamsError("prime of wrong size or not 3 mod 4")
            if not (is_prime(x, _PRIMALITY_REPS) and is_prime((x - 1) // 2, _PRIMALITY_REPS)):
                raise PreParamsError("not a safe prime")
        rp_n = rp_p * rp_q
        if not (0 <= lam < (rp_p - 1) * (rp_q - 1) and 1 < t < rp_n):
            raise PreParamsError("ring-Pedersen lambda or t out of range")
        try:
            paillier = PaillierSecretKey(p, q)
        except PaillierError as e:
            raise PreParamsError(f"Paillier key: {e}") from None
        ring_pedersen = RingPedersenSecret(rp_p, rp_q, lam, t)
        if paillier.n.bit_length() != MODULUS_BITS or rp_n.bit_length() != MODULUS_BITS:
            raise PreParamsError("modulus of wrong size")
        try:
            ring_pedersen.public.validate()
        except RingPedersenError as e:
            raise PreParamsError(str(e)) from None
        return cls(paillier, ring_pedersen)


def generate_preparams(should_stop: Callable[[], bool] | None = None) -> PreParams:
    """Four fresh 1024-bit safe primes -> Paillier key (N = 2048 bits) and ring-Pedersen (Ñ = 2048 bits).

    Raises primes.Cancelled when should_stop() turns true. Module-level, so it runs in a worker process.
    """
    primes: list[int] = []
    while len(primes) < 4:
        p = generate_safe_prime(PRIME_BITS, should_stop)
        if p not in primes:
            primes.append(p)
    paillier = PaillierSecretKey(primes[0], primes[1])
    ring_pedersen = generate_ring_pedersen(primes[2], primes[3])
    return PreParams(paillier, ring_pedersen)


@lru_cache(maxsize=8)
def _load(path: str) -> tuple[PreParams, ...]:
    doc = json.loads(Path(path).read_text())
    if doc.get("version") != 1 or not isinstance(doc.get("preparams"), list):
        raise PreParamsError("not a version-1 pre-parameter fixture file")
    return tuple(PreParams.from_bytes(bytes.fromhex(h)) for h in doc["preparams"])


def load_fixture_preparams(path: str | Path) -> list[PreParams]:
    """Load the pre-generated pre-parameter sets from a fixture JSON file (cached per path)."""
    return list(_load(str(Path(path).resolve())))
