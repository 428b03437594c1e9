"""Argument checks every protocol session shares: session ids, party indices, thresholds, signer sets.

Constructors raise ValueError with a message fit for an operator (the engine turns it into
INVALID_ARGUMENT). The limits are `signer.limits`, the ones the gRPC edge checks: the message encodings
carry indices as one byte and session ids as UTF-8.
"""

from __future__ import annotations

from signer.limits import MAX_PARTIES, check_session_id


def validate_session_id(session_id: str) -> None:
    """At most MAX_SESSION_ID_BYTES of UTF-8 (LimitError, a ValueError, otherwise)."""
    check_session_id(session_id, printable=False)


def validate_indices(name: str, indices: tuple[int, ...]) -> tuple[int, ...]:
    """1-based, distinct party indices up to MAX_PARTIES, returned sorted."""
    if not isinstance(indices, tuple) or not indices:
        raise ValueError(f"{name} must be a non-empty tuple of party indices")
    for p in indices:
        if not isinstance(p, int) or isinstance(p, bool) or not 1 <= p <= MAX_PARTIES:
            raise ValueError(f"{name}: party indices are 1-based integers in 1..{MAX_PARTIES}")
    if len(set(indices)) != len(indices):
        raise ValueError(f"{name}: party indices must be distinct")
    return tuple(sorted(indices))


def validate_keygen_args(party_index: int, threshold: int, parties: tuple[int, ...]) -> tuple[int, ...]:
    """Checks a DKG's (party, threshold, parties); returns the parties sorted."""
    parties = validate_indices("parties", parties)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 2 <= threshold <= len(parties):
        raise ValueError(f"threshold must be between 2 and the number of parties ({len(parties)})")
    if party_index not in parties:
        raise ValueError("party_index must be one of parties")
    return parties


def validate_signers(
    party_index: int, signers: tuple[int, ...], parties: tuple[int, ...], threshold: int
) -> tuple[int, ...]:
    """Checks a signing's signer set against the key's parties and threshold; returns the signers sorted."""
    signers = validate_indices("signers", signers)
    if len(signers) < threshold:
        raise ValueError(f"at least {threshold} signers are needed (threshold), got {len(signers)}")
    if party_index not in signers:
        raise ValueError("this party must be one of the signers")
    unknown = set(signers) - set(parties)
    if unknown:
        raise ValueError(f"every signer must hold a share of this key; {sorted(unknown)} do not")
    return signers
