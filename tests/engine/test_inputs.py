"""Arbitrary input never breaks the engine: every refusal is an EngineError with a docs/contract.md §5 code, and the
session it was aimed at still completes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signer.engine import (
    DkgRequest,
    EngineConfig,
    EngineError,
    FailedPrecondition,
    InvalidArgument,
    ProtocolMessage,
    SessionKind,
    SessionState,
    SignRequest,
)
from tests.engine.harness import serving, start_dkg, toy_engines
from tests.engine.relay import relay
from tests.support.identities import start_as

CODES = {
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "FAILED_PRECONDITION",
    "RESOURCE_EXHAUSTED",
    "UNAUTHENTICATED",
}
ints = st.one_of(st.integers(-5, 10), st.integers(min_value=-(2**70), max_value=2**70))
texts = st.one_of(st.just("s1"), st.text(max_size=200))

messages = st.builds(
    ProtocolMessage,
    session_id=texts,
    from_party=ints,
    to_party=ints,
    round=ints,
    sequence=ints,
    payload=st.binary(max_size=300),
)
requests = st.one_of(
    st.builds(
        DkgRequest,
        texts,
        texts,
        st.sampled_from(["toy", "frost", "", "x"]),
        st.sampled_from(["ed25519", "secp256k1", ""]),
        ints,
        ints,
        ints,
    ),  # fmt: skip
    st.builds(
        SignRequest,
        texts,
        texts,
        st.binary(max_size=40),
        st.lists(ints, max_size=4).map(tuple),
        st.lists(ints, max_size=3).map(tuple),
    ),  # fmt: skip
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(messages, max_size=12), starts=st.lists(requests, max_size=4))
async def test_junk_is_refused_with_spec_codes_and_sessions_survive(junk, starts):
    parties = toy_engines(2, EngineConfig(round_timeout_s=0.5))
    async with serving(*parties.values()):
        await start_dkg(parties, "s1", key_id="k1")
        forged = False  # junk accepted by party 1 for s1: it can only be in party 2's name
        for msg in junk:
            try:
                await parties[1].deliver(msg)
            except EngineError as exc:
                assert exc.code in CODES
            else:
                forged = forged or msg.session_id == "s1"
        for request in starts:
            kind = SessionKind.DKG if isinstance(request, DkgRequest) else SessionKind.SIGN
            try:
                await start_as(parties, parties[1], kind, request)
            except EngineError as exc:
                assert exc.code in CODES
        # A junk message that took party 2's slot makes the real one a conflict: skip it.
        finals = await relay(parties, "s1", wait_s=0.01, tolerate=(FailedPrecondition, InvalidArgument))
    # Only junk accepted in party 2's name can keep s1 from completing (party 1 may then fail naming party 2,
    # or wait in vain for a party 2 that rightly blamed party 1 for acknowledging the forgery).
    assert finals[1].state is SessionState.COMPLETED or forged
    if finals[1].state is SessionState.FAILED:
        assert finals[1].culprits == (2,)
