"""Hypothesis mutations of a valid encoding, shared by the decoder fuzz tests of every protocol."""

from __future__ import annotations

from hypothesis import strategies as st

MUTATIONS = ("flip", "truncate", "extend", "splice", "kind", "version")


def mutate(data: st.DataObject, valid: bytes, mutations: tuple[str, ...] = MUTATIONS) -> tuple[str, bytes]:
    """One drawn mutation of `valid` and its name: a flipped byte, a cut, extra bytes, a spliced 32-byte
    run, or another kind or version byte (the codec's first two bytes)."""
    out = bytearray(valid)
    how = data.draw(st.sampled_from(mutations))
    if how == "flip":
        out[data.draw(st.integers(0, len(out) - 1))] ^= data.draw(st.integers(1, 255))
    elif how == "truncate":
        out = out[: data.draw(st.integers(0, len(out) - 1))]
    elif how == "extend":
        out += data.draw(st.binary(min_size=1, max_size=40))
    elif how == "splice":
        i = data.draw(st.integers(0, len(out)))
        out[i : i + 32] = data.draw(st.binary(min_size=32, max_size=32))
    else:
        out[0 if how == "kind" else 1] ^= data.draw(st.integers(1, 255))
    return how, bytes(out)
