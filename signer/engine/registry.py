"""The protocol registry: (protocol, curve) -> how to build its DKG, signing and presigning sessions.

Adding a scheme is one `ProtocolBinding` in `default_protocols()` under a (protocol, curve) key named in
`signer.schemes` (FROST over secp256k1 is one such entry next to FROST over Ed25519). Imports of
protocol packages happen inside the builders, so the engine (and a node that never runs GG20) does not
load code it does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from signer.engine.model import DkgRequest, SignRequest
from signer.engine.offload import InlineRunner, ProcessRunner, StepRunner
from signer.protocols.base import SessionProtocol
from signer.schemes import ED25519, FROST, GG20, SECP256K1

#: A registry key: (protocol name, curve name), as in `signer.schemes`.
SchemeKey = tuple[str, str]

DkgBuilder = Callable[[DkgRequest, bytes | None], SessionProtocol]
SignBuilder = Callable[[SignRequest, int, bytes, bytes | None], SessionProtocol]
PresignBuilder = Callable[[SignRequest, int, bytes], SessionProtocol]
# A refresh or reshare (docs/contract.md §12): (request, this party's current key share or None for a party
# new to the key, the version that share is (0 without one), pre-parameters or None).
LifecycleBuilder = Callable[[DkgRequest, bytes | None, int, bytes | None], SessionProtocol]
# The confirmation digest a refresh's or reshare's round-3 broadcast carries (DecodeError if malformed):
# what a session restored after a restart compares (signer.engine.lifecycle).
ConfirmationReader = Callable[[bytes], bytes]


class PresignResult(Protocol):
    """What a presigning session's `result` is: the key's public key, the presignature's public id (the
    same for every signer's share, and for every copy of it) and the presignature, handed out once
    (`consume`) in the encoding `new_sign` takes back as `presignature`."""

    @property
    def public_key(self) -> bytes: ...

    @property
    def presignature_id(self) -> bytes: ...

    def consume(self) -> bytes: ...


@dataclass(frozen=True)
class ProtocolBinding:
    """One protocol as the engine sees it.

    new_dkg(request, preparams), new_sign(request, party_index, key_share, presignature) and
    new_presign(request, party_index, key_share) construct the sans-IO session (raising ValueError or
    ProtocolError on bad parameters); they run where the steps run (`runner`), so for process offload they
    must be module-level functions. `new_presign` is None for a protocol without presignatures; its
    session's result is a `PresignResult`.
    `new_refresh` / `new_reshare` build the key lifecycle sessions (None: not served), whose round-3
    confirmation `read_confirmation` reads.
    `needs_preparams`: the DKG (and a refresh or reshare) takes a pre-parameter set from the pool.
    `message_is_digest`: signing takes a 32-byte digest (ECDSA) rather than the message itself.
    `derivation`: signing accepts a non-hardened derivation path.
    `taproot`: signing can produce a BIP-340 signature for the key's BIP-341 output key (the request's
    `taproot`), over a 32-byte sighash.
    """

    new_dkg: DkgBuilder
    new_sign: SignBuilder
    new_presign: PresignBuilder | None = None
    new_refresh: LifecycleBuilder | None = None
    new_reshare: LifecycleBuilder | None = None
    read_confirmation: ConfirmationReader | None = None
    runner: StepRunner = field(default_factory=InlineRunner)
    needs_preparams: bool = False
    message_is_digest: bool = False
    derivation: bool = False
    taproot: bool = False

    @property
    def slow_start(self) -> bool:
        """Whether building and starting a session can take long (pool wait, worker process): then
        Start* returns at once and round-1 messages come with status calls."""
        return self.needs_preparams or isinstance(self.runner, ProcessRunner)


def _parties(n: int) -> tuple[int, ...]:
    return tuple(range(1, n + 1))


def _frost_dkg(req: DkgRequest, _preparams: bytes | None) -> SessionProtocol:
    from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, FROST_SECP256K1_SHA256
    from signer.protocols.frost.session import FrostDkgSession

    suite = {ED25519: FROST_ED25519_SHA512, SECP256K1: FROST_SECP256K1_SHA256}[req.curve]
    return FrostDkgSession(req.session_id, req.party_index, req.threshold, _parties(req.total_parties), suite)


def _frost_suite(curve: str) -> Any:
    from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512, FROST_SECP256K1_SHA256

    return {ED25519: FROST_ED25519_SHA512, SECP256K1: FROST_SECP256K1_SHA256}[curve]


def _frost_refresh(
    req: DkgRequest, key_share: bytes | None, key_version: int, _preparams: bytes | None
) -> SessionProtocol:
    from signer.protocols.frost import FrostRefreshSession

    if key_share is None:
        raise ValueError("a refresh needs this party's key share")
    return FrostRefreshSession(req.session_id, req.party_index, key_share, key_version)


def _frost_reshare(
    req: DkgRequest, key_share: bytes | None, key_version: int, _preparams: bytes | None
) -> SessionProtocol:
    from signer.protocols.frost import FrostReshareSession

    return FrostReshareSession(
        req.session_id, req.party_index, key_share, req.old_parties, req.threshold, req.new_parties,
        suite=_frost_suite(req.curve), key_version=key_version,
    )  # fmt: skip


def _frost_confirmation(payload: bytes) -> bytes:
    from signer.protocols.frost.ciphersuite import FROST_ED25519_SHA512
    from signer.protocols.frost.lifecycle import LifecycleConfirm

    return LifecycleConfirm.decode(FROST_ED25519_SHA512, payload).digest  # the suite does not enter the layout


def _frost_sign(req: SignRequest, party_index: int, key_share: bytes, _presignature: bytes | None) -> SessionProtocol:
    """The key share names its ciphersuite; `taproot` and a derivation path need a FROST(secp256k1) share."""
    from signer.protocols.frost.session import FrostSignSession
    from signer.protocols.frost.taproot import TaprootOutput

    taproot = TaprootOutput(req.taproot_merkle_root or None) if req.taproot else None
    return FrostSignSession(
        req.session_id, party_index, key_share, req.message, req.signers, taproot, req.derivation_path
    )


def _gg20_dkg(req: DkgRequest, preparams: bytes | None) -> SessionProtocol:
    from signer.crypto.preparams import PreParams
    from signer.protocols.gg20 import Gg20KeygenSession

    if preparams is None:
        raise ValueError("GG20 key generation needs a pre-parameter set")
    pre = PreParams.from_bytes(preparams)
    return Gg20KeygenSession(req.session_id, req.party_index, req.threshold, _parties(req.total_parties), pre)


def _gg20_refresh(
    req: DkgRequest, key_share: bytes | None, _key_version: int, preparams: bytes | None
) -> SessionProtocol:
    from signer.crypto.preparams import PreParams
    from signer.protocols.gg20 import Gg20RefreshSession

    if key_share is None or preparams is None:
        raise ValueError("a GG20 refresh needs this party's key share and a pre-parameter set")
    return Gg20RefreshSession(req.session_id, req.party_index, key_share, PreParams.from_bytes(preparams))


def _gg20_reshare(
    req: DkgRequest, key_share: bytes | None, key_version: int, preparams: bytes | None
) -> SessionProtocol:
    from signer.crypto.preparams import PreParams
    from signer.protocols.gg20 import Gg20ReshareSession

    if preparams is None:
        raise ValueError("a GG20 reshare needs a pre-parameter set")
    pre = PreParams.from_bytes(preparams)
    return Gg20ReshareSession(
        req.session_id, req.party_index, key_share, req.old_parties, req.threshold, req.new_parties, pre,
        key_version=key_version,
    )  # fmt: skip


def _gg20_confirmation(payload: bytes) -> bytes:
    from signer.protocols.gg20.messages import RefreshConfirm

    return RefreshConfirm.decode(payload).digest


def _gg20_sign(req: SignRequest, party_index: int, key_share: bytes, presignature: bytes | None) -> SessionProtocol:
    from signer.protocols.gg20 import Gg20SignSession

    return Gg20SignSession(
        req.session_id,
        party_index,
        key_share,
        req.message,
        req.signers,
        derivation_path=req.derivation_path,
        presignature=presignature,
    )


def _gg20_presign(req: SignRequest, party_index: int, key_share: bytes) -> SessionProtocol:
    from signer.protocols.gg20 import Gg20PresignSession

    return Gg20PresignSession(req.session_id, party_index, key_share, req.signers)


def default_protocols() -> dict[SchemeKey, ProtocolBinding]:
    """FROST (Ed25519 and secp256k1, cheap steps inline) and GG20 (secp256k1, steps in worker processes)."""
    frost_lifecycle: dict[str, Any] = dict(
        new_refresh=_frost_refresh, new_reshare=_frost_reshare, read_confirmation=_frost_confirmation
    )
    return {
        (FROST, ED25519): ProtocolBinding(new_dkg=_frost_dkg, new_sign=_frost_sign, **frost_lifecycle),
        (FROST, SECP256K1): ProtocolBinding(
            new_dkg=_frost_dkg, new_sign=_frost_sign, derivation=True, taproot=True, **frost_lifecycle
        ),
        (GG20, SECP256K1): ProtocolBinding(
            new_dkg=_gg20_dkg,
            new_sign=_gg20_sign,
            new_presign=_gg20_presign,
            new_refresh=_gg20_refresh,
            new_reshare=_gg20_reshare,
            read_confirmation=_gg20_confirmation,
            runner=ProcessRunner(),
            needs_preparams=True,
            message_is_digest=True,
            derivation=True,
        ),
    }
