"""The errors the crypto layer raises about data it was handed, owned here so crypto imports nothing above it.

Two kinds, because the protocol layer treats them alike (the party that sent the data is at fault) but an
operator reads them differently:

    DecodeError   an encoding that is malformed: wrong kind or version, wrong length, trailing bytes, a
                  point off the curve or outside the subgroup, a scalar out of range.
    ProofError    a zero-knowledge proof (or a statement it is about) that does not verify.

Neither carries a culprit: crypto code does not know who sent the bytes. The protocol layer names the
sender (`signer.protocols.base.attribute`); any *other* exception out of crypto code is a bug in this
party's code and is never blamed on a peer.
"""

from __future__ import annotations


class DecodeError(Exception):
    """A payload or stored encoding that is malformed or out of range; the message never echoes secrets."""


class ProofError(ValueError):
    """A proof that does not verify (or a statement it cannot be about); names the check, never a secret."""

    def __init__(self, proof: str, reason: str) -> None:
        super().__init__(f"{proof}: {reason}")
        self.proof = proof
        self.reason = reason
