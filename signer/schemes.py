"""The protocol and curve names the node knows, in one registry.

A scheme is one (protocol, curve) pair a key can be generated and used with. Records, metrics, the gRPC
edge, the client, the store and the demo all read the names from here, so adding a scheme is one entry
in `SCHEMES` (plus its engine `ProtocolBinding` and, for a new name on the wire, its proto enum value,
named like the entry: Protocol.<PROTOCOL>, Curve.<CURVE>). Imports nothing from signer.
"""

from __future__ import annotations

from dataclasses import dataclass

FROST = "frost"
GG20 = "gg20"
ED25519 = "ed25519"
SECP256K1 = "secp256k1"


@dataclass(frozen=True)
class Scheme:
    """One (protocol, curve) pair. `presign`: the protocol has presigning sessions."""

    protocol: str
    curve: str
    presign: bool = False


#: Every scheme, the default curve of a protocol first among that protocol's entries.
SCHEMES: tuple[Scheme, ...] = (
    Scheme(FROST, ED25519),
    Scheme(FROST, SECP256K1),
    Scheme(GG20, SECP256K1, presign=True),
)

#: Protocol names, in registry order.
PROTOCOLS: tuple[str, ...] = tuple(dict.fromkeys(s.protocol for s in SCHEMES))
#: Curve names, in registry order.
CURVES: tuple[str, ...] = tuple(dict.fromkeys(s.curve for s in SCHEMES))


def default_curve(protocol: str) -> str:
    """The curve a protocol runs on when none is named (its first entry); KeyError for an unknown one."""
    for s in SCHEMES:
        if s.protocol == protocol:
            return s.curve
    raise KeyError(protocol)


def curves_of(protocol: str) -> tuple[str, ...]:
    """The curves `protocol` runs on (empty for an unknown protocol)."""
    return tuple(s.curve for s in SCHEMES if s.protocol == protocol)


def has_presign(protocol: str) -> bool:
    return any(s.presign for s in SCHEMES if s.protocol == protocol)
