"""GG20 pre-parameters: a Paillier key and ring-Pedersen parameters from four fresh safe primes.

Why: four 1024-bit safe primes take a second or more, so the engine keeps a pool of these ready
(generated in worker processes, stored with `to_bytes`) instead of making a key generation wait.
The Paillier modulus and Ñ come from different safe primes, as CGGMP21 asks; both are 2048 bits
(paillier.MODULUS_BITS), and the top two bits of every prime are set so the products are exactly 2048 bits.

A set also carries the commitments of its Π^prm proof (zk/prm.py: a_i, A_i = t^a_i, 128 exponentiations
mod Ñ), made with the set in the background so a key generation does not; they are single-use, handed out
once by `take_prm_commitments` (a set encoded after that carries none, so a stored copy cannot bring them
back), and a set without them (version 1, or already taken) proves with fresh ones.

Serialized form (versioned): b"MPCPP" || version (1 byte) || six u16-length-prefixed big-endian ints:
Paillier p, q; ring-Pedersen p̂, q̂, λ, t; version 2 adds u16 m = 128 and m pairs of such ints (a_i, A_i).
`from_bytes` validates structure, sizes, the Blum/safe-prime shape and (probable) primality before
building the keys, and the commitments' ranges; version 1 encodings stay readable.

Test fixtures: tests/paillier/fixtures/preparams.json holds pre-generated sets (made by
tools/make_fixtures.py). Load them with `load_fixture_preparams(path)`; tests must use these instead of
generating safe primes.

Public API:
    PRIME_BITS = 1024, MODULUS_BITS = 2048 (paillier.MODULUS_BITS, the one definition)
    PreParamsError (ValueError)
    PreParams(paillier: PaillierSecretKey, ring_pedersen: RingPedersenSecret, prm_commitments=None)  (repr redacted)
        .to_bytes() -> bytes ; PreParams.from_bytes(data) -> PreParams
        .take_prm_commitments() -> PrmCommitments | None   once; None after (or when the set has none)
    generate_preparams(should_stop=None) -> PreParams        (picklable; for a worker process), with commitments
    load_fixture_preparams(path) -> list[PreParams]          (JSON: {"version": 1, "preparams": [hex, ...]})
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .bigint import int_from_bytes, int_to_bytes, is_prime, mpz
from .paillier import MODULUS_BITS, PaillierError, PaillierSecretKey
from .primes import generate_safe_prime
from .ringpedersen import RingPedersenError, RingPedersenSecret, generate_ring_pedersen
from .zk import prm
from .zk.base import REPETITIONS

PRIME_BITS = MODULUS_BITS // 2
_MAGIC = b"MPCPP"
_VERSION_PLAIN = 1  # the keys alone
_VERSION_PRM = 2  # the keys and unused Π^prm commitments
_PRIMALITY_REPS = 16


class PreParamsError(ValueError):
    """A malformed or invalid pre-parameter encoding (no secret values in messages)."""


@dataclass(frozen=True)
class PreParams:
    """One party's Paillier secret key and ring-Pedersen secret, ready for a GG20 key generation, with the
    Π^prm commitments made for them (single-use: `take_prm_commitments`)."""

    paillier: PaillierSecretKey
    ring_pedersen: RingPedersenSecret
    # A one-element list while the commitments are unused; emptied when they are handed out.
    _prm: list[prm.PrmCommitments] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def with_commitments(
        cls, paillier: PaillierSecretKey, ring_pedersen: RingPedersenSecret, commitments: prm.PrmCommitments
    ) -> PreParams:
        return cls(paillier, ring_pedersen, [commitments])

    def __repr__(self) -> str:
        return "PreParams(<redacted>)"

    __str__ = __repr__

    def take_prm_commitments(self) -> prm.PrmCommitments | None:
        """The set's Π^prm commitments, once: None afterwards, and for a set made without them."""
        return self._prm.pop() if self._prm else None

    def to_bytes(self) -> bytes:
        rp = self.ring_pedersen
        ints = [self.paillier.p, self.paillier.q, rp.p, rp.q, rp.lam, rp.t]
        parts = [_MAGIC, bytes([_VERSION_PRM if self._prm else _VERSION_PLAIN])]
        if self._prm:
            ints += [v for pair in zip(self._prm[0].a, self._prm[0].A, strict=True) for v in pair]
        for i, v in enumerate(ints):
            if i == 6:
                parts.append(struct.pack(">H", REPETITIONS))
            b = int_to_bytes(v)
            parts.append(struct.pack(">H", len(b)) + b)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> PreParams:
        if not isinstance(data, bytes | bytearray) or data[:5] != _MAGIC or len(data) < 6:
            raise PreParamsError("not a pre-parameter encoding")
        if data[5] not in (_VERSION_PLAIN, _VERSION_PRM):
            raise PreParamsError(f"unsupported pre-parameter version {data[5]}")
        pos, vals = 6, []

        def read_int() -> int:
            nonlocal pos
            if pos + 2 > len(data):
                raise PreParamsError("truncated")
            (ln,) = struct.unpack(">H", data[pos : pos + 2])
            pos += 2
            if ln == 0 or ln > 512 or pos + ln > len(data) or data[pos] == 0:
                raise PreParamsError("bad field length or non-minimal integer")
            pos += ln
            return int(int_from_bytes(data[pos - ln : pos]))

        vals = [read_int() for _ in range(6)]
        commitments: list[int] = []
        if data[5] == _VERSION_PRM:
            if pos + 2 > len(data) or struct.unpack(">H", data[pos : pos + 2])[0] != REPETITIONS:
                raise PreParamsError(f"Π^prm commitments must number {REPETITIONS}")
            pos += 2
            commitments = [read_int() for _ in range(2 * REPETITIONS)]
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
        if not commitments:
            return cls(paillier, ring_pedersen)
        a, A = tuple(map(mpz, commitments[0::2])), tuple(map(mpz, commitments[1::2]))
        if not all(0 <= x < ring_pedersen.phi for x in a) or not all(0 < x < rp_n for x in A):
            raise PreParamsError("Π^prm commitment out of range")
        return cls.with_commitments(paillier, ring_pedersen, prm.PrmCommitments(a, A))


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
    return PreParams.with_commitments(paillier, ring_pedersen, prm.commit(ring_pedersen, ring_pedersen.phi))


@lru_cache(maxsize=8)
def _load(path: str) -> tuple[PreParams, ...]:
    doc = json.loads(Path(path).read_text())
    if doc.get("version") != 1 or not isinstance(doc.get("preparams"), list):
        raise PreParamsError("not a version-1 pre-parameter fixture file")
    return tuple(PreParams.from_bytes(bytes.fromhex(h)) for h in doc["preparams"])


def load_fixture_preparams(path: str | Path) -> list[PreParams]:
    """Load the pre-generated pre-parameter sets from a fixture JSON file (cached per path)."""
    return list(_load(str(Path(path).resolve())))
