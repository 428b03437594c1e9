"""Additive tweaks of a FROST key share: BIP-32 non-hardened derivation, and the shift BIP-341 builds on.

A threshold key x = Σ λ_i s_i becomes ±x + t when every party maps its share to ±s_i + t and every
verifying share to ±Y_i + t·G: the Lagrange coefficients at zero sum to one, so the shares of ±x + t are
exactly those. No interaction, and the group key moves to ±PK + t·G; a FROST signing over the shifted
key package is a signing for the shifted key. `taproot` uses it for BIP-341's tweak and even-y
normalisation; `derived_key_share` for BIP-32 public derivation.

BIP-32 needs a chain code, which a FROST DKG does not produce. Ours is
SHA-256("mpc-signer/frost/chain-code/v1" || suite context || Y_1 || ... || Y_n || PK) over the public key
package: fixed by the DKG, the same at every party, unknown before the DKG ran, and derivable from every
stored key share, so no storage change. Who saw the DKG's broadcasts (the relay, like GG20's chain-code
contributions) or holds the public key package can compute it; the group key alone does not give it. Only
secp256k1 keys derive: BIP-32 is defined on secp256k1 (SLIP-10's Ed25519 allows hardened derivation only,
which needs the whole private key).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Protocol, TypeVar

from signer.crypto.hd import derive_public
from signer.protocols.frost.ciphersuite import FROST_SECP256K1_SHA256, Ciphersuite
from signer.protocols.frost.core import KeyPackage, PublicKeyPackage

CHAIN_CODE_TAG = b"mpc-signer/frost/chain-code/v1"


class KeyShareLike(Protocol):
    """What is read of a decoded key share (`keys`): its suite and key packages."""

    @property
    def suite(self) -> Ciphersuite: ...

    @property
    def key_package(self) -> KeyPackage: ...

    @property
    def public(self) -> PublicKeyPackage: ...


K = TypeVar("K", bound=KeyShareLike)


def shift(key: K, t: int, negate: bool = False, suite: Ciphersuite | None = None) -> K:
    """The key share of ±x + t (negated first when `negate`), optionally relabelled with a signing `suite`."""
    g = key.suite.group
    tg = g.base_mul(t)

    def point(p: object) -> object:
        p = g.neg(p) if negate else p
        return g.add(p, tg) if t % g.order else p

    public = key.public
    shares = {j: point(y) for j, y in public.verifying_shares.items()}
    group_key = point(public.group_public_key)
    if g.is_identity(group_key):
        raise ValueError("the tweaked group key is the point at infinity")
    kp = key.key_package
    signing_share = ((-kp.signing_share if negate else kp.signing_share) + t) % g.order
    new_kp = KeyPackage(kp.identifier, signing_share, shares[kp.identifier], group_key, kp.threshold)
    # `key` is a frozen dataclass of `keys`; only these fields change.
    return replace(  # type: ignore[type-var]
        key, suite=suite or key.suite, key_package=new_kp, public=PublicKeyPackage(shares, group_key)
    )


def chain_code(key: KeyShareLike) -> bytes:
    """The BIP-32 chain code of a FROST key (see the module docstring)."""
    g = key.suite.group
    h = hashlib.sha256(CHAIN_CODE_TAG + key.suite.context_string)
    for _, y in sorted(key.public.verifying_shares.items()):
        h.update(g.encode_point(y))
    h.update(g.encode_point(key.public.group_public_key))
    return h.digest()


def derived_key_share(key: K, path: tuple[int, ...]) -> K:
    """The key share of the BIP-32 child at a non-hardened `path` (empty: the key itself)."""
    if not isinstance(path, tuple | list) or any(not isinstance(i, int) or isinstance(i, bool) for i in path):
        raise ValueError("derivation_path must be a tuple of integers")
    if not path:
        return key
    if key.suite.suite_id != FROST_SECP256K1_SHA256.suite_id:
        raise ValueError("BIP-32 derivation needs a FROST(secp256k1) key share")
    g = key.suite.group
    derived = derive_public(g.encode_point(key.public.group_public_key), chain_code(key), tuple(path))
    child = shift(key, derived.tweak)
    assert g.encode_point(child.public.group_public_key) == derived.public_key
    return child
