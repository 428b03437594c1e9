"""Every GG20 wire message: one frozen dataclass per round payload, its encoding and its decoding side by side.

Each payload starts with a kind byte and the version byte (`signer.crypto.codec`); fixed fields are
written as is, integers and proofs u32-length-prefixed with a maximum. Decoding is strict and raises only
`DecodeError`: wrong kind or version, a length over its maximum, trailing bytes, a point off the curve, a
scalar out of range, a Paillier key, ring-Pedersen parameters or ciphertext that is not valid for the party
it belongs to, a count that differs from what the session expects. A round decodes a sender's payload
inside `attribute(sender, ...)`, so such a failure names the sender.

Kinds: keygen 0x41-0x44, presigning 0x51-0x57, identification 0x58, online signing 0x5B, 0x59
(0x5A is the stored presignature's encoding). Who sends what:

    keygen round 1   broadcast  KeygenCommit     commitment, X25519 key, Paillier key + Π^mod, ring-Pedersen + Π^prm
    keygen round 2   broadcast  KeygenOpening    salt, chain-code share, Feldman commitments
                     p2p        KeygenShare      f_i(j) sealed to P_j, Π^fac under P_j's ring-Pedersen
    keygen round 3   broadcast  KeygenProof      Schnorr proof of x_i
    presign round 1  broadcast  PresignCommit    Com(Γ_i), K_i = Enc_i(k_i)
                     p2p        MtaRequestMsg    K_i with Π^enc under P_j's ring-Pedersen
    presign round 2  broadcast  GammaOpening     salt, Γ_i, and every (D, D̂) this party answered with
                     p2p        MtaResponses     the MtA (γ) and MtAwc (w) answers with Π^aff-g (version 2)
    presign round 3  broadcast  DeltaShare       δ_i, T_i, proof of T_i's opening
    presign round 4  broadcast  NonceShares      R̄_i, S_i, proof that S_i and T_i share σ_i
                     p2p        RBarProof        Π^log* that K_i encrypts log_R R̄_i
    identification   broadcast  Reveal           k_i, ρ_i, γ_i and the openings of every D received
    online round 1   broadcast  OnlineNonce      this signer's fresh re-randomization contribution ρ_i
    online round 2   broadcast  SignatureShare   s_i (version 2: re-randomized with every ρ_j, see sign.py)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from signer.crypto import e2e
from signer.crypto.bigint import mpz
from signer.crypto.codec import Reader, Writer
from signer.crypto.errors import DecodeError
from signer.crypto.mta import MtaRequest, MtaResponse
from signer.crypto.paillier import PaillierError, PaillierPublicKey
from signer.crypto.ringpedersen import RingPedersenError, RingPedersenParams
from signer.crypto.secp256k1 import SECP256K1 as GROUP
from signer.crypto.secp256k1 import Point
from signer.crypto.zk.base import get_int, put_int
from signer.crypto.zk.fac import FacProof
from signer.crypto.zk.logstar import LogStarProof
from signer.crypto.zk.mod import ModProof
from signer.crypto.zk.prm import PrmProof
from signer.crypto.zk.schnorr import SchnorrProof

from .commit import COMMITMENT_LEN, SALT_LEN
from .keyshare import CHAIN_CODE_LEN

VERSION = 1
MAX_MODULUS = 1100  # bytes of a Paillier modulus (2048 bits is 256; room for larger keys)
MAX_PROOF = 1 << 20
MAX_SEALED_SHARE = 1024
MAX_MESSAGE = 1 << 17

KIND_KEYGEN_COMMIT, KIND_KEYGEN_OPENING, KIND_KEYGEN_SHARE, KIND_KEYGEN_PROOF = 0x41, 0x42, 0x43, 0x44
KIND_PRESIGN_COMMIT, KIND_MTA_REQUEST, KIND_GAMMA_OPENING, KIND_MTA_RESPONSES = 0x51, 0x52, 0x53, 0x54
KIND_DELTA_SHARE, KIND_NONCE_SHARES, KIND_R_BAR_PROOF = 0x55, 0x56, 0x57
KIND_REVEAL, KIND_SIGNATURE_SHARE, KIND_ONLINE_NONCE = 0x58, 0x59, 0x5B
#: Version 1 shares were re-randomized by a hash the requester could compute alone; a version-1 peer's
#: share is refused at decoding rather than failing as a wrong share.
SIGNATURE_SHARE_VERSION = 2
#: Version 1 proved both answers under one label; version 2 proves each under its own (presign.py).
MTA_RESPONSES_VERSION = 2
#: Version 2 of `ReshareCommit`: the old key package starts with the key version (u32), which a party joining
#: the key learns only from there; a version-1 message (no key version) is refused at decoding.
RESHARE_COMMIT_VERSION = 2
ONLINE_NONCE_LEN = 32


def _ciphertext(r: Reader, key: PaillierPublicKey) -> mpz:
    """A Paillier ciphertext under `key` (in Z*_{N²}), or DecodeError."""
    try:
        return key.validate_ciphertext(get_int(r))
    except PaillierError as exc:
        raise DecodeError(f"ciphertext: {exc}") from None


# ---- key generation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeygenCommit:
    """Round 1: "broadcast KGC_i" (commitment to the Feldman commitments and chain-code share), the X25519
    key for the round-2 shares, the Paillier key N_i with Π^mod and ring-Pedersen (Ñ_i, s_i, t_i) with Π^prm."""

    commitment: bytes
    e2e_public: bytes
    paillier: PaillierPublicKey
    ring_pedersen: RingPedersenParams
    mod_proof: ModProof
    prm_proof: PrmProof

    def encode(self) -> bytes:
        w = Writer(KIND_KEYGEN_COMMIT, VERSION).fixed(self.commitment).fixed(self.e2e_public)
        w.var(self.paillier.to_bytes()).var(self.ring_pedersen.to_bytes())
        return w.var(self.mod_proof.to_bytes()).var(self.prm_proof.to_bytes()).done()

    @classmethod
    def decode(cls, data: bytes) -> KeygenCommit:
        r = Reader(data, KIND_KEYGEN_COMMIT, VERSION)
        commitment, e2e_public = r.fixed(COMMITMENT_LEN), r.fixed(e2e.PUBLIC_KEY_SIZE)
        try:
            paillier = PaillierPublicKey.from_bytes(r.var(MAX_MODULUS))
            ring_pedersen = RingPedersenParams.from_bytes(r.var(3 * MAX_MODULUS))
        except (PaillierError, RingPedersenError) as exc:
            raise DecodeError(f"auxiliary key: {exc}") from None
        mod_proof, prm_proof = ModProof.from_bytes(r.var(MAX_PROOF)), PrmProof.from_bytes(r.var(MAX_PROOF))
        msg = cls(commitment, e2e_public, paillier, ring_pedersen, mod_proof, prm_proof)
        r.end()
        return msg


@dataclass(frozen=True)
class KeygenOpening:
    """Round 2 broadcast: "broadcast KGD_i", the opening (salt, chain-code share, the t Feldman commitments)."""

    salt: bytes
    chain: bytes
    commitments: tuple[Point, ...]

    def encode(self) -> bytes:
        w = Writer(KIND_KEYGEN_OPENING, VERSION).fixed(self.salt).fixed(self.chain).u8(len(self.commitments))
        for p in self.commitments:
            w.point(GROUP, p)
        return w.done()

    @classmethod
    def decode(cls, data: bytes, threshold: int) -> KeygenOpening:
        r = Reader(data, KIND_KEYGEN_OPENING, VERSION)
        salt, chain, count = r.fixed(SALT_LEN), r.fixed(CHAIN_CODE_LEN), r.u8()
        if count != threshold:
            raise DecodeError(f"expected {threshold} Feldman commitments, got {count}")
        msg = cls(salt, chain, tuple(r.point(GROUP) for _ in range(count)))
        r.end()
        return msg


@dataclass(frozen=True)
class KeygenShare:
    """Round 2 point-to-point: the Feldman share f_i(j) sealed to P_j, and Π^fac for N_i under P_j's
    ring-Pedersen parameters."""

    sealed_share: bytes
    fac_proof: FacProof

    def encode(self) -> bytes:
        return Writer(KIND_KEYGEN_SHARE, VERSION).var(self.sealed_share).var(self.fac_proof.to_bytes()).done()

    @classmethod
    def decode(cls, data: bytes) -> KeygenShare:
        r = Reader(data, KIND_KEYGEN_SHARE, VERSION)
        msg = cls(r.var(MAX_SEALED_SHARE), FacProof.from_bytes(r.var(MAX_PROOF)))
        r.end()
        return msg


@dataclass(frozen=True)
class KeygenProof:
    """Round 3: "prove in ZK that they know x_i using Schnorr's protocol"."""

    proof: SchnorrProof

    def encode(self) -> bytes:
        return Writer(KIND_KEYGEN_PROOF, VERSION).var(self.proof.to_bytes()).done()

    @classmethod
    def decode(cls, data: bytes) -> KeygenProof:
        r = Reader(data, KIND_KEYGEN_PROOF, VERSION)
        msg = cls(SchnorrProof.from_bytes(r.var(MAX_PROOF)))
        r.end()
        return msg


# ---- presigning ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresignCommit:
    """Round 1 broadcast: "broadcast C_i = Com(Γ_i)" and K_i = Enc_i(k_i), the one ciphertext every MtA
    with this party as Alice starts from."""

    commitment: bytes
    K: mpz

    def encode(self) -> bytes:
        return put_int(Writer(KIND_PRESIGN_COMMIT, VERSION).fixed(self.commitment), self.K).done()

    @classmethod
    def decode(cls, data: bytes, sender_key: PaillierPublicKey) -> PresignCommit:
        r = Reader(data, KIND_PRESIGN_COMMIT, VERSION)
        msg = cls(r.fixed(COMMITMENT_LEN), _ciphertext(r, sender_key))
        r.end()
        return msg


@dataclass(frozen=True)
class MtaRequestMsg:
    """Round 1 point-to-point: the MtA request to P_j (K_i with Π^enc under P_j's ring-Pedersen)."""

    request: MtaRequest

    def encode(self) -> bytes:
        return Writer(KIND_MTA_REQUEST, VERSION).var(self.request.to_bytes()).done()

    @classmethod
    def decode(cls, data: bytes) -> MtaRequestMsg:
        r = Reader(data, KIND_MTA_REQUEST, VERSION)
        msg = cls(MtaRequest.from_bytes(r.var(MAX_MESSAGE)))
        r.end()
        return msg


@dataclass(frozen=True)
class GammaOpening:
    """Round 2 broadcast: the opening of Com(Γ_i), and the ciphertexts (D for γ_i, D̂ for w_i) this party
    answered every Alice a with, so an identification round can check claimed decryptions publicly."""

    salt: bytes
    Gamma: Point
    answers: Mapping[int, tuple[int, int]]  # Alice a -> (D, D̂), in increasing a

    def encode(self) -> bytes:
        w = Writer(KIND_GAMMA_OPENING, VERSION).fixed(self.salt).point(GROUP, self.Gamma)
        for a in sorted(self.answers):
            put_int(put_int(w, self.answers[a][0]), self.answers[a][1])
        return w.done()

    @classmethod
    def decode(cls, data: bytes, alices: Mapping[int, PaillierPublicKey]) -> GammaOpening:
        """`alices`: every other signer's Paillier key (the D sent to a is a ciphertext under N_a)."""
        r = Reader(data, KIND_GAMMA_OPENING, VERSION)
        salt, gamma = r.fixed(SALT_LEN), r.point(GROUP)
        answers = {a: (int(_ciphertext(r, alices[a])), int(_ciphertext(r, alices[a]))) for a in sorted(alices)}
        r.end()
        return cls(salt, gamma, answers)


@dataclass(frozen=True)
class MtaResponses:
    """Round 2 point-to-point: Bob's answers to P_j's request, for k_j·γ_i (MtA) and k_j·w_i (MtAwc)."""

    gamma: MtaResponse
    w: MtaResponse

    def encode(self) -> bytes:
        w = Writer(KIND_MTA_RESPONSES, MTA_RESPONSES_VERSION)
        return w.var(self.gamma.to_bytes()).var(self.w.to_bytes()).done()

    @classmethod
    def decode(cls, data: bytes) -> MtaResponses:
        r = Reader(data, KIND_MTA_RESPONSES, MTA_RESPONSES_VERSION)
        msg = cls(MtaResponse.from_bytes(r.var(MAX_MESSAGE)), MtaResponse.from_bytes(r.var(MAX_MESSAGE)))
        r.end()
        return msg


@dataclass(frozen=True)
class DeltaShare:
    """Round 3: "broadcast δ_i and T_i = g^{σ_i} h^{ℓ_i} with a ZK proof of knowledge of σ_i, ℓ_i"."""

    delta: int
    T: Point
    proof: bytes  # signer.protocols.gg20.sigma's encoding

    def encode(self) -> bytes:
        return Writer(KIND_DELTA_SHARE, VERSION).scalar(GROUP, self.delta).point(GROUP, self.T).var(self.proof).done()

    @classmethod
    def decode(cls, data: bytes) -> DeltaShare:
        r = Reader(data, KIND_DELTA_SHARE, VERSION)
        msg = cls(r.scalar(GROUP), r.point(GROUP), r.var(MAX_MESSAGE))
        r.end()
        return msg


@dataclass(frozen=True)
class NonceShares:
    """Round 4 broadcast: "broadcast R̄_i = R^{k_i}" and "S_i = R^{σ_i}" with the proof that S_i and T_i
    share σ_i."""

    r_bar: Point
    S: Point
    proof: bytes  # signer.protocols.gg20.sigma's encoding

    def encode(self) -> bytes:
        return Writer(KIND_NONCE_SHARES, VERSION).point(GROUP, self.r_bar).point(GROUP, self.S).var(self.proof).done()

    @classmethod
    def decode(cls, data: bytes) -> NonceShares:
        r = Reader(data, KIND_NONCE_SHARES, VERSION)
        msg = cls(r.point(GROUP), r.point(GROUP), r.var(MAX_MESSAGE))
        r.end()
        return msg


@dataclass(frozen=True)
class RBarProof:
    """Round 4 point-to-point: Π^log* that K_i encrypts the discrete log of R̄_i to base R, for P_j."""

    proof: LogStarProof

    def encode(self) -> bytes:
        return Writer(KIND_R_BAR_PROOF, VERSION).var(self.proof.to_bytes()).done()

    @classmethod
    def decode(cls, data: bytes) -> RBarProof:
        r = Reader(data, KIND_R_BAR_PROOF, VERSION)
        msg = cls(LogStarProof.from_bytes(r.var(MAX_MESSAGE)))
        r.end()
        return msg


@dataclass(frozen=True, repr=False)
class Reveal:
    """Identification: the abandoned nonce's k_j (with the Paillier nonce ρ_j of K_j) and γ_j, and for every
    other signer b the plaintexts α, α̂ of the D, D̂ P_j received from b, each with its Paillier nonce."""

    k: int
    rho: int
    gamma: int
    openings: Mapping[int, tuple[tuple[int, int], tuple[int, int]]]  # Bob b -> ((α, r), (α̂, r̂)), in increasing b

    def __repr__(self) -> str:
        return "Reveal(<redacted>)"

    def encode(self) -> bytes:
        w = put_int(Writer(KIND_REVEAL, VERSION).scalar(GROUP, self.k), self.rho).scalar(GROUP, self.gamma)
        for b in sorted(self.openings):
            for alpha, nonce in self.openings[b]:
                put_int(put_int(w, alpha), nonce)
        return w.done()

    @classmethod
    def decode(cls, data: bytes, bobs: Sequence[int]) -> Reveal:
        r = Reader(data, KIND_REVEAL, VERSION)
        k, rho, gamma = r.scalar(GROUP), int(get_int(r)), r.scalar(GROUP)
        openings = {}
        for b in sorted(bobs):
            g = (int(get_int(r)), int(get_int(r)))
            openings[b] = (g, (int(get_int(r)), int(get_int(r))))
        r.end()
        return cls(k, rho, gamma, openings)


# ---- online signing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnlineNonce:
    """Online round 1: this signer's fresh random contribution ρ_i to the re-randomizer e (sign.py)."""

    rho: bytes

    def encode(self) -> bytes:
        return Writer(KIND_ONLINE_NONCE, VERSION).fixed(self.rho).done()

    @classmethod
    def decode(cls, data: bytes) -> OnlineNonce:
        r = Reader(data, KIND_ONLINE_NONCE, VERSION)
        msg = cls(r.fixed(ONLINE_NONCE_LEN))
        r.end()
        return msg


@dataclass(frozen=True)
class SignatureShare:
    """Online round 2: "P_i broadcasts s_i"."""

    s: int

    def encode(self) -> bytes:
        return Writer(KIND_SIGNATURE_SHARE, SIGNATURE_SHARE_VERSION).scalar(GROUP, self.s).done()

    @classmethod
    def decode(cls, data: bytes) -> SignatureShare:
        r = Reader(data, KIND_SIGNATURE_SHARE, SIGNATURE_SHARE_VERSION)
        msg = cls(r.scalar(GROUP))
        r.end()
        return msg


# ---- key refresh (signer.protocols.gg20.refresh) ---------------------------------------------------------
# Kinds 0x45-0x47. Round 2's point-to-point payload is keygen's `KeygenShare` (the same sealed share and Π^fac).

KIND_REFRESH_COMMIT, KIND_REFRESH_OPENING, KIND_REFRESH_CONFIRM = 0x45, 0x46, 0x47
FINGERPRINT_LEN = 32
CONFIRM_DIGEST_LEN = 32


@dataclass(frozen=True)
class RefreshCommit:
    """Refresh round 1: the fingerprint of the key version the sender starts from, and a keygen round-1
    message: the hash commitment (to the zero-sharing's C_1..C_{t-1}), the X25519 key, and the *new*
    Paillier key with Π^mod and ring-Pedersen parameters with Π^prm."""

    fingerprint: bytes
    keygen: KeygenCommit

    def encode(self) -> bytes:
        return Writer(KIND_REFRESH_COMMIT, VERSION).fixed(self.fingerprint).var(self.keygen.encode()).done()

    @classmethod
    def decode(cls, data: bytes) -> RefreshCommit:
        r = Reader(data, KIND_REFRESH_COMMIT, VERSION)
        msg = cls(r.fixed(FINGERPRINT_LEN), KeygenCommit.decode(r.var(3 * MAX_PROOF)))
        r.end()
        return msg


@dataclass(frozen=True)
class RefreshOpening:
    """Refresh round 2 broadcast: the opening (salt, C_1..C_{t-1}) of the round-1 commitment; C_0 is the
    identity (the sender shares zero) and is not sent."""

    salt: bytes
    commitments: tuple[Point, ...]

    def encode(self) -> bytes:
        w = Writer(KIND_REFRESH_OPENING, VERSION).fixed(self.salt).u8(len(self.commitments))
        for p in self.commitments:
            w.point(GROUP, p)
        return w.done()

    @classmethod
    def decode(cls, data: bytes, threshold: int) -> RefreshOpening:
        r = Reader(data, KIND_REFRESH_OPENING, VERSION)
        salt, count = r.fixed(SALT_LEN), r.u8()
        if count != threshold - 1:
            raise DecodeError(f"expected {threshold - 1} Feldman commitments, got {count}")
        msg = cls(salt, tuple(r.point(GROUP) for _ in range(count)))
        r.end()
        return msg


@dataclass(frozen=True)
class RefreshConfirm:
    """Refresh round 3: the Schnorr proof of knowledge of the new x_i, and the digest of the transcript and
    the new public key package that every party must confirm alike."""

    proof: SchnorrProof
    digest: bytes

    def encode(self) -> bytes:
        return Writer(KIND_REFRESH_CONFIRM, VERSION).var(self.proof.to_bytes()).fixed(self.digest).done()

    @classmethod
    def decode(cls, data: bytes) -> RefreshConfirm:
        r = Reader(data, KIND_REFRESH_CONFIRM, VERSION)
        msg = cls(SchnorrProof.from_bytes(r.var(MAX_PROOF)), r.fixed(CONFIRM_DIGEST_LEN))
        r.end()
        return msg


# ---- key reshare (signer.protocols.gg20.refresh) ---------------------------------------------------------
# Kind 0x48. Rounds 2 and 3 use the refresh's `RefreshOpening`, keygen's `KeygenShare` and `RefreshConfirm`.

KIND_RESHARE_COMMIT = 0x48


@dataclass(frozen=True)
class OldKeyPackage:
    """The public facts of the key version a reshare starts from: the version number (the store's counter),
    threshold, parties, Y, chain code and every X_j. A holder of the key sends it so that a new party can
    check the dealings and record the version it joins at."""

    key_version: int
    threshold: int
    parties: tuple[int, ...]
    public_key: Point
    chain_code: bytes
    public_shares: Mapping[int, Point]

    def write(self, w: Writer) -> Writer:
        w.u32(self.key_version).u8(self.threshold).u8(len(self.parties))
        for p in self.parties:
            w.u8(p)
        w.point(GROUP, self.public_key).fixed(self.chain_code)
        for p in self.parties:
            w.point(GROUP, self.public_shares[p])
        return w

    @classmethod
    def read(cls, r: Reader) -> OldKeyPackage:
        key_version, threshold, count = r.u32(), r.u8(), r.u8()
        if key_version < 1:
            raise DecodeError("old key package: the key version must be at least 1")
        parties = tuple(r.u8() for _ in range(count))
        if not 2 <= threshold <= count or parties != tuple(sorted(set(parties))) or parties[0] < 1:
            raise DecodeError("old key package: invalid threshold or parties")
        public_key, chain_code = r.point(GROUP), r.fixed(CHAIN_CODE_LEN)
        return cls(key_version, threshold, parties, public_key, chain_code, {p: r.point(GROUP) for p in parties})


@dataclass(frozen=True)
class ReshareCommit:
    """Reshare round 1: the old key package (from a holder of the key; None from a new party) and a keygen
    round-1 message: the hash commitment to the sender's C_1..C_{t'-1}, its X25519 key and its new Paillier
    key (Π^mod) and ring-Pedersen parameters (Π^prm)."""

    old: OldKeyPackage | None
    keygen: KeygenCommit

    def encode(self) -> bytes:
        w = Writer(KIND_RESHARE_COMMIT, RESHARE_COMMIT_VERSION).u8(self.old is not None)
        if self.old is not None:
            self.old.write(w)
        return w.var(self.keygen.encode()).done()

    @classmethod
    def decode(cls, data: bytes) -> ReshareCommit:
        r = Reader(data, KIND_RESHARE_COMMIT, RESHARE_COMMIT_VERSION)
        flag = r.u8()
        if flag > 1:
            raise DecodeError("old key package flag must be 0 or 1")
        old = OldKeyPackage.read(r) if flag else None
        msg = cls(old, KeygenCommit.decode(r.var(3 * MAX_PROOF)))
        r.end()
        return msg
