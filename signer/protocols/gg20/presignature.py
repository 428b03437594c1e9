"""A GG20 presignature: one party's output of phases 1–6, good for exactly one online signature.

It holds this party's k_i and σ_i (shares of k and k·x), the point R = g^{1/k}, and every signer's
R̄_j = R^{k_j} and S_j = R^{σ_j}, which the online round uses to check each s_j (GG20 §4.3). It is
bound to the key (its public key and parties) and to the signer set.

Single use: a `Presignature` object hands out its secret state once (`consume()`); a second use raises
`PresignatureUsed`. At rest, the store's atomic claim plays the same role for the encoding.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from signer.crypto.codec import Reader, Writer
from signer.crypto.errors import DecodeError
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.secp256k1 import Point
from signer.protocols.params import validate_indices

KIND_PRESIGNATURE = 0x5A
VERSION = 1


class PresignatureUsed(Exception):
    """A presignature object was used a second time."""


@dataclass(frozen=True, repr=False)
class PresignatureData:
    """The decoded state; k and sigma are secret."""

    session_id: str
    party_index: int
    signers: tuple[int, ...]
    public_key: Point
    r_point: Point
    r_bar: dict[int, Point]
    s_points: dict[int, Point]
    k: int = field(repr=False)
    sigma: int = field(repr=False)

    def __repr__(self) -> str:
        return f"PresignatureData(party={self.party_index}, signers={self.signers}, secret=<redacted>)"

    @property
    def presignature_id(self) -> bytes:
        """A public identifier: the same for every signer's share of one presignature."""
        h = hashlib.sha256(b"mpc-signer/gg20/presignature-id/v1")
        h.update(self.session_id.encode("utf-8") + b"\x00" + self.r_point.encode())
        return h.digest()

    def encode(self) -> bytes:
        sid = self.session_id.encode("utf-8")
        w = Writer(KIND_PRESIGNATURE, VERSION).var(sid).u8(self.party_index).u8(len(self.signers))
        for j in self.signers:
            w.u8(j)
        w.point(GROUP, self.public_key).point(GROUP, self.r_point).scalar(GROUP, self.k).scalar(GROUP, self.sigma)
        for j in self.signers:
            w.point(GROUP, self.r_bar[j]).point(GROUP, self.s_points[j])
        return w.done()

    @classmethod
    def decode(cls, data: bytes) -> PresignatureData:
        """Decode and check; raises DecodeError (never echoing secret values)."""
        try:
            return cls._decode(data)
        except ValueError as exc:  # invalid point or scalar from the curve layer
            raise DecodeError(f"presignaturedata: {type(exc).__name__}") from None

    @classmethod
    def _decode(cls, data: bytes) -> PresignatureData:
        r = Reader(data, KIND_PRESIGNATURE, VERSION)
        try:
            sid = r.var(128).decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("presignature: session id is not UTF-8") from None
        party = r.u8()
        count = r.u8()
        try:
            signers = validate_indices("signers", tuple(r.u8() for _ in range(count)))
        except ValueError as exc:
            raise DecodeError(f"presignature: {exc}") from None
        if party not in signers:
            raise DecodeError("presignature: party is not among its signers")
        y, big_r = r.point(GROUP), r.point(GROUP)
        k, sigma = r.scalar(GROUP), r.scalar(GROUP)
        r_bar, s_points = {}, {}
        for j in signers:
            r_bar[j], s_points[j] = r.point(GROUP), r.point(GROUP)
        r.end()
        if k == 0 or r_bar[party] != big_r * k or s_points[party] != big_r * sigma:
            raise DecodeError("presignature: secret state does not match its public points")
        return cls(sid, party, signers, y, big_r, r_bar, s_points, k, sigma)


class Presignature:
    """The result of a presigning session: single-use access to the presignature state."""

    __slots__ = ("_data", "_used", "presignature_id", "signers", "public_key")

    def __init__(self, data: PresignatureData) -> None:
        self._data: PresignatureData | None = data
        self.presignature_id = data.presignature_id
        self.signers = data.signers
        self.public_key = data.public_key.encode()

    def __repr__(self) -> str:
        return f"Presignature(id={self.presignature_id.hex()[:16]}, signers={self.signers}, secret=<redacted>)"

    def consume(self) -> bytes:
        """The encoding (for the store, or to sign with), handed out once; a second call raises."""
        if self._data is None:
            raise PresignatureUsed("this presignature has already been used")
        data, self._data = self._data, None
        return data.encode()
