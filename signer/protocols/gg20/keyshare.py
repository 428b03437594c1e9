"""A party's GG20 key share: what keygen leaves behind and every signing starts from.

Holds the secret share x_i and this party's Paillier secret key, plus the public data every signer
needs about every party: the group key Y, each public share X_j = x_j·G, each Paillier modulus N_j and
ring-Pedersen parameters (Ñ_j, s_j, t_j), the BIP-32 chain code fixed at keygen, threshold and parties.
The encoding is versioned and the decoder re-checks the invariants (x_i·G = X_i, the X_j interpolate
to Y, p·q = N_i), so a corrupted or mismatched share is refused before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from signer.crypto.codec import Reader, Writer
from signer.crypto.errors import DecodeError
from signer.crypto.paillier import PaillierError, PaillierPublicKey, PaillierSecretKey
from signer.crypto.ringpedersen import RingPedersenError, RingPedersenParams, RingPedersenSecret
from signer.crypto.secp256k1 import IDENTITY, ORDER, Point, base_mul
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.vss import lagrange_at_zero
from signer.crypto.zk.base import get_int, put_int
from signer.protocols.params import validate_keygen_args

KIND_KEY_SHARE = 0x40
KIND_AUX = 0x4F
VERSION = 1
CHAIN_CODE_LEN = 32
_MAX_KEY_BYTES = 1200


@dataclass(frozen=True)
class Gg20KeyInfo:
    """The public facts about a key share (no secrets)."""

    threshold: int
    parties: tuple[int, ...]
    party_index: int
    public_key: bytes
    chain_code: bytes


@dataclass(frozen=True, repr=False)
class AuxInfo:
    """Every party's Paillier modulus and ring-Pedersen parameters, and this party's secrets for both.

    The ring-Pedersen secret is kept because every proof this party *verifies* is stated under its own
    ring-Pedersen parameters, and knowing their factorization lets the verifier check it by CRT."""

    paillier: dict[int, PaillierPublicKey]
    ring_pedersen: dict[int, RingPedersenParams]
    paillier_secret: PaillierSecretKey = field(repr=False)
    ring_pedersen_secret: RingPedersenSecret = field(repr=False)

    def __repr__(self) -> str:
        return "AuxInfo(<redacted>)"

    def encode(self, parties: tuple[int, ...]) -> bytes:
        w = Writer(KIND_AUX, VERSION)
        for p in parties:
            w.var(self.paillier[p].to_bytes()).var(self.ring_pedersen[p].to_bytes())
        rp = self.ring_pedersen_secret
        for v in (self.paillier_secret.p, self.paillier_secret.q, rp.p, rp.q, rp.lam, rp.t):
            put_int(w, v)
        return w.done()

    @classmethod
    def decode(cls, data: bytes, parties: tuple[int, ...], party_index: int) -> AuxInfo:
        r = Reader(data, KIND_AUX, VERSION)
        raw = {p: (r.var(_MAX_KEY_BYTES), r.var(3 * _MAX_KEY_BYTES)) for p in parties}
        p_own, q_own = get_int(r), get_int(r)
        rp_secret = RingPedersenSecret(*(int(get_int(r)) for _ in range(4)))
        r.end()
        try:
            sk = PaillierSecretKey(p_own, q_own)
            if sk.public.to_bytes() != raw[party_index][0]:
                raise DecodeError("key share: Paillier secret key does not match this party's modulus")
            # this party's modulus is validated once, through its secret key
            pails = {p: sk.public if p == party_index else PaillierPublicKey.from_bytes(raw[p][0]) for p in parties}
            rps = {p: RingPedersenParams.from_bytes(raw[p][1]) for p in parties}
        except (PaillierError, RingPedersenError) as exc:
            raise DecodeError(f"key share: {exc}") from None
        if rp_secret.public != rps[party_index]:
            raise DecodeError("key share: ring-Pedersen secret does not match this party's parameters")
        return cls(pails, rps, sk, rp_secret)


@dataclass(frozen=True, repr=False)
class Gg20KeyShare:
    """A decoded key share. The Paillier/ring-Pedersen part (`aux`) is decoded and validated on first use:
    the online signing round never needs it, and its validation (primality checks) costs milliseconds."""

    threshold: int
    parties: tuple[int, ...]
    party_index: int
    public_key: Point
    chain_code: bytes
    public_shares: dict[int, Point]
    secret_share: int = field(repr=False)
    aux_encoding: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Gg20KeyShare(party={self.party_index}, t={self.threshold}, parties={self.parties}, secret=<redacted>)"

    __str__ = __repr__

    @classmethod
    def build(
        cls,
        threshold: int,
        parties: tuple[int, ...],
        party_index: int,
        public_key: Point,
        chain_code: bytes,
        public_shares: dict[int, Point],
        secret_share: int,
        aux: AuxInfo,
    ) -> Gg20KeyShare:
        share = cls(
            threshold, parties, party_index, public_key, chain_code, public_shares, secret_share, aux.encode(parties)
        )
        share.__dict__["aux"] = aux  # already validated by keygen
        return share

    @cached_property
    def aux(self) -> AuxInfo:
        """Raises DecodeError if the stored auxiliary material is invalid."""
        return AuxInfo.decode(self.aux_encoding, self.parties, self.party_index)

    @property
    def paillier(self) -> dict[int, PaillierPublicKey]:
        return self.aux.paillier

    @property
    def ring_pedersen(self) -> dict[int, RingPedersenParams]:
        return self.aux.ring_pedersen

    @property
    def paillier_secret(self) -> PaillierSecretKey:
        return self.aux.paillier_secret

    @property
    def ring_pedersen_secret(self) -> RingPedersenSecret:
        return self.aux.ring_pedersen_secret

    @property
    def info(self) -> Gg20KeyInfo:
        return Gg20KeyInfo(self.threshold, self.parties, self.party_index, self.public_key.encode(), self.chain_code)

    def lagrange(self, signers: tuple[int, ...]) -> dict[int, int]:
        """λ_j for each signer j over the signer set (interpolation at 0)."""
        return {j: lagrange_at_zero(j, signers, ORDER) for j in signers}

    def encode(self) -> bytes:
        w = Writer(KIND_KEY_SHARE, VERSION).u8(self.party_index).u8(self.threshold).u8(len(self.parties))
        for p in self.parties:
            w.u8(p)
        w.scalar(GROUP, self.secret_share).point(GROUP, self.public_key).fixed(self.chain_code)
        for p in self.parties:
            w.point(GROUP, self.public_shares[p])
        return w.var(self.aux_encoding).done()

    @classmethod
    def decode(cls, data: bytes) -> Gg20KeyShare:
        """Decode and check; raises DecodeError (never echoing secret values)."""
        try:
            return cls._decode(data)
        except ValueError as exc:  # invalid point or scalar from the curve layer
            raise DecodeError(f"keyshare: {type(exc).__name__}") from None

    @classmethod
    def _decode(cls, data: bytes) -> Gg20KeyShare:
        r = Reader(data, KIND_KEY_SHARE, VERSION)
        party_index, threshold, n = r.u8(), r.u8(), r.u8()
        parties = tuple(r.u8() for _ in range(n))
        try:
            if parties != tuple(sorted(parties)):
                raise ValueError("parties not sorted")
            validate_keygen_args(party_index, threshold, parties)
        except ValueError as exc:
            raise DecodeError(f"key share: {exc}") from None
        x = r.scalar(GROUP)
        y = r.point(GROUP)
        chain_code = r.fixed(CHAIN_CODE_LEN)
        shares = {p: r.point(GROUP) for p in parties}
        aux = r.var(len(parties) * 4 * _MAX_KEY_BYTES + 2 * _MAX_KEY_BYTES)
        r.end()
        if x == 0 or base_mul(x) != shares[party_index]:
            raise DecodeError("key share: secret share does not match its public share")
        first = parties[:threshold]
        combined = IDENTITY
        for j in first:
            combined = combined + shares[j] * lagrange_at_zero(j, first, ORDER)
        if combined != y:
            raise DecodeError("key share: public shares do not interpolate to the public key")
        return cls(threshold, parties, party_index, y, chain_code, shares, x, aux)


def key_share_info(key_share: bytes) -> Gg20KeyInfo:
    """Threshold, parties, party index, public key and chain code of an encoded key share."""
    return Gg20KeyShare.decode(key_share).info
