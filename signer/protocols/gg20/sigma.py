"""GG20's own small proofs over secp256k1: Pedersen commitments T_i = σ_i·G + ℓ_i·H and S_i's consistency.

GG20 phase 3: "P_i broadcasts δ_i and T_i = g^{σ_i} h^{ℓ_i} with a ZK proof of knowledge of σ_i, ℓ_i";
phase 6: "P_i broadcasts S_i = R^{σ_i} and a ZK proof that S_i and T_i share σ_i". Both are instances of
one Fiat–Shamir sigma protocol for knowledge of a witness vector w with P_k = Σ_m w_m·B_{k,m} for every
statement row k. The challenge is a full scalar from `signer.crypto.transcript`, bound to the session,
the prover and the proof's name, so a proof for one party, session or purpose never verifies elsewhere.

H is a nothing-up-my-sleeve point (hash to an x-coordinate, try-and-increment), so nobody knows log_G H.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

from signer.crypto.codec import Reader, Writer
from signer.crypto.errors import ProofError
from signer.crypto.secp256k1 import IDENTITY, ORDER, InvalidPoint, Point, random_scalar
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.transcript import Transcript

KIND_SIGMA = 0x5F
VERSION = 1


def _nums_point(tag: bytes) -> Point:
    counter = 0
    while True:
        x = hashlib.sha256(b"mpc-signer/gg20/nums/v1" + tag + struct.pack(">I", counter)).digest()
        try:
            return Point.decode(b"\x02" + x)
        except InvalidPoint:
            counter += 1


H = _nums_point(b"pedersen-h")
G = Point.generator()

Row = Sequence[Point | None]  # None: that witness does not appear in this row


def _combine(row: Row, scalars: Sequence[int]) -> Point:
    acc = IDENTITY
    for base, k in zip(row, scalars, strict=True):
        if base is not None:
            acc = acc + base * k
    return acc


def _challenge(
    name: str,
    session_id: str,
    prover: int,
    rows: Sequence[Row],
    statement: Sequence[Point],
    commitments: Sequence[Point],
) -> int:
    t = Transcript(f"gg20/{name}")
    t.append_bytes("session", session_id.encode("utf-8"))
    t.append_int("prover", prover)
    for k, row in enumerate(rows):
        for m, base in enumerate(row):
            t.append_bytes(f"base/{k}/{m}", b"" if base is None else base.encode())
        t.append_point(f"statement/{k}", statement[k])
        t.append_point(f"commitment/{k}", commitments[k])
    return t.challenge_scalar("e")


def prove(name: str, session_id: str, prover: int, rows: Sequence[Row], witness: Sequence[int]) -> bytes:
    """Prove knowledge of `witness` with statement_k = Σ_m witness_m·rows[k][m]; returns the encoding."""
    statement = [_combine(row, witness) for row in rows]
    nonces = [random_scalar() for _ in witness]
    commitments = [_combine(row, nonces) for row in rows]
    e = _challenge(name, session_id, prover, rows, statement, commitments)
    w = Writer(KIND_SIGMA, VERSION).u8(len(commitments)).u8(len(witness))
    for c in commitments:
        w.point(GROUP, c)
    for a, x in zip(nonces, witness, strict=True):
        w.scalar(GROUP, (a + e * x) % ORDER)
    return w.done()


def verify(
    name: str, session_id: str, prover: int, rows: Sequence[Row], statement: Sequence[Point], proof: bytes
) -> None:
    """Raise ProofError (or DecodeError for a malformed encoding) unless `proof` proves the statement."""
    r = Reader(proof, KIND_SIGMA, VERSION)
    if r.u8() != len(rows) or r.u8() != len(rows[0]):
        raise ProofError(name, "the proof has the wrong shape")
    commitments = [r.point(GROUP) for _ in rows]
    responses = [r.scalar(GROUP) for _ in rows[0]]
    r.end()
    e = _challenge(name, session_id, prover, rows, statement, commitments)
    for row, p, c in zip(rows, statement, commitments, strict=True):
        if _combine(row, responses) != c + p * e:
            raise ProofError(name, "the proof does not verify")


# ---- the two GG20 statements -------------------------------------------------------------------------
def pedersen(sigma: int, ell: int) -> Point:
    """T = σ·G + ℓ·H."""
    return G * sigma + H * ell


def prove_t(session_id: str, prover: int, sigma: int, ell: int) -> bytes:
    return prove("pedersen-opening", session_id, prover, [[G, H]], [sigma, ell])


def verify_t(session_id: str, prover: int, t_point: Point, proof: bytes) -> None:
    verify("pedersen-opening", session_id, prover, [[G, H]], [t_point], proof)


def prove_st(session_id: str, prover: int, r_point: Point, sigma: int, ell: int) -> bytes:
    return prove("s-t-consistency", session_id, prover, [[G, H], [r_point, None]], [sigma, ell])


def verify_st(session_id: str, prover: int, r_point: Point, t_point: Point, s_point: Point, proof: bytes) -> None:
    verify("s-t-consistency", session_id, prover, [[G, H], [r_point, None]], [t_point, s_point], proof)
